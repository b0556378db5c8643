/**
 * The normalize workflow, declared once: the registry of its tasks and the one pure builder of
 * its Amazon States Language definition (JSONPath). The SST stack deploys exactly this JSON with
 * the deployed function ARNs; the local Step Functions endpoint runs exactly this JSON with ARNs
 * it maps back to the same handlers in-process.
 *
 * State shape (references only: Express input and output are capped at 256 KiB):
 *
 *   input          { ingestId, vendorId, externalEventId, rawRef: { bucket, key } }
 *   Validate       receives the state, its result is added at      $.validation
 *   Map            receives the state, its result is added at      $.mapping
 *   WriteNormalized receives the state, its result is added at     $.normalized
 *   ApplyState     receives the state, its result is added at      $.state
 *   UpdateStatus   receives the state with $.outcome = "NORMALIZED", result at $.statusUpdate
 *   on a failure   the caught error is at $.error ({ Error, Cause }) and the failing stage at
 *                  $.failure ({ stage }); then
 *   Quarantine     receives the state, its result is added at      $.quarantine
 *   MarkFailed     runs the UpdateStatus function with $.outcome = "FAILED_NORMALIZE",
 *                  result at $.statusUpdate
 *
 * Every task receives the whole state object and returns a small JSON value (ids, keys, flags),
 * never a payload. Every task is idempotent: an execution may run twice for one event.
 *
 * Outcomes: a quarantined event is a handled outcome, so that path ends in Succeed. An execution
 * FAILS only when no outcome could be recorded: Quarantine or MarkFailed itself failed after its
 * retries, or ApplyState's write of the entity stayed contended past CONTENTION_RETRY (the event
 * was valid; losing to other events is no reason to quarantine it). That is exactly what the
 * failed-executions alarm means, and the reconciler picks the event up again because its record
 * is still RECEIVED.
 */

import { TRANSIENT_ERROR_NAMES, WRITE_CONTENTION_ERROR } from "./errors.ts";
import type { ObjectRef } from "./keys.ts";

/** The Lambda-backed tasks, in the order of the happy path, then the failure path. */
export const TASK_NAMES = [
  "Validate",
  "Map",
  "WriteNormalized",
  "ApplyState",
  "UpdateStatus",
  "Quarantine",
] as const;
export type TaskName = (typeof TASK_NAMES)[number];

export interface WorkflowTask {
  /** SST resource name of the task's function. */
  functionName: string;
  /** Handler path from the repository root, as SST references it. */
  handler: string;
}

const taskHandler = (file: string) => `packages/functions/src/tasks/${file}.handler`;

/** Task name → function. The state names of the definition are these names (plus MarkFailed, which runs UpdateStatus). */
export const WORKFLOW_TASKS: Readonly<Record<TaskName, WorkflowTask>> = {
  Validate: { functionName: "ValidateTask", handler: taskHandler("validate") },
  Map: { functionName: "MapTask", handler: taskHandler("map") },
  WriteNormalized: { functionName: "WriteNormalizedTask", handler: taskHandler("write-normalized") },
  ApplyState: { functionName: "ApplyStateTask", handler: taskHandler("apply-state") },
  UpdateStatus: { functionName: "UpdateStatusTask", handler: taskHandler("update-status") },
  Quarantine: { functionName: "QuarantineTask", handler: taskHandler("quarantine") },
};

/** SST resource name of the state machine. */
export const NORMALIZE_STATE_MACHINE = "Normalize";

/** The stages whose failure is caught and quarantined, in flow order. */
export const CAUGHT_STAGES = ["Validate", "Map", "WriteNormalized", "ApplyState", "UpdateStatus"] as const;
export type CaughtStage = (typeof CAUGHT_STAGES)[number];

export type Outcome = "NORMALIZED" | "FAILED_NORMALIZE";

