/**
 * Every error DVSS raises on purpose. Each has a stable `name` (what Step Functions matches in
 * Retry/Catch), a `code` (what an API caller or an operator sees) and an optional cause.
 * `permanent` errors are never retried: the same input would fail the same way. Whether an error
 * DVSS did not raise (an AWS SDK error, a bug) is transient is decided in failures.ts.
 */

/**
 * Every code a DvssError carries. A code is what a caller (the HTTP API contract, docs/contract), the quarantine (its
 * reason) or the CLI shows; the HTTP status table (functions/src/lib/http.ts) has a row for each.
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

export interface FieldIssue {
  path: string;
  message: string;
}

export interface DvssErrorOptions {
  cause?: unknown;
  details?: FieldIssue[];
}

export class DvssError extends Error {
  readonly code: ErrorCode;
  readonly permanent: boolean = true;
  readonly details: FieldIssue[];

  constructor(code: ErrorCode, message: string, options: DvssErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DvssError";
    this.code = code;
    this.details = options.details ?? [];
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
  override readonly permanent = false;
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

/** The error name the workflow retries as contention on one entity (never quarantined for it). */
export const WRITE_CONTENTION_ERROR = "WriteContentionError";

/**
 * The compare-and-swap on canonical state kept losing to other events of the same entity. Not the
 * event's fault: the workflow waits and retries it (CONTENTION_RETRY), never quarantines it for this.
 */
export class WriteContentionError extends DvssError {
  // Retried by its own retrier (CONTENTION_RETRY), not the transient one.
  override readonly permanent = false;
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

/** Names of errors the workflow treats as transient; everything else is caught and quarantined. */
export const TRANSIENT_ERROR_NAMES = [
  "StorageUnavailableError",
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
  // Lambda's names for a failure outside the handler, which therefore decided nothing: the
  // function ran out of memory or its runtime crashed (Lambda.Unknown), or the call to Lambda
  // timed out (Lambda.ClientExecutionTimeoutException). AWS's recommended Lambda retrier lists both.
  "Lambda.Unknown",
  "Lambda.ClientExecutionTimeoutException",
  // A task that ran out of time: the handlers are bounded (JSONata has its own timeout), so a
  // timeout means a slow store or a cold start, which a retry cures.
  "Sandbox.Timedout",
  "States.Timeout",
  // A mapping's evaluator got too little CPU to finish in time: a busy machine, not the mapping.
  "MappingStarvedError",
] as const;

export function isDvssError(error: unknown): error is DvssError {
  return error instanceof DvssError;
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
  override readonly permanent = false;
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
