// Make dist/NAME.v8cache for each bundle named on the command line (see
// bin/load.cjs). Compiled with --no-lazy, so the cache holds every
// function, not only the top level; the flag is set back before the cache
// is written, because V8 refuses a cache whose flags differ from the
// running ones.
'use strict';
const { readFileSync, statSync, writeFileSync } = require('node:fs');
const { setFlagsFromString } = require('node:v8');
const { Script } = require('node:vm');
const Module = require('node:module');

for (const file of process.argv.slice(2)) {
  setFlagsFromString('--no-lazy');
  const source = readFileSync(file, 'utf8');
  // A vm.Script has no import() without an experimental flag: builtins come from process.getBuiltinModule.
  const dynamic = /(?<![\w.$])import\("[^"]*"\)/.exec(source);
  if (dynamic) throw new Error(`${file}: ${dynamic[0]} cannot run under bin/load.cjs; use process.getBuiltinModule`);
  const script = new Script(Module.wrap(source), { filename: file });
  setFlagsFromString('--lazy');
  const st = statSync(file);
  writeFileSync(
    file.replace(/\.cjs$/, '.v8cache'),
    Buffer.concat([Buffer.from(`${st.size}:${st.mtimeMs}\n`), script.createCachedData()]),
  );
}
