// Waiting in tests: for something the test can see (a process appears or
// ends, a file is written, a state changes), looked at again and again until
// a deadline. Never a fixed sleep: its length is a guess about how loaded the
// machine is, too short on a busy one and time lost on an idle one.

/**
 * Resolves true as soon as `condition()` holds, or false once `timeoutMs`
 * has passed without it (the test then asserts, and says what it waited for).
 */
export async function waitFor(
  condition: () => boolean,
  { timeoutMs = 15_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
