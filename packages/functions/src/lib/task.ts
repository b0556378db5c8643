import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { DvssError, type FieldIssue } from "@dvss/core/errors";
import { explainFailure } from "@dvss/core/failures";
import { receivedAtOf } from "@dvss/core/ids";
import {
  type FailureStage,
  isFailureStage,
  type NormalizeInput,
  type TaskInputs,
  type TaskName,
  type TaskResults,
} from "@dvss/core/workflow";
import middy, { type MiddlewareObj } from "@middy/core";
import type { Context } from "aws-lambda";
import { logger } from "./runtime.ts";

/** What a failed task reports to the state machine, inside Lambda's `errorMessage`. */
export interface TaskFailure {
  code: string;
  message: string;
  details: FieldIssue[];
  /** The step of the task's work that failed, when the task has several (Map: Validate, Map, WriteNormalized). */
  stage?: FailureStage;
}

const stages = new WeakMap<object, FailureStage>();

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
 * Makes a task's failure legible to Step Functions: the error's `name` is what Retry and Catch
 * match (explainFailure makes a store that did not answer StorageUnavailableError, which is retried,
 * and a refused grant AccessDeniedError, which is not), and the message carries code and field
 * details as JSON so the Quarantine task can record them precisely.
 */
function taskErrors(): MiddlewareObj<NormalizeInput, unknown> {
  return {
    before: (request) => {
      const { ingestId, vendorId, externalEventId } = request.event;
      logger.appendKeys({ ingestId, vendorId, externalEventId, receivedAt: receivedAtOf(ingestId) });
      // The state a task was handed (references only, never a payload): the stage's input log.
      logger.info("task input", { input: request.event });
    },
    onError: (request) => {
      const stage = request.error ? stages.get(request.error) : undefined;
      const error = explainFailure(request.error);
      const failure: TaskFailure = {
        ...(error instanceof DvssError
          ? { code: error.code, message: error.message, details: error.details }
          : { code: "INTERNAL", message: error.message, details: [] }),
        ...(stage && { stage }),
      };
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
      const reported = new Error(JSON.stringify(failure));
      reported.name = error.name;
      request.error = reported;
    },
  };
}

/**
 * The workflow task `name`: takes the state object as the definition hands it to that task
 * (TaskInputs), returns that task's result (TaskResults); logs with the three correlation ids.
 */
export function taskHandler<Name extends TaskName>(
  _name: Name,
  task: (state: TaskInputs[Name], context: Context) => Promise<TaskResults[Name]>,
) {
  type Input = TaskInputs[Name];
  type Result = TaskResults[Name];
  return middy<Input, Result>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(taskErrors() as MiddlewareObj<Input, Result>)
    .handler(task);
}

/** Reads the failure a task reported, from the `Cause` Step Functions recorded for it. */
export function parseTaskFailure(errorName: string, cause: string | undefined): TaskFailure {
  let message = cause ?? "";
  try {
    const lambdaError = JSON.parse(message) as { errorMessage?: string };
    if (typeof lambdaError.errorMessage === "string") message = lambdaError.errorMessage;
  } catch {
    // Not a Lambda error document (e.g. States.Timeout): the cause is the message.
  }
  try {
    const failure = JSON.parse(message) as Partial<TaskFailure>;
    if (typeof failure.code === "string" && typeof failure.message === "string") {
      return {
        code: failure.code,
        message: failure.message,
        details: failure.details ?? [],
        ...(isFailureStage(failure.stage) && { stage: failure.stage }),
      };
    }
  } catch {
    // A message that is not ours.
  }
  const code = errorName.startsWith("States.") ? errorName.slice(7).toUpperCase() : "INTERNAL";
  return { code, message: message || errorName, details: [] };
}
