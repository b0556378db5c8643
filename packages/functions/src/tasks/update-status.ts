import { recordFailed, recordNormalized } from "../lib/outcome.ts";
import { taskHandler } from "../lib/task.ts";

/**
 * MarkFailed: moves the record to FAILED_NORMALIZE once the event is quarantined (lib/outcome.ts).
 * NORMALIZED is ApplyState's last step; an execution an earlier definition started runs this task
 * after ApplyState instead, and it records NORMALIZED the same way.
 */
export const handler = taskHandler("UpdateStatus", async (state) => {
  if (state.outcome === "NORMALIZED") {
    await recordNormalized(state, state.applied);
    return { status: state.outcome, changed: true };
  }
  return recordFailed(state);
});
