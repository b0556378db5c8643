import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { matchRoute } from "@dvss/core/routes";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { lambdaContext, loadHandler } from "./lambda.ts";

/** API Gateway's own cap is 10 MB; reading stops a little past the contract's limit so a 413 still comes from the handler. */
const READ_LIMIT_BYTES = 1024 * 1024;

export type ExtraRoute = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<boolean>;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= READ_LIMIT_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The request as API Gateway HTTP API (payload format 2.0) would hand it to the function. */
export function toApiGatewayEvent(
  req: IncomingMessage,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string>,
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
      requestId: randomUUID(),
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
    try {
      const body = await readBody(req);
      for (const extra of extraRoutes) if (await extra(req, res, body)) return;
      const url = new URL(req.url ?? "/", "http://localhost");
      const match = matchRoute(req.method ?? "GET", url.pathname);
      if (!match || "methodNotAllowed" in match) {
        const status = match ? 405 : 404;
        send(res, {
          statusCode: status,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            error: {
              code: status === 404 ? "NOT_FOUND" : "METHOD_NOT_ALLOWED",
              message: `No route for ${req.method} ${url.pathname}`,
            },
          }),
        });
        return;
      }
      const { route, pathParameters } = match;
      const handler = await loadHandler(route.handler);
      const event = toApiGatewayEvent(req, body, `${route.method} ${route.path}`, pathParameters);
      send(res, await handler(event, lambdaContext(route.functionName)));
    } catch (error) {
      console.error("local API error", error);
      if (!res.headersSent) {
        send(res, {
          statusCode: 500,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ error: { code: "INTERNAL", message: "Local API error" } }),
        });
      }
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
