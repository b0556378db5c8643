import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { DvssError, RateLimitedError, UnsupportedMediaTypeError } from "@dvss/core/errors";
import { explainFailure } from "@dvss/core/failures";
import middy, { type MiddlewareObj } from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { logger } from "./aws.ts";

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

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
        // The code's status (ERROR_POLICY, core/errors.ts). A 5xx answer carries no internal
        // detail: its body is ANSWER_5XX's, and the log line has the code, message, details and cause.
        const status = error.status;
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
