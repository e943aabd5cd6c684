// ts-lab draw, against the real state it draws: a known set of namespaces
// (made with ts-unshare), cgroups (nested below this test's own cgroup),
// links (inside a throwaway network namespace, never the host's) and a
// pod-shaped set of processes; each drawing must show exactly them. And
// ts-lab report's page, rendered by headless Chromium: it loads, and every
// diagram is there with its labels.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackground, Background } from '../helpers/background.js';
import { NetSandbox } from '../helpers/sandbox.js';
import { needRoot, run, tool } from '../helpers/tools.js';
import { tsLab } from '../helpers/lab.js';
import { cleanEnv } from '../helpers/tools.js';
import { Diagram, DiagramNode, allNodes } from '../../src/lab/draw/diagram.js';
import { cgroupManager } from '../../src/cgroup/manager.js';
import { detectCgroups } from '../../src/cgroup/hierarchy.js';

const NS_TYPES = ['user', 'cgroup', 'ipc', 'uts', 'net', 'pid', 'mnt', 'time'];

function nsOf(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const type of NS_TYPES) out[type] = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${type}`))![1]);
  return out;
}

function ppidOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function drawJson(
  args: string[],
  runner: (argv: string[]) => { code: number | null; stdout: string; stderr: string } = (a) => tsLab(a),
): Diagram {
  const r = runner(['draw', ...args, '--json']);
  if (r.code !== 0) throw new Error(`ts-lab draw ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Diagram;
}

/** "new:       pid:[123], mnt:[456]" -> { pid: 123, mnt: 456 } */
function detailIds(n: DiagramNode, heading: string): Record<string, number> {
  const line = n.details.find((d) => d[0]?.text.trim() === heading.trim());
  const out: Record<string, number> = {};
  for (const m of line?.slice(1) ?? []) {
    const id = /^(\w+):\[(\d+)\]$/.exec(m.text);
    if (id) out[id[1]] = Number(id[2]);
  }
  return out;
}

function detailWords(n: DiagramNode, heading: string): string[] {
  const line = n.details.find((d) => d[0]?.text.trim() === heading.trim());
  return (line?.slice(1) ?? [])
    .map((m) => m.text)
    .join('')
    .split(/[\s,]+/)
    .filter(Boolean);
}

t.test('draw processes: the namespaces ts-unshare made, and no others', { skip: needRoot() }, async (t) => {
  const bg: Background = await startBackground([tool('unshare'), '-fp', '--mount-proc', '-u', '-i', 'sleep', '1000'], {
    comm: 'sleep',
  });
  t.teardown(() => bg.stop());
  const sleep = bg.pid;
  const unshare = ppidOf(sleep);
  const d = drawJson(['processes', '--pid', String(unshare)]);
  const nodes = allNodes(d);
  t.same(
    nodes.map((n) => Number(n.label.split(' ')[0])),
    [unshare, sleep],
    'exactly ts-unshare and its sleep are drawn',
  );
  const [top, child] = nodes;
  // What ts-unshare made for itself (mnt, uts, ipc) is new against its parent; the pid namespace is its child's.
  const parentNs = nsOf(ppidOf(unshare));
  const ownNs = nsOf(unshare);
  const expectedNew = Object.fromEntries(NS_TYPES.filter((k) => ownNs[k] !== parentNs[k]).map((k) => [k, ownNs[k]]));
  t.same(
    detailIds(top, 'new:'),
    expectedNew,
    "ts-unshare: new = the namespaces that differ from its parent's, with their inodes",
  );
  t.same(
    Object.keys(expectedNew).sort(),
    ['ipc', 'mnt', 'uts'],
    'which are mnt, uts and ipc (asked by -u -i, --mount-proc)',
  );
  const sleepNs = nsOf(sleep);
  t.same(detailIds(child, 'new:'), { pid: sleepNs.pid }, 'the sleep: only its pid namespace is new');
  t.same(
    detailIds(child, 'inherited:'),
    { ipc: sleepNs.ipc, uts: sleepNs.uts, mnt: sleepNs.mnt },
    'and it inherited the three its parent made',
  );
  t.match(child.badge?.text, /^PID 1 in its pid namespace$/, 'it is PID 1 inside');
  const text = tsLab(['draw', 'processes', '--pid', String(unshare)]);
  t.equal(text.code, 0, text.stderr);
  t.match(
    text.stdout,
    new RegExp(`└─ ${sleep} sleep 1000  \\(PID 1 in its pid namespace\\)`),
    'the text draws the sleep under ts-unshare',
  );
  t.match(text.stdout, new RegExp(`new: +pid:\\[${sleepNs.pid}\\]`), 'with its new pid namespace by inode');
  t.notOk(text.stdout.includes('\u001b['), 'no colour when not a terminal');
});

