import { Entity, type EntityConfiguration, type EntityItem } from "electrodb";
import { keyPart } from "../keys.ts";
import { CANONICAL_ORDER_STATUSES } from "../state/orders.ts";

/**
 * What inventory and order items share: the consumer fields of the HTTP API contract, docs/contract, the fold the rules
 * recompute from, and the latest change until it is in the feed. `version` is the compare-and-swap
 * guard of every write (docs/spec/canonical-state.md).
 */
const stateAttributes = {
  /** occurredAt of the last event in fold order that changed the state. */
  asOf: { type: "string", required: true },
  lastIngestId: { type: "string", required: true },
  sourceVendorId: { type: "string", required: true },
  /** Distinct events in the entity's history; +1 per applied change, never by a replay. */
  version: { type: "number", required: true },
  /** The vendor keys the crosswalk mapped to the entity (state/vendor-keys.ts); absent when none. */
  vendorKeys: { type: "any" },
  /** The rules' own data (InventoryFold or OrderFold), opaque to the table. */
  fold: { type: "any", required: true },
  /** The change that gave this version (a PendingChange), published to the feed before the next one. */
  change: { type: "any", required: true },
  /** The feed position reserved for `change`; replaced if a reader closed it as a gap first. */
  changePosition: { type: "string", required: true },
  updatedAt: { type: "string", required: true },
} as const;

/**
 * The key attributes of one (warehouseId, sku): each escaped (keyPart), so that "W" + "x#sku_y"
 * and "W#sku_x" + "y" are two items. Labelled as the ids, so an id without `#` or `%` gives the
 * key it always had: `$dvss#warehouseId_<warehouseId>#sku_<sku>`.
 */
export function inventoryStateKey(warehouseId: string, sku: string) {
  return { warehouseKey: keyPart(warehouseId), skuKey: keyPart(sku) };
}

/** Canonical inventory of one (warehouseId, sku). */
export const inventoryStateEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "inventoryState", version: "1", service: "dvss" },
      attributes: {
        warehouseId: { type: "string", required: true, readOnly: true },
        sku: { type: "string", required: true, readOnly: true },
        // inventoryStateKey(warehouseId, sku): every get, put and patch passes them.
        warehouseKey: { type: "string", label: "warehouseId", required: true, readOnly: true, hidden: true },
        skuKey: { type: "string", label: "sku", required: true, readOnly: true, hidden: true },
        quantityOnHand: { type: "number", required: true },
        /** Absent: EA (docs/spec/canonical-state.md, "Units"). */
        unit: { type: "string" },
        ...stateAttributes,
      },
      indexes: {
        // Case kept: "abc-001" and "ABC-001" are two SKUs.
        inventory: {
          pk: { field: "pk", composite: ["warehouseKey", "skuKey"], casing: "none" },
          sk: { field: "sk", composite: [], casing: "none" },
        },
      },
    },
    config,
  );

export type InventoryStateItem = EntityItem<ReturnType<typeof inventoryStateEntity>>;

/** Canonical state of one order. */
export const orderStateEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "orderState", version: "1", service: "dvss" },
      attributes: {
        orderId: { type: "string", required: true, readOnly: true },
        status: { type: CANONICAL_ORDER_STATUSES, required: true },
        lines: {
          type: "list",
          required: true,
          items: {
            type: "map",
            properties: {
              sku: { type: "string", required: true },
              quantity: { type: "number", required: true },
            },
          },
        },
        warehouseId: { type: "string" },
        ...stateAttributes,
      },
      indexes: {
        order: {
          pk: { field: "pk", composite: ["orderId"], casing: "none" },
          sk: { field: "sk", composite: [], casing: "none" },
        },
      },
    },
    config,
  );

export type OrderStateItem = EntityItem<ReturnType<typeof orderStateEntity>>;

/**
 * Divergences of a change too large to keep on its state item (docs/spec/canonical-state.md,
 * "Sizes"), in chunks each under DynamoDB's item limit. Written before the state write that names
 * them (PendingChange.divergenceChunks), read by whoever publishes the change. Keyed by the change
 * (entity, version, ingestId), so a retry rewrites the same chunks and a state write that lost its
 * compare-and-swap leaves chunks no item names.
 */
export const pendingDivergencesEntity = (config: EntityConfiguration) =>
  new Entity(
    {
      model: { entity: "pendingDivergences", version: "1", service: "dvss" },
      attributes: {
        entityType: { type: ["inventory", "order"] as const, required: true, readOnly: true },
        entityKey: { type: "string", required: true, readOnly: true },
        version: { type: "number", required: true, readOnly: true },
        ingestId: { type: "string", required: true, readOnly: true },
        chunk: { type: "number", required: true, readOnly: true },
        /** Divergence objects, as the rules produced them. */
        divergences: { type: "any", required: true },
        writtenAt: { type: "string", required: true },
      },
      indexes: {
        change: {
          pk: { field: "pk", composite: ["entityType", "entityKey"], casing: "none" },
          sk: { field: "sk", composite: ["version", "ingestId", "chunk"], casing: "none" },
        },
      },
    },
    config,
  );
