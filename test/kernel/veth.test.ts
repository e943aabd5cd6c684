// ts-veth on the real kernel: the acceptance list of issue 5. Every network
// experiment runs in a NetSandbox (a new network namespace with no uplink, a
// private mount namespace with its own /run), and is compared with iproute2
// where the two must agree.
import t, { Test } from 'tap';
import { existsSync } from 'node:fs';
import { inventory, isRoot, registerLeftoverCheck, tool } from '../helpers/tools.js';
import { NetSandbox } from '../helpers/sandbox.js';
import type { ShownLink } from '../../src/core/veth.js';

const V = tool('veth');
const rootOnly = { skip: isRoot() ? false : 'needs root (CI runs as root)' };
const hostBefore = inventory();

function ok(t: Test, r: { code: number | null; stderr: string }, what: string): void {
  t.equal(r.code, 0, `${what}${r.code ? `: ${r.stderr.trim()}` : ''}`);
}

t.test('the blog: lo, a veth pair into mynet, addresses, ping both ways', rootOnly, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  ok(t, box.run([V, 'netns', 'add', 'mynet']), 'netns add mynet');
  t.same(box.netnsFiles(), ['mynet'], '/run/netns/mynet exists');

  const before = box.run([V, 'netns', 'exec', 'mynet', 'ping', '-c1', '-W1', '127.0.0.1']);
  t.equal(before.code, 2, 'ping 127.0.0.1 with lo down fails (exit 2)');
  t.match(before.stderr, /Network is unreachable/, 'because the network is unreachable');

  ok(t, box.run([V, 'up', 'lo', '-n', 'mynet']), 'up lo -n mynet');
  ok(
    t,
    box.run([V, 'netns', 'exec', 'mynet', 'ping', '-c1', '-W1', '127.0.0.1']),
    'ping 127.0.0.1 in mynet once lo is up',
  );

  ok(t, box.run([V, 'add', 'veth0', 'peer', 'veth1']), 'add veth0 peer veth1');
  t.same(box.links(), ['lo', 'veth0', 'veth1'], 'both ends are here');
  ok(t, box.run([V, 'move', 'veth1', '--netns', 'mynet']), 'move veth1 --netns mynet');
  t.same(box.links(), ['lo', 'veth0'], 'veth1 left this namespace');
  t.same(box.links('mynet'), ['lo', 'veth1'], 'and is in mynet');

  ok(
    t,
    box.run([V, 'addr', 'add', '172.2.0.1/24', 'dev', 'veth1', '-n', 'mynet']),
    'addr add 172.2.0.1/24 dev veth1 -n mynet',
  );
  ok(t, box.run([V, 'addr', 'add', '172.2.0.2/24', 'dev', 'veth0']), 'addr add 172.2.0.2/24 dev veth0');
  ok(t, box.run([V, 'up', 'veth1', '-n', 'mynet']), 'up veth1 -n mynet');
  ok(t, box.run([V, 'up', 'veth0']), 'up veth0');
  t.match(
    box.run(['ip', '-n', 'mynet', '-4', 'addr', 'show', 'veth1']).stdout,
    /inet 172\.2\.0\.1\/24 scope global veth1/,
    'ip sees the address in mynet',
  );

  ok(t, box.run(['ping', '-c1', '-W1', '172.2.0.1']), 'ping mynet (172.2.0.1) from outside');
  ok(t, box.run([V, 'netns', 'exec', 'mynet', 'ping', '-c1', '-W1', '172.2.0.2']), 'ping 172.2.0.2 from mynet');

  ok(t, box.run([V, 'addr', 'del', '172.2.0.2/24', 'dev', 'veth0']), 'addr del');
  t.notMatch(box.run(['ip', '-4', 'addr', 'show', 'veth0']).stdout, /172\.2\.0\.2/, 'the address is gone');
  ok(t, box.run([V, 'down', 'veth0']), 'down veth0');
  t.notMatch(box.run(['ip', 'link', 'show', 'veth0']).stdout, /[<,]UP[,>]/, 'veth0 is down');

  ok(t, box.run([V, 'del', 'veth0']), 'del veth0');
  t.same(box.links('mynet'), ['lo'], 'deleting one end took the peer in mynet with it');
  ok(t, box.run([V, 'netns', 'del', 'mynet']), 'netns del mynet');
  t.same(box.netnsFiles(), [], 'the netns file is gone');
});

/** ip -j addr's shape: ShownLink keeps ip's keys on purpose, so the two compare key by key. */
type IpLink = ShownLink;

const LINK_KEYS = [
  'ifindex',
  'ifname',
  'link',
  'link_index',
  'link_netnsid',
  'flags',
  'mtu',
  'master',
  'operstate',
  'link_type',
  'address',
  'broadcast',
] as const;

function pick(l: IpLink, withAddresses: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of LINK_KEYS) if (l[k] !== undefined) out[k] = l[k];
  if (withAddresses)
    out.addr_info = (l.addr_info ?? []).map((a) => {
      const o: Record<string, unknown> = { family: a.family, local: a.local, prefixlen: a.prefixlen, scope: a.scope };
      if (a.label) o.label = a.label;
      if (a.broadcast) o.broadcast = a.broadcast;
      return o;
    });
  return out;
}