t.test('what cannot be drawn: one line each', { skip: needRoot() }, async (t) => {
  const r = tsLab(['draw', 'processes', '--pid', '999999999']);
  t.equal(r.code, 1);
  t.equal(r.stderr, 'ts-lab: no process 999999999 (gone, or never there)\n', 'one clear line');
  const bad = tsLab(['draw', 'planets']);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^ts-lab: nothing called 'planets' to draw \(processes, cgroups, network, pod\)/);
  const wrong = tsLab(['draw', 'network', '--pid', '1']);
  t.match(wrong.stderr, /^ts-lab: ts-lab draw network does not take --pid/);
  const noCgroup = tsLab(['draw', 'cgroups', '--cgroup', `/nslab-draw-absent-${process.pid}`]);
  t.equal(noCgroup.code, 1);
  t.equal(
    noCgroup.stderr,
    `ts-lab: cgroup /nslab-draw-absent-${process.pid} does not exist\n`,
    'a cgroup that is not there: one line',
  );
  const noRoot = tsLab(['draw', 'pod', '--root', `/nonexistent-nslab-${process.pid}`]);
  t.equal(noRoot.code, 1);
  t.equal(
    noRoot.stderr,
    `ts-lab: cannot draw: /nonexistent-nslab-${process.pid} does not exist\n`,
    'a state root that is not there: one line',
  );
});

const noCgroups = detectCgroups().mode === 'none' ? 'no cgroup hierarchy is mounted here' : false;

t.test(
  'draw cgroups: a tree made below our own cgroup, with its limits and processes',
  { skip: needRoot() || noCgroups },
  async (t) => {
    const layout = detectCgroups();
    const manager = cgroupManager(layout);
    const top = `nslab-draw-test-${process.pid}`;
    let limited = true;
    let why = '';
    try {
      manager.create(`${top}/a`, { limits: { memory: 64n << 20n, pids: 20 } });
    } catch (err) {
      // cgroup v2 gives no controller below a cgroup that holds processes (ours): the tree without limits.
      limited = false;
      why = (err as Error).message;
      manager.create(`${top}/a`);
    }
    // b with the same controllers as a, so the two are in the same hierarchies.
    manager.create(`${top}/b`, limited ? { controllers: ['memory', 'pids'] } : {});
    const bg = await startBackground(['sleep', '1001'], { comm: 'sleep' });
    t.teardown(async () => {
      await bg.stop();
      manager.open(top).delete({ recursive: true, kill: true });
    });
    manager.open(`${top}/a`).addProcess(bg.pid);
    const d = drawJson(['cgroups', '--cgroup', top]);
    t.ok(
      d.groups.length >= 1,
      `drawn in ${d.groups.length} hierarchies (${d.groups.map((g) => g.label).join(', ')}, on a ${layout.mode} host)`,
    );
    for (const g of d.groups) {
      const [root] = g.nodes;
      t.equal(g.nodes.length, 1, `${g.label}: one tree`);
      t.match(root.label, new RegExp(`/${top}$`), `${g.label}: from our cgroup`);
      // What this hierarchy has, as its directories say.
      const there = ['a', 'b'].filter((name) => existsSync(join(g.note!, name)));
      t.same(
        root.children.map((c) => c.label),
        there,
        `${g.label}: exactly what its directory holds (${there.join(', ')})`,
      );
      const a = root.children.find((c) => c.label === 'a');
      const b = root.children.find((c) => c.label === 'b');
      if (a) t.same(a.children, [], 'nothing below a');
      if (a) t.same(detailWords(a, 'processes:'), [String(bg.pid), 'sleep'], `${g.label}: the sleep is in a`);
      if (b) t.same(detailWords(b, 'processes:'), [], `${g.label}: b has no process`);
    }
    t.ok(
      d.groups.some((g) => g.nodes[0].children.map((c) => c.label).join() === 'a,b'),
      'a and b are drawn side by side in some hierarchy',
    );
    const noLimits = limited
      ? false
      : `limits not drawn: the cgroup layer could not set them below our cgroup here (${why})`;
    await t.test('the limits of a, none on b', { skip: noLimits }, async (t) => {
      const detailsOf = (name: string) =>
        d.groups.flatMap((g) =>
          (g.nodes[0].children.find((c) => c.label === name)?.details ?? []).map((l) => l.map((m) => m.text).join('')),
        );
      const lines = detailsOf('a');
      t.ok(
        lines.some((l) => /^memory \S+ of 64M$/.test(l)),
        'a: memory usage of its 64M limit',
      );
      t.ok(lines.includes('pids 1 of 20'), 'a: one process of its 20');
      const bLines = detailsOf('b');
      t.notOk(
        bLines.some((l) => / of /.test(l)),
        'b: no limit drawn',
      );
    });
  },
);

