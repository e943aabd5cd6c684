// ts-runc features: runc 1.1's JSON shape (compared with the installed
// runc's own `runc features` where it has the command), and every claim
// checked against what the runtime really does with a config.
import t from 'tap';
import { parseConfig } from '../../src/runtime/config.js';
import { parseMountOptions } from '../../src/runtime/init-plan.js';
import { run, runTool } from '../helpers/tools.js';

const mine = runTool('runc', ['features']);
const features = JSON.parse(mine.stdout);

/** The JSON's shape: keys and value types, recursively; lists as their element type. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return [v.length ? shape(v[0]) : 'empty'];
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, shape((v as Record<string, unknown>)[k])]),
    );
  return typeof v;
}

t.test('answers with exit 0 and JSON, nothing on stderr', async (t) => {
  t.equal(mine.code, 0);
  t.equal(mine.stderr, '');
  t.match(features, {
    ociVersionMin: String,
    ociVersionMax: String,
    hooks: Array,
    mountOptions: Array,
    linux: { namespaces: Array, capabilities: Array, cgroup: Object, seccomp: { enabled: Boolean } },
    annotations: Object,
  });
});

const haveRunc = run(['sh', '-c', 'command -v runc']).code === 0;
const runcFeatures = haveRunc ? run(['runc', 'features']) : undefined;
const runcHas = runcFeatures?.code === 0;

t.test(
  "the same shape as runc's own features",
  { skip: runcHas ? false : 'the installed runc has no features command (runc < 1.1), or no runc' },
  async (t) => {
    const theirs = JSON.parse(runcFeatures!.stdout);
    const mineShape = shape(features) as Record<string, any>;
    const theirShape = shape(theirs) as Record<string, any>;
    // Annotations are each runtime's own names.
    delete mineShape.annotations;
    delete theirShape.annotations;
    t.same(mineShape, theirShape);
    t.equal(features.ociVersionMax, theirs.ociVersionMax, 'the same spec version as runc 1.1');
    // Nothing claimed that runc (the reference) lacks; names spelled as runc spells them.
    for (const key of ['hooks', 'mountOptions'] as const)
      for (const x of features[key]) t.ok(theirs[key].includes(x), `${key}: ${x} is one of runc's`);
    for (const key of ['namespaces', 'capabilities'] as const)
      t.same(features.linux[key], theirs.linux[key], `linux.${key} as runc lists them`);
    if (features.linux.seccomp.enabled && theirs.linux.seccomp.enabled) {
      t.same(features.linux.seccomp.actions, theirs.linux.seccomp.actions, 'seccomp actions');
      t.same(features.linux.seccomp.operators, theirs.linux.seccomp.operators, 'seccomp operators');
      for (const a of theirs.linux.seccomp.archs) t.ok(features.linux.seccomp.archs.includes(a), `seccomp arch ${a}`);
    }
  },
);

const bundle = '/nonexistent-bundle';
function config(
  extra: Record<string, unknown> = {},
  linux: Record<string, unknown> = {},
  proc: Record<string, unknown> = {},
) {
  return {
    ociVersion: features.ociVersionMax,
    root: { path: 'rootfs' },
    process: { args: ['/bin/true'], cwd: '/', ...proc },
    linux: { namespaces: [], ...linux },
    ...extra,
  };
}

t.test('every claim holds for a config', async (t) => {
  for (const h of features.hooks)
    t.doesNotThrow(
      () => parseConfig(config({ hooks: { [h]: [{ path: '/bin/true' }] } }), bundle),
      `hook ${h} accepted`,
    );
  for (const h of ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'].filter(
    (h) => !features.hooks.includes(h),
  ))
    t.throws(
      () => parseConfig(config({ hooks: { [h]: [{ path: '/bin/true' }] } }), bundle),
      `hook ${h}, not listed, is refused`,
    );
  for (const n of features.linux.namespaces)
    t.doesNotThrow(
      () =>
        parseConfig(
          config(
            {},
            {
              namespaces: [{ type: n }],
              ...(n === 'user'
                ? {
                    uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
                    gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
                  }
                : {}),
            },
          ),
          bundle,
        ),
      `namespace ${n}`,
    );
  t.throws(() => parseConfig(config({}, { namespaces: [{ type: 'time' }] }), bundle), 'time, not listed, is refused');
  for (const o of features.mountOptions)
    t.same(parseMountOptions([o]).data, [], `mount option ${o} is the runtime's own, not file-system data`);
  for (const o of ['tmpcopyup', 'rro']) t.notOk(features.mountOptions.includes(o), `${o} is not claimed`);
  t.throws(() => parseMountOptions(['tmpcopyup']), 'tmpcopyup is refused');
  for (const c of features.linux.capabilities)
    t.doesNotThrow(() => parseConfig(config({}, {}, { capabilities: { bounding: [c] } }), bundle), `capability ${c}`);
  // ts-runc applies process.apparmorProfile at execve (init-plan apparmorCalls), as runc does.
  t.equal(features.linux.apparmor.enabled, true);
  t.doesNotThrow(
    () => parseConfig(config({}, {}, { apparmorProfile: 'unconfined' }), bundle),
    'an apparmor profile is taken',
  );
  t.equal(features.linux.selinux.enabled, false);
  t.throws(
    () => parseConfig(config({}, {}, { selinuxLabel: 'system_u:system_r:container_t:s0' }), bundle),
    'selinux is not enabled: a label is refused',
  );
  t.same(features.linux.cgroup, { v1: true, v2: true, systemd: false, systemdUser: false });
  const systemd = runTool('runc', ['--systemd-cgroup', 'list']);
  t.not(systemd.code, 0, 'and --systemd-cgroup is refused');
  if (features.linux.seccomp.enabled) {
    t.ok(
      features.linux.seccomp.archs.includes(process.arch === 'arm64' ? 'SCMP_ARCH_AARCH64' : 'SCMP_ARCH_X86_64'),
      "this machine's architecture",
    );
    for (const op of features.linux.seccomp.operators)
      t.doesNotThrow(
        () =>
          parseConfig(
            config(
              {},
              {
                seccomp: {
                  defaultAction: 'SCMP_ACT_ALLOW',
                  syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op }] }],
                },
              },
            ),
            bundle,
          ),
        `operator ${op}`,
      );
  }
});

t.test('an operand is refused', async (t) => {
  const extra = runTool('runc', ['features', 'x']);
  t.not(extra.code, 0);
});