t.test('show --json agrees with ip -j link and ip -j addr', rootOnly, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  // A bit of everything: a pair in one namespace (name@peer, M-DOWN), one
  // across namespaces (@ifN, link_netnsid), a bridge port (master), addresses
  // of both families and scopes, links up and down.
  const setup = [
    [V, 'netns', 'add', 'other'],
    [V, 'add', 'va0', 'peer', 'va1'],
    [V, 'add', 'vb0', 'peer', 'vb1', '--peer-netns', 'other'],
    [V, 'bridge', 'add', 'br0'],
    [V, 'attach', 'va0', '--bridge', 'br0'],
    [V, 'up', 'lo'],
    [V, 'up', 'va0'],
    [V, 'up', 'vb0'],
    [V, 'up', 'br0'],
    [V, 'up', 'vb1', '-n', 'other'],
    [V, 'addr', 'add', '10.1.0.1/24', 'dev', 'br0'],
    [V, 'addr', 'add', '10.2.0.1/30', 'dev', 'vb0'],
    [V, 'addr', 'add', 'fd00::1/64', 'dev', 'vb0'],
    [V, 'addr', 'add', '10.2.0.2/30', 'dev', 'vb1', '-n', 'other'],
    // Two fresh namespaces and a pair between them: both ends get ifindex 2,
    // so a peer's index may equal the link's own.
    [V, 'netns', 'add', 'x'],
    [V, 'netns', 'add', 'y'],
    [V, 'add', 'tw0', 'peer', 'tw1', '--peer-netns', 'y', '-n', 'x'],
  ];
  for (const argv of setup) ok(t, box.run(argv), argv.slice(1).join(' '));

  for (const [label, nsArgs, ipArgs] of [
    ['outer namespace', [], []],
    ['netns other', ['-n', 'other'], ['-n', 'other']],
    ['netns x', ['-n', 'x'], ['-n', 'x']],
  ] as const) {
    const ours = box.run([V, 'show', '--json', ...nsArgs]);
    ok(t, ours, `show --json ${nsArgs.join(' ')}`);
    const shown = JSON.parse(ours.stdout) as IpLink[];
    const ipLink = JSON.parse(box.run(['ip', ...ipArgs, '-j', 'link']).stdout) as IpLink[];
    const ipAddr = JSON.parse(box.run(['ip', ...ipArgs, '-j', 'addr']).stdout) as IpLink[];
    t.same(
      shown.map((l) => pick(l, false)),
      ipLink.map((l) => pick(l, false)),
      `${label}: names, indexes, peers, flags, state, MACs as ip -j link`,
    );
    t.same(
      shown.map((l) => pick(l, true)),
      ipAddr.map((l) => pick(l, true)),
      `${label}: and the addresses as ip -j addr`,
    );
  }
  const text = box.run([V, 'show']).stdout;
  t.match(
    text,
    /^\d+: va0@va1: <[A-Z_,-]*UP[A-Z_,-]*> mtu 1500 master br0 state \w+/m,
    'text: name@peer, flags, mtu, master, state',
  );
  t.match(text, /^\d+: vb0@if\d+: .* state UP/m, 'text: a peer in another namespace is @ifN');
  t.match(text, /^ {4}inet 10\.2\.0\.1\/30 scope global vb0$/m, 'text: the address line');
  t.match(box.run([V, 'show', 'vb0']).stdout, /^\d+: vb0@/, 'show NAME shows that link');
  // The hardware line, peer namespace named as ip names it (RTM_GETNSID for each /run/netns file).
  for (const [name, ns] of [
    ['vb0', []],
    ['tw0', ['-n', 'x']],
    ['vb1', ['-n', 'other']],
  ] as const) {
    const ours = box.run([V, 'show', name, ...ns]).stdout.split('\n')[1];
    const ip = box.run(['ip', ...ns, 'link', 'show', name]).stdout.split('\n')[1] ?? '';
    t.equal(ours, ip, `${name}: ${ip.trim()}`);
  }
  t.match(box.run([V, 'show', 'tw0', '-n', 'x']).stdout, /^2: tw0@if2:/, 'a peer with the same index is still a peer');
});

