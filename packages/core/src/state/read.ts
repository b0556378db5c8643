import { NotFoundError } from "../errors.ts";
import { type InventoryState, type InventoryView, inventoryKey, inventoryView } from "./inventory.ts";
import { type OrderState, type OrderView, orderView } from "./orders.ts";
import { readState, type StateEntities } from "./store.ts";

/** The entities the state reads need (the feed needs outboxEntries and outboxSequence). */
export type StateReaders = Pick<StateEntities, "inventoryStates" | "orderStates">;

export { type FeedItem, type FeedPage, type ReadFeedOptions, readFeed } from "./feed.ts";

/** the HTTP API contract, docs/contract GET /v1/state/inventory/{warehouseId}/{sku}; NotFoundError (404) if never seen. */
export async function getInventoryState(
  entities: StateReaders,
  warehouseId: string,
  sku: string,
): Promise<InventoryView> {
  const stored = await readState(entities, { type: "inventory", warehouseId, sku });
  if (!stored) throw new NotFoundError(`No inventory state for ${inventoryKey(warehouseId, sku)}`);
  return inventoryView(stored.state as InventoryState);
}

/** the HTTP API contract, docs/contract GET /v1/state/orders/{orderId}; NotFoundError (404) if never seen. */
export async function getOrderState(entities: StateReaders, orderId: string): Promise<OrderView> {
  const stored = await readState(entities, { type: "order", orderId });
  if (!stored) throw new NotFoundError(`No order state for ${orderId}`);
  return orderView(stored.state as OrderState);
}
