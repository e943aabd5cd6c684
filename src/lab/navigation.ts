// Finding one's way in a lab: where --from starts, the tip about --trace at
// the first step, and the recap at the end (its words are the lab's own,
// from the lab file's "recap").
import { Lab, StepResult } from './types.js';

export class UnknownStepError extends Error {
  override name = 'UnknownStepError';
  constructor(
    readonly lab: Lab,
    readonly given: string,
  ) {
    super(
      `lab ${lab.id} has no step '${given}' (its steps: ${lab.steps.map((s, i) => `${i + 1} ${s.id}`).join(', ')})`,
    );
  }
}

/** The index of the step named by id or by its number (1 = the first). */
export function stepIndex(lab: Lab, given: string): number {
  const byId = lab.steps.findIndex((s) => s.id === given);
  if (byId >= 0) return byId;
  if (/^\d+$/.test(given) && Number(given) >= 1 && Number(given) <= lab.steps.length) return Number(given) - 1;
  throw new UnknownStepError(lab, given);
}

/** Said at the first step shown, unless the run already traces. */
export function traceTip(lab: Lab, tracing: boolean): string | undefined {
  if (tracing) return undefined;
  return `Tip: ts-lab run ${lab.id} --trace runs the same lab with every ts-* tool printing the system calls it makes.`;
}

/** The recap at the end of a lab, as lines (empty when the lab file has none). */
export function recapLines(lab: Lab): string[] {
  if (!lab.recap) return [];
  return [
    `What you built: ${lab.recap.built}`,
    `System calls that did it: ${lab.recap.syscalls.join(', ')}`,
    `Try next: ${lab.recap.next}`,
  ];
}

/** One line on the steps run without pauses before --from: how they went. */
export function caughtUpLine(steps: StepResult[], from: number): string {
  const failed = steps.filter((s) => s.outcome === 'fail').map((s) => s.id);
  const what = `${from === 1 ? 'step 1' : `steps 1-${from}`} run without pauses to get here`;
  return failed.length
    ? `${what}; failed: ${failed.join(', ')} (what follows may fail for that reason: run the lab from its start)`
    : `${what}: all passed`;
}
