// Bundle each tool in src/tools/ into one CommonJS file, dist/NAME.cjs:
// module loading is what a Node tool's start-up time is made of, and one
// pre-bundled file loads fastest (docs/design.md, "Start-up time").
// koffi stays outside (a native module).
import { build } from 'esbuild';
import { readdirSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = readdirSync(join(root, 'src/tools')).filter((f) => f.endsWith('.ts'));
mkdirSync(join(root, 'dist'), { recursive: true });

const extra = [
  // Small programs the labs and tests run through the FFI.
  ...readdirSync(join(root, 'src/programs'), { withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts'))
    .map((d) => ({
      in: join(root, 'src/programs', d.name),
      out: join(root, 'dist/programs', d.name.replace(/\.ts$/, '')),
    })),
];

await build({
  entryPoints: [
    ...tools.map((f) => ({ in: join(root, 'src/tools', f), out: join(root, 'dist', 'ts-' + f.replace(/\.ts$/, '')) })),
    ...extra,
  ],
  outdir: join(root, 'dist'),
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['koffi'],
  sourcemap: false,
  // Less text for V8 to parse at every start; names stay readable in stacks.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  // libc.ts reads import.meta.url only where there is no require (tests import the sources as ES modules).
  logOverride: { 'empty-import-meta': 'silent' },
});
// V8's code cache of each tool, read by bin/load.cjs.
execFileSync(
  process.execPath,
  [
    join(root, 'scripts/code-cache.cjs'),
    ...tools.map((f) => join(root, 'dist', 'ts-' + f.replace(/\.ts$/, '') + '.cjs')),
  ],
  { stdio: 'inherit' },
);
console.log(`built ${tools.length} tools into dist/`);