t.test(
  'draw network: namespaces, bridge, veth pairs and addresses, inside a throwaway namespace',
  { skip: needRoot() },
  async (t) => {
    const sb = await NetSandbox.start();
    t.teardown(() => sb.stop());
    const env = cleanEnv();
    const sh = (script: string) => {
      const r = sb.run(['sh', '-c', script], { env });
      t.equal(r.code, 0, `${script}: ${r.stderr}`);
      return r;
    };
    // Inside the sandbox: is this really not the host's network? (it has only lo)
    t.same(sb.links(), ['lo'], 'the sandbox starts with lo only');
    sh(
      [
        'ts-veth netns add red',
        'ts-veth netns add blue',
        'ts-veth bridge add br-draw',
        'ts-veth add vred peer eth0 --peer-netns red',
        'ts-veth add vblue peer eth0 --peer-netns blue',
        'ts-veth attach vred --bridge br-draw',
        'ts-veth attach vblue --bridge br-draw',
        'ts-veth addr add 10.77.0.1/24 dev br-draw',
        'ts-veth addr add 10.77.0.2/24 dev eth0 -n red',
        'ts-veth addr add 10.77.0.3/24 dev eth0 -n blue',
        'ts-veth up br-draw && ts-veth up vred && ts-veth up vblue && ts-veth up eth0 -n red && ts-veth up eth0 -n blue',
      ].join(' && '),
    );
    const d = drawJson(['network'], (a) => sb.run([tool('lab'), ...a], { env }));
    t.same(
      d.groups.map((g) => g.label),
      ['this network namespace', 'netns blue', 'netns red'],
      'exactly the sandbox and its two named namespaces',
    );
    // Links in any order (the kernel's ifindex order); the shape is what counts.
    const byLabel = (x: { label: string }, y: { label: string }) => x.label.localeCompare(y.label);
    type Shape = { label: string; children: Shape[] };
    const walk = (n: DiagramNode): Shape => ({ label: n.label, children: n.children.map(walk).sort(byLabel) });
    const shape = (g: Diagram['groups'][number]) => g.nodes.map(walk).sort(byLabel);
    t.same(
      shape(d.groups[0]),
      [
        {
          label: 'br-draw bridge UP',
          children: [
            { label: 'vblue veth UP', children: [] },
            { label: 'vred veth UP', children: [] },
          ],
        },
        { label: 'lo loopback DOWN', children: [] },
      ],
      'here: lo, and the bridge with its two ports',
    );
    for (const [i, name, addr] of [
      [1, 'blue', '10.77.0.3/24'],
      [2, 'red', '10.77.0.2/24'],
    ] as const) {
      const g = d.groups[i];
      t.same(
        shape(g),
        [
          { label: 'eth0 veth UP', children: [] },
          { label: 'lo loopback DOWN', children: [] },
        ],
        `${name}: lo and eth0`,
      );
      const eth0 = g.nodes.find((n) => n.label.startsWith('eth0'))!;
      t.same(detailWords(eth0, 'addresses:'), [addr], `${name}: eth0 has ${addr}`);
    }
    const bridge = d.groups[0].nodes.find((n) => n.label.startsWith('br-draw'))!;
    t.same(detailWords(bridge, 'addresses:'), ['10.77.0.1/24'], 'the bridge has 10.77.0.1/24');
    const label = (id: string) => {
      const g = d.groups.find((x) => allNodes({ ...d, groups: [x] }).some((n) => n.id === id))!;
      return `${g.label}/${
        allNodes({ ...d, groups: [g] })
          .find((n) => n.id === id)!
          .label.split(' ')[0]
      }`;
    };
    t.same(
      d.edges.map((e) => [label(e.from), label(e.to)].sort().join(' = ')).sort(),
      ['netns blue/eth0 = this network namespace/vblue', 'netns red/eth0 = this network namespace/vred'],
      'exactly two veth pairs, each end in its namespace',
    );
    const only = sb.run([tool('lab'), 'draw', 'network', '--netns', 'red'], { env });
    t.equal(only.code, 0, only.stderr);
    t.match(
      only.stdout,
      /^\[netns red\] {2}net:\[\d+\]\nlo loopback DOWN\neth0 veth UP\n {3}addresses: 10\.77\.0\.2\/24\n {3}peer: vred in this network namespace\n$/m,
      '--netns red: that namespace alone, its peer named',
    );
    t.notMatch(only.stdout, /netns blue/, 'and nothing of blue');
    const missing = sb.run([tool('lab'), 'draw', 'network', '--netns', 'green'], { env });
    t.equal(missing.code, 1, 'a namespace that is not there fails');
    t.equal(missing.stderr.split('\n').filter(Boolean).length, 1, `in one line: ${missing.stderr.trim()}`);
  },
);

