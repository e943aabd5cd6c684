// The UTS namespace's strings: sethostname(2).
import { Call, makeCall } from './call.js';
import { q } from './trace.js';

export function sethostnameCall(name: string): Call {
  return makeCall(
    'sethostname',
    [name, Buffer.byteLength(name)],
    `sethostname(${q(name)}, ${Buffer.byteLength(name)})`,
    { what: `set the host name to ${name}` },
  );
}
