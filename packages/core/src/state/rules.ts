import type { NormalizedDocument } from "../normalized.ts";
import { applyInventoryEvent, type InventoryState, inventoryKey } from "./inventory.ts";
import { applyOrderEvent, type OrderState } from "./orders.ts";
import type { ApplyOptions, ApplyOutcome, EntityRef, InventoryDocument, OrderDocument } from "./types.ts";

export type EntityState = InventoryState | OrderState;

export function isInventoryDocument(doc: NormalizedDocument): doc is InventoryDocument {
  return doc.eventType === "InventoryUpdated" || doc.eventType === "InventoryAdjusted";
}

/** The canonical entity a normalized event changes. */
export function entityOf(doc: NormalizedDocument): EntityRef {
  return isInventoryDocument(doc)
    ? { type: "inventory", key: inventoryKey(doc.data.warehouseId, doc.data.sku) }
    : { type: "order", key: (doc as OrderDocument).data.orderId };
}

/** applyInventoryEvent or applyOrderEvent, by the event's type; `state` must be of that entity. */
export function applyEvent(
  state: EntityState | undefined,
  doc: NormalizedDocument,
  options: ApplyOptions,
): ApplyOutcome<EntityState> {
  return isInventoryDocument(doc)
    ? applyInventoryEvent(state as InventoryState | undefined, doc, options)
    : applyOrderEvent(state as OrderState | undefined, doc as OrderDocument, options);
}
