import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { encodeTaskFailure } from "@dvss/core/failures";
import { receivedAtOf } from "@dvss/core/ids";
import type {
  FailureStage,
  NormalizeInput,
  NormalizeState,
  TaskInputs,
  TaskName,
  TaskResults,
} from "@dvss/core/workflow";
import middy, { type MiddlewareObj } from "@middy/core";
import type { Context } from "aws-lambda";
import { logger } from "./aws.ts";

const stages = new WeakMap<object, FailureStage>();

/** Until this container's first task invocation: it logs its cold start (see taskErrors). */
let coldStart = true;

/**
 * Runs one step of a task's work: a failure in it is reported with `stage`, which the quarantine
 * entry names (the innermost step wins).
 */
export async function inStage<T>(stage: FailureStage, step: () => Promise<T> | T): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (typeof error === "object" && error !== null && !stages.has(error)) stages.set(error, stage);
    throw error;
  }
}

/**
 * The "task input" line (DEBUG): which task started, and the keys of the objects it was handed (the
 * raw body; the normalized document once Map wrote it) and, for UpdateStatus, the outcome it
 * records. The event's ids are the line's appended keys already; the "task state" line beside it
 * has the whole state.
 */
export function taskInputLine(task: TaskName, state: NormalizeState): Record<string, string> {
  return {
    task,
    rawKey: state.rawRef.key,
    ...(state.normalized && { normalizedKey: state.normalized.normalizedRef.key }),
    ...(task === "UpdateStatus" && state.outcome && { outcome: state.outcome }),
  };
}

/**
 * Makes a task's failure legible to Step Functions (encodeTaskFailure, core/failures.ts): the
 * error's `name` is what Retry and Catch match, and the message carries code and field details as
 * JSON so the Quarantine task can record them precisely.
 */
function taskErrors(task: TaskName): MiddlewareObj<NormalizeInput, unknown> {
  return {
    before: (request) => {
      const { ingestId, vendorId, externalEventId } = request.event;
      logger.appendKeys({ ingestId, vendorId, externalEventId, receivedAt: receivedAtOf(ingestId) });
      // Which task started with which event, and the state it was handed (references, and a small
      // normalized document once Map carried it; never a vendor's payload): DEBUG only. At INFO an
      // event logs its acceptance and its outcome (UpdateStatus), and a task's failure below.
      // One INFO line per container, not per event: a task that succeeds writes no other at INFO,
      // and production keeps no REPORT lines (docs/operations/observability.md).
      if (coldStart) logger.info("cold start", { task });
      coldStart = false;
      logger.debug("task input", taskInputLine(task, request.event));
      logger.debug("task state", { input: request.event });
    },
    onError: (request) => {
      const stage = request.error ? stages.get(request.error) : undefined;
      const { reported, failure, error } = encodeTaskFailure(request.error, stage);
      // Not `code`/`message` at the top level: "message" is the log line's own (Powertools drops it).
      // `error` is serialized with its stack and cause chain (e.g. the store error behind a
      // StorageUnavailableError).
      logger.error("task failed", {
        errorName: error.name,
        errorCode: failure.code,
        errorMessage: failure.message,
        details: failure.details,
        ...(stage && { stage }),
        error,
      });
      request.error = reported;
    },
  };
}

/**
 * The workflow task `name`: takes the state object as the definition hands it to that task
 * (TaskInputs), returns that task's result (TaskResults); logs with the three correlation ids.
 */
export function taskHandler<Name extends TaskName>(
  name: Name,
  task: (state: TaskInputs[Name], context: Context) => Promise<TaskResults[Name]>,
) {
  type Input = TaskInputs[Name];
  type Result = TaskResults[Name];
  return middy<Input, Result>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(taskErrors(name) as MiddlewareObj<Input, Result>)
    .handler(task);
}
