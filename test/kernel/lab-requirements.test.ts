// The cgroup requirement of the cgroup labs, on this host and on made-up
// layouts (a mock, named so: a pure v2 host seen from a login session's
// cgroup is not a machine this suite runs on here).
import t from 'tap';
import { detectCgroups } from '../../src/cgroup/hierarchy.js';
import { cgroupControllersUnavailable } from '../../src/lab/requirements.js';

const V2_MOUNTINFO =
  '30 1 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n';
const HYBRID_MOUNTINFO =
  V2_MOUNTINFO.replace('/sys/fs/cgroup rw', '/sys/fs/cgroup/unified rw') +
  '31 1 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:5 - cgroup cgroup rw,memory\n';

t.test(
  'mock: pure v2 from a login session: the labs make their cgroups below the root, so nothing stands in the way',
  async (t) => {
    const layout = detectCgroups({
      mountinfo: V2_MOUNTINFO,
      procCgroup: '0::/user.slice/user-1000.slice/session-3.scope\n',
    });
    layout.hierarchies[0]!.controllers = ['cpu', 'memory', 'pids'];
    t.equal(cgroupControllersUnavailable(['memory'], layout, ''), undefined, 'the default: below the root');
    t.equal(cgroupControllersUnavailable(['memory'], layout, '/machine'), undefined, 'an absolute parent');
    const why = cgroupControllersUnavailable(['memory'], layout, '.');
    t.match(
      why,
      /no controllers below a cgroup that holds processes \(yours is \/user\.slice\/user-1000\.slice\/session-3\.scope\)/,
      'below our own (NSLAB_CGROUP_PARENT=.): refused',
    );
    t.match(why, /unset NSLAB_CGROUP_PARENT/, 'with the way out');
    t.notMatch(why, /sudo tee/, 'which is not to move the shell');
  },
);

t.test('mock: pure v2 from the root cgroup, and v1 controllers anywhere, are fine', async (t) => {
  const root = detectCgroups({ mountinfo: V2_MOUNTINFO, procCgroup: '0::/\n' });
  root.hierarchies[0]!.controllers = ['memory', 'pids'];
  t.equal(cgroupControllersUnavailable(['memory', 'pids'], root, '.'), undefined);
  const hybrid = detectCgroups({
    mountinfo: HYBRID_MOUNTINFO,
    procCgroup: '4:memory:/some/where\n0::/user.slice/x.scope\n',
  });
  for (const h of hybrid.hierarchies) if (h.version === 2) h.controllers = [];
  t.equal(
    cgroupControllersUnavailable(['memory'], hybrid, '.'),
    undefined,
    'a v1 memory hierarchy has no internal-process rule',
  );
  t.match(cgroupControllersUnavailable(['hugetlb'], hybrid), /no cgroup hierarchy here has/);
});

t.test('this host: the answer follows its own layout', async (t) => {
  const layout = detectCgroups();
  const memory = layout.hierarchies.find((h) => h.controllers.includes('memory'));
  const expected = !memory
    ? /no cgroup hierarchy/
    : memory.version === 2 && memory.own !== '/'
      ? /holds processes/
      : undefined;
  const why = cgroupControllersUnavailable(['memory'], undefined, '.');
  if (expected) t.match(why, expected);
  else
    t.equal(
      why,
      undefined,
      `memory on ${memory?.version === 1 ? 'v1' : 'v2 at the root cgroup'}: nothing stands in the way`,
    );
});
