// The timestamps ts-runc writes (state.json's created, log lines) without
// Date.prototype.toISOString, whose first call costs about 1 ms: the same
// text, built from the UTC getters.
import t from 'tap';
import { nowRfc3339Nano, utcSeconds } from '../../src/runtime/state.js';

t.test('utcSeconds is toISOString to the second', async (t) => {
  for (const ms of [0, 951782400000, 1795955108371, 4102444799999, Date.now()]) {
    const d = new Date(ms);
    t.equal(utcSeconds(d), d.toISOString().slice(0, 19), d.toISOString());
  }
});

t.test('nowRfc3339Nano: RFC 3339 in UTC, nanoseconds without trailing zeros, and now', async (t) => {
  const before = Date.now();
  const text = nowRfc3339Nano();
  const after = Date.now();
  t.match(text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/);
  const parsed = Date.parse(text);
  t.ok(
    parsed >= Math.floor(before / 1000) * 1000 && parsed <= after,
    `${text} lies between the clock readings around it`,
  );
});