/** What an execution starts from (the execution name is the ingestId). */
export interface NormalizeInput {
  ingestId: string;
  vendorId: string;
  externalEventId: string;
  rawRef: ObjectRef;
}

/** The error Step Functions records at $.error when it catches a task failure. */
export interface CaughtError {
  Error: string;
  /** For a Lambda error, a JSON string `{"errorType", "errorMessage", "trace"}`. */
  Cause: string;
}

/**
 * The state object every task receives. The result keys are present once their task has run;
 * each holds that task's own return value, typed by the handler that returns it.
 */
export interface NormalizeState extends NormalizeInput {
  validation?: unknown;
  mapping?: unknown;
  normalized?: unknown;
  state?: unknown;
  error?: CaughtError;
  failure?: { stage: CaughtStage };
  quarantine?: unknown;
  outcome?: Outcome;
  statusUpdate?: unknown;
}

/** Where each task's return value goes in the state object. */
export const TASK_RESULT_PATHS: Readonly<Record<TaskName, string>> = {
  Validate: "$.validation",
  Map: "$.mapping",
  WriteNormalized: "$.normalized",
  ApplyState: "$.state",
  UpdateStatus: "$.statusUpdate",
  Quarantine: "$.quarantine",
};

/** Retry policy of every task (see docs/architecture: transient errors only; the rest is caught). */
export const TASK_RETRY = {
  intervalSeconds: 1,
  backoffRate: 2,
  maxAttempts: 3,
  maxDelaySeconds: 5,
} as const;

/**
 * ApplyState's second retrier: another event won the compare-and-swap on the same entity. That is
 * a reason to wait, never to quarantine, so the waits grow (with full jitter, so the losers spread
 * out instead of colliding again in lockstep) for about a minute on average before giving up.
 */
export const CONTENTION_RETRY = {
  intervalSeconds: 1,
  backoffRate: 1.5,
  maxAttempts: 15,
  maxDelaySeconds: 8,
} as const;

/** The Fail state an execution ends in when contention outlasted CONTENTION_RETRY (see ApplyState). */
export const CONTENDED_STATE = "ApplyStateContended";

/** A task that hangs (not a handler error) times out and is retried as States.Timeout. */
export const TASK_TIMEOUT_SECONDS = 60;

export interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds: number;
  BackoffRate: number;
  MaxAttempts: number;
  MaxDelaySeconds: number;
  JitterStrategy: "FULL" | "NONE";
}

export interface AslCatcher {
  ErrorEquals: string[];
  ResultPath: string;
  Next: string;
}

export interface AslTaskState {
  Type: "Task";
  Comment: string;
  Resource: string;
  TimeoutSeconds: number;
  ResultPath: string;
  Retry: AslRetrier[];
  Catch?: AslCatcher[];
  Next: string;
}

export interface AslPassState {
  Type: "Pass";
  Comment: string;
  Result: unknown;
  ResultPath: string;
  Next: string;
}

export interface AslSucceedState {
  Type: "Succeed";
  Comment: string;
}

export interface AslFailState {
  Type: "Fail";
  Comment: string;
  Error: string;
  Cause: string;
}

export type AslState = AslTaskState | AslPassState | AslSucceedState | AslFailState;

export interface AslDefinition {
  Comment: string;
  QueryLanguage: "JSONPath";
  StartAt: string;
  States: Record<string, AslState>;
}

function retrier(
  errors: readonly string[],
  policy: { intervalSeconds: number; backoffRate: number; maxAttempts: number; maxDelaySeconds: number },
): AslRetrier {
  return {
    ErrorEquals: [...errors],
    IntervalSeconds: policy.intervalSeconds,
    BackoffRate: policy.backoffRate,
    MaxAttempts: policy.maxAttempts,
    MaxDelaySeconds: policy.maxDelaySeconds,
    JitterStrategy: "FULL",
  };
}

