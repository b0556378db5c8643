/**
 * How the workflow's executions are named, so that an event's executions can be found from its
 * ingestId alone: the first attempt is `<ingestId>`, whoever starts it (ingest, or the run that
 * claims it after Step Functions refused ingest's start); each later run is
 * `<ingestId>-<kind>-<attempt>`, where attempt is the record's `attempts` the run claimed (unique,
 * so Step Functions refuses a second start of the same run).
 */

/** Who started a later run: the reconciler (a lost execution), an operator's redrive or replay. */
export const RUN_KINDS = ["reconcile", "redrive", "replay"] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** `<ingestId>` for the first attempt, `<ingestId>-<kind>-<attempt>` for a later run. */
export function executionName(ingestId: string, run?: { kind: RunKind; attempt: number }): string {
  return run && run.attempt > 1 ? `${ingestId}-${run.kind}-${run.attempt}` : ingestId;
}

/** The ingestId an execution name belongs to (an ingestId, a ULID, holds no `-`). */
export function ingestIdOfExecution(name: string): string {
  return name.split("-")[0] ?? "";
}

/** Whether an execution, by its name, is one of this event's. */
export function isExecutionOf(name: string, ingestId: string): boolean {
  return ingestIdOfExecution(name) === ingestId;
}

/** Every name the event's executions can have, up to `attempts` (the record's count), first one first. */
export function executionNamesUpTo(ingestId: string, attempts: number): string[] {
  const names = [executionName(ingestId)];
  for (let attempt = 2; attempt <= attempts; attempt++) {
    for (const kind of RUN_KINDS) names.push(executionName(ingestId, { kind, attempt }));
  }
  return names;
}
