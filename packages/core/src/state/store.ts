import { inventoryStateEntity, inventoryStateKey, orderStateEntity } from "../entities/canonical-state.ts";
import { isConditionalCheckFailed } from "../entities/conditions.ts";
import type { Entities } from "../entities/index.ts";
import { DvssError, EntityTooLargeError } from "../errors.ts";
import { explainFailure } from "../failures.ts";
import type { NormalizedDocument } from "../normalized.ts";
import { type InventoryFold, type InventoryState, inventoryView } from "./inventory.ts";
import { DYNAMODB_ITEM_LIMIT_BYTES, itemBytes, valueBytes } from "./item-size.ts";
import { type OrderFold, type OrderState, orderView } from "./orders.ts";
import { type EntityState, isInventoryDocument } from "./rules.ts";
import type { Divergence, EntityRef } from "./types.ts";
import type { VendorKeyRef } from "./vendor-keys.ts";

/** The entities the state engine reads and writes. */
export type StateEntities = Pick<
  Entities,
  | "inventoryStates"
  | "orderStates"
  | "pendingDivergences"
  | "entityEvents"
  | "divergences"
  | "outboxEntries"
  | "outboxSequence"
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
  /** The vendor's priority when the event was applied: its fold position, for the event log. */
  priority: number;
  appliedAt: string;
  /** The change's divergences, when they fit on the item (INLINE_DIVERGENCE_BYTES). */
  divergences: Divergence[];
  /** Otherwise empty, and this many pendingDivergences chunks hold them, written before the item. */
  divergenceChunks?: number;
}

/*
 * Sizes (docs/spec/canonical-state.md, "Sizes"). A state item holds the entity's state and fold,
 * and its pending change: the normalized document (bounded by the standard events' rules) and the
 * change's divergences. Divergences have no bound in number (a snapshot can conflict with every
 * other vendor's snapshot of the last 5 minutes), so beyond INLINE_DIVERGENCE_BYTES they move to
 * chunks of their own. What is left is checked against MAX_STATE_ITEM_BYTES before anything is
 * written: an inventory item stays below it by its rules; an order's history has no bound but
 * this one.
 */
/** Divergences kept on the pending change up to this size; beyond, in chunks. */
export const INLINE_DIVERGENCE_BYTES = 64 * 1024;
/** The most one chunk of divergences holds (one divergence alone is smaller: see the size test). */
export const DIVERGENCE_CHUNK_BYTES = 300 * 1024;
/** The largest state item written: DynamoDB's 400 KB, less 20 KB for what this count might miss. */
export const MAX_STATE_ITEM_BYTES = DYNAMODB_ITEM_LIMIT_BYTES - 20 * 1024;

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
    // The item holds the view's attributes and the fold, beside the write's own (change, position).
    const state: InventoryState = {
      ...inventoryView({ ...data, vendorKeys: data.vendorKeys as VendorKeyRef[] | undefined }),
      fold: data.fold as InventoryFold,
    };
    return toStored(data, state);
  }
  const { data } = await storeCall("Read order state", () =>
    entities.orderStates.get({ orderId: key.orderId }).go({ consistent: true }),
  );
  if (!data) return undefined;
  const state: OrderState = {
    ...orderView({
      ...data,
      lines: data.lines.map(({ sku, quantity }) => ({ sku, quantity })),
      vendorKeys: data.vendorKeys as VendorKeyRef[] | undefined,
    }),
    fold: data.fold as OrderFold,
  };
  return toStored(data, state);
}

/** What a state write holds: the attributes of the item, as the entity takes them. */
function stateItem(next: { state: EntityState; change: PendingChange; changePosition: string }, now: Date) {
  const extra = { change: next.change, changePosition: next.changePosition, updatedAt: now.toISOString() };
  const { state } = next;
  if ("quantityOnHand" in state) {
    return {
      type: "inventory" as const,
      item: { ...inventoryStateKey(state.warehouseId, state.sku), ...state, ...extra },
    };
  }
  return { type: "order" as const, item: { ...state, ...extra } };
}

/** The entities only as formatters: what a put's item is, with ElectroDB's keys and attributes. */
const formatters = {
  inventoryStates: inventoryStateEntity({ table: "size" }),
  orderStates: orderStateEntity({ table: "size" }),
};

