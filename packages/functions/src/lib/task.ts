import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { DvssError, type FieldIssue } from "@dvss/core/errors";
import { explainFailure } from "@dvss/core/failures";
import type { NormalizeState } from "@dvss/core/workflow";
import middy, { type MiddlewareObj } from "@middy/core";
import type { Context } from "aws-lambda";
import { logger, metrics } from "./runtime.ts";

/** What a failed task reports to the state machine, inside Lambda's `errorMessage`. */
export interface TaskFailure {
  code: string;
  message: string;
  details: FieldIssue[];
}

/**
 * Makes a task's failure legible to Step Functions: the error's `name` is what Retry and Catch
 * match (explainFailure makes a store that did not answer StorageUnavailableError, which is retried,
 * and a refused grant AccessDeniedError, which is not), and the message carries code and field
 * details as JSON so the Quarantine task can record them precisely.
 */
function taskErrors(): MiddlewareObj<NormalizeState, unknown> {
  return {
    before: (request) => {
      const { ingestId, vendorId, externalEventId } = request.event;
      logger.appendKeys({ ingestId, vendorId, externalEventId });
    },
    onError: (request) => {
      const error = explainFailure(request.error);
      const failure: TaskFailure =
        error instanceof DvssError
          ? { code: error.code, message: error.message, details: error.details }
          : { code: "INTERNAL", message: error.message, details: [] };
      // Not `code`/`message` at the top level: "message" is the log line's own (Powertools drops it).
      // `error` is serialized with its stack and cause chain (e.g. the store error behind a
      // StorageUnavailableError).
      logger.error("task failed", {
        errorName: error.name,
        errorCode: failure.code,
        errorMessage: failure.message,
        details: failure.details,
        error,
      });
      const reported = new Error(JSON.stringify(failure));
      reported.name = error.name;
      request.error = reported;
    },
  };
}

/** A workflow task: takes the state object, returns a small result; logs with the three correlation ids. */
export function taskHandler<Result>(
  task: (state: NormalizeState, context: Context) => Promise<Result>,
  options: { emitsMetrics?: boolean } = {},
) {
  const handler = middy<NormalizeState, Result>().use(injectLambdaContext(logger, { resetKeys: true }));
  if (options.emitsMetrics) handler.use(logMetrics(metrics));
  return handler.use(taskErrors() as MiddlewareObj<NormalizeState, Result>).handler(task);
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
      return { code: failure.code, message: failure.message, details: failure.details ?? [] };
    }
  } catch {
    // A message that is not ours.
  }
  const code = errorName.startsWith("States.") ? errorName.slice(7).toUpperCase() : "INTERNAL";
  return { code, message: message || errorName, details: [] };
}