t.test(
  'draw pod: a pause process and two containers sharing its net, ipc and uts namespaces',
  { skip: needRoot() },
  async (t) => {
    // A pod without a runtime: the pause holds new net, ipc and uts namespaces (-n: never the host's network);
    // each container joins those and has its own mount and pid namespaces.
    const pause = await startBackground([tool('unshare'), '-n', '-i', '-u', '-fp', '--mount-proc', 'sleep', '1002'], {
      comm: 'sleep',
    });
    t.teardown(() => pause.stop());
    const containers: Background[] = [];
    t.teardown(async () => {
      for (const c of containers) await c.stop();
    });
    for (const n of [1003, 1004])
      containers.push(
        await startBackground(
          [
            tool('nsenter'),
            '-t',
            String(pause.pid),
            '-n',
            '-i',
            '-u',
            '--',
            tool('unshare'),
            '-m',
            '-fp',
            '--mount-proc',
            'sleep',
            String(n),
          ],
          { comm: 'sleep' },
        ),
      );
    const d = drawJson(['pod', '--pid', String(pause.pid)]);
    t.equal(d.groups.length, 1, 'one pod');
    const [pod] = d.groups;
    t.equal(pod.note, 'shared by all: ipc uts net', 'the containers share net, ipc and uts with the pause process');
    const [pauseNode] = pod.nodes;
    t.match(pauseNode.label, new RegExp(`^sleep PID ${pause.pid}$`), 'the pause process at the top');
    t.same(
      pauseNode.children.map((c) => c.label),
      containers.map((c) => `sleep PID ${c.pid}`),
      'exactly the two containers, by their PID 1',
    );
    for (const [i, c] of containers.entries()) {
      const node = pauseNode.children[i];
      const ns = nsOf(c.pid);
      t.same(
        detailWords(node, 'shares with pause:'),
        ['ipc', 'uts', 'net'],
        `container ${i + 1}: shares ipc, uts, net`,
      );
      t.same(
        detailIds(node, 'own:'),
        { pid: ns.pid, mnt: ns.mnt },
        `container ${i + 1}: its own pid and mnt namespaces, by inode`,
      );
    }
    const text = tsLab(['draw', 'pod', '--pid', String(pause.pid)]);
    t.match(text.stdout, /^\[pod pod of PID \d+\] {2}shared by all: ipc uts net$/m);
    const none = tsLab(['draw', 'pod']);
    t.equal(none.code, 1);
    t.match(none.stderr, /needs --pid PID \(the pause process\) or --root DIR/);
    const empty = mkdtempSync(join(tmpdir(), 'nslab-draw-root-'));
    t.teardown(() => rmSync(empty, { recursive: true, force: true }));
    const noPod = tsLab(['draw', 'pod', '--root', empty]);
    t.equal(noPod.code, 1);
    t.match(noPod.stderr, /^ts-lab: no pod in .*: no container there is a CRI sandbox\n/);
  },
);

