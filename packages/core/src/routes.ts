/**
 * The HTTP routes of CONTRACT §2 and the handler behind each: the API Gateway stack and the local
 * HTTP server both read this list.
 */
export interface Route {
  method: "GET" | "POST";
  path: string;
  /** SST resource name of the function. */
  functionName: string;
  /** Handler path from the repository root, as SST references it. */
  handler: string;
}

export const ROUTES: Route[] = [
  {
    method: "POST",
    path: "/v1/events",
    functionName: "IngestApi",
    handler: "packages/functions/src/http/ingest.handler",
  },
  {
    method: "GET",
    path: "/v1/events/{ingestId}",
    functionName: "EventsApi",
    handler: "packages/functions/src/http/events.handler",
  },
  {
    method: "GET",
    path: "/v1/state/inventory/{warehouseId}/{sku}",
    functionName: "ConsumerApi",
    handler: "packages/functions/src/http/consumer.handler",
  },
  {
    method: "GET",
    path: "/v1/state/orders/{orderId}",
    functionName: "ConsumerApi",
    handler: "packages/functions/src/http/consumer.handler",
  },
  {
    method: "GET",
    path: "/v1/feed",
    functionName: "ConsumerApi",
    handler: "packages/functions/src/http/consumer.handler",
  },
  {
    method: "GET",
    path: "/healthz",
    functionName: "HealthApi",
    handler: "packages/functions/src/http/health.handler",
  },
];

/** Matches a concrete path against a route template; returns the path parameters or undefined. */
export function matchRoute(
  method: string,
  path: string,
): { route: Route; pathParameters: Record<string, string> } | { methodNotAllowed: true } | undefined {
  let pathMatched = false;
  for (const route of ROUTES) {
    const names: string[] = [];
    const pattern = new RegExp(
      `^${route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        return "([^/]+)";
      })}$`,
    );
    const match = pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const pathParameters = Object.fromEntries(
      names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? "")]),
    );
    return { route, pathParameters };
  }
  return pathMatched ? { methodNotAllowed: true } : undefined;
}
