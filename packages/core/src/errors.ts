/**
 * Every error DVSS raises on purpose, and the one policy for them. Each has a stable `name` (what
 * Step Functions matches in Retry/Catch), a `code` (what an API caller or an operator sees) and an
 * optional cause; its code decides its HTTP status and its transience (ERROR_POLICY), from which
 * the workflow's Retry list (TRANSIENT_ERROR_NAMES) and every route's status follow. What an error
 * DVSS did not raise (an AWS SDK error, a bug) is, is decided in failures.ts (explainFailure).
 */

/**
 * Every code a DvssError carries. A code is what a caller (the HTTP API contract, docs/contract), the quarantine (its
 * reason) or the CLI shows; ERROR_POLICY has a row for each (a code without one does not compile).
 */
export const ERROR_CODES = [
  // the HTTP API contract, docs/contract: answered to API callers.
  "INVALID_JSON",
  "INVALID_ENVELOPE",
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "INVALID_SIGNATURE",
  "FORBIDDEN",
  "VENDOR_PAUSED",
  "NOT_FOUND",
  "IDEMPOTENCY_CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "RATE_LIMITED",
  "UNAVAILABLE",
  // A configuration error: a grant refused. A quarantine reason; an API caller gets UNAVAILABLE.
  "ACCESS_DENIED",
  // Quarantine reasons, raised by the workflow.
  "SCHEMA_VALIDATION_FAILED",
  "UNKNOWN_SCHEMA_VERSION",
  "MAPPING_FAILED",
  "MAPPING_TIMEOUT",
  "MAPPING_RESOURCE_LIMIT",
  "INVALID_VENDOR_DEFINITION",
  "MISSING_RECORD",
  "QUANTITY_OUT_OF_RANGE",
  "ENTITY_TOO_LARGE",
  "RECONCILE_WRITE_CONTENTION",
  "FEED_INCONSISTENT",
  // Quarantine reasons of the Match stage (docs/spec/canonical-state.md, "Matching").
  "UNMATCHED_IDENTIFIER",
  "AMBIGUOUS_MATCH",
  "UNIT_MISMATCH",
  // Operator tools.
  "MAPPING_VERSION_CONFLICT",
  "USAGE",
  "REFUSED",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * What a retry can do for a failure:
 * - "permanent": nothing, the same input fails the same way; a task's failure is quarantined at once;
 * - "transient": cure it (a store that did not answer, a starved evaluator); the workflow retries
 *   the task with backoff (TASK_RETRY, Retry on TRANSIENT_ERROR_NAMES), then quarantines;
 * - "contention": the compare-and-swap on an entity lost to other events; retried by its own
 *   retrier (CONTENTION_RETRY), never quarantined for it.
 */
export type Transience = "permanent" | "transient" | "contention";

/** The HTTP statuses a route answers an error with. A 5xx carries no detail (functions/src/lib/http.ts). */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503;

export interface ErrorPolicy {
  status: ErrorStatus;
  transience: Transience;
}

/** Each code's HTTP status and transience: the one table every route, the workflow and the CLI follow. */
export const ERROR_POLICY = {
  // the HTTP API contract, docs/contract.
  INVALID_JSON: { status: 400, transience: "permanent" },
  INVALID_ENVELOPE: { status: 400, transience: "permanent" },
  BAD_REQUEST: { status: 400, transience: "permanent" },
  UNAUTHORIZED: { status: 401, transience: "permanent" },
  INVALID_SIGNATURE: { status: 401, transience: "permanent" },
  FORBIDDEN: { status: 403, transience: "permanent" },
  VENDOR_PAUSED: { status: 403, transience: "permanent" },
  NOT_FOUND: { status: 404, transience: "permanent" },
  IDEMPOTENCY_CONFLICT: { status: 409, transience: "permanent" },
  PAYLOAD_TOO_LARGE: { status: 413, transience: "permanent" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, transience: "permanent" },
  RATE_LIMITED: { status: 429, transience: "permanent" },
  UNAVAILABLE: { status: 503, transience: "transient" },
  // A grant is missing: the operator's to fix, not the caller's, and no retry cures it. Nothing
  // was accepted, so the caller's retry goes through once it is fixed: answered as UNAVAILABLE.
  ACCESS_DENIED: { status: 503, transience: "permanent" },
  // Raised by the workflow or the CLI: reaching a route is a bug, answered as INTERNAL.
  SCHEMA_VALIDATION_FAILED: { status: 500, transience: "permanent" },
  UNKNOWN_SCHEMA_VERSION: { status: 500, transience: "permanent" },
  MAPPING_FAILED: { status: 500, transience: "permanent" },
  MAPPING_TIMEOUT: { status: 500, transience: "permanent" },
  MAPPING_RESOURCE_LIMIT: { status: 500, transience: "permanent" },
  INVALID_VENDOR_DEFINITION: { status: 500, transience: "permanent" },
  MISSING_RECORD: { status: 500, transience: "permanent" },
  QUANTITY_OUT_OF_RANGE: { status: 500, transience: "permanent" },
  ENTITY_TOO_LARGE: { status: 500, transience: "permanent" },
  RECONCILE_WRITE_CONTENTION: { status: 500, transience: "contention" },
  FEED_INCONSISTENT: { status: 500, transience: "permanent" },
  UNMATCHED_IDENTIFIER: { status: 500, transience: "permanent" },
  AMBIGUOUS_MATCH: { status: 500, transience: "permanent" },
  UNIT_MISMATCH: { status: 500, transience: "permanent" },
  MAPPING_VERSION_CONFLICT: { status: 500, transience: "permanent" },
  USAGE: { status: 500, transience: "permanent" },
  REFUSED: { status: 500, transience: "permanent" },
} as const satisfies Record<ErrorCode, ErrorPolicy>;

export interface FieldIssue {
  path: string;
  message: string;
}

export interface DvssErrorOptions {
  cause?: unknown;
  details?: FieldIssue[];
}

/**
 * An error with a code. Raise a code whose transience is not "permanent" through its class
 * (StorageUnavailableError, MappingStarvedError, WriteContentionError): the workflow's Retry matches
 * class names, so the same code raised by this base class (named DvssError) would not be retried.
 */
export class DvssError extends Error {
  readonly code: ErrorCode;
  readonly details: FieldIssue[];

  constructor(code: ErrorCode, message: string, options: DvssErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DvssError";
    this.code = code;
    this.details = options.details ?? [];
  }

  /** The HTTP status a route answers this error with (ERROR_POLICY). */
  get status(): ErrorStatus {
    return ERROR_POLICY[this.code].status;
  }

  /** What a retry can do for this error (ERROR_POLICY). */
  get transience(): Transience {
    return ERROR_POLICY[this.code].transience;
  }
}

/** The request body is not JSON. */
export class InvalidJsonError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("INVALID_JSON", message, options);
    this.name = "InvalidJsonError";
  }
}

