import { apiKeyFromHeaders, authenticate, requireRole } from "@dvss/core/auth";
import { NotFoundError } from "@dvss/core/errors";
import { getInventoryState, getOrderState, readFeed } from "@dvss/core/state/read";
import { headersOf, httpHandler, json } from "../lib/http.ts";
import { getEntities } from "../lib/runtime.ts";

/** Downstream teams read canonical state and the change feed with a consumer key (the HTTP API contract, docs/contract). */
export const handler = httpHandler(async (event) => {
  const entities = getEntities();
  requireRole(await authenticate(entities, apiKeyFromHeaders(headersOf(event))), "consumer");
  const path = event.pathParameters ?? {};
  switch (event.routeKey) {
    case "GET /v1/state/inventory/{warehouseId}/{sku}":
      return json(200, await getInventoryState(entities, path.warehouseId ?? "", path.sku ?? ""));
    case "GET /v1/state/orders/{orderId}":
      return json(200, await getOrderState(entities, path.orderId ?? ""));
    case "GET /v1/feed": {
      const query = event.queryStringParameters ?? {};
      const limit = query.limit === undefined ? undefined : Number(query.limit);
      return json(
        200,
        await readFeed(entities, {
          ...(query.after && { after: query.after }),
          ...(limit !== undefined && { limit }),
        }),
      );
    }
    default:
      throw new NotFoundError(`No consumer route ${event.routeKey}`);
  }
});