const contentionCatcher: AslCatcher = {
  ErrorEquals: [WRITE_CONTENTION_ERROR],
  ResultPath: "$.error",
  Next: CONTENDED_STATE,
};

/** The Pass state a stage's Catch goes to: it names the stage, then quarantines. */
export const failedStateOf = (stage: CaughtStage) => `${stage}Failed`;

/**
 * The Normalize state machine. `functionArn` gives the ARN of a task's function; the Task states
 * use the direct Lambda ARN form, so a task's output is exactly its handler's return value.
 * Pure: the same ARNs always give a deep-equal, JSON-serializable definition.
 */
export function buildNormalizeDefinition(functionArn: (task: TaskName) => string): AslDefinition {
  // `caughtAs` names the stage whose failure is quarantined; without it a failure fails the execution.
  // Only ApplyState writes the compare-and-swap that can be contended.
  const task = (name: TaskName, comment: string, next: string, caughtAs?: CaughtStage): AslTaskState => {
    const contended = name === "ApplyState";
    const transient = retrier(TRANSIENT_ERROR_NAMES, TASK_RETRY);
    return {
      Type: "Task",
      Comment: comment,
      Resource: functionArn(name),
      TimeoutSeconds: TASK_TIMEOUT_SECONDS,
      ResultPath: TASK_RESULT_PATHS[name],
      Retry: contended ? [transient, retrier([WRITE_CONTENTION_ERROR], CONTENTION_RETRY)] : [transient],
      ...(caughtAs && {
        Catch: [
          ...(contended ? [contentionCatcher] : []),
          { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: failedStateOf(caughtAs) },
        ],
      }),
      Next: next,
    };
  };

  const failed = Object.fromEntries(
    CAUGHT_STAGES.map((stage): [string, AslPassState] => [
      failedStateOf(stage),
      {
        Type: "Pass",
        Comment: `Records that ${stage} failed (permanent error or retries exhausted), then quarantines.`,
        Result: { stage },
        ResultPath: "$.failure",
        Next: "Quarantine",
      },
    ]),
  );

  return {
    Comment: "DVSS normalize: one execution per accepted event; states pass references, never payloads.",
    QueryLanguage: "JSONPath",
    StartAt: "Validate",
    States: {
      Validate: task(
        "Validate",
        "Checks the raw payload against the vendor's schema for its version.",
        "Map",
        "Validate",
      ),
      Map: task(
        "Map",
        "Maps the vendor payload to a standard event with the active JSONata mapping.",
        "WriteNormalized",
        "Map",
      ),
      WriteNormalized: task(
        "WriteNormalized",
        "Writes the normalized document (key from the ingestId).",
        "ApplyState",
        "WriteNormalized",
      ),
      ApplyState: task(
        "ApplyState",
        "Folds the standard event into canonical state and the outbox.",
        "OutcomeNormalized",
        "ApplyState",
      ),
      [CONTENDED_STATE]: {
        Type: "Fail",
        Comment:
          "Other events kept winning the write of this entity past every retry. Not the event's fault, so not quarantined: its record stays RECEIVED and the reconciler starts it again.",
        Error: WRITE_CONTENTION_ERROR,
        Cause: "Canonical state write contended past the retries; the reconciler starts the event again.",
      },
      OutcomeNormalized: {
        Type: "Pass",
        Comment: "The outcome UpdateStatus records.",
        Result: "NORMALIZED",
        ResultPath: "$.outcome",
        Next: "UpdateStatus",
      },
      UpdateStatus: task("UpdateStatus", "Marks the ingest record NORMALIZED.", "Normalized", "UpdateStatus"),
      Normalized: { Type: "Succeed", Comment: "The event is normalized and applied." },
      ...failed,
      // No Catch on Quarantine and MarkFailed: if the outcome cannot be recorded the execution
      // fails (and alarms) instead of looping.
      Quarantine: task("Quarantine", "Records the failure in the quarantine table.", "OutcomeFailed"),
      OutcomeFailed: {
        Type: "Pass",
        Comment: "The outcome MarkFailed records.",
        Result: "FAILED_NORMALIZE",
        ResultPath: "$.outcome",
        Next: "MarkFailed",
      },
      MarkFailed: task("UpdateStatus", "Marks the ingest record FAILED_NORMALIZE.", "Quarantined"),
      Quarantined: {
        Type: "Succeed",
        Comment: "The event is quarantined: a handled outcome, not a failed execution.",
      },
    },
  };
}

