/**
 * The normalize workflow, declared once: the registry of its tasks, the contract of each task
 * (what it receives, and the result it adds beside its ResultPath) and the one pure builder of
 * its Amazon States Language definition (JSONPath). The SST stack deploys exactly this JSON with
 * the deployed function ARNs; the local Step Functions endpoint runs exactly this JSON with ARNs
 * it maps back to the same handlers in-process.
 *
 * State shape (references, and the normalized document when it is small: Express input and
 * output are capped at 256 KiB):
 *
 *   input          { ingestId, vendorId, externalEventId, rawRef: { bucket, key } }
 *   Map            reads the raw object once, validates the payload, maps it and writes the
 *                  normalized document; its result (MapResult: the document's reference, the
 *                  document itself up to CARRIED_DOCUMENT_MAX_BYTES, and whether Match has
 *                  anything to do) is added at                                  $.normalized
 *   NeedsMatch     a Choice: to ApplyState when Map said the vendor's identifiers are all their
 *                  own canonical ids (no crosswalk entries, no required kind), else to Match
 *   Match          resolves the event's identifiers through the crosswalk (MatchResult:
 *                  canonical ids, unit, conversion), its result is added at      $.match
 *   ApplyState     folds the event into canonical state and marks its record NORMALIZED (the
 *                  status, the vendor's scorecard); its result is added at      $.applied
 *   on a failure   the caught error is at $.error ({ Error, Cause }) and the failing task at
 *                  $.failure ({ stage }); then
 *   Quarantine     receives the state, its result is added at                   $.quarantine
 *   MarkFailed     runs the UpdateStatus function with $.outcome = "FAILED_NORMALIZE",
 *                  result at $.statusUpdate
 *
 * Validating, mapping and writing are one task because each needs the raw body, and a raw body
 * may be 256 KiB on its own: it can never travel in the state to a next task. As three tasks they
 * read the raw object three times and ran the mapping twice. Marking the record NORMALIZED is
 * ApplyState's last step rather than a task of its own, and Match runs only for a vendor that has
 * something to match: each Lambda invocation is paid for, and most events need neither. A failure
 * still names its stage (FAILURE_STAGES): a task reports with its error which of its steps failed
 * (Map's Validate, Map or WriteNormalized; ApplyState's UpdateStatus), and Quarantine records that.
 *
 * Every task receives the whole state object and returns a small JSON value (ids, keys, flags),
 * never a vendor's payload; Map's result carries the normalized document it wrote when that is
 * small, so Match and ApplyState do not read back from S3 what Map has just written. Every task is
 * idempotent: an execution may run twice for one event.
 *
 * Outcomes: a quarantined event is a handled outcome, so that path ends in Succeed. An execution
 * FAILS only when no outcome could be recorded: Quarantine or MarkFailed itself failed after its
 * retries, or ApplyState's write of the entity stayed contended past CONTENTION_RETRY (the event
 * was valid; losing to other events is no reason to quarantine it). That is exactly what the
 * failed-executions alarm means, and the reconciler picks the event up again because its record
 * is still RECEIVED.
 */

import type { MatchResult as CrosswalkMatch } from "./crosswalk.ts";
import { TRANSIENT_ERROR_NAMES, WRITE_CONTENTION_ERROR } from "./errors.ts";
import type { ObjectRef } from "./keys.ts";
import type { NormalizedDocument } from "./normalized.ts";
import type { NormalizedOutcome } from "./outcomes.ts";
import type { ApplyStateResult as StateChange } from "./state/types.ts";

/**
 * The Lambda-backed tasks, in the order of the happy path, then the failure path. UpdateStatus
 * runs as MarkFailed; it also records NORMALIZED for an execution an earlier definition started
 * (one that ran it after ApplyState).
 */
export const TASK_NAMES = ["Map", "Match", "ApplyState", "UpdateStatus", "Quarantine"] as const;
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
  Map: { functionName: "MapTask", handler: taskHandler("map") },
  Match: { functionName: "MatchTask", handler: taskHandler("match") },
  ApplyState: { functionName: "ApplyStateTask", handler: taskHandler("apply-state") },
  UpdateStatus: { functionName: "UpdateStatusTask", handler: taskHandler("update-status") },
  Quarantine: { functionName: "QuarantineTask", handler: taskHandler("quarantine") },
};

/** SST resource name of the state machine. */
export const NORMALIZE_STATE_MACHINE = "Normalize";

/** The tasks whose failure is caught and quarantined, in flow order. */
export const CAUGHT_TASKS = ["Map", "Match", "ApplyState"] as const;
export type CaughtTask = (typeof CAUGHT_TASKS)[number];

/**
 * The stage a quarantine entry names, in flow order: the caught task, or the step of its work that
 * failed (Map's reading and checking the payload, mapping it, writing the normalized document;
 * ApplyState's marking the record NORMALIZED), named as operators knew them when each was a task
 * of its own.
 */
