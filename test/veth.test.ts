// ts-veth on the real kernel: the acceptance list of issue 5. Every network
// experiment runs in a NetSandbox (a new network namespace with no uplink, a
// private mount namespace with its own /run), and is compared with iproute2
// where the two must agree.
import t, { Test } from 'tap';
import { existsSync } from 'node:fs';
import { inventory, isRoot, registerLeftoverCheck, tool } from './helpers/tools.js';
import { NetSandbox } from './helpers/sandbox.js';
import type { ShownLink } from '../src/core/veth.js';

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
  ok(t, box.run([V, 'netns', 'exec', 'mynet', 'ping', '-c1', '-W1', '127.0.0.1']), 'ping 127.0.0.1 in mynet once lo is up');

  ok(t, box.run([V, 'add', 'veth0', 'peer', 'veth1']), 'add veth0 peer veth1');
  t.same(box.links(), ['lo', 'veth0', 'veth1'], 'both ends are here');
  ok(t, box.run([V, 'move', 'veth1', '--netns', 'mynet']), 'move veth1 --netns mynet');
  t.same(box.links(), ['lo', 'veth0'], 'veth1 left this namespace');
  t.same(box.links('mynet'), ['lo', 'veth1'], 'and is in mynet');

  ok(t, box.run([V, 'addr', 'add', '172.2.0.1/24', 'dev', 'veth1', '-n', 'mynet']), 'addr add 172.2.0.1/24 dev veth1 -n mynet');
  ok(t, box.run([V, 'addr', 'add', '172.2.0.2/24', 'dev', 'veth0']), 'addr add 172.2.0.2/24 dev veth0');
  ok(t, box.run([V, 'up', 'veth1', '-n', 'mynet']), 'up veth1 -n mynet');
  ok(t, box.run([V, 'up', 'veth0']), 'up veth0');
  t.match(box.run(['ip', '-n', 'mynet', '-4', 'addr', 'show', 'veth1']).stdout, /inet 172\.2\.0\.1\/24 scope global veth1/, 'ip sees the address in mynet');

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