/** The envelope breaks a rule of the contract; `details` names each field. */
export class EnvelopeError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("INVALID_ENVELOPE", message, options);
    this.name = "EnvelopeError";
  }
}

export class PayloadTooLargeError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("PAYLOAD_TOO_LARGE", message, options);
    this.name = "PayloadTooLargeError";
  }
}

export class UnsupportedMediaTypeError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("UNSUPPORTED_MEDIA_TYPE", message, options);
    this.name = "UnsupportedMediaTypeError";
  }
}

export class UnauthorizedError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("UNAUTHORIZED", message, options);
    this.name = "UnauthorizedError";
  }
}

export class ForbiddenError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("FORBIDDEN", message, options);
    this.name = "ForbiddenError";
  }
}

/**
 * A signing vendor's request lacks a valid signature (docs/contract/README.md, "Signed requests"):
 * a header missing or malformed, a timestamp too far from the server's clock, or no signature that
 * matches. The message says which; `details` name the header.
 */
export class InvalidSignatureError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("INVALID_SIGNATURE", message, options);
    this.name = "InvalidSignatureError";
  }
}

/** An operator paused the vendor (`dvss vendor pause`): its posts are refused until it is resumed. */
export class VendorPausedError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("VENDOR_PAUSED", message, options);
    this.name = "VendorPausedError";
  }
}

export class NotFoundError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("NOT_FOUND", message, options);
    this.name = "NotFoundError";
  }
}

