import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MAX_BODY_BYTES } from "@dvss/core/envelope";
import { matchRoute, type Route } from "@dvss/core/routes";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { lambdaContext, loadHandler } from "./lambda.ts";

/**
 * API Gateway's own cap on a request body: up to it the function gets the whole body (and its 413
 * names the real size); beyond it the gateway answers without calling the function.
 */
export const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

export type ExtraRoute = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<boolean>;

/** The body up to the gateway's cap, and how many bytes the client sent in all. */
function readBody(req: IncomingMessage): Promise<{ body: Buffer; bytes: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= GATEWAY_MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve({ body: Buffer.concat(chunks), bytes }));
    req.on("error", reject);
  });
}

/** An error answered by the local gateway itself, in the contract's shape (the HTTP API contract, docs/contract). */
export function gatewayError(
  requestId: string,
  statusCode: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { "content-type": "application/json", "x-request-id": requestId, ...headers },
    body: JSON.stringify({ error: { code, message }, requestId }),
  };
}

/**
 * Which route a request goes to, or the gateway's own answer: 404 for a path no route has, 405
 * for a method the path does not take, 400 for a path that is not valid percent-encoding or a
 * request target that is not a URL. Never throws, whatever the client sent.
 */
export function routeRequest(
  method: string,
  target: string,
  requestId: string,
): { route: Route; pathParameters: Record<string, string> } | { answer: APIGatewayProxyStructuredResultV2 } {
  let path: string;
  try {
    path = new URL(target, "http://localhost").pathname;
  } catch {
    return { answer: gatewayError(requestId, 400, "BAD_REQUEST", "The request target is not a valid URL") };
  }
  const match = matchRoute(method, path);
  if (!match) return { answer: gatewayError(requestId, 404, "NOT_FOUND", `No route for ${method} ${path}`) };
  if ("badPath" in match) return { answer: gatewayError(requestId, 400, "BAD_REQUEST", match.badPath) };
  if ("methodNotAllowed" in match) {
    return {
      answer: gatewayError(
        requestId,
        405,
        "METHOD_NOT_ALLOWED",
        `${path} does not take ${method}; it takes ${match.allow.join(", ")}`,
        { allow: match.allow.join(", ") },
      ),
    };
  }
  return match;
}

/** The request as API Gateway HTTP API (payload format 2.0) would hand it to the function. */
export function toApiGatewayEvent(
  req: IncomingMessage,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string>,
  requestId: string = randomUUID(),
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? "/", "http://localhost");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  const queryStringParameters = Object.fromEntries(url.searchParams.entries());
  const now = new Date();
  return {
    version: "2.0",
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(queryStringParameters).length > 0 && { queryStringParameters }),
    ...(Object.keys(pathParameters).length > 0 && { pathParameters }),
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: "local",
      http: {
        method: req.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 && { body: body.toString("base64") }),
    isBase64Encoded: body.length > 0,
  };
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
  res.end(result.body ?? "");
}

/** The local API Gateway: each request becomes a v2 event for the same handler Lambda runs. */
export async function startHttpServer(port: number, extraRoutes: ExtraRoute[] = []): Promise<Server> {
  const server = createServer(async (req, res) => {
    const requestId = randomUUID();
    try {
      const { body, bytes } = await readBody(req);
      for (const extra of extraRoutes) if (await extra(req, res, body)) return;
      if (bytes > GATEWAY_MAX_BODY_BYTES) {
        const message = `The request body is ${bytes} bytes; the limit is ${MAX_BODY_BYTES}`;
        send(res, gatewayError(requestId, 413, "PAYLOAD_TOO_LARGE", message));
        return;
      }
      const routing = routeRequest(req.method ?? "GET", req.url ?? "/", requestId);
      if ("answer" in routing) {
        send(res, routing.answer);
        return;
      }
      const { route, pathParameters } = routing;
      const handler = await loadHandler(route.handler);
      const event = toApiGatewayEvent(req, body, `${route.method} ${route.path}`, pathParameters, requestId);
      send(res, await handler(event, lambdaContext(route.functionName)));
    } catch (error) {
      console.error("local API error", error);
      if (!res.headersSent) send(res, gatewayError(requestId, 500, "INTERNAL", "Local API error"));
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return server;
}

export function serverUrl(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
