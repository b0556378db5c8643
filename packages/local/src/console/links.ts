import { encode } from "./html.ts";

/** Console paths of events and canonical entities, every id percent-encoded as one path segment. */

export const eventHref = (ingestId: string) => `/console/events/${encode(ingestId)}`;
export const inventoryHref = (warehouseId: string, sku: string) =>
  `/console/inventory/${encode(warehouseId)}/${encode(sku)}`;
export const orderHref = (orderId: string) => `/console/orders/${encode(orderId)}`;

/**
 * The page of an entity named as the feed and divergences name it: an orderId, or an inventory key
 * `<warehouseId>#<sku>` with `%` and `#` inside each id written `%25` and `%23` (composeKey).
 * Undefined for anything else (an ingest divergence's key).
 */
export function entityHref(type: string, key: string): string | undefined {
  if (type === "order") return orderHref(key);
  if (type !== "inventory") return undefined;
  const parts = key.split("#");
  if (parts.length !== 2) return undefined;
  const [warehouseId = "", sku = ""] = parts.map((part) =>
    part.replace(/%2[35]/g, (escaped) => (escaped === "%23" ? "#" : "%")),
  );
  return inventoryHref(warehouseId, sku);
}