t.test('a dump over several datagrams (multi-part replies)', rootOnly, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  // 80 pairs: 161 links, far more than one reply datagram holds.
  const batch = Array.from({ length: 80 }, (_, i) => `link add m${i}a type veth peer name m${i}b`).join('\n') + '\n';
  ok(t, box.run(['ip', '-batch', '-'], { input: batch }), 'ip -batch: 80 veth pairs');
  const r = box.run([V, '--trace', 'show', '--json']);
  ok(t, r, 'show --json');
  const datagrams = r.stderr.split('\n').filter((l) => /recvfrom\(\d+, \[\{type=RTM_NEWLINK/.test(l)).length;
  t.ok(datagrams > 1, `the link dump came in ${datagrams} datagrams`);
  const ours = (JSON.parse(r.stdout) as ShownLink[]).map((l) => [l.ifindex, l.ifname, l.link]);
  const ip = (JSON.parse(box.run(['ip', '-j', 'link']).stdout) as ShownLink[]).map((l) => [
    l.ifindex,
    l.ifname,
    l.link,
  ]);
  t.equal(ours.length, 161, 'every link, once');
  t.same(ours, ip, 'the same links, indexes and peers as ip -j link');
});

t.test('a bridge: two namespaces ping each other, and reach the outer side by a default route', rootOnly, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  const steps: string[][] = [
    [V, 'bridge', 'add', 'br0'],
    [V, 'addr', 'add', '10.20.0.1/24', 'dev', 'br0'],
    // An outer-side address outside the namespaces' subnet: only a route gets there.
    [V, 'addr', 'add', '10.99.0.1/24', 'dev', 'br0'],
    [V, 'up', 'br0'],
  ];
  for (const [ns, host, inside, addr] of [
    ['red', 'vred0', 'vred1', '10.20.0.2/24'],
    ['blue', 'vblue0', 'vblue1', '10.20.0.3/24'],
  ] as const) {
    steps.push(
      [V, 'netns', 'add', ns],
      [V, 'add', host, 'peer', inside, '--peer-netns', ns],
      [V, 'attach', host, '--bridge', 'br0'],
      [V, 'up', host],
      [V, 'up', 'lo', '-n', ns],
      [V, 'up', inside, '-n', ns],
      [V, 'addr', 'add', addr, 'dev', inside, '-n', ns],
    );
  }
  for (const argv of steps) ok(t, box.run(argv), argv.slice(1).join(' '));
  t.match(box.run(['ip', 'link', 'show', 'vred0']).stdout, /master br0/, 'vred0 is a port of br0 (as ip sees it)');

  ok(t, box.run([V, 'netns', 'exec', 'red', 'ping', '-c1', '-W1', '10.20.0.3']), 'red pings blue through the bridge');
  ok(t, box.run([V, 'netns', 'exec', 'blue', 'ping', '-c1', '-W1', '10.20.0.2']), 'blue pings red through the bridge');
  ok(t, box.run([V, 'netns', 'exec', 'red', 'ping', '-c1', '-W1', '10.20.0.1']), 'red pings the bridge address');

  const noRoute = box.run([V, 'netns', 'exec', 'red', 'ping', '-c1', '-W1', '10.99.0.1']);
  t.equal(noRoute.code, 2, 'without a default route the outer address is unreachable');
  t.match(noRoute.stderr, /Network is unreachable/);
  ok(
    t,
    box.run([V, 'route', 'add', 'default', 'via', '10.20.0.1', '-n', 'red']),
    'route add default via 10.20.0.1 -n red',
  );
  ok(
    t,
    box.run([V, 'route', 'add', '10.99.0.0/24', 'via', '10.20.0.1', '-n', 'blue']),
    'route add 10.99.0.0/24 via 10.20.0.1 -n blue',
  );
  t.match(
    box.run(['ip', '-n', 'red', 'route']).stdout,
    /^default via 10\.20\.0\.1 dev vred1/m,
    'ip sees the default route',
  );
  t.match(
    box.run(['ip', '-n', 'blue', 'route']).stdout,
    /^10\.99\.0\.0\/24 via 10\.20\.0\.1 dev vblue1/m,
    'ip sees the CIDR route',
  );
  ok(
    t,
    box.run([V, 'netns', 'exec', 'red', 'ping', '-c1', '-W1', '10.99.0.1']),
    'red reaches the outer side by its default route',
  );
  ok(t, box.run([V, 'netns', 'exec', 'blue', 'ping', '-c1', '-W1', '10.99.0.1']), 'blue reaches it by its route');
  ok(t, box.run([V, 'route', 'del', 'default', 'via', '10.20.0.1', '-n', 'red']), 'route del default');
  t.notMatch(box.run(['ip', '-n', 'red', 'route']).stdout, /default/, 'the default route is gone');
});

t.test('IPv6: addresses and routes', rootOnly, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  for (const argv of [
    [V, 'add', 'six0', 'peer', 'six1'],
    [V, 'up', 'six0'],
    [V, 'addr', 'add', 'fd00:aa::1/64', 'dev', 'six0'],
    [V, 'route', 'add', 'fd01::/64', 'via', 'fd00:aa::2'],
    [V, 'route', 'add', 'default', 'via', 'fd00:aa::2'],
  ])
    ok(t, box.run(argv), argv.slice(1).join(' '));
  t.match(
    box.run(['ip', '-6', 'addr', 'show', 'six0']).stdout,
    /inet6 fd00:aa::1\/64 scope global/,
    'ip sees the address',
  );
  const routes = box.run(['ip', '-6', 'route']).stdout;
  t.match(routes, /^fd01::\/64 via fd00:aa::2 dev six0/m, 'the CIDR route');
  t.match(routes, /^default via fd00:aa::2 dev six0/m, 'the default route');
  ok(t, box.run([V, 'route', 'del', 'fd01::/64', 'via', 'fd00:aa::2']), 'route del fd01::/64');
  t.notMatch(box.run(['ip', '-6', 'route']).stdout, /fd01::/, 'gone');
  const mixed = box.run([V, 'route', 'add', '10.0.0.0/8', 'via', 'fd00:aa::2']);
  t.equal(mixed.code, 1, 'an IPv4 destination through an IPv6 gateway: exit 1');
  t.match(
    mixed.stderr,
    /^ts-veth: cannot add route 10\.0\.0\.0\/8 via fd00:aa::2: the gateway and the destination are of different address families\n$/,
  );
});

