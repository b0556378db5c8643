/**
 * The HTTP routes of the HTTP API contract, docs/contract and the handler behind each: the API Gateway stack and the local
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
    path: "/v1/state/inventory/{warehouseId}/{sku}/explain",
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
    path: "/v1/state/orders/{orderId}/explain",
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

export type RouteMatch =
  | { route: Route; pathParameters: Record<string, string> }
  /** The path exists, not for this method: `allow` lists the methods it takes. */
  | { methodNotAllowed: true; allow: string[] }
  /** A path parameter is not valid percent-encoded UTF-8 (`%`, `%ZZ`, `%C0%80`). */
  | { badPath: string };

/**
 * Matches a concrete path against the route templates; undefined when no route has the path.
 * Never throws: the path is whatever a client sent.
 */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  const allow: string[] = [];
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
    if (route.method !== method) {
      if (!allow.includes(route.method)) allow.push(route.method);
      continue;
    }
    const pathParameters: Record<string, string> = {};
    for (const [i, name] of names.entries()) {
      const segment = match[i + 1] ?? "";
      try {
        pathParameters[name] = decodeURIComponent(segment);
      } catch {
        return { badPath: `The path is not valid percent-encoded UTF-8: ${JSON.stringify(segment)}` };
      }
    }
    return { route, pathParameters };
  }
  return allow.length > 0 ? { methodNotAllowed: true, allow } : undefined;
}