// ---- the HTML report, in headless Chromium

const CHROMIUM = '/usr/bin/chromium';
const NO_CHROMIUM = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed (Debian's chromium package; scripts/setup-vm.sh installs it)`;

/** The DOM Chromium builds from a page, headless, with a fresh profile and nothing that reaches out. */
function renderedDom(page: string): { status: number | null; dom: string; stderr: string } {
  const profile = mkdtempSync(join(tmpdir(), 'nslab-chromium-'));
  try {
    const chrome = spawnSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        '--dump-dom',
        `file://${page}`,
      ],
      { encoding: 'utf8', timeout: 120_000, env: cleanEnv({ HOME: profile }) },
    );
    return { status: chrome.status, dom: chrome.stdout ?? '', stderr: chrome.stderr ?? '' };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

const REPORT_LAB = {
  id: 'draw-report',
  order: 90,
  title: 'Three pictures',
  intro: ['A lab made by the test: it draws a process tree, a cgroup tree and a network.'],
  needs: { root: true, binaries: ['ts-unshare', 'ts-veth', 'ts-cgroup'] },
  sessions: {
    box: {
      start: 'ts-unshare -fpu --mount-proc bash --norc --noprofile',
      describe: 'a shell in new pid, uts and mount namespaces',
    },
  },
  steps: [
    {
      id: 'tree',
      explain: 'The session drawn from its parent.',
      run: 'ts-lab draw processes --pid $(ps -o ppid= -p $SESSION_box_PID)',
      checks: [{ that: 'the shell is PID 1 inside', match: '\\(PID 1 in its pid namespace\\)' }],
    },
    {
      id: 'cgroups',
      explain: 'A cgroup and its pids limit.',
      run: 'ts-cgroup create $LAB_CGROUPS/nslab-lab-draw-report -c pids && ts-lab draw cgroups --cgroup $LAB_CGROUPS/nslab-lab-draw-report',
      checks: [{ that: 'drawn', match: 'nslab-lab-draw-report' }],
    },
    {
      id: 'network',
      explain: 'A named namespace and a veth pair.',
      run: 'ts-veth netns add drawn && ts-veth add d0 peer d1 --peer-netns drawn && ts-lab draw network',
      checks: [{ that: 'the pair is drawn', contains: 'this network namespace: d0  <==>  netns drawn: d1' }],
    },
  ],
  cleanup: [
    '! [ -e /run/netns/drawn ] || ts-veth netns del drawn',
    'ts-cgroup delete $LAB_CGROUPS/nslab-lab-draw-report 2>/dev/null || true',
  ],
};

t.test(
  'ts-lab report: one offline page, rendered by headless Chromium, with every diagram',
  { skip: needRoot() },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'nslab-report-test-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const labs = join(dir, 'labs');
    run(['mkdir', labs]);
    writeFileSync(join(labs, 'draw-report.json'), JSON.stringify(REPORT_LAB, null, 2));
    const page = join(dir, 'report.html');
    // --sandbox: the lab makes a netns and a veth pair, which stay in the sandbox.
    const r = tsLab(['report', 'draw-report', '--sandbox', '--labs-dir', labs, '--html', page]);
    t.match(r.stdout, /^ {2}ok {5}network: the pair is drawn$/m, `the run's own checks pass\n${r.stdout}${r.stderr}`);
    t.match(r.stdout, new RegExp(`^report: ${page.replace(/[.]/g, '\\.')}$`, 'm'), 'it says where the page is');
    t.ok(existsSync(page), 'the page is written');
    const html = readFileSync(page, 'utf8');
    t.notMatch(html, /\s(src|href)=/, 'nothing is loaded from elsewhere (no src or href)');
    t.match(html, /Content-Security-Policy" content="default-src 'none'/, 'and a CSP forbids it anyway');
    t.match(
      html,
      /<details class="trace"><summary>the system calls \(\d+ trace lines?\)/,
      'the trace is in the page, folded',
    );
    t.match(html, /<span class="trace">\[ts-veth \d+\] socket\(AF_NETLINK/, 'trace lines are marked');
    await t.test('the page in headless Chromium', { skip: NO_CHROMIUM }, async (t) => {
      const chrome = renderedDom(page);
      t.equal(chrome.status, 0, `chromium ran: ${chrome.stderr.slice(0, 500)}`);
      const { dom } = chrome;
      t.match(dom, /<title>Lab 90: Three pictures<\/title>/, 'the page loaded (its title is in the rendered DOM)');
      const svgs = [...dom.matchAll(/<svg [^>]*data-kind="(\w+)"[^>]*>([\s\S]*?)<\/svg>/g)].map((m) => ({
        kind: m[1],
        body: m[2],
      }));
      t.same(
        svgs.map((s) => s.kind),
        ['processes', 'cgroups', 'network'],
        'three diagrams, one per draw step, in order',
      );
      const texts = (body: string) => [...body.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]);
      t.ok(
        texts(svgs[0].body).some((l) => /^\d+ bash --norc --noprofile$/.test(l)),
        'processes: the shell is a node',
      );
      t.match(svgs[0].body, /PID 1 in its pid namespace/, 'processes: marked PID 1 inside');
      t.ok(
        texts(svgs[1].body).some((l) => l.endsWith('nslab-lab-draw-report')),
        'cgroups: the cgroup is a node',
      );
      const net = texts(svgs[2].body);
      t.ok(
        net.includes('d0 veth DOWN') && net.includes('d1 veth DOWN'),
        `network: both ends are nodes (${net.join(', ')})`,
      );
      t.equal([...svgs[2].body.matchAll(/class="edge"/g)].length, 1, 'network: one edge, the veth pair');
      t.match(svgs[2].body, /\[netns drawn\]/, 'network: the named namespace is a box');
    });
  },
);

