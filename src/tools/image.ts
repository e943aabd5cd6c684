// ts-image: OCI images without a registry. Build one from a directory (or a
// shipped recipe), list and inspect a layout, pack it as an oci-archive, and
// unpack an image into a runtime bundle (the offline `umoci unpack`).
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OptionSpec, ParsedCommandLine, ToolSpec, value, values } from '../cli/options.js';
import { runTool } from '../cli/run.js';
import { Command, commandList, dispatch } from '../cli/commands.js';
import { ToolError, UsageError } from '../cli/errors.js';
import { ImageError } from '../image/errors.js';
import { buildImage, readArchive, writeArchive } from '../image/build.js';
import { isLayout, readIndex, REF_NAME, resolveImage, splitLayoutRef } from '../image/layout.js';
import { RECIPES, buildRecipe } from '../image/recipes.js';
import { unpackImage } from '../image/unpack.js';
import { defaultSpec } from '../runtime/spec.js';

const NAME = 'ts-image';

const OUTPUT_OPTIONS: OptionSpec[] = [
  {
    long: 'layout',
    short: 'o',
    arg: 'required',
    value: '<dir>',
    help: 'the OCI layout to write into (made if missing; other images stay)',
  },
  {
    long: 'archive',
    arg: 'required',
    value: '<file>',
    help: 'also pack the layout as an oci-archive tar (for ctr images import, skopeo)',
  },
];

const COMMANDS: Record<string, Command> = {
  build: {
    usage: 'build --tag NAME[:TAG] --layout DIR [options] SOURCE-DIR',
    summary: 'Make an image whose one layer is SOURCE-DIR (a make-rootfs root filesystem or any folder).',
    operands: [1, 1],
    options: [
      {
        long: 'tag',
        short: 't',
        arg: 'required',
        value: '<name>',
        help: 'image name, e.g. nslab/web or nslab/web:1.0 (default tag latest)',
      },
      ...OUTPUT_OPTIONS,
      {
        long: 'entrypoint',
        arg: 'required',
        value: '<cmd>',
        help: 'program to run: a JSON array, or words split on spaces',
      },
      {
        long: 'cmd',
        arg: 'required',
        value: '<args>',
        help: 'default arguments (after the entrypoint): a JSON array, or words',
      },
      {
        long: 'env',
        short: 'e',
        arg: 'required',
        repeat: true,
        value: '<key=value>',
        help: 'an environment variable (repeatable)',
      },
      { long: 'workdir', short: 'w', arg: 'required', value: '<dir>', help: 'working directory' },
      { long: 'user', short: 'u', arg: 'required', value: '<user>', help: 'user[:group], names or numbers' },
      {
        long: 'expose',
        arg: 'required',
        repeat: true,
        value: '<port>',
        help: 'a port the image serves, e.g. 80/tcp (repeatable)',
      },
    ],
    run: build,
  },
  recipe: {
    usage: 'recipe NAME --layout DIR [--archive FILE]',
    summary: `Build a shipped image from this host's files: ${Object.entries(RECIPES)
      .map(([k, r]) => `${k} (${r.name}: ${r.summary})`)
      .join('; ')}.`,
    operands: [1, 1],
    options: OUTPUT_OPTIONS,
    run: recipe,
  },
  list: {
    usage: 'list LAYOUT',
    summary: 'The images a layout names, with their digests.',
    operands: [1, 1],
    run: list,
  },
  inspect: {
    usage: 'inspect LAYOUT[:NAME]',
    summary: 'The manifest and config of an image, as JSON.',
    operands: [1, 1],
    run: inspect,
  },
  unpack: {
    usage: 'unpack LAYOUT[:NAME] BUNDLE',
    summary:
      "Turn an image into a runtime bundle: BUNDLE/rootfs from the layers (whiteouts applied), BUNDLE/config.json from ts-runc spec's defaults with the image's entrypoint, cmd, env, working directory and user. LAYOUT may also be an oci-archive file.",
    operands: [2, 2],
    run: unpack,
  },
};

const spec: ToolSpec = {
  name: NAME,
  usage: 'COMMAND [options] ...',
  summary: 'Build, inspect and unpack OCI images offline.',
  options: [],
  stopAtPositional: true,
  epilog: `Commands:\n${commandList(COMMANDS)}\n\n'${NAME} COMMAND --help' for more. See docs/image.md.`,
};

function out(text: string): void {
  writeSync(1, text.endsWith('\n') ? text : text + '\n');
}

