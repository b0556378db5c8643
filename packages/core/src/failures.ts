/**
 * What a failure is, decided here and nowhere else: explainFailure makes any failure a DvssError
 * (whose code's ERROR_POLICY, errors.ts, says whether it is transient) or leaves it a bug; the
 * task-failure codec below carries it through Step Functions. Workflow tasks (taskHandler), canonical-state store calls
 * (storeCall), the ingest path and the HTTP routes all report what explainFailure returns: a store
 * that did not answer becomes StorageUnavailableError (transient: retried, 503 to a caller)
 * wherever it happens; a refused grant or a bug is never retried and says what it is.
 */
import { AccessDeniedError, DvssError, type FieldIssue, StorageUnavailableError } from "./errors.ts";
import { type FailureStage, isFailureStage } from "./workflow.ts";

/** The parts of an AWS SDK error (or a Node socket error) read here. */
interface AwsError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  /** Set by the SDK on what it sent, or tried to send; httpStatusCode once AWS answered. */
  $metadata?: { httpStatusCode?: number };
  /** Set by the SDK on errors the service models as retryable. */
  $retryable?: unknown;
}

// Throttling, timeouts and lost connections, by error name or Node error code (after the SDK's
// own lists, @smithy/service-error-classification). DynamoDB answers throttling with 400.
const TRANSIENT_NAME =
  /Throttl|TooManyRequests|RequestLimitExceeded|ProvisionedThroughputExceeded|SlowDown|Timeout|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN/;

/**
 * The AWS errors behind a failure: the error, and its cause (ElectroDB wraps what the DynamoDB
 * client threw as the cause of its own error, code 4001).
 */
function awsErrorsOf(error: unknown): AwsError[] {
  if (typeof error !== "object" || error === null) return [];
  const cause = (error as { cause?: unknown }).cause;
  return typeof cause === "object" && cause !== null ? [error, cause] : [error];
}

/** DynamoDB and Step Functions answer 400 AccessDeniedException, S3 403 AccessDenied (its other 403s are bad credentials). */
function isAccessDenied(error: AwsError): boolean {
  return String(error.name).includes("AccessDenied") || error.$metadata?.httpStatusCode === 403;
}

function isTransient(error: AwsError): boolean {
  const status = error.$metadata?.httpStatusCode;
  const names = `${String(error.name)} ${String(error.code)}`;
  if (status === undefined) {
    // No answer: the SDK sent, or tried to send, the request and nothing came back.
    return error.$metadata !== undefined || TRANSIENT_NAME.test(names);
  }
  // AWS answered: only its failures (5xx), throttling and timeouts are worth another try.
  return (
    status >= 500 ||
    status === 429 ||
    status === 408 ||
    error.$retryable !== undefined ||
    TRANSIENT_NAME.test(names)
  );
}

/** "dynamodb:PutItem" and its resource, from AWS's "... is not authorized to perform: <action> on resource: <arn> ...". */
function grantOf(message: string): { action: string; resource: string } | undefined {
  const match = /perform: (\S+) on resource: "?([^"\s]+)"?/.exec(message);
  return match ? { action: match[1] as string, resource: match[2] as string } : undefined;
}

/**
 * The error to report for a failure of `what` (a store call such as "Read order state"):
 * - a DvssError, as it is;
 * - a grant AWS refused: AccessDeniedError, permanent, naming the action and resource;
 * - a store that did not answer (5xx, throttled, timed out, connection lost): StorageUnavailableError,
 *   which the workflow retries and the API answers 503;
 * - anything else (a bug, a request AWS refuses as invalid), as it is: permanent, reported INTERNAL.
 */
export function explainFailure(error: unknown, what?: string): Error {
  if (error instanceof DvssError) return error;
  const failure = error instanceof Error ? error : new Error(String(error));
  const aws = awsErrorsOf(error);
  const where = what ? ` (${what})` : "";
  const denied = aws.find(isAccessDenied);
  if (denied) {
    const said = String(denied.message ?? denied.name);
    const grant = grantOf(said);
    const details: FieldIssue[] = grant
      ? [
          { path: "action", message: grant.action },
          { path: "resource", message: grant.resource },
        ]
      : [];
    const refused = grant ? `${grant.action} on ${grant.resource} is not allowed` : `AWS said "${said}"`;
    return new AccessDeniedError(
      `Access denied${where}: ${refused}. A configuration error: grant the function that permission`,
      { cause: error, details },
    );
  }
  const unanswered = aws.find(isTransient);
  if (unanswered) {
    // The AWS error's own words, not ElectroDB's wrapper around them.
    return new StorageUnavailableError(`A store did not answer${where}: ${String(unanswered.message)}`, {
      cause: error,
    });
  }
  return failure;
}

/**
 * What a failed workflow task reports to the state machine. The task's error keeps its `name` (what
 * Retry and Catch match); its message, which Step Functions records inside the Cause (Lambda's
 * error document, `errorMessage`), is this as JSON. encodeTaskFailure writes it, decodeTaskFailure
 * reads it back (the Quarantine task, an event's story): one format, here.
 */
export interface TaskFailure {
  code: string;
  message: string;
  details: FieldIssue[];
  /** The step of the task's work that failed, when the task has several (Map: Validate, Map, WriteNormalized). */
  stage?: FailureStage;
}

/** A task failure read back from Step Functions; `reported` is false when the task reported none of its own. */
export interface DecodedTaskFailure extends TaskFailure {
  /**
   * false: the failure is not a task's report (a task timed out, its runtime crashed): its code is
   * the States error's (States.Timeout: TIMEOUT) or INTERNAL, its message the Cause as it is.
   */
  reported: boolean;
}

/**
 * The error a task throws to the state machine for `thrown`, explained (explainFailure): named as
 * the explained error is, its message the TaskFailure as JSON. `failure` is what it carries.
 */
export function encodeTaskFailure(
  thrown: unknown,
  stage?: FailureStage,
): { reported: Error; failure: TaskFailure; error: Error } {
  const error = explainFailure(thrown);
  const failure: TaskFailure = {
    ...(error instanceof DvssError
      ? { code: error.code, message: error.message, details: error.details }
      : { code: "INTERNAL", message: error.message, details: [] }),
    ...(stage && { stage }),
  };
  const reported = new Error(JSON.stringify(failure));
  reported.name = error.name;
  return { reported, failure, error };
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A task's failure from what Step Functions recorded for it: the Error name and the Cause (Lambda's
 * error document around the task's JSON, or a bare message such as a States.Timeout's).
 */
export function decodeTaskFailure(errorName: string, cause: string | undefined): DecodedTaskFailure {
  const lambdaError = parsed(cause ?? "") as { errorMessage?: unknown } | undefined;
  const message = typeof lambdaError?.errorMessage === "string" ? lambdaError.errorMessage : (cause ?? "");
  const failure = parsed(message) as Partial<Record<keyof TaskFailure, unknown>> | undefined;
  if (typeof failure?.code === "string" && typeof failure.message === "string") {
    return {
      code: failure.code,
      message: failure.message,
      details: Array.isArray(failure.details) ? (failure.details as FieldIssue[]) : [],
      ...(isFailureStage(failure.stage) && { stage: failure.stage }),
      reported: true,
    };
  }
  const code = errorName.startsWith("States.") ? errorName.slice(7).toUpperCase() : "INTERNAL";
  return { code, message: message || errorName, details: [], reported: false };
}
