import { newIngestId } from "../src/ids.ts";
import { rawKey } from "../src/keys.ts";
import type { NormalizedDocument } from "../src/normalized.ts";
import type { OrderLine, OrderStatus } from "../src/standard-events.ts";
import { foldPositionOf } from "../src/state/fold-position.ts";
import { historyNeeded, type InventoryState } from "../src/state/inventory.ts";
import { compareLogged } from "../src/state/log.ts";
import { applyEvent, type EntityState, entityOf, isInventoryDocument } from "../src/state/rules.ts";
import type { ApplyOptions, ApplyOutcome, InventoryEntry } from "../src/state/types.ts";

/** Builders of normalized documents for state tests: each gets a fresh ingestId and its raw key. */

export interface EventMeta {
  vendorId?: string;
  externalEventId?: string;
  occurredAt: string;
  ingestId?: string;
}

let sequence = 0;

function document<T extends NormalizedDocument["eventType"]>(
  eventType: T,
  data: Extract<NormalizedDocument, { eventType: T }>["data"],
  meta: EventMeta,
): Extract<NormalizedDocument, { eventType: T }> {
  const vendorId = meta.vendorId ?? "vendorA";
  const ingestId = meta.ingestId ?? newIngestId();
  sequence += 1;
  return {
    ingestId,
    vendorId,
    externalEventId: meta.externalEventId ?? `evt-${sequence}`,
    eventType,
    schemaVersion: "1.0",
    occurredAt: meta.occurredAt,
    data,
    rawRef: { bucket: "raw-bucket", key: rawKey(vendorId, ingestId) },
  } as Extract<NormalizedDocument, { eventType: T }>;
}

export const inventoryUpdated = (
  quantityOnHand: number,
  meta: EventMeta,
  warehouseId = "ROA",
  sku = "ABC-001",
) => document("InventoryUpdated", { warehouseId, sku, quantityOnHand }, meta);

export const inventoryAdjusted = (
  quantityDelta: number,
  meta: EventMeta,
  warehouseId = "ROA",
  sku = "ABC-001",
) => document("InventoryAdjusted", { warehouseId, sku, quantityDelta }, meta);

export const orderCreated = (
  orderId: string,
  lines: OrderLine[],
  meta: EventMeta,
  warehouseId: string | undefined = "ROA",
) => document("OrderCreated", { orderId, lines, ...(warehouseId !== undefined && { warehouseId }) }, meta);

export const orderStatusChanged = (orderId: string, status: OrderStatus, meta: EventMeta) =>
  document("OrderStatusChanged", { orderId, status }, meta);

/** `2026-01-30T20:00:00Z` plus some minutes: readable times for hand-written cases. */
export const at = (minutes: number) =>
  new Date(Date.UTC(2026, 0, 30, 20, 0, 0) + minutes * 60_000).toISOString();

/**
 * applyEvent with an in-memory event log, as applyStateChange reads the entity's log: each applied
 * inventory event is logged, and an event that needs history (historyNeeded) gets the logged
 * events of its range, in fold order.
 */
export function applyWithLog(): (
  state: EntityState | undefined,
  doc: NormalizedDocument,
  options: ApplyOptions,
) => ApplyOutcome<EntityState> {
  const logs = new Map<string, InventoryEntry[]>();
  return (state, doc, options) => {
    const entity = `${entityOf(doc).type}:${entityOf(doc).key}`;
    const logged = logs.get(entity) ?? [];
    const needed = isInventoryDocument(doc)
      ? historyNeeded(state as InventoryState | undefined, doc, options)
      : undefined;
    const history = needed
      ? logged
          .filter((e) => (needed.from === undefined || e.key.at >= needed.from) && e.key.at <= needed.through)
          .sort(compareLogged)
      : undefined;
    const outcome = applyEvent(state, doc, { ...options, ...(history && { history }) });
    if (outcome.changed && isInventoryDocument(doc)) {
      const set = doc.eventType === "InventoryUpdated";
      logs.set(entity, [
        ...logged,
        {
          key: foldPositionOf(doc, options.priority),
          ingestId: doc.ingestId,
          occurredAt: doc.occurredAt,
          op: set ? "set" : "add",
          value: set ? doc.data.quantityOnHand : (doc.data as { quantityDelta: number }).quantityDelta,
        },
      ]);
    }
    return outcome;
  };
}