/** The bytes DynamoDB would count for the state item `next`, as the entity writes it (keys included). */
export function stateItemBytes(
  next: { state: EntityState; change: PendingChange; changePosition: string },
  now: Date,
): number {
  const written = stateItem(next, now);
  const params =
    written.type === "inventory"
      ? formatters.inventoryStates.put(written.item).params()
      : formatters.orderStates.put(written.item).params();
  return itemBytes(params.Item as Record<string, unknown>);
}

/**
 * The pending change of a state write, with its divergences kept inline if small enough, or else
 * split into chunks (each with whole divergences, each under DIVERGENCE_CHUNK_BYTES) to be written
 * before the item. Throws EntityTooLargeError if one divergence alone is larger than a chunk.
 */
export function placeDivergences(change: PendingChange): { change: PendingChange; chunks: Divergence[][] } {
  if (valueBytes(change.divergences) <= INLINE_DIVERGENCE_BYTES) return { change, chunks: [] };
  const chunks: Divergence[][] = [];
  let current: Divergence[] = [];
  let bytes = 3;
  for (const divergence of change.divergences) {
    const size = 1 + valueBytes(divergence);
    if (size + 3 > DIVERGENCE_CHUNK_BYTES) {
      throw new EntityTooLargeError(
        `${change.entity.type} ${change.entity.key}: a divergence of event ${change.ingestId} takes ${size} bytes, more than one item holds`,
        { details: [{ path: "entity", message: `${change.entity.type} ${change.entity.key}` }] },
      );
    }
    if (bytes + size > DIVERGENCE_CHUNK_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 3;
    }
    current.push(divergence);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return { change: { ...change, divergences: [], divergenceChunks: chunks.length }, chunks };
}

/** Refuses, before anything is written, a state item larger than MAX_STATE_ITEM_BYTES. */
export function assertStateFits(
  next: { state: EntityState; change: PendingChange; changePosition: string },
  now: Date,
): void {
  const bytes = stateItemBytes(next, now);
  if (bytes <= MAX_STATE_ITEM_BYTES) return;
  const { entity } = next.change;
  throw new EntityTooLargeError(
    `${entity.type} ${entity.key}: with event ${next.change.ingestId} its canonical state would take ${bytes} bytes, more than the ${MAX_STATE_ITEM_BYTES} one item may hold`,
    { details: [{ path: "entity", message: `${entity.type} ${entity.key}` }] },
  );
}

/** Writes the chunks of a change's divergences (placeDivergences), before the state item names them. */
export async function writeDivergenceChunks(
  entities: Pick<StateEntities, "pendingDivergences">,
  change: PendingChange,
  chunks: Divergence[][],
  now: Date,
): Promise<void> {
  await Promise.all(
    chunks.map((divergences, chunk) =>
      storeCall("Write a change's divergences", () =>
        entities.pendingDivergences
          .put({
            entityType: change.entity.type,
            entityKey: change.entity.key,
            version: change.version,
            ingestId: change.ingestId,
            chunk,
            divergences,
            writtenAt: now.toISOString(),
          })
          .go(),
      ),
    ),
  );
}

/** A pending change's divergences: inline, or read back from its chunks. */
export async function divergencesOf(
  entities: Pick<StateEntities, "pendingDivergences">,
  change: PendingChange,
): Promise<Divergence[]> {
  if (!change.divergenceChunks) return change.divergences;
  const chunks = await Promise.all(
    Array.from({ length: change.divergenceChunks }, async (_, chunk) => {
      const { data } = await storeCall("Read a change's divergences", () =>
        entities.pendingDivergences
          .get({
            entityType: change.entity.type,
            entityKey: change.entity.key,
            version: change.version,
            ingestId: change.ingestId,
            chunk,
          })
          .go({ consistent: true }),
      );
      if (!data) {
        throw new DvssError(
          "FEED_INCONSISTENT",
          `${change.entity.key} v${change.version}: divergence chunk ${chunk} of event ${change.ingestId} is missing`,
        );
      }
      return data.divergences as Divergence[];
    }),
  );
  return chunks.flat();
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
  const written = stateItem(next, now);
  if (written.type !== key.type) throw new Error(`A ${written.type} state written under a ${key.type} key`);
  if (written.type === "inventory") {
    const { item } = written;
    return conditionalWrite("Write inventory state", () =>
      expectedVersion === undefined
        ? entities.inventoryStates.create(item).go()
        : entities.inventoryStates
            .put(item)
            .where(({ version }, { eq }) => eq(version, expectedVersion))
            .go(),
    );
  }
  const { item } = written;
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