t.test('ts-lab report: a lab whose setup fails still gets its page, saying so', { skip: needRoot() }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-report-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const labs = join(dir, 'labs');
  run(['mkdir', labs]);
  const broken = {
    id: 'broken-setup',
    order: 92,
    title: 'No start',
    intro: ['Its setup fails.'],
    setup: ['echo cannot prepare; exit 3'],
    steps: [{ id: 'never', explain: 'Never runs.', run: 'true' }],
  };
  writeFileSync(join(labs, 'broken-setup.json'), JSON.stringify(broken));
  const page = join(dir, 'broken.html');
  const r = tsLab(['report', 'broken-setup', '--labs-dir', labs, '--html', page]);
  t.equal(r.code, 1, 'the run failed, and the exit status says so');
  const html = readFileSync(page, 'utf8');
  t.match(html, /<p class="verdict fail"><strong>failed<\/strong>/, 'the page says it failed');
  t.match(html, /<h2>Before the steps: setup<\/h2>/, 'the setup is shown as what came before the steps');
  t.match(
    html,
    /<p class="fail">lab setup failed: &#39;echo cannot prepare; exit 3&#39;: exit status 3: cannot prepare<\/p>/,
    'with why',
  );
  t.notMatch(html, /<pre class="command">\$ <\/pre>/, 'and no empty command');
});

t.test(
  "ts-lab report pid-namespace: the lab's own drawing step, in Chromium",
  { skip: needRoot() || NO_CHROMIUM },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'nslab-report-test-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const page = join(dir, 'pid.html');
    const r = tsLab(['report', 'pid-namespace', '--html', page]);
    t.match(
      r.stdout,
      /^ {2}ok {5}draw-the-tree: the shell is drawn as PID 1 of its pid namespace$/m,
      `the drawing step passed\n${r.stdout}`,
    );
    const chrome = renderedDom(page);
    t.equal(chrome.status, 0, chrome.stderr.slice(0, 500));
    t.match(chrome.dom, /<h2>Step \d+: draw-the-tree<\/h2>/, 'the step is in the page');
    const svgs = [...chrome.dom.matchAll(/<svg [^>]*data-kind="(\w+)"[^>]*>([\s\S]*?)<\/svg>/g)];
    t.same(
      svgs.map((m) => m[1]),
      ['processes'],
      'one diagram: the process tree',
    );
    t.match(svgs[0][2], /<title>\d+ bash[^<]*<\/title>[\s\S]*PID 1 in its pid namespace/, 'the shell, PID 1 inside');
    t.match(svgs[0][2], /<title>\d+ sleep 300<\/title>/, 'and the sleep it started');
  },
);
