import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { DvssError, type ErrorCode, RateLimitedError, UnsupportedMediaTypeError } from "@dvss/core/errors";
import { explainFailure } from "@dvss/core/failures";
import middy, { type MiddlewareObj } from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { logger } from "./runtime.ts";

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/**
 * The HTTP status of every error code: one table, used by every route, with a row for each code
 * (a new code does not compile without one). A 5xx answer carries no internal detail: its body is
 * ANSWER_5XX's, and the log line has the code, message, details and cause.
 */
const STATUS_BY_CODE = {
  // the HTTP API contract, docs/contract.
  INVALID_JSON: 400,
  INVALID_ENVELOPE: 400,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  INVALID_SIGNATURE: 401,
  FORBIDDEN: 403,
  VENDOR_PAUSED: 403,
  NOT_FOUND: 404,
  IDEMPOTENCY_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  // A grant is missing: the operator's to fix, not the caller's. Nothing was accepted, so the
  // caller's retry is the right move and goes through once it is fixed; answered as UNAVAILABLE.
  ACCESS_DENIED: 503,
  // Raised by the workflow or the CLI: reaching a route is a bug, answered as INTERNAL.
  SCHEMA_VALIDATION_FAILED: 500,
  UNKNOWN_SCHEMA_VERSION: 500,
  MAPPING_FAILED: 500,
  MAPPING_TIMEOUT: 500,
  MAPPING_RESOURCE_LIMIT: 500,
  INVALID_VENDOR_DEFINITION: 500,
  MISSING_RECORD: 500,
  QUANTITY_OUT_OF_RANGE: 500,
  ENTITY_TOO_LARGE: 500,
  RECONCILE_WRITE_CONTENTION: 500,
  FEED_INCONSISTENT: 500,
  UNMATCHED_IDENTIFIER: 500,
  AMBIGUOUS_MATCH: 500,
  UNIT_MISMATCH: 500,
  MAPPING_VERSION_CONFLICT: 500,
  USAGE: 500,
  REFUSED: 500,
} as const satisfies Record<ErrorCode, number>;

/** The body of a 5xx, by status: what the caller may do, not what failed inside. */
const ANSWER_5XX: Record<number, { code: string; message: string }> = {
  503: {
    code: "UNAVAILABLE",
    message: "A store did not answer; nothing was accepted or changed, retry later",
  },
  500: { code: "INTERNAL", message: "An unexpected error occurred" },
};

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}

/** Lower-cased headers (API Gateway v2 already lower-cases; this keeps other callers honest). */
export function headersOf(event: HttpEvent): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(event.headers ?? {}).map(([key, value]) => [key.toLowerCase(), value]),
  );
}

/** The body exactly as the client sent it: vendors' bytes are archived untouched. */
export function rawBody(event: HttpEvent): Buffer {
  if (!event.body) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
}

export function requireJsonContentType(event: HttpEvent): void {
  const contentType = headersOf(event)["content-type"] ?? "";
  const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (mediaType !== "application/json" && !mediaType.endsWith("+json")) {
    throw new UnsupportedMediaTypeError(
      `Content-Type must be application/json${mediaType ? `, not ${mediaType}` : ""}`,
    );
  }
}

/** Turns any thrown error into the contract's error body, with the request id everywhere. */
function errorResponses(): MiddlewareObj<HttpEvent, HttpResult> {
  const withRequestId = (request: { event: HttpEvent; response: HttpResult | null | undefined }) => {
    const requestId = request.event.requestContext?.requestId ?? "unknown";
    if (request.response) {
      request.response.headers = { ...request.response.headers, "x-request-id": requestId };
      if (request.response.statusCode && request.response.statusCode >= 400 && request.response.body) {
        const body = JSON.parse(request.response.body) as Record<string, unknown>;
        request.response.body = JSON.stringify({ ...body, requestId });
      }
    }
  };
  return {
    before: (request) => {
      logger.appendKeys({ requestId: request.event.requestContext?.requestId });
    },
    after: (request) => withRequestId(request as never),
    onError: (request) => {
      // A store call a route made without wrapping it is explained like any other (failures.ts).
      const error = explainFailure(request.error);
      let response: HttpResult;
      if (error instanceof DvssError) {
        const status = STATUS_BY_CODE[error.code];
        const body: Record<string, unknown> = {
          error: ANSWER_5XX[status] ?? {
            code: error.code,
            message: error.message,
            ...(error.details.length > 0 && { details: error.details }),
          },
        };
        if ("ingestId" in error) body.ingestId = error.ingestId;
        const headers: Record<string, string> =
          error instanceof RateLimitedError ? { "retry-after": String(error.retryAfterSeconds) } : {};
        // errorMessage, not message: "message" is the log line's own and Powertools drops it.
        const logged = { errorCode: error.code, errorMessage: error.message, details: error.details };
        if (status >= 500) logger.error("request failed", { ...logged, error });
        else logger.info("request rejected", logged);
        response = json(status, body, headers);
      } else {
        logger.error("unexpected error", { error });
        response = json(500, { error: ANSWER_5XX[500] });
      }
      request.response = response;
      withRequestId(request as never);
    },
  };
}

/** A route handler with logging and contract error bodies (metrics: lib/metrics.ts, written at once). */
export function httpHandler(route: (event: HttpEvent, context: Context) => Promise<HttpResult>) {
  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(errorResponses())
    .handler(route);
}