/** --entrypoint '["/bin/sh","-c"]' or --entrypoint '/bin/sh -c'. */
function words(text: string, what: string): string[] {
  if (text.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UsageError(`--${what}: not a JSON array: ${text}`);
    }
    if (!Array.isArray(parsed) || !parsed.every((w) => typeof w === 'string'))
      throw new UsageError(`--${what}: a JSON array of strings is needed`);
    return parsed as string[];
  }
  return text.split(/\s+/).filter(Boolean);
}

function outputs(cmd: ParsedCommandLine): { layout: string; archive?: string; scratch?: string } {
  const layout = value(cmd, 'layout');
  const archive = value(cmd, 'archive');
  if (!layout && !archive) throw new UsageError('say where the image goes: --layout DIR and/or --archive FILE');
  if (layout) return { layout, archive };
  // Only an archive asked for: build in a scratch layout, pack it, remove it.
  const scratch = mkdtempSync(join(tmpdir(), 'ts-image-'));
  return { layout: scratch, archive, scratch };
}

function finish(o: { layout: string; archive?: string; scratch?: string }, ref: string, digest: string): void {
  try {
    if (o.archive) writeArchive(o.layout, o.archive);
  } finally {
    if (o.scratch) rmSync(o.scratch, { recursive: true, force: true });
  }
  out(`${ref} ${digest}${o.scratch ? '' : ` in ${o.layout}`}${o.archive ? ` (archive ${o.archive})` : ''}`);
}

function build(cmd: ParsedCommandLine): void {
  const tag = value(cmd, 'tag');
  if (!tag) throw new UsageError('missing --tag NAME');
  const o = outputs(cmd);
  try {
    const built = buildImage({
      source: cmd.rest[0]!,
      layout: o.layout,
      name: tag,
      entrypoint: value(cmd, 'entrypoint') !== undefined ? words(value(cmd, 'entrypoint')!, 'entrypoint') : undefined,
      cmd: value(cmd, 'cmd') !== undefined ? words(value(cmd, 'cmd')!, 'cmd') : undefined,
      env: values(cmd, 'env'),
      workingDir: value(cmd, 'workdir'),
      user: value(cmd, 'user'),
      exposedPorts: values(cmd, 'expose'),
    });
    finish(o, built.ref, built.manifest.digest);
  } catch (err) {
    if (o.scratch) rmSync(o.scratch, { recursive: true, force: true });
    throw err;
  }
}

function recipe(cmd: ParsedCommandLine): void {
  const o = outputs(cmd);
  try {
    const built = buildRecipe(cmd.rest[0]!, o.layout);
    finish(o, built.ref, built.manifest.digest);
  } catch (err) {
    if (o.scratch) rmSync(o.scratch, { recursive: true, force: true });
    throw err;
  }
}

function list(cmd: ParsedCommandLine): void {
  for (const m of readIndex(cmd.rest[0]!).manifests)
    out(`${m.annotations?.[REF_NAME] ?? '<unnamed>'}\t${m.digest}\t${m.size}`);
}

/** An image source: a layout directory, or an oci-archive file unpacked to a scratch layout. */
function withLayout<T>(text: string, use: (layout: string, ref?: string) => T): T {
  const { layout, ref } = splitLayoutRef(text);
  if (isLayout(layout)) return use(layout, ref);
  const scratch = mkdtempSync(join(tmpdir(), 'ts-image-'));
  try {
    try {
      readArchive(layout, scratch);
    } catch {
      throw new ImageError('not-a-layout', `${layout} is neither an OCI image layout nor an oci-archive`, {
        path: layout,
      });
    }
    return use(scratch, ref);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function inspect(cmd: ParsedCommandLine): void {
  withLayout(cmd.rest[0]!, (layout, ref) => {
    const image = resolveImage(layout, ref);
    out(
      JSON.stringify(
        { name: image.ref, digest: image.manifestDescriptor.digest, manifest: image.manifest, config: image.config },
        null,
        2,
      ),
    );
  });
}

function unpack(cmd: ParsedCommandLine): void {
  const bundle = cmd.rest[1]!;
  withLayout(cmd.rest[0]!, (layout, ref) => unpackImage({ layout, ref, bundle, baseConfig: defaultSpec() as never }));
}

/** The words for an image failure: what went wrong, and what to do. */
function describe(err: unknown): never {
  if (err instanceof ImageError) {
    const hint =
      err.kind === 'no-such-ref' && err.known?.length
        ? `it holds: ${err.known.join(', ')}`
        : err.kind === 'missing-program'
          ? `apt-get install ${err.ref}`
          : err.kind === 'exists'
            ? 'remove it or name a new directory'
            : undefined;
    throw new ToolError(err.message, 1, hint);
  }
  throw err;
}

const main = (top: ParsedCommandLine) => dispatch({ tool: NAME, commands: COMMANDS, describe }, top);

runTool(spec, main);
