// ts-cri: the pod playground of the CRI labs. `up` starts a CRI-O or a containerd of its
// own (CRI plugin, CNI bridge, ts-runc or runc as the runtime, local pause
// and web images) in namespaces of its own; `down` removes every pod and
// leaves nothing; `status` says what runs; `env` points crictl at it; `host`
// runs a command on the playground's side of the bridge.
import { spawnSync } from 'node:child_process';
import { writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import { OptionSpec, ParsedCommandLine, ToolSpec, value } from '../cli/options.js';
import { runTool } from '../cli/run.js';
import { Command, commandList, dispatch } from '../cli/commands.js';
import { ToolError, UsageError } from '../cli/errors.js';
import { CriError } from '../cri/errors.js';
import { CRI_SERVERS, CriServer } from '../cri/config.js';
import {
  DEFAULT_DIR,
  crictlEnvironment,
  crioMissing,
  crioInstalled,
  defaultServer,
  down,
  pathsOf,
  runningServer,
  status,
  up,
} from '../cri/playground.js';
import { which } from '../core/which.js';

const NAME = 'ts-cri';

const DIR_OPTION: OptionSpec = {
  long: 'dir',
  short: 'd',
  arg: 'required',
  value: '<dir>',
  help: `the playground's directory (default ${DEFAULT_DIR}, or $NSLAB_CRI_DIR)`,
};

const COMMANDS: Record<string, Command> = {
  up: {
    usage: 'up [--server crio|containerd] [--runtime ts-runc|runc|PATH] [--dir DIR]',
    summary:
      'Start the playground: a CRI server (CRI-O with conmon and pinns, or containerd with its CRI plugin) in its own network and mount namespaces, the CNI bridge cni0, the nslab/pause and nslab/web images, and crictl pointed at it.',
    options: [
      DIR_OPTION,
      {
        long: 'server',
        short: 's',
        arg: 'required',
        value: '<server>',
        help: 'the CRI server: crio (the default where CRI-O is installed, as in the series) or containerd (always there), or $NSLAB_CRI_SERVER',
      },
      {
        long: 'runtime',
        short: 'r',
        arg: 'required',
        value: '<runtime>',
        help: 'the OCI runtime the server runs (through conmon or the shim): ts-runc (default), runc, or a path',
      },
    ],
    operands: [0, 0],
    run: runUp,
  },
  down: {
    usage: 'down [--dir DIR]',
    summary:
      'Remove every pod and container, stop the CRI server, and leave no process, namespace, bridge, mount or file behind.',
    options: [DIR_OPTION],
    operands: [0, 0],
    run: runDown,
  },
  status: {
    usage: 'status [--dir DIR]',
    summary: 'Say whether the playground runs, and list its pods and containers.',
    options: [DIR_OPTION],
    operands: [0, 0],
    run: runStatus,
  },
  env: {
    usage: 'env [--dir DIR]',
    summary:
      'Print the shell lines that point crictl (and, with containerd, ctr) at the playground: eval "$(ts-cri env)".',
    options: [DIR_OPTION],
    operands: [0, 0],
    run: runEnv,
  },
  host: {
    usage: 'host [--dir DIR] [--] COMMAND [ARG]...',
    summary:
      'Run a command in the playground\'s network namespace, where the bridge is: the pods\' "host" (ip addr, wget http://POD-ADDRESS/).',
    options: [DIR_OPTION],
    operands: [1, Infinity],
    stopAtPositional: true,
    run: runHost,
  },
  crictl: {
    usage: 'crictl [--dir DIR] [--] ARG...',
    summary:
      "Run crictl, pointed at the playground, inside the playground's network namespace: what the streaming calls need (exec without -s, attach, port-forward), since the server's streaming server listens on the playground's loopback.",
    options: [DIR_OPTION],
    operands: [1, Infinity],
    stopAtPositional: true,
    run: runCrictl,
  },
};

const spec: ToolSpec = {
  name: NAME,
  usage: 'COMMAND [options]',
  summary: 'A local CRI playground: CRI-O or containerd + CNI + ts-runc, for crictl.',
  options: [],
  stopAtPositional: true,
  epilog: `Commands:\n${commandList(COMMANDS)}\n\n'${NAME} COMMAND --help' for more. See docs/cri.md.`,
};

function out(text: string): void {
  writeSync(1, text.endsWith('\n') ? text : text + '\n');
}

function dirOf(cmd: ParsedCommandLine): string {
  return value(cmd, 'dir') ?? process.env.NSLAB_CRI_DIR ?? DEFAULT_DIR;
}

/** ts-runc next to this tool (the same checkout or install), runc from PATH, or a path. */
function runtimeBinary(choice: string): string {
  if (choice.includes('/')) return choice;
  if (choice === 'ts-runc') return join(dirname(process.argv[1]!), 'ts-runc');
  if (choice === 'runc') return which('runc') ?? '/usr/sbin/runc';
  throw new UsageError(`unknown runtime '${choice}' (ts-runc, runc, or a path)`);
}

function serverChoice(cmd: ParsedCommandLine): CriServer {
  const named = value(cmd, 'server') ?? (process.env.NSLAB_CRI_SERVER || undefined);
  if (named === undefined) {
    const server = defaultServer();
    out(
      crioInstalled()
        ? 'the playground uses containerd (--server crio for CRI-O)'
        : 'CRI-O is not installed: the playground uses containerd (docs/cri.md, "Getting CRI-O")',
    );
    return server;
  }
  if (!CRI_SERVERS.includes(named as CriServer)) throw new UsageError(`unknown server '${named}' (crio or containerd)`);
  const missing = named === 'crio' ? crioMissing() : [];
  if (missing.length)
    throw new CriError(
      'missing-program',
      `CRI-O is not installed (${missing.map((m) => m.path).join(', ')} not found)`,
      { packages: [...new Set(missing.map((m) => m.package))] },
    );
  return named as CriServer;
}

function runUp(cmd: ParsedCommandLine): void {
  const runtime = runtimeBinary(value(cmd, 'runtime') ?? 'ts-runc');
  const server = serverChoice(cmd);
  const r = up({ dir: dirOf(cmd), runtimeBinary: runtime, server, progress: out });
  if (r.oomScoreAdj)
    out(
      `oom_score_adj: this kernel refuses to lower it (no CAP_SYS_RESOURCE), so the playground does not ask for it (${r.oomScoreAdj})`,
    );
  out(`playground up: ${server} ${r.pid}, runtime ${runtime}`);
  out(
    `crictl: eval "$(${NAME} env${value(cmd, 'dir') ? ` --dir ${r.paths.dir}` : ''})" then crictl pods, crictl images`,
  );
  if (!which('crictl')) out(`crictl is not installed: see docs/cri.md ("Getting crictl")`);
}

function runDown(cmd: ParsedCommandLine): void {
  const { pods } = down({ dir: dirOf(cmd) });
  out(`playground down${pods ? ` (${pods} pod${pods === 1 ? '' : 's'} removed)` : ''}`);
}

function runStatus(cmd: ParsedCommandLine): number {
  const s = status(dirOf(cmd));
  if (s.pid === undefined) {
    out(`not running (${s.paths.dir})`);
    return 3;
  }
  out(`${s.paths.server} ${s.pid} ${s.answering ? 'answering' : 'NOT answering'} on ${s.paths.socket}`);
  out(`runtime state: ${s.paths.runtimeState} (ts-runc --root ${s.paths.runtimeState} list)`);
  out(`pods: ${s.pods.length}${s.pods.length ? '\n  ' + s.pods.join('\n  ') : ''}`);
  out(`containers: ${s.containers.length}${s.containers.length ? '\n  ' + s.containers.join('\n  ') : ''}`);
  return s.answering ? 0 : 1;
}

function runEnv(cmd: ParsedCommandLine): void {
  const paths = pathsOf(dirOf(cmd));
  for (const [k, v] of Object.entries(crictlEnvironment(paths))) out(`export ${k}=${v}`);
}

/** Run argv in the playground's network namespace (and, with `mount`, its mount namespace, where the pods' netns files are). */
function inPlayground(
  cmd: ParsedCommandLine,
  argv: string[],
  mount: boolean,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const paths = pathsOf(dirOf(cmd));
  const pid = runningServer(paths);
  if (pid === undefined) throw new CriError('not-running', `no playground runs in ${paths.dir}`, { dir: paths.dir });
  const r = spawnSync('nsenter', ['-t', String(pid), '-n', ...(mount ? ['-m'] : []), '--', ...argv], {
    stdio: 'inherit',
    env,
  });
  if (r.error) throw new ToolError(`cannot run ${argv[0]}: ${r.error.message}`);
  if (r.signal) return 128 + osConstants.signals[r.signal];
  return r.status ?? 1;
}

function runHost(cmd: ParsedCommandLine): number {
  return inPlayground(cmd, cmd.rest, true);
}

function runCrictl(cmd: ParsedCommandLine): number {
  const crictl = which('crictl');
  if (!crictl) throw new ToolError('crictl is not installed', 1, 'see docs/cri.md, "Getting crictl"');
  const paths = pathsOf(dirOf(cmd));
  return inPlayground(cmd, [crictl, '--config', paths.crictlConfig, ...cmd.rest], false, {
    ...process.env,
    ...crictlEnvironment(paths),
  });
}

/** How to get what is missing: Debian packages through apt, nslab's own tools by building, CRI-O as docs/cri.md says. */
function installHint(packages: string[]): string {
  const debian = packages.filter((p) => !p.startsWith('nslab') && !p.startsWith('cri-o'));
  const ways = [
    ...(debian.length ? [`apt-get install ${debian.join(' ')}`] : []),
    ...(packages.some((p) => p.startsWith('nslab')) ? ['build nslab: npm run build'] : []),
    ...(packages.some((p) => p.startsWith('cri-o')) ? ['CRI-O: see docs/cri.md, "Getting CRI-O"'] : []),
  ];
  return `install: ${ways.join('; and ')}`;
}

function describe(err: unknown): never {
  if (err instanceof CriError) {
    const hint =
      err.kind === 'missing-program'
        ? installHint(err.packages ?? [])
        : err.kind === 'already-running'
          ? `${NAME} down${err.dir === DEFAULT_DIR ? '' : ` --dir ${err.dir}`} first, or use another --dir`
          : err.kind === 'socket-busy'
            ? `a stale playground: ${NAME} down --dir ${err.dir}`
            : err.kind === 'not-running'
              ? `${NAME} up first`
              : err.kind === 'cgroups-busy'
                ? `a process the playground started is still in them: look with cat ${err.cgroups?.[0]}/cgroup.procs, then ${NAME} down${err.dir === DEFAULT_DIR ? '' : ` --dir ${err.dir}`} again`
                : undefined;
    throw new ToolError(err.message, 1, hint);
  }
  throw err;
}

const main = (top: ParsedCommandLine) =>
  dispatch(
    {
      tool: NAME,
      commands: COMMANDS,
      describe,
      before: (name) => {
        if (process.geteuid?.() !== 0 && name !== 'env')
          throw new ToolError(`${name} needs root (the CRI server, namespaces, mounts)`, 1, `sudo ${NAME} ${name}`);
      },
    },
    top,
  );

runTool(spec, main);