t.test('interchangeable with ip netns, both ways', rootOnly, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  ok(t, box.run([V, 'netns', 'add', 'ours']), 'ts-veth netns add ours');
  ok(t, box.run(['ip', 'netns', 'add', 'theirs']), 'ip netns add theirs');
  t.same(
    box
      .run(['ip', 'netns', 'list'])
      .stdout.split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ')[0])
      .sort(),
    ['ours', 'theirs'],
    'ip netns list shows both',
  );
  t.same(
    box.run([V, 'netns', 'list']).stdout.split('\n').filter(Boolean),
    ['ours', 'theirs'],
    'ts-veth netns list shows both',
  );

  const inOurs = box.run(['ip', 'netns', 'exec', 'ours', 'ip', '-o', 'link']);
  ok(t, inOurs, 'ip netns exec ours');
  t.match(inOurs.stdout, /^1: lo: <LOOPBACK>/, 'a fresh namespace: only lo, down');
  t.equal(inOurs.stdout.trim().split('\n').length, 1);
  const inTheirs = box.run([
    V,
    'netns',
    'exec',
    'theirs',
    'sh',
    '-c',
    'ip -o link; ls /sys/class/net; readlink /proc/self/ns/net',
  ]);
  ok(t, inTheirs, 'ts-veth netns exec theirs');
  t.match(inTheirs.stdout, /^1: lo: <LOOPBACK>/, 'runs inside the namespace ip made');
  t.match(inTheirs.stdout, /\nlo\n/, '/sys/class/net describes that namespace');
  const theirsId = box.run(['ip', 'netns', 'exec', 'theirs', 'readlink', '/proc/self/ns/net']).stdout.trim();
  t.ok(inTheirs.stdout.includes(theirsId), 'the same namespace as ip netns exec enters');

  // A link moved into each namespace is seen by the other tool.
  ok(t, box.run([V, 'add', 'x0', 'peer', 'x1', '--peer-netns', 'theirs']), "add a peer into ip's namespace");
  t.same(box.links('theirs'), ['lo', 'x1'], 'ip sees it there');
  ok(
    t,
    box.run(['ip', 'link', 'add', 'y0', 'netns', 'ours', 'type', 'veth', 'peer', 'name', 'y1']),
    'ip adds a link into ours',
  );
  t.match(box.run([V, 'show', '-n', 'ours']).stdout, /: y0@if\d+:/, 'ts-veth sees it there');

  const exitStatus = box.run([V, 'netns', 'exec', 'ours', 'sh', '-c', 'exit 7']);
  t.equal(exitStatus.code, 7, "netns exec exits with the command's status");
  const missing = box.run([V, 'netns', 'exec', 'ours', 'no-such-command-nslab']);
  t.equal(missing.code, 127, 'a missing command: 127');
  t.match(missing.stderr, /^ts-veth: failed to execute no-such-command-nslab: No such file or directory\n$/);

  // /etc/netns/NAME/*: bound over /etc inside, as ip does. /etc is overlaid in
  // the sandbox only (the upper layer on its /run tmpfs): the host's /etc is untouched.
  const hostHadEtcNetns = existsSync('/etc/netns');
  ok(
    t,
    box.sh(`mkdir -p /run/etc-upper /run/etc-work
    mount -t overlay nslab-etc -o lowerdir=/etc,upperdir=/run/etc-upper,workdir=/run/etc-work /etc
    mkdir -p /etc/netns/ours && echo 'nameserver 192.0.2.53' > /etc/netns/ours/resolv.conf`),
    "a resolv.conf for ours, in the sandbox's /etc",
  );
  const resolv = box.run([V, 'netns', 'exec', 'ours', 'cat', '/etc/resolv.conf']);
  t.equal(
    resolv.stdout,
    'nameserver 192.0.2.53\n',
    'netns exec: /etc/netns/ours/resolv.conf is /etc/resolv.conf inside',
  );
  t.equal(
    resolv.stdout,
    box.run(['ip', 'netns', 'exec', 'ours', 'cat', '/etc/resolv.conf']).stdout,
    'as with ip netns exec',
  );
  t.notMatch(box.run(['cat', '/etc/resolv.conf']).stdout, /192\.0\.2\.53/, 'outside, /etc/resolv.conf is unchanged');
  t.equal(existsSync('/etc/netns'), hostHadEtcNetns, "the host's /etc did not change");

  ok(t, box.run(['ip', 'netns', 'del', 'ours']), 'ip netns del ours');
  ok(t, box.run([V, 'netns', 'del', 'theirs']), 'ts-veth netns del theirs');
  t.same(box.netnsFiles(), [], 'both files are gone');
  t.same(box.links(), ['lo'], 'and the pairs went with their namespaces');
});

t.test('move NAME --netns PID: into the network namespace of a process', rootOnly, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  ok(t, box.run([V, 'add', 'p0', 'peer', 'p1']), 'add p0 peer p1');
  // A process in a network namespace of its own; wait (no timer) until it has left ours.
  const r = box.sh(`
    unshare --net sleep 1000 & pid=$!
    while [ "$(readlink /proc/$pid/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do :; done
    ${V} move p1 --netns $pid; echo "move=$?"
    nsenter -t $pid -n ip -o link | cut -d' ' -f2 | sed 's/^/there: /'
    ip -o link | cut -d' ' -f2 | sed 's/^/here: /'
    kill $pid; wait $pid 2>/dev/null
    # The kernel tears a dead namespace down later, in a work queue: wait for it (5 s at most).
    n=0; while ip link show p0 >/dev/null 2>&1 && [ $n -lt 500 ]; do sleep 0.01; n=$((n+1)); done; true`);
  t.match(r.stdout, /^move=0$/m, 'move p1 --netns PID');
  t.match(r.stdout, /^there: p1@if\d+:$/m, "p1 is in that process's namespace");
  t.notMatch(r.stdout, /^here: p1/m, 'and gone from ours');
  t.match(r.stdout, /^here: p0@if\d+:$/m, 'p0 stays, its peer now elsewhere');
  t.same(box.links(), ['lo'], 'when that namespace died with its process, the pair went with it');
});