export class RateLimitedError extends DvssError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number, options?: DvssErrorOptions) {
    super("RATE_LIMITED", message, options);
    this.name = "RateLimitedError";
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Same (vendorId, externalEventId) as an earlier event, different content. */
export class IdempotencyConflictError extends DvssError {
  readonly ingestId: string;
  constructor(message: string, ingestId: string, options?: DvssErrorOptions) {
    super("IDEMPOTENCY_CONFLICT", message, options);
    this.name = "IdempotencyConflictError";
    this.ingestId = ingestId;
  }
}

/** A store (DynamoDB, S3) did not answer; nothing was accepted, so the caller may retry. */
export class StorageUnavailableError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("UNAVAILABLE", message, options);
    this.name = "StorageUnavailableError";
  }
}

/**
 * AWS refused a call for want of a grant: a configuration error (the function's role, a bucket or
 * key policy), not the event's fault and not cured by a retry. `details` name the action and the
 * resource when AWS said them. An operator fixes the grant, then redrives.
 */
export class AccessDeniedError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("ACCESS_DENIED", message, options);
    this.name = "AccessDeniedError";
  }
}

/** The vendor payload fails the vendor's JSON Schema for that event type and version. */
export class SchemaValidationError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("SCHEMA_VALIDATION_FAILED", message, options);
    this.name = "SchemaValidationError";
  }
}

/** No mapping version matches the envelope's schemaVersion (or the vendor has none for the event type). */
export class UnknownSchemaVersionError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("UNKNOWN_SCHEMA_VERSION", message, options);
    this.name = "UnknownSchemaVersionError";
  }
}

/** The JSONata mapping threw, or its output is not a valid standard event. */
export class MappingError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("MAPPING_FAILED", message, options);
    this.name = "MappingError";
  }
}

/**
 * A vendor definition (vendor.json, payload schema, JSONata mapping, examples) is missing or
 * broken: an operator must fix the definition, then redrive.
 */
export class VendorDefinitionError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("INVALID_VENDOR_DEFINITION", message, options);
    this.name = "VendorDefinitionError";
  }
}

/** An item the workflow expected (record, raw object) is missing. */
export class MissingRecordError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("MISSING_RECORD", message, options);
    this.name = "MissingRecordError";
  }
}

/** A request parameter is not valid (a feed cursor, a limit): HTTP 400 BAD_REQUEST. */
export class BadRequestError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("BAD_REQUEST", message, options);
    this.name = "BadRequestError";
  }
}

/**
 * The compare-and-swap on canonical state kept losing to other events of the same entity. Not the
 * event's fault: the workflow waits and retries it (CONTENTION_RETRY), never quarantines it for this.
 */
export class WriteContentionError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("RECONCILE_WRITE_CONTENTION", message, options);
    this.name = "WriteContentionError";
  }
}

/**
 * A mapping version is immutable: publishing one again with other content (or content that
 * differs from the bundled folder of the same version) is refused; publish a new version instead.
 */
export class MappingVersionConflictError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("MAPPING_VERSION_CONFLICT", message, options);
    this.name = "MappingVersionConflictError";
  }
}

/**
 * A mapping ran longer than its time limit, on the wall clock and in the CPU it used, and was
 * stopped (its evaluator process killed and replaced): the event's own failure, other events were
 * not held up. `details` name the version.
 */
export class MappingTimeoutError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("MAPPING_TIMEOUT", message, options);
    this.name = "MappingTimeoutError";
  }
}

/**
 * A mapping's evaluator process got too little CPU to finish within its hard wall-clock ceiling,
 * although the mapping had used far less CPU than its time limit: the machine was busy (or the
 * process held up), which says nothing of the mapping. The evaluator is replaced and the workflow
 * retries the event later (TRANSIENT_ERROR_NAMES); a mapping that does use up its time limit in
 * CPU is a MappingTimeoutError instead. Answered as UNAVAILABLE, like a store that did not answer.
 */
export class MappingStarvedError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("UNAVAILABLE", message, options);
    this.name = "MappingStarvedError";
  }
}

/**
 * A vendor requires a crosswalk entry for a kind of identifier and the event's key has none.
 * `details` name the kind (path) and the vendor's key (message). Fixed by adding the entry, then a redrive.
 */
export class UnmatchedIdentifierError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("UNMATCHED_IDENTIFIER", message, options);
    this.name = "UnmatchedIdentifierError";
  }
}

/**
 * An identifier cannot be resolved to exactly one canonical id: two keys of one event resolve to
 * one canonical id, or the entry changed between the Match stage and ApplyState.
 */
export class AmbiguousMatchError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("AMBIGUOUS_MATCH", message, options);
    this.name = "AmbiguousMatchError";
  }
}