const LINK_KEYS = ['ifindex', 'ifname', 'link', 'link_index', 'link_netnsid', 'flags', 'mtu', 'master', 'operstate', 'link_type', 'address', 'broadcast'] as const;

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
    t.same(shown.map((l) => pick(l, false)), ipLink.map((l) => pick(l, false)), `${label}: names, indexes, peers, flags, state, MACs as ip -j link`);
    t.same(shown.map((l) => pick(l, true)), ipAddr.map((l) => pick(l, true)), `${label}: and the addresses as ip -j addr`);
  }
  const text = box.run([V, 'show']).stdout;
  t.match(text, /^\d+: va0@va1: <[A-Z_,-]*UP[A-Z_,-]*> mtu 1500 master br0 state \w+/m, 'text: name@peer, flags, mtu, master, state');
  t.match(text, /^\d+: vb0@if\d+: .* state UP/m, 'text: a peer in another namespace is @ifN');
  t.match(text, /^    inet 10\.2\.0\.1\/30 scope global vb0$/m, 'text: the address line');
  t.match(box.run([V, 'show', 'vb0']).stdout, /^\d+: vb0@/, 'show NAME shows that link');
  // The hardware line, peer namespace named as ip names it (RTM_GETNSID for each /run/netns file).
  for (const [name, ns] of [['vb0', []], ['tw0', ['-n', 'x']], ['vb1', ['-n', 'other']]] as const) {
    const ours = box.run([V, 'show', name, ...ns]).stdout.split('\n')[1];
    const ip = box.run(['ip', ...ns, 'link', 'show', name]).stdout.split('\n')[1];
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
  const ip = (JSON.parse(box.run(['ip', '-j', 'link']).stdout) as ShownLink[]).map((l) => [l.ifindex, l.ifname, l.link]);
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
  ]) {
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
  ok(t, box.run([V, 'route', 'add', 'default', 'via', '10.20.0.1', '-n', 'red']), 'route add default via 10.20.0.1 -n red');
  ok(t, box.run([V, 'route', 'add', '10.99.0.0/24', 'via', '10.20.0.1', '-n', 'blue']), 'route add 10.99.0.0/24 via 10.20.0.1 -n blue');
  t.match(box.run(['ip', '-n', 'red', 'route']).stdout, /^default via 10\.20\.0\.1 dev vred1/m, 'ip sees the default route');
  t.match(box.run(['ip', '-n', 'blue', 'route']).stdout, /^10\.99\.0\.0\/24 via 10\.20\.0\.1 dev vblue1/m, 'ip sees the CIDR route');
  ok(t, box.run([V, 'netns', 'exec', 'red', 'ping', '-c1', '-W1', '10.99.0.1']), 'red reaches the outer side by its default route');
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
  t.match(box.run(['ip', '-6', 'addr', 'show', 'six0']).stdout, /inet6 fd00:aa::1\/64 scope global/, 'ip sees the address');
  const routes = box.run(['ip', '-6', 'route']).stdout;
  t.match(routes, /^fd01::\/64 via fd00:aa::2 dev six0/m, 'the CIDR route');
  t.match(routes, /^default via fd00:aa::2 dev six0/m, 'the default route');
  ok(t, box.run([V, 'route', 'del', 'fd01::/64', 'via', 'fd00:aa::2']), 'route del fd01::/64');
  t.notMatch(box.run(['ip', '-6', 'route']).stdout, /fd01::/, 'gone');
  const mixed = box.run([V, 'route', 'add', '10.0.0.0/8', 'via', 'fd00:aa::2']);
  t.equal(mixed.code, 1, 'an IPv4 destination through an IPv6 gateway: exit 1');
  t.match(mixed.stderr, /^ts-veth: cannot add route 10\.0\.0\.0\/8 via fd00:aa::2: the gateway and the destination are of different address families\n$/);
});

