import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { encodeTaskFailure } from "@dvss/core/failures";
import { receivedAtOf } from "@dvss/core/ids";
import type { FailureStage, NormalizeInput, TaskInputs, TaskName, TaskResults } from "@dvss/core/workflow";
import middy, { type MiddlewareObj } from "@middy/core";
import type { Context } from "aws-lambda";
import { logger } from "./aws.ts";

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
 * Makes a task's failure legible to Step Functions (encodeTaskFailure, core/failures.ts): the
 * error's `name` is what Retry and Catch match, and the message carries code and field details as
 * JSON so the Quarantine task can record them precisely.
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