export const FAILURE_STAGES = [
  "Validate",
  "Map",
  "WriteNormalized",
  "Match",
  "ApplyState",
  "UpdateStatus",
] as const;
export type FailureStage = (typeof FAILURE_STAGES)[number];

export const isFailureStage = (value: unknown): value is FailureStage =>
  (FAILURE_STAGES as readonly unknown[]).includes(value);

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
 * The largest normalized document (its JSON, in UTF-8 bytes) Map's result carries beside its
 * reference. Step Functions caps a state's input and output at 256 KiB, and the state holds more
 * than the document: the input's references (~300 bytes), Match's result (an entry per identifier
 * the crosswalk maps, ids of at most 256 characters), ApplyState's and UpdateStatus's small
 * results, and on a failure the caught error with its field details. 8 KiB keeps all of it under a
 * tenth of the cap. It carries every inventory event (~350 bytes) and any order of short skus (100
 * lines of 12-character skus are ~4 KiB), while the largest document the standard events allow
 * (100 lines of 256-character skus, ~29 KiB) goes by reference only. It also bounds what the
 * document adds to the logs where the state machine logs execution data (level ALL: it is on
 * every history record from Map's result on, core/cost.ts) and to the local runtime's history
 * item of an execution.
 */
export const CARRIED_DOCUMENT_MAX_BYTES = 8 * 1024;

/**
 * Map's result: where the normalized document was written, its standard event type, the mapping
 * version, and the document itself when its JSON is at most CARRIED_DOCUMENT_MAX_BYTES. Absent
 * for a larger document, and in the state of an execution that code before it started: the
 * reference is what there always is.
 */
export type MapResult = NormalizedOutcome & {
  document?: NormalizedDocument;
  /**
   * Whether Match has anything to do: the vendor has crosswalk entries or a kind it requires be
   * matched. False skips Match (NeedsMatch); absent (an earlier Map) runs it.
   */
  needsMatch?: boolean;
};

/**
 * Match's result: the identifiers the crosswalk maps to canonical ids (with the entry version
 * read), and for inventory the canonical unit and conversion factor. Empty when every identifier
 * is its own canonical id.
 */
export type MatchResult = CrosswalkMatch;

/** ApplyState's result: what the change did to canonical state (divergences by kind only). */
export interface ApplyStateResult {
  outcome: StateChange["outcome"];
  entity: StateChange["entity"];
  version: number;
  divergences: StateChange["divergences"][number]["kind"][];
  outOfOrder: StateChange["outOfOrder"];
}

/** UpdateStatus's (and MarkFailed's) result: the record's status after the call, and whether it changed. */
export interface UpdateStatusResult {
  status: string;
  changed: boolean;
}

/** Quarantine's result: the reason code and message MarkFailed records on the ingest record. */
export interface QuarantineResult {
  reason: string;
  message: string;
}

/** Each task's result, by task (UpdateStatus's as MarkFailed, or for an earlier definition's execution). */
export interface TaskResults {
  Map: MapResult;
  Match: MatchResult;
  ApplyState: ApplyStateResult;
  UpdateStatus: UpdateStatusResult;
  Quarantine: QuarantineResult;
}

/** Where each task's result goes in the state object: its ResultPath is `$.<key>`. */
export const TASK_RESULT_KEYS = {
  Map: "normalized",
  Match: "match",
  ApplyState: "applied",
  UpdateStatus: "statusUpdate",
  Quarantine: "quarantine",
} as const satisfies Record<TaskName, string>;

type ResultKey = (typeof TASK_RESULT_KEYS)[TaskName];
/** `{ normalized?: MapResult, state?: ApplyStateResult, ... }`: each result under its key. */
type Results = { [T in TaskName as (typeof TASK_RESULT_KEYS)[T]]: TaskResults[T] };

/** Where each task's return value goes in the state object. */
export const TASK_RESULT_PATHS = Object.fromEntries(
  TASK_NAMES.map((task) => [task, `$.${TASK_RESULT_KEYS[task]}`]),
) as Readonly<Record<TaskName, `$.${ResultKey}`>>;

/** What a Catch and its Pass state add on a failure path. */
export interface CaughtFailure {
  error: CaughtError;
  failure: { stage: FailureStage };
}

/**
 * The state object as it grows: each task's result under its key once the task has run, the
 * caught error and the failing stage once a task failed, the outcome before UpdateStatus.
 */
export type NormalizeState = NormalizeInput &
  Partial<Results> &
  Partial<CaughtFailure> & { outcome?: Outcome };

/**
 * What each task receives: the input plus what every path of the definition into that task has
 * added (buildNormalizeDefinition; workflow tests check each path).
 */
export interface TaskInputs {
  Map: NormalizeInput;
  Match: NormalizeInput & Pick<Results, "normalized">;
  /** Without `match` when NeedsMatch skipped Match: every identifier is its own canonical id. */
  ApplyState: NormalizeInput & Pick<Results, "normalized"> & Partial<Pick<Results, "match">>;
  /** FAILED_NORMALIZE as MarkFailed; NORMALIZED only from an execution an earlier definition started. */
  UpdateStatus:
    | (NormalizeInput & Pick<Results, "normalized" | "match" | "applied"> & { outcome: "NORMALIZED" })
    | (NormalizeInput &
        Partial<Results> &
        CaughtFailure &
        Pick<Results, "quarantine"> & { outcome: "FAILED_NORMALIZE" });
  Quarantine: NormalizeInput & Partial<Results> & CaughtFailure;
}

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

/** A Choice on one boolean of the state: only the rules this workflow uses. */
export interface AslChoiceState {
  Type: "Choice";
  Comment: string;
  Choices: {
    And: [{ Variable: string; IsPresent: true }, { Variable: string; BooleanEquals: boolean }];
    Next: string;
  }[];
  Default: string;
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

export type AslState = AslTaskState | AslPassState | AslChoiceState | AslSucceedState | AslFailState;

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

/** The Pass state a task's Catch goes to: it names the task as the failed stage, then quarantines. */
export const failedStateOf = (task: CaughtTask) => `${task}Failed`;

/**
 * The Normalize state machine. `functionArn` gives the ARN of a task's function; the Task states
 * use the direct Lambda ARN form, so a task's output is exactly its handler's return value.
 * Pure: the same ARNs always give a deep-equal, JSON-serializable definition.
 */
export function buildNormalizeDefinition(functionArn: (task: TaskName) => string): AslDefinition {
  // `caught`: the task's failure is quarantined; without it a failure fails the execution.
  // Only ApplyState writes the compare-and-swap that can be contended.
  const task = (name: TaskName, comment: string, next: string, caught?: CaughtTask): AslTaskState => {
    const contended = name === "ApplyState";
    const transient = retrier(TRANSIENT_ERROR_NAMES, TASK_RETRY);
    return {
      Type: "Task",
      Comment: comment,
      Resource: functionArn(name),
      TimeoutSeconds: TASK_TIMEOUT_SECONDS,
      ResultPath: TASK_RESULT_PATHS[name],
      Retry: contended ? [transient, retrier([WRITE_CONTENTION_ERROR], CONTENTION_RETRY)] : [transient],
      ...(caught && {
        Catch: [
          ...(contended ? [contentionCatcher] : []),
          { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: failedStateOf(caught) },
        ],
      }),
      Next: next,
    };
  };

  const failed = Object.fromEntries(
    CAUGHT_TASKS.map((stage): [string, AslPassState] => [
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
    Comment:
      "DVSS normalize: one execution per accepted event; states pass references, and the normalized document when it is small, never a vendor's payload.",
    QueryLanguage: "JSONPath",
    StartAt: "Map",
    States: {
      Map: task(
        "Map",
        "Reads the raw object once: checks the payload against the vendor's schema for its version, maps it to a standard event with the mapping, writes the normalized document (key from the ingestId).",
        "NeedsMatch",
        "Map",
      ),
      NeedsMatch: {
        Type: "Choice",
        // The first rule is the common path, the one the cost model follows (core/cost.ts).
        Comment:
          "Skips Match when Map said every identifier of the vendor is its own canonical id (no crosswalk entries, no required kind); a Map result without the flag runs Match.",
        Choices: [
          {
            And: [
              { Variable: "$.normalized.needsMatch", IsPresent: true },
              { Variable: "$.normalized.needsMatch", BooleanEquals: false },
            ],
            Next: "ApplyState",
          },
        ],
        Default: "Match",
      },
      Match: task(
        "Match",
        "Resolves each identifier of the standard event to its canonical id through the vendor's crosswalk, under the vendor's match policy.",
        "ApplyState",
        "Match",
      ),
      ApplyState: task(
        "ApplyState",
        "Folds the standard event, under its canonical ids, into canonical state and the outbox, then marks the ingest record NORMALIZED.",
        "Normalized",
        "ApplyState",
      ),
      [CONTENDED_STATE]: {
        Type: "Fail",
        Comment:
          "Other events kept winning the write of this entity past every retry. Not the event's fault, so not quarantined: its record stays RECEIVED and the reconciler starts it again.",
        Error: WRITE_CONTENTION_ERROR,
        Cause: "Canonical state write contended past the retries; the reconciler starts the event again.",
      },
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

/** The states one state can go to: its Next, its Catch targets, a Choice's rules and default. */
export function nextStates(state: AslState): string[] {
  switch (state.Type) {
    case "Task":
      return [state.Next, ...(state.Catch ?? []).map((c) => c.Next)];
    case "Choice":
      return [...state.Choices.map((choice) => choice.Next), state.Default];
    case "Pass":
      return [state.Next];
    default:
      return [];
  }
}

/**
 * The longest an execution of `definition` can run, in seconds: the worst path from StartAt to an
 * end, through Next and every Catch, each Task state at its worst case (Pass, Choice, Succeed and Fail
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
    const next = nextStates(state);
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
