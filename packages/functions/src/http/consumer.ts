import { apiKeyFromHeaders, authenticate, requireRole } from "@dvss/core/auth";
import { NotFoundError } from "@dvss/core/errors";
import {
  explainInventory,
  explainOrder,
  getInventoryStateAsOf,
  getOrderStateAsOf,
} from "@dvss/core/state/history";
import { getInventoryState, getOrderState, readFeed } from "@dvss/core/state/read";
import { getEntities } from "../lib/aws.ts";
import { headersOf, httpHandler, json } from "../lib/http.ts";

/** Downstream teams read canonical state and the change feed with a consumer key (the HTTP API contract, docs/contract). */
export const handler = httpHandler(async (event) => {
  const entities = getEntities();
  // A vendor key is refused here (403) without reading its signing secrets, which are ingest's alone.
  const principal = await authenticate(entities, apiKeyFromHeaders(headersOf(event)), Date.now(), {
    signingSecrets: false,
  });
  requireRole(principal, "consumer");
  const path = event.pathParameters ?? {};
  // An empty asOf is a bad asOf, not a missing one.
  const asOf = event.queryStringParameters?.asOf;
  switch (event.routeKey) {
    case "GET /v1/state/inventory/{warehouseId}/{sku}": {
      const [warehouseId, sku] = [path.warehouseId ?? "", path.sku ?? ""];
      return json(
        200,
        asOf === undefined
          ? await getInventoryState(entities, warehouseId, sku)
          : await getInventoryStateAsOf(entities, warehouseId, sku, asOf),
      );
    }
    case "GET /v1/state/inventory/{warehouseId}/{sku}/explain":
      return json(200, await explainInventory(entities, path.warehouseId ?? "", path.sku ?? ""));
    case "GET /v1/state/orders/{orderId}": {
      const orderId = path.orderId ?? "";
      return json(
        200,
        asOf === undefined
          ? await getOrderState(entities, orderId)
          : await getOrderStateAsOf(entities, orderId, asOf),
      );
    }
    case "GET /v1/state/orders/{orderId}/explain":
      return json(200, await explainOrder(entities, path.orderId ?? ""));
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