/** An Express execution ends after 5 minutes, whatever its definition says. */
export const EXPRESS_MAX_SECONDS = 300;

/**
 * The longest one Task state can run: every attempt its retriers allow (each retrier counts its
 * own MaxAttempts, so the attempts add up), each attempt up to TimeoutSeconds, and every wait
 * between them at its longest (IntervalSeconds × BackoffRate^n, capped by MaxDelaySeconds; full
 * jitter only ever waits less).
 */
export function taskWorstCaseSeconds(state: AslTaskState): number {
  let attempts = 1;
  let waits = 0;
  for (const retrier of state.Retry) {
    attempts += retrier.MaxAttempts;
    for (let retry = 0; retry < retrier.MaxAttempts; retry++) {
      waits += Math.min(retrier.IntervalSeconds * retrier.BackoffRate ** retry, retrier.MaxDelaySeconds);
    }
  }
  return attempts * state.TimeoutSeconds + waits;
}

/**
 * The longest an execution of `definition` can run, in seconds: the worst path from StartAt to an
 * end, through Next and every Catch, each Task state at its worst case (Pass, Succeed and Fail
 * states take no time). An EXPRESS execution is stopped at 5 minutes, so that bounds it.
 */
export function maxExecutionSeconds(definition: AslDefinition, type: "EXPRESS" | "STANDARD"): number {
  const longest = new Map<string, number>();
  const visiting = new Set<string>();
  const from = (name: string): number => {
    const known = longest.get(name);
    if (known !== undefined) return known;
    const state = definition.States[name];
    if (!state) throw new Error(`The definition has no state ${name}`);
    if (visiting.has(name)) throw new Error(`The definition loops through ${name}: no longest path`);
    visiting.add(name);
    const own = state.Type === "Task" ? taskWorstCaseSeconds(state) : 0;
    const next =
      state.Type === "Task"
        ? [state.Next, ...(state.Catch ?? []).map((c) => c.Next)]
        : "Next" in state
          ? [state.Next]
          : [];
    const result = own + Math.max(0, ...next.map(from));
    visiting.delete(name);
    longest.set(name, result);
    return result;
  };
  const worst = from(definition.StartAt);
  return type === "EXPRESS" ? Math.min(worst, EXPRESS_MAX_SECONDS) : worst;
}

/**
 * What the reconciler waits beyond the longest execution: a record's clock (its receipt, or a
 * restart's claim) is written before its execution starts, and the start itself may be retried.
 */
export const RECONCILE_MARGIN_SECONDS = 60;

/**
 * How long a record may stay RECEIVED after its last execution started before the reconciler
 * treats that execution as lost and starts another (DVSS_RECONCILE_AFTER_SECONDS): the longest an
 * execution can run, plus a margin. Sooner, it would start a second execution of an event whose
 * first is still running; Express does not refuse a second execution under the same name.
 */
export function reconcileAfterSeconds(definition: AslDefinition, type: "EXPRESS" | "STANDARD"): number {
  return Math.ceil(maxExecutionSeconds(definition, type)) + RECONCILE_MARGIN_SECONDS;
}

/** The threshold for the deployed default, an EXPRESS Normalize: 300 s + 60 s. */
export const DEFAULT_RECONCILE_AFTER_SECONDS = reconcileAfterSeconds(
  buildNormalizeDefinition((task) => task),
  "EXPRESS",
);
