// Start a bundled tool (dist/NAME.cjs) with V8's code cache (dist/NAME.v8cache,
// made by scripts/build.mjs): V8 then skips parsing and compiling the
// bundle's functions, a few milliseconds of every start (docs/design.md,
// "Start-up time"). Node 20 has no module.enableCompileCache, so this is
// the vm.Script form of it. The cache is used only when its first line
// names the bundle's size and mtime; otherwise (a rebuilt bundle, or no
// cache) the bundle loads as a plain require. V8 itself refuses a cache
// made by another V8 or with other flags, and then compiles as usual.
'use strict';
const { readFileSync, statSync } = require('node:fs');
const { join, dirname } = require('node:path');

/**
 * The tools live for milliseconds: code TurboFan optimizes in the
 * background would come too late to help, and the exit waits for those
 * compile jobs (about 1.5 ms of every ts-runc run). Baseline code is
 * enough. Set after the cache is read: V8 refuses a cache made with other
 * flags. The flag goes through V8's own v8::V8::SetFlagsFromString, which
 * the node binary exports for addons, called with koffi (every tool loads
 * it anyway, and the bundle's require then finds it loaded): node:v8 would
 * first load node's stream modules, which cost about as much as the flag
 * saves (ts-runc run: 1.6 ms less this way, measured in pairs). If that
 * symbol or koffi's native module is not there, node:v8 it is.
 */
function noTurbofan() {
  try {
    const arch = process.arch;
    // The native module src/syscalls/libc.ts loads (keep the two in step).
    const koffi = require(
      require.resolve(`@koromix/koffi-linux-${arch}/linux_${arch}/koffi.node`, { paths: [join(__dirname, '..')] }),
    );
    koffi.load(null).func('void _ZN2v82V818SetFlagsFromStringEPKc(const char *flags)')('--no-turbofan');
  } catch {
    require('node:v8').setFlagsFromString('--no-turbofan');
  }
}

module.exports = function load(name) {
  const file = join(__dirname, '..', 'dist', `${name}.cjs`);
  let cache;
  try {
    cache = readFileSync(join(__dirname, '..', 'dist', `${name}.v8cache`));
  } catch {
    noTurbofan();
    return require(file);
  }
  const newline = cache.indexOf(10);
  const st = statSync(file);
  if (newline < 0 || cache.toString('latin1', 0, newline) !== `${st.size}:${st.mtimeMs}`) {
    noTurbofan();
    return require(file);
  }
  const Module = require('node:module');
  const { Script } = require('node:vm');
  // The bundle has no import() (scripts/code-cache.cjs checks): a vm.Script could not run it.
  const script = new Script(Module.wrap(readFileSync(file, 'utf8')), {
    filename: file,
    cachedData: cache.subarray(newline + 1),
  });
  noTurbofan();
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(dirname(file));
  require.cache[file] = mod;
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dirname(file));
  mod.loaded = true;
};