t.test('errors: one line naming the object, exit 1, nothing half-made', rootOnly, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  ok(t, box.run([V, 'netns', 'add', 'mynet']), 'netns add mynet');
  ok(t, box.run([V, 'add', 'veth0', 'peer', 'veth1']), 'add veth0 peer veth1');
  ok(t, box.run([V, 'bridge', 'add', 'br0']), 'bridge add br0');
  const before = box.inventory();

  const cases: Array<[string, string[], RegExp]> = [
    ['an existing device', ['add', 'veth0', 'peer', 'vethz'], /^ts-veth: cannot add veth0: EEXIST \(File exists\)$/],
    [
      'an existing peer',
      ['add', 'vethy', 'peer', 'veth1'],
      /^ts-veth: cannot add vethy: its peer veth1: EEXIST \(File exists\)$/,
    ],
    [
      "an existing peer in the peer's netns",
      ['add', 'vethx', 'peer', 'lo', '--peer-netns', 'mynet'],
      /^ts-veth: cannot add vethx: its peer lo in the target netns: EEXIST \(File exists\)$/,
    ],
    ['an existing bridge', ['bridge', 'add', 'br0'], /^ts-veth: cannot add br0: EEXIST \(File exists\)$/],
    ['an existing netns', ['netns', 'add', 'mynet'], /^ts-veth: cannot create netns mynet: EEXIST \(File exists\)$/],
    ['a missing device (del)', ['del', 'nosuch0'], /^ts-veth: cannot delete nosuch0: ENODEV \(No such device\)$/],
    ['a missing device (up)', ['up', 'nosuch0'], /^ts-veth: cannot bring up nosuch0: ENODEV \(No such device\)$/],
    [
      'a missing device (addr)',
      ['addr', 'add', '10.0.0.1/24', 'dev', 'nosuch0'],
      /^ts-veth: cannot find device nosuch0: ENODEV \(No such device\)$/,
    ],
    [
      'a missing device (move)',
      ['move', 'nosuch0', '--netns', 'mynet'],
      /^ts-veth: cannot move nosuch0 to netns mynet: ENODEV \(No such device\)$/,
    ],
    [
      'a missing bridge',
      ['attach', 'veth0', '--bridge', 'nobr'],
      /^ts-veth: cannot find device nobr: ENODEV \(No such device\)$/,
    ],
    [
      'a bridge that is not one',
      ['attach', 'veth0', '--bridge', 'veth1'],
      /^ts-veth: cannot attach veth0 to veth1: veth1 is not a bridge$/,
    ],
    [
      'a bridge into a bridge',
      ['attach', 'br0', '--bridge', 'br0'],
      /^ts-veth: cannot attach br0 to br0: ELOOP \(Too many levels of symbolic links\)$/,
    ],
    [
      'a missing netns (-n)',
      ['up', 'lo', '-n', 'nosuchns'],
      /^ts-veth: cannot open netns nosuchns: ENOENT \(No such file or directory\)$/,
    ],
    [
      'a missing netns (move)',
      ['move', 'veth1', '--netns', 'nosuchns'],
      /^ts-veth: cannot open netns nosuchns: ENOENT \(No such file or directory\)$/,
    ],
    [
      'a missing netns (peer)',
      ['add', 'vethq', 'peer', 'vethr', '--peer-netns', 'nosuchns'],
      /^ts-veth: cannot open netns nosuchns: ENOENT \(No such file or directory\)$/,
    ],
    [
      'a missing netns (exec)',
      ['netns', 'exec', 'nosuchns', 'true'],
      /^ts-veth: cannot open netns nosuchns: ENOENT \(No such file or directory\)$/,
    ],
    [
      'a missing netns (del)',
      ['netns', 'del', 'nosuchns'],
      /^ts-veth: cannot delete netns nosuchns: ENOENT \(No such file or directory\)$/,
    ],
    [
      'a missing address',
      ['addr', 'del', '10.9.9.9/24', 'dev', 'veth0'],
      /^ts-veth: cannot delete 10\.9\.9\.9\/24 from veth0: EADDRNOTAVAIL \(Cannot assign requested address\)$/,
    ],
    [
      'an unreachable gateway',
      ['route', 'add', 'default', 'via', '10.77.0.1'],
      /^ts-veth: cannot add route default via 10\.77\.0\.1: ENETUNREACH \(Network is unreachable\)$/,
    ],
  ];
  for (const [what, args, message] of cases) {
    const r = box.run([V, ...args]);
    t.equal(r.code, 1, `${what}: exit 1`);
    t.match(r.stderr.split('\n')[0], message, `${what}: ${r.stderr.split('\n')[0]}`);
    t.ok(
      r.stderr
        .trim()
        .split('\n')
        .every((l) => l.startsWith('ts-veth: ')),
      `${what}: no stack trace`,
    );
    // (A refusal the kernel explains gets its text as a second, hint line.)
    if (!/address|gateway|into a bridge/.test(what))
      t.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line`);
  }
  for (const bad of ['172.2.0.300/24', '172.2.0.1/33', 'banana', '10.0.0.1/']) {
    const r = box.run([V, 'addr', 'add', bad, 'dev', 'veth0']);
    t.equal(r.code, 1, `bad CIDR ${bad}: exit 1`);
    t.equal(
      r.stderr,
      `ts-veth: invalid address '${bad}': expected A.B.C.D/PREFIX (or an IPv6 address/PREFIX)\n`,
      `bad CIDR ${bad}: one line naming it`,
    );
  }
  const long = box.run([V, 'add', 'averyveryverylongname', 'peer', 'x']);
  t.equal(long.code, 1, 'a name longer than IFNAMSIZ-1: exit 1');
  t.match(long.stderr, /^ts-veth: invalid device name 'averyveryverylongname'/);
  t.same(box.inventory(), before, 'nothing was made or removed by the failures');
  t.notMatch(box.run(['ip', '-4', 'addr']).stdout, /10\.0\.0\.1|172\.2\.0\.300/, 'no address was added');
});

t.test('a non-root caller: one line, exit 1, nothing half-made', rootOnly, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  const first = box.run([V, 'netns', 'add', 'blue'], { as: 'nobody' });
  t.equal(first.code, 1, 'nobody: the first netns add: exit 1');
  t.match(
    first.stderr,
    /^ts-veth: cannot create netns blue: EACCES \(Permission denied\)\n/,
    'nobody: cannot create /run/netns',
  );
  t.equal(box.run(['test', '-e', '/run/netns']).code, 1, 'and /run/netns was not made');
  ok(t, box.run([V, 'netns', 'add', 'mynet']), 'netns add mynet (as root)');
  const before = box.inventory();
  const cases: Array<[string[], RegExp]> = [
    [['add', 'veth0', 'peer', 'veth1'], /^ts-veth: cannot add veth0: EPERM \(Operation not permitted\)$/],
    [['bridge', 'add', 'br0'], /^ts-veth: cannot add br0: EPERM \(Operation not permitted\)$/],
    [['up', 'lo'], /^ts-veth: cannot bring up lo: EPERM \(Operation not permitted\)$/],
    [
      ['netns', 'add', 'blue'],
      /^ts-veth: cannot create netns blue: (EACCES \(Permission denied\)|EPERM \(Operation not permitted\))$/,
    ],
    [
      ['netns', 'del', 'mynet'],
      /^ts-veth: cannot delete netns mynet: (EACCES \(Permission denied\)|EPERM \(Operation not permitted\))$/,
    ],
    [
      ['addr', 'add', '10.0.0.1/24', 'dev', 'lo'],
      /^ts-veth: cannot add 10\.0\.0\.1\/24 to lo: EPERM \(Operation not permitted\)$/,
    ],
    [['up', 'lo', '-n', 'mynet'], /^ts-veth: cannot enter netns mynet: EPERM \(Operation not permitted\)$/],
    [['netns', 'exec', 'mynet', 'true'], /^ts-veth: cannot enter netns mynet: EPERM \(Operation not permitted\)$/],
    [['move', 'lo', '--netns', 'mynet'], /^ts-veth: cannot move lo to netns mynet: EPERM \(Operation not permitted\)$/],
    [
      ['route', 'add', 'default', 'via', '10.0.0.1'],
      /^ts-veth: cannot add route default via 10\.0\.0\.1: EPERM \(Operation not permitted\)$/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = box.run([V, ...args], { as: 'nobody' });
    t.equal(r.code, 1, `nobody: ${args.join(' ')}: exit 1`);
    t.match(r.stderr.split('\n')[0], message, `nobody: ${r.stderr.split('\n')[0]}`);
    t.ok(r.stderr.split('\n').filter(Boolean).length <= 2, 'the line and at most a hint');
  }
  const shown = box.run([V, 'show'], { as: 'nobody' });
  ok(t, shown, 'show works for anyone (a dump needs no privilege)');
  t.match(shown.stdout, /^1: lo:/);
  t.same(box.inventory(), before, 'nothing was made or removed');
});

t.test('--trace: each request decoded, and the reply', rootOnly, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  const add = box.run([V, '--trace', 'add', 'veth0', 'peer', 'veth1']);
  ok(t, add, 'add with --trace');
  const lines = add.stderr.split('\n');
  t.ok(
    lines.some((l) => /^\[ts-veth \d+\] socket\(AF_NETLINK, SOCK_RAW\|SOCK_CLOEXEC, NETLINK_ROUTE\) = \d+$/.test(l)),
    'socket(AF_NETLINK, ...)',
  );
  t.ok(
    lines.some((l) => /bind\(\d+, \{nl_family=AF_NETLINK, nl_pid=0, nl_groups=0\}, 12\) = 0/.test(l)),
    'bind',
  );
  const sent = lines.find((l) => l.includes('sendto(') && l.includes('RTM_NEWLINK'));
  t.ok(sent, 'the request is traced');
  t.match(sent, /flags=NLM_F_REQUEST\|NLM_F_ACK\|NLM_F_EXCL\|NLM_F_CREATE/, 'with its flags by name');
  t.match(
    sent,
    /IFLA_IFNAME="veth0", IFLA_LINKINFO=\[IFLA_INFO_KIND="veth", IFLA_INFO_DATA=\[VETH_INFO_PEER=\{ifi_family=AF_UNSPEC.*\}, \[IFLA_IFNAME="veth1"\]\]\]/,
    'and its nested attributes decoded',
  );
  t.ok(
    lines.some((l) => /recvfrom\(\d+, \[\{type=NLMSG_ERROR, .*\{ack\}\]/.test(l)),
    'the reply: an ack',
  );

  const fail = box.run([V, '--trace', 'add', 'veth0', 'peer', 'veth1']);
  t.match(
    fail.stderr,
    /recvfrom\(\d+, \[\{type=NLMSG_ERROR, .*error=-EEXIST/,
    'a refusal is traced as NLMSG_ERROR with the errno',
  );

  const dump = box.run([V, '--trace', 'show']);
  t.match(
    dump.stderr,
    /sendto\(\d+, \[\{type=RTM_GETLINK, flags=NLM_F_REQUEST\|NLM_F_ROOT\|NLM_F_MATCH/,
    'a dump request',
  );
  t.match(
    dump.stderr,
    /recvfrom\(\d+, \[\{type=RTM_NEWLINK, flags=NLM_F_MULTI.*IFLA_IFNAME="veth0"/,
    'its multi-part replies',
  );
  t.match(dump.stderr, /\{type=NLMSG_DONE/, 'ended by NLMSG_DONE');

  const ns = box.run([V, '--trace', 'netns', 'add', 'mynet']);
  t.match(ns.stderr, /unshare\(CLONE_NEWNET\) = 0/, 'netns add: unshare(CLONE_NEWNET)');
  t.match(
    ns.stderr,
    /mount\("\/proc\/thread-self\/ns\/net", "\/run\/netns\/mynet", "none", MS_BIND, NULL\) = 0/,
    'the bind mount of the nsfs file',
  );
  const inNs = box.run([V, '--trace', 'up', 'lo', '-n', 'mynet']);
  t.match(
    inNs.stderr,
    /setns\(\d+, CLONE_NEWNET\) = 0[^]*socket\(AF_NETLINK[^]*setns\(\d+, CLONE_NEWNET\) = 0/,
    '-n: into the namespace for socket(), and back',
  );
  const exec = box.run([V, '--trace', 'netns', 'exec', 'mynet', 'true']);
  t.match(exec.stderr, /\[pid \d+\] setns\(\d+, CLONE_NEWNET\) = 0/, 'netns exec: the child joins');
  t.match(exec.stderr, /\[pid \d+\] mount\("mynet", "\/sys", "sysfs", 0, NULL\) = 0/, 'and mounts its own /sys');
});

/** stderr without the Try line, and how many Try lines there were. */
function tryLines(stderr: string): number {
  return stderr.split('\n').filter((l) => l === "Try 'ts-veth --help' for more information.").length;
}

t.test('class trial: a route destination with host bits set is refused, as ip refuses it', rootOnly, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  for (const argv of [
    [V, 'add', 'r0', 'peer', 'r1'],
    [V, 'up', 'r0'],
    [V, 'addr', 'add', '10.4.0.1/16', 'dev', 'r0'],
    [V, 'addr', 'add', 'fd00:4::1/64', 'dev', 'r0'],
  ])
    ok(t, box.run(argv), argv.slice(1).join(' '));
  const ip = box.run(['ip', 'route', 'add', '10.5.0.5/16', 'via', '10.4.0.2']);
  t.not(ip.code, 0, 'ip refuses 10.5.0.5/16');
  t.match(ip.stderr, /Invalid prefix for given prefix length/, `ip: ${ip.stderr.trim()}`);
  for (const op of ['add', 'del']) {
    const r = box.run([V, 'route', op, '10.5.0.5/16', 'via', '10.4.0.2']);
    t.equal(r.code, 1, `route ${op} 10.5.0.5/16: exit 1`);
    const [line = '', hint = '', ...more] = r.stderr.split('\n');
    t.equal(
      line,
      `ts-veth: cannot ${op === 'add' ? 'add' : 'delete'} route 10.5.0.5/16 via 10.4.0.2: EINVAL (Invalid argument)`,
      line,
    );
    t.match(
      hint,
      /^ts-veth: hint: the kernel says: Invalid prefix for given prefix length; 10\.5\.0\.5\/16 has host bits set: the network is 10\.5\.0\.0\/16$/,
      hint,
    );
    t.same(more, [''], 'two lines');
  }
  t.notMatch(box.run(['ip', 'route']).stdout, /10\.5\.0\.0/, 'no route to 10.5.0.0/16 was installed');
  ok(t, box.run([V, 'route', 'add', '10.5.0.0/16', 'via', '10.4.0.2']), 'the network itself is taken');
  t.match(box.run(['ip', 'route']).stdout, /^10\.5\.0\.0\/16 via 10\.4\.0\.2 dev r0/m, 'and installed as written');
  // IPv6 clears host bits (the kernel does, for ip and for us alike).
  ok(t, box.run([V, 'route', 'add', 'fd05::5/64', 'via', 'fd00:4::2']), 'route add fd05::5/64 (IPv6)');
  ok(t, box.run(['ip', 'route', 'add', 'fd06::6/64', 'via', 'fd00:4::2']), 'ip route add fd06::6/64');
  const routes6 = box.run(['ip', '-6', 'route']).stdout;
  t.match(routes6, /^fd05::\/64 via fd00:4::2 dev r0/m, 'ours: fd05::/64');
  t.match(routes6, /^fd06::\/64 via fd00:4::2 dev r0/m, "ip's: fd06::/64, the same treatment");
});

t.test('class trial: messages name the right thing, and names keep their bytes or are refused', rootOnly, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  const bogus = box.run([V, 'netns', 'bogus']);
  t.equal(bogus.code, 1, 'netns bogus: exit 1');
  t.equal(
    bogus.stderr,
    "ts-veth: unknown netns command 'bogus' (add, del, list, exec)\nTry 'ts-veth --help' for more information.\n",
    'an unknown netns command, not a missing name',
  );
  t.match(box.run(['ip', 'netns', 'bogus']).stderr, /unknown/, 'ip too says the command is unknown');

  const long = 'n'.repeat(300);
  t.not(box.run(['ip', 'netns', 'add', long]).code, 0, 'ip refuses a 300-character name');
  const r = box.run([V, 'netns', 'add', long]);
  t.equal(r.code, 1, '300 characters: exit 1');
  t.equal(r.stderr, `ts-veth: invalid netns name '${long}': 300 bytes, at most 255\n`, 'says it is too long');
  const slash = box.run([V, 'netns', 'add', 'a/b']);
  t.equal(slash.stderr, "ts-veth: invalid netns name 'a/b': a name has no '/'\n", 'a slash: says so');
  const dot = box.run([V, 'netns', 'add', '..']);
  t.equal(dot.stderr, "ts-veth: invalid netns name '..': . and .. are not names\n", '..: says so');
  const dev = box.run([V, 'add', 'x'.repeat(16), 'peer', 'y']);
  t.equal(
    dev.stderr,
    `ts-veth: invalid device name '${'x'.repeat(16)}': 16 bytes, at most 15\n`,
    'a device name too long: says how long',
  );

  // Bytes that are not UTF-8 (0xff): Node would read U+FFFD, another name; refused instead.
  const bad = box.sh(
    `${V} netns add "$(printf 'ab\\377')"; echo "exit=$?"; ${V} add "$(printf 'v\\377')" peer w; echo "exit=$?"`,
  );
  t.match(bad.stdout, /^exit=1\nexit=1\n$/, 'both refused with exit 1');
  t.equal(
    bad.stderr,
    "ts-veth: invalid netns name 'ab\\xff': not valid UTF-8\nts-veth: invalid device name 'v\\xff': not valid UTF-8\n",
    'naming the byte',
  );
  // Valid UTF-8 that is not ASCII is a name like any other.
  ok(t, box.run([V, 'netns', 'add', 'réseau']), 'netns add réseau');
  t.same(box.netnsFiles(), ['réseau'], 'only the UTF-8 name was made, with its bytes');
  ok(t, box.run([V, 'netns', 'del', 'réseau']), 'netns del réseau');
  t.same(box.inventory(), { netns: [], links: { '': ['lo'] } }, 'nothing left');
});

t.test('class trial: a value that looks like an option is an invalid address', rootOnly, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  const expected = "ts-veth: invalid address '-1.2.3.4/24': expected A.B.C.D/PREFIX (or an IPv6 address/PREFIX)\n";
  const ended = box.run([V, '--', 'addr', 'add', '-1.2.3.4/24', 'dev', 'lo']);
  t.equal(ended.code, 1, 'after --: exit 1');
  t.equal(ended.stderr, expected, 'after --: invalid address');
  const r = box.run([V, 'addr', 'add', '-1.2.3.4/24', 'dev', 'lo']);
  t.equal(r.code, 1, 'without --: exit 1');
  t.equal(r.stderr, expected, 'without --: invalid address, not an invalid option');
  t.not(box.run(['ip', 'addr', 'add', '-1.2.3.4/24', 'dev', 'lo']).code, 0, 'ip refuses it too');
  t.notMatch(box.run(['ip', 'addr', 'show', 'lo']).stdout, /1\.2\.3\.4/, 'no address was added');
});

t.test('class trial: extra words and options that do not apply are refused, nothing is made', rootOnly, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  ok(t, box.run([V, 'netns', 'add', 'mynet']), 'netns add mynet');
  ok(t, box.run([V, 'add', 'e0', 'peer', 'e1']), 'add e0 peer e1');
  ok(t, box.run([V, 'bridge', 'add', 'br0']), 'bridge add br0');
  const before = box.inventory();
  // ip refuses extra words in its link, addr and route commands ("... is a garbage").
  for (const argv of [
    ['ip', 'link', 'del', 'e0', 'extra'],
    ['ip', 'link', 'set', 'e0', 'up', 'extra'],
    ['ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'e0', 'extra'],
    ['ip', 'route', 'add', '10.9.0.0/16', 'via', '10.0.0.2', 'extra'],
  ]) {
    const r = box.run(argv);
    t.not(r.code, 0, `${argv.join(' ')}: refused`);
    t.match(r.stderr, /"extra" is a garbage/, `ip: ${r.stderr.trim()}`);
  }
  const extra: Array<[string[], string]> = [
    [['netns', 'add', 'blue', 'extra'], 'netns add NAME'],
    [['netns', 'del', 'mynet', 'extra'], 'netns del NAME'],
    [['netns', 'list', 'extra'], 'netns list'],
    [['add', 'x0', 'peer', 'x1', 'extra'], 'add NAME peer PEER'],
    [['del', 'e0', 'extra'], 'del NAME'],
    [['move', 'e1', 'extra', '--netns', 'mynet'], 'move NAME --netns NS|PID'],
    [['addr', 'add', '10.0.0.1/24', 'dev', 'e0', 'extra'], 'addr add|del CIDR dev NAME'],
    [['up', 'e0', 'extra'], 'up NAME'],
    [['down', 'e0', 'extra'], 'down NAME'],
    [['bridge', 'add', 'br1', 'extra'], 'bridge add NAME'],
    [['attach', 'e0', 'extra', '--bridge', 'br0'], 'attach NAME --bridge BR'],
    [['route', 'add', '10.9.0.0/16', 'via', '10.0.0.2', 'extra'], 'route add|del default|CIDR via IP'],
    [['show', 'e0', 'extra'], 'show [NAME]'],
  ];
  for (const [args, usage] of extra) {
    const r = box.run([V, ...args]);
    t.equal(r.code, 1, `${args.join(' ')}: exit 1`);
    t.equal(
      r.stderr,
      `ts-veth: unexpected argument 'extra' in: ${usage}\n`,
      `${args.join(' ')}: one line, no usage hint (as ip)`,
    );
    // The command line is checked before any privilege is needed: the same line for anyone.
    const nobody = box.run([V, ...args], { as: 'nobody' });
    t.equal(nobody.stderr, r.stderr, `nobody: ${args.join(' ')}: the same line`);
  }
  const options: Array<[string[], string]> = [
    [['up', 'e0', '--bridge', 'br0'], 'up does not take --bridge'],
    [['show', '--peer-netns', 'mynet'], 'show does not take --peer-netns'],
    [['del', 'e0', '--json'], 'del does not take --json'],
    [['netns', 'add', 'blue', '-n', 'mynet'], 'netns does not take --netns'],
    [['bridge', 'add', 'br1', '--bridge', 'br0'], 'bridge does not take --bridge'],
  ];
  for (const [args, message] of options) {
    const r = box.run([V, ...args]);
    t.equal(r.code, 1, `${args.join(' ')}: exit 1`);
    t.equal(r.stderr, `ts-veth: ${message}\n`, `${args.join(' ')}: refused`);
  }
  t.same(box.inventory(), before, 'nothing was made or removed');
});

t.test(
  'class trial: a Try line for an unknown command or option only, as ip points to its help only then',
  rootOnly,
  async (t) => {
    const box = await NetSandbox.start();
    t.teardown(() => box.stop());
    t.match(box.run(['ip', 'nosuchobject']).stderr, /try "ip help"/, 'ip: an unknown object points to help');
    t.match(box.run(['ip', 'netns', 'nosuch']).stderr, /try "ip netns help"/, 'ip: an unknown netns command too');
    t.notMatch(box.run(['ip', 'netns', 'add']).stderr, /try/i, 'ip: a missing name does not');
    t.notMatch(box.run(['ip', 'link', 'del', 'lo', 'extra']).stderr, /try/i, 'ip: an extra word does not');
    const withTry: string[][] = [[], ['nosuch'], ['netns', 'nosuch'], ['bridge', 'nosuch'], ['-Q']];
    for (const args of withTry) {
      const r = box.run([V, ...args]);
      t.equal(r.code, 1, `${args.join(' ') || '(nothing)'}: exit 1`);
      t.equal(tryLines(r.stderr), 1, `${args.join(' ') || '(nothing)'}: one Try line`);
      t.equal(r.stderr.split('\n').length, 3, 'after one message line');
    }
    const without: string[][] = [
      ['netns', 'add'],
      ['netns', 'exec'],
      ['netns', 'exec', 'x'],
      ['add', 'x0'],
      ['add', 'x0', 'pear', 'x1'],
      ['addr', 'add', '10.0.0.1/24'],
      ['addr', 'bogus'],
      ['route', 'add'],
      ['route', 'add', 'default', 'via'],
      ['bridge'],
      ['move', 'lo'],
      ['attach', 'lo'],
      ['up'],
      ['addr', 'add', 'banana', 'dev', 'lo'],
    ];
    for (const args of without) {
      const r = box.run([V, ...args]);
      t.equal(r.code, 1, `${args.join(' ')}: exit 1`);
      t.equal(tryLines(r.stderr), 0, `${args.join(' ')}: ${r.stderr.trim()}`);
      t.equal(r.stderr.split('\n').length, 2, 'one line');
    }
  },
);

// After the suite: no netns file, veth, bridge, mount or sandbox process left on the host.
registerLeftoverCheck(t, hostBefore);