/** An inventory event counts in another unit than its canonical product, and the crosswalk gives no conversion. */
export class UnitMismatchError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("UNIT_MISMATCH", message, options);
    this.name = "UnitMismatchError";
  }
}

/**
 * A mapping needed more memory than its evaluator process has, or produced an output larger
 * than the limit, and was stopped. `details` name the version and the limit.
 */
export class MappingResourceError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("MAPPING_RESOURCE_LIMIT", message, options);
    this.name = "MappingResourceError";
  }
}

/**
 * Adding up an entity's inventory events would take its quantity beyond ±(2^53−1), past what a
 * JSON number (and DynamoDB through the SDK) holds exactly. The event's own quantities are safe
 * integers; their sum is not, so the same event always fails the same way. `details` name the entity.
 */
export class QuantityOutOfRangeError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("QUANTITY_OUT_OF_RANGE", message, options);
    this.name = "QuantityOutOfRangeError";
  }
}

/**
 * With this event, the entity's canonical state would no longer fit in one DynamoDB item (400 KB):
 * an order whose history grew far beyond any real order's. Refused before anything is written, and
 * the same event always fails the same way. `details` name the entity.
 */
export class EntityTooLargeError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("ENTITY_TOO_LARGE", message, options);
    this.name = "EntityTooLargeError";
  }
}

/** An operator tool was given bad arguments, or has nothing to talk to (the CLI exits 2). */
export class UsageError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("USAGE", message, options);
    this.name = "UsageError";
  }
}

/** An operation was understood but refused: the vendor exists already, ... (the CLI exits 1). */
export class OperationRefusedError extends DvssError {
  constructor(message: string, options?: DvssErrorOptions) {
    super("REFUSED", message, options);
    this.name = "OperationRefusedError";
  }
}

/** Every DvssError class errors.ts defines (a test checks none is missing). */
export const DVSS_ERROR_CLASSES = [
  InvalidJsonError,
  EnvelopeError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  UnauthorizedError,
  ForbiddenError,
  InvalidSignatureError,
  VendorPausedError,
  NotFoundError,
  RateLimitedError,
  IdempotencyConflictError,
  StorageUnavailableError,
  AccessDeniedError,
  SchemaValidationError,
  UnknownSchemaVersionError,
  MappingError,
  VendorDefinitionError,
  MissingRecordError,
  BadRequestError,
  WriteContentionError,
  MappingVersionConflictError,
  MappingTimeoutError,
  MappingStarvedError,
  UnmatchedIdentifierError,
  AmbiguousMatchError,
  UnitMismatchError,
  MappingResourceError,
  QuantityOutOfRangeError,
  EntityTooLargeError,
  UsageError,
  OperationRefusedError,
] as const;

/** The name each class reports and its transience, read from an instance (every constructor takes a message first). */
const reportedNames = DVSS_ERROR_CLASSES.map((ErrorClass) => {
  const error = new (ErrorClass as new (message: string) => DvssError)("");
  return { name: error.name, transience: error.transience };
});

const namesOf = (transience: Transience): string[] =>
  reportedNames.filter((error) => error.transience === transience).map((error) => error.name);

/**
 * Names Step Functions and Lambda give a failure outside a task's handler, which therefore decided
 * nothing, and which a retry cures.
 */
const PLATFORM_TRANSIENT_NAMES = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
  // The function ran out of memory or its runtime crashed (Lambda.Unknown), or the call to Lambda
  // timed out (Lambda.ClientExecutionTimeoutException). AWS's recommended Lambda retrier lists both.
  "Lambda.Unknown",
  "Lambda.ClientExecutionTimeoutException",
  // A task that ran out of time: the handlers are bounded (JSONata has its own timeout), so a
  // timeout means a slow store or a cold start, which a retry cures.
  "Sandbox.Timedout",
  "States.Timeout",
] as const;

/**
 * The names the workflow retries as transient (its Retry list): the DvssError classes whose code is
 * transient, then the platform's. Everything else is caught and quarantined.
 */
export const TRANSIENT_ERROR_NAMES: readonly string[] = [
  ...namesOf("transient"),
  ...PLATFORM_TRANSIENT_NAMES,
];

/**
 * The error name the workflow retries as contention on one entity (never quarantined for it): the
 * one class whose code is "contention" (a test pins it).
 */
export const WRITE_CONTENTION_ERROR = "WriteContentionError";
