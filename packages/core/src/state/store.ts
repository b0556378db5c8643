import { inventoryStateKey } from "../entities/canonical-state.ts";
import { isConditionalCheckFailed } from "../entities/conditions.ts";
import type { Entities } from "../entities/index.ts";
import { explainFailure } from "../failures.ts";
import type { NormalizedDocument } from "../normalized.ts";
import type { InventoryFold, InventoryState } from "./inventory.ts";
import type { OrderFold, OrderState } from "./orders.ts";
import { type EntityState, isInventoryDocument } from "./rules.ts";
import type { Divergence, EntityRef } from "./types.ts";

/** The entities the state engine reads and writes. */
export type StateEntities = Pick<
  Entities,
  "inventoryStates" | "orderStates" | "divergences" | "outboxEntries" | "outboxSequence"
>;

/**
 * The change that gave a state item its version. It stays on the item until the next change, so
 * whoever reads the item can finish publishing it (divergences, then the feed entry) after a crash.
 */
export interface PendingChange {
  entity: EntityRef;
  version: number;
  ingestId: string;
  event: NormalizedDocument;
  mappingVersion: string;
  appliedAt: string;
  divergences: Divergence[];
}

export interface StoredState {
  state: EntityState;
  change: PendingChange;
  changePosition: string;
}

/** The table key of an entity, from one of its events. */
export type StateKey =
  | { type: "inventory"; warehouseId: string; sku: string }
  | { type: "order"; orderId: string };

export function stateKeyOf(doc: NormalizedDocument): StateKey {
  if (isInventoryDocument(doc))
    return { type: "inventory", warehouseId: doc.data.warehouseId, sku: doc.data.sku };
  return { type: "order", orderId: (doc.data as { orderId: string }).orderId };
}

/**
 * Runs one store call; a failure is reported as explainFailure decides (failures.ts): a store that
 * did not answer as StorageUnavailableError (retried), a refused grant as AccessDeniedError, a lost
 * condition and anything else (a bug, an item too large, a number the client cannot serialize) as
 * they are.
 */
export async function storeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw explainFailure(error, what);
  }
}

/** storeCall for a conditional write: true when written, false when the condition did not hold. */
export async function conditionalWrite(what: string, call: () => Promise<unknown>): Promise<boolean> {
  try {
    await storeCall(what, call);
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

function toStored(
  item: Record<string, unknown> & { change: unknown; changePosition: string },
  state: EntityState,
) {
  return { state, change: item.change as PendingChange, changePosition: item.changePosition };
}

/** Reads the item (strongly consistent: the compare-and-swap must see the latest version). */
export async function readState(
  entities: Pick<StateEntities, "inventoryStates" | "orderStates">,
  key: StateKey,
): Promise<StoredState | undefined> {
  if (key.type === "inventory") {
    const { data } = await storeCall("Read inventory state", () =>
      entities.inventoryStates.get(inventoryStateKey(key.warehouseId, key.sku)).go({ consistent: true }),
    );
    if (!data) return undefined;
    const { warehouseId, sku, quantityOnHand, asOf, version, lastIngestId, sourceVendorId, fold } = data;
    const state: InventoryState = {
      warehouseId,
      sku,
      quantityOnHand,
      asOf,
      version,
      lastIngestId,
      sourceVendorId,
      fold: fold as InventoryFold,
    };
    return toStored(data, state);
  }
  const { data } = await storeCall("Read order state", () =>
    entities.orderStates.get({ orderId: key.orderId }).go({ consistent: true }),
  );
  if (!data) return undefined;
  const { orderId, status, lines, warehouseId, asOf, version, lastIngestId, sourceVendorId, fold } = data;
  const state: OrderState = {
    orderId,
    status,
    lines: lines.map(({ sku, quantity }) => ({ sku, quantity })),
    ...(warehouseId !== undefined && { warehouseId }),
    asOf,
    version,
    lastIngestId,
    sourceVendorId,
    fold: fold as OrderFold,
  };
  return toStored(data, state);
}

/**
 * Writes the new state with a compare-and-swap on `version`: created only if absent when there was
 * no item, replaced only if still at `expectedVersion` otherwise. False when another write won.
 */
export function writeState(
  entities: StateEntities,
  key: StateKey,
  next: { state: EntityState; change: PendingChange; changePosition: string },
  expectedVersion: number | undefined,
  now: Date,
): Promise<boolean> {
  const extra = { change: next.change, changePosition: next.changePosition, updatedAt: now.toISOString() };
  if (key.type === "inventory") {
    const state = next.state as InventoryState;
    const item = { ...inventoryStateKey(state.warehouseId, state.sku), ...state, ...extra };
    return conditionalWrite("Write inventory state", () =>
      expectedVersion === undefined
        ? entities.inventoryStates.create(item).go()
        : entities.inventoryStates
            .put(item)
            .where(({ version }, { eq }) => eq(version, expectedVersion))
            .go(),
    );
  }
  const item = { ...(next.state as OrderState), ...extra };
  return conditionalWrite("Write order state", () =>
    expectedVersion === undefined
      ? entities.orderStates.create(item).go()
      : entities.orderStates
          .put(item)
          .where(({ version }, { eq }) => eq(version, expectedVersion))
          .go(),
  );
}

/** Moves the pending change of `version` from one reserved feed position to another. */
export function moveChangePosition(
  entities: StateEntities,
  key: StateKey,
  expected: { version: number; position: string },
  position: string,
): Promise<boolean> {
  return conditionalWrite("Move a change's feed position", () =>
    key.type === "inventory"
      ? entities.inventoryStates
          .patch(inventoryStateKey(key.warehouseId, key.sku))
          .set({ changePosition: position })
          .where(
            ({ version, changePosition }, { eq }) =>
              `${eq(version, expected.version)} AND ${eq(changePosition, expected.position)}`,
          )
          .go()
      : entities.orderStates
          .patch({ orderId: key.orderId })
          .set({ changePosition: position })
          .where(
            ({ version, changePosition }, { eq }) =>
              `${eq(version, expected.version)} AND ${eq(changePosition, expected.position)}`,
          )
          .go(),
  );
}