t.test('interchangeable with ip netns, both ways', rootOnly, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  ok(t, box.run([V, 'netns', 'add', 'ours']), 'ts-veth netns add ours');
  ok(t, box.run(['ip', 'netns', 'add', 'theirs']), 'ip netns add theirs');
  t.same(box.run(['ip', 'netns', 'list']).stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[0]).sort(), ['ours', 'theirs'], 'ip netns list shows both');
  t.same(box.run([V, 'netns', 'list']).stdout.split('\n').filter(Boolean), ['ours', 'theirs'], 'ts-veth netns list shows both');

  const inOurs = box.run(['ip', 'netns', 'exec', 'ours', 'ip', '-o', 'link']);
  ok(t, inOurs, 'ip netns exec ours');
  t.match(inOurs.stdout, /^1: lo: <LOOPBACK>/, 'a fresh namespace: only lo, down');
  t.equal(inOurs.stdout.trim().split('\n').length, 1);
  const inTheirs = box.run([V, 'netns', 'exec', 'theirs', 'sh', '-c', 'ip -o link; ls /sys/class/net; readlink /proc/self/ns/net']);
  ok(t, inTheirs, 'ts-veth netns exec theirs');
  t.match(inTheirs.stdout, /^1: lo: <LOOPBACK>/, 'runs inside the namespace ip made');
  t.match(inTheirs.stdout, /\nlo\n/, '/sys/class/net describes that namespace');
  const theirsId = box.run(['ip', 'netns', 'exec', 'theirs', 'readlink', '/proc/self/ns/net']).stdout.trim();
  t.ok(inTheirs.stdout.includes(theirsId), 'the same namespace as ip netns exec enters');

  // A link moved into each namespace is seen by the other tool.
  ok(t, box.run([V, 'add', 'x0', 'peer', 'x1', '--peer-netns', 'theirs']), 'add a peer into ip\'s namespace');
  t.same(box.links('theirs'), ['lo', 'x1'], 'ip sees it there');
  ok(t, box.run(['ip', 'link', 'add', 'y0', 'netns', 'ours', 'type', 'veth', 'peer', 'name', 'y1']), 'ip adds a link into ours');
  t.match(box.run([V, 'show', '-n', 'ours']).stdout, /: y0@if\d+:/, 'ts-veth sees it there');

  const exitStatus = box.run([V, 'netns', 'exec', 'ours', 'sh', '-c', 'exit 7']);
  t.equal(exitStatus.code, 7, 'netns exec exits with the command\'s status');
  const missing = box.run([V, 'netns', 'exec', 'ours', 'no-such-command-nslab']);
  t.equal(missing.code, 127, 'a missing command: 127');
  t.match(missing.stderr, /^ts-veth: failed to execute no-such-command-nslab: No such file or directory\n$/);

  // /etc/netns/NAME/*: bound over /etc inside, as ip does. /etc is overlaid in
  // the sandbox only (the upper layer on its /run tmpfs): the host's /etc is untouched.
  const hostHadEtcNetns = existsSync('/etc/netns');
  ok(t, box.sh(`mkdir -p /run/etc-upper /run/etc-work
    mount -t overlay nslab-etc -o lowerdir=/etc,upperdir=/run/etc-upper,workdir=/run/etc-work /etc
    mkdir -p /etc/netns/ours && echo 'nameserver 192.0.2.53' > /etc/netns/ours/resolv.conf`), 'a resolv.conf for ours, in the sandbox\'s /etc');
  const resolv = box.run([V, 'netns', 'exec', 'ours', 'cat', '/etc/resolv.conf']);
  t.equal(resolv.stdout, 'nameserver 192.0.2.53\n', 'netns exec: /etc/netns/ours/resolv.conf is /etc/resolv.conf inside');
  t.equal(resolv.stdout, box.run(['ip', 'netns', 'exec', 'ours', 'cat', '/etc/resolv.conf']).stdout, 'as with ip netns exec');
  t.notMatch(box.run(['cat', '/etc/resolv.conf']).stdout, /192\.0\.2\.53/, 'outside, /etc/resolv.conf is unchanged');
  t.equal(existsSync('/etc/netns'), hostHadEtcNetns, 'the host\'s /etc did not change');

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
    kill $pid; wait $pid 2>/dev/null; true`);
  t.match(r.stdout, /^move=0$/m, 'move p1 --netns PID');
  t.match(r.stdout, /^there: p1@if\d+:$/m, 'p1 is in that process\'s namespace');
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
    ['an existing device', ['add', 'veth0', 'peer', 'vethz'], /^ts-veth: cannot add veth0: File exists$/],
    ['an existing peer', ['add', 'vethy', 'peer', 'veth1'], /^ts-veth: cannot add vethy: its peer veth1: File exists$/],
    ['an existing bridge', ['bridge', 'add', 'br0'], /^ts-veth: cannot add br0: File exists$/],
    ['an existing netns', ['netns', 'add', 'mynet'], /^ts-veth: cannot create netns mynet: File exists$/],
    ['a missing device (del)', ['del', 'nosuch0'], /^ts-veth: cannot delete nosuch0: No such device$/],
    ['a missing device (up)', ['up', 'nosuch0'], /^ts-veth: cannot bring up nosuch0: No such device$/],
    ['a missing device (addr)', ['addr', 'add', '10.0.0.1/24', 'dev', 'nosuch0'], /^ts-veth: cannot find device nosuch0: No such device$/],
    ['a missing device (move)', ['move', 'nosuch0', '--netns', 'mynet'], /^ts-veth: cannot move nosuch0 to netns mynet: No such device$/],
    ['a missing bridge', ['attach', 'veth0', '--bridge', 'nobr'], /^ts-veth: cannot find device nobr: No such device$/],
    ['a bridge that is not one', ['attach', 'veth0', '--bridge', 'veth1'], /^ts-veth: cannot attach veth0 to veth1: veth1 is not a bridge$/],
    ['a bridge into a bridge', ['attach', 'br0', '--bridge', 'br0'], /^ts-veth: cannot attach br0 to br0: Too many levels of symbolic links$/],
    ['a missing netns (-n)', ['up', 'lo', '-n', 'nosuchns'], /^ts-veth: cannot open netns nosuchns: No such file or directory$/],
    ['a missing netns (move)', ['move', 'veth1', '--netns', 'nosuchns'], /^ts-veth: cannot open netns nosuchns: No such file or directory$/],
    ['a missing netns (peer)', ['add', 'vethq', 'peer', 'vethr', '--peer-netns', 'nosuchns'], /^ts-veth: cannot open netns nosuchns: No such file or directory$/],
    ['a missing netns (exec)', ['netns', 'exec', 'nosuchns', 'true'], /^ts-veth: cannot open netns nosuchns: No such file or directory$/],
    ['a missing netns (del)', ['netns', 'del', 'nosuchns'], /^ts-veth: cannot delete netns nosuchns: No such file or directory$/],
    ['a missing address', ['addr', 'del', '10.9.9.9/24', 'dev', 'veth0'], /^ts-veth: cannot delete 10\.9\.9\.9\/24 from veth0: Cannot assign requested address$/],
    ['an unreachable gateway', ['route', 'add', 'default', 'via', '10.77.0.1'], /^ts-veth: cannot add route default via 10\.77\.0\.1: Network is unreachable$/],
  ];
  for (const [what, args, message] of cases) {
    const r = box.run([V, ...args]);
    t.equal(r.code, 1, `${what}: exit 1`);
    t.match(r.stderr.split('\n')[0], message, `${what}: ${r.stderr.split('\n')[0]}`);
    t.ok(r.stderr.trim().split('\n').every((l) => l.startsWith('ts-veth: ')), `${what}: no stack trace`);
    // (A refusal the kernel explains gets its text as a second, hint line.)
    if (!/address|gateway|into a bridge/.test(what)) t.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line`);
  }
  for (const bad of ['172.2.0.300/24', '172.2.0.1/33', 'banana', '10.0.0.1/']) {
    const r = box.run([V, 'addr', 'add', bad, 'dev', 'veth0']);
    t.equal(r.code, 1, `bad CIDR ${bad}: exit 1`);
    t.equal(r.stderr, `ts-veth: invalid address '${bad}': expected A.B.C.D/PREFIX (or an IPv6 address/PREFIX)\n`, `bad CIDR ${bad}: one line naming it`);
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
  t.match(first.stderr, /^ts-veth: cannot create netns blue: Permission denied\n/, 'nobody: cannot create /run/netns');
  t.equal(box.run(['test', '-e', '/run/netns']).code, 1, 'and /run/netns was not made');
  ok(t, box.run([V, 'netns', 'add', 'mynet']), 'netns add mynet (as root)');
  const before = box.inventory();
  const cases: Array<[string[], RegExp]> = [
    [['add', 'veth0', 'peer', 'veth1'], /^ts-veth: cannot add veth0: Operation not permitted$/],
    [['bridge', 'add', 'br0'], /^ts-veth: cannot add br0: Operation not permitted$/],
    [['up', 'lo'], /^ts-veth: cannot bring up lo: Operation not permitted$/],
    [['netns', 'add', 'blue'], /^ts-veth: cannot create netns blue: (Permission denied|Operation not permitted)$/],
    [['netns', 'del', 'mynet'], /^ts-veth: cannot delete netns mynet: (Permission denied|Operation not permitted)$/],
    [['addr', 'add', '10.0.0.1/24', 'dev', 'lo'], /^ts-veth: cannot add 10\.0\.0\.1\/24 to lo: Operation not permitted$/],
    [['up', 'lo', '-n', 'mynet'], /^ts-veth: cannot enter netns mynet: Operation not permitted$/],
    [['netns', 'exec', 'mynet', 'true'], /^ts-veth: cannot enter netns mynet: Operation not permitted$/],
    [['move', 'lo', '--netns', 'mynet'], /^ts-veth: cannot move lo to netns mynet: Operation not permitted$/],
    [['route', 'add', 'default', 'via', '10.0.0.1'], /^ts-veth: cannot add route default via 10\.0\.0\.1: Operation not permitted$/],
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
  t.ok(lines.some((l) => /^\[ts-veth \d+\] socket\(AF_NETLINK, SOCK_RAW\|SOCK_CLOEXEC, NETLINK_ROUTE\) = \d+$/.test(l)), 'socket(AF_NETLINK, ...)');
  t.ok(lines.some((l) => /bind\(\d+, \{nl_family=AF_NETLINK, nl_pid=0, nl_groups=0\}, 12\) = 0/.test(l)), 'bind');
  const sent = lines.find((l) => l.includes('sendto(') && l.includes('RTM_NEWLINK'));
  t.ok(sent, 'the request is traced');
  t.match(sent, /flags=NLM_F_REQUEST\|NLM_F_ACK\|NLM_F_EXCL\|NLM_F_CREATE/, 'with its flags by name');
  t.match(sent, /IFLA_IFNAME="veth0", IFLA_LINKINFO=\[IFLA_INFO_KIND="veth", IFLA_INFO_DATA=\[VETH_INFO_PEER=\{ifi_family=AF_UNSPEC.*\}, \[IFLA_IFNAME="veth1"\]\]\]/, 'and its nested attributes decoded');
  t.ok(lines.some((l) => /recvfrom\(\d+, \[\{type=NLMSG_ERROR, .*\{ack\}\]/.test(l)), 'the reply: an ack');

  const fail = box.run([V, '--trace', 'add', 'veth0', 'peer', 'veth1']);
  t.match(fail.stderr, /recvfrom\(\d+, \[\{type=NLMSG_ERROR, .*error=-EEXIST/, 'a refusal is traced as NLMSG_ERROR with the errno');

  const dump = box.run([V, '--trace', 'show']);
  t.match(dump.stderr, /sendto\(\d+, \[\{type=RTM_GETLINK, flags=NLM_F_REQUEST\|NLM_F_ROOT\|NLM_F_MATCH/, 'a dump request');
  t.match(dump.stderr, /recvfrom\(\d+, \[\{type=RTM_NEWLINK, flags=NLM_F_MULTI.*IFLA_IFNAME="veth0"/, 'its multi-part replies');
  t.match(dump.stderr, /\{type=NLMSG_DONE/, 'ended by NLMSG_DONE');

  const ns = box.run([V, '--trace', 'netns', 'add', 'mynet']);
  t.match(ns.stderr, /unshare\(CLONE_NEWNET\) = 0/, 'netns add: unshare(CLONE_NEWNET)');
  t.match(ns.stderr, /mount\("\/proc\/thread-self\/ns\/net", "\/run\/netns\/mynet", "none", MS_BIND, NULL\) = 0/, 'the bind mount of the nsfs file');
  const inNs = box.run([V, '--trace', 'up', 'lo', '-n', 'mynet']);
  t.match(inNs.stderr, /setns\(\d+, CLONE_NEWNET\) = 0[^]*socket\(AF_NETLINK[^]*setns\(\d+, CLONE_NEWNET\) = 0/, '-n: into the namespace for socket(), and back');
  const exec = box.run([V, '--trace', 'netns', 'exec', 'mynet', 'true']);
  t.match(exec.stderr, /\[pid \d+\] setns\(\d+, CLONE_NEWNET\) = 0/, 'netns exec: the child joins');
  t.match(exec.stderr, /\[pid \d+\] mount\("mynet", "\/sys", "sysfs", 0, NULL\) = 0/, 'and mounts its own /sys');
});

// After the suite: no netns file, veth, bridge, mount or sandbox process left on the host.
registerLeftoverCheck(t, hostBefore);
