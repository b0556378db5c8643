import type { InventoryStateItem, OrderStateItem, OutboxEntryItem } from "@dvss/core/entities/index";
import { BadRequestError } from "@dvss/core/errors";
import type { OpsContext } from "@dvss/core/ops/context";
import type { EventStory } from "@dvss/core/ops/story";
import { readLoggedEntry } from "@dvss/core/state/feed";
import {
  type Explanation,
  type ExplanationWithFeed,
  explainInventoryWithFeed,
  explainOrderWithFeed,
} from "@dvss/core/state/history";
import type { InventoryView } from "@dvss/core/state/inventory";
import { readLoggedEvent } from "@dvss/core/state/log";
import type { CanonicalOrderStatus, OrderView } from "@dvss/core/state/orders";
import type { EntityRef } from "@dvss/core/state/types";

/*
 * What the console's canonical state pages read. The CanonicalState table is keyed by entity only
 * (no index lists inventory by warehouse or orders by status), so a list page is a scan, bounded:
 * one request evaluates at most SCAN_BUDGET items (state items and the entities' event log alike)
 * and shows up to LIST_PAGE_ROWS that matched (sorted within the page), with a cursor to go on
 * from there. An entity page reads
 * the entity's chain (explain), and the feed entry of each change it shows by key, at the position
 * the change's log item records (the Outbox has no index by ingestId).
 */

/** Items DynamoDB evaluates per scan call. */
const SCAN_CALL_ITEMS = 250;
/** Scan calls per list page at most: SCAN_BUDGET items evaluated, whatever the table holds. */
const SCAN_CALLS = 8;
export const SCAN_BUDGET = SCAN_CALL_ITEMS * SCAN_CALLS;
/** A list page stops scanning once it has this many rows. */
export const LIST_PAGE_ROWS = 50;
/** Steps of an entity's chain shown per page (each with its feed entry looked up). */
export const CHAIN_PAGE_STEPS = 100;

export interface ListPage<T> {
  items: T[];
  /** Where the next page starts; absent once the scan reached the end of the table. */
  next?: string;
}

type ScanPage<T> = { data: T[]; cursor: string | null };

/** A cursor this console gave: a scan's last key, `{pk, sk}`, as ElectroDB encodes it. */
function checkCursor(cursor: string): string {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    key = undefined;
  }
  const { pk, sk, ...rest } = (key ?? {}) as Record<string, unknown>;
  if (typeof pk !== "string" || typeof sk !== "string" || Object.keys(rest).length > 0) {
    throw new BadRequestError("after must be the cursor of a Next page link");
  }
  return cursor;
}

/** The cursor that starts a scan right after `item` (read with its keys). */
function cursorAfter(item: { pk?: unknown; sk?: unknown }): string {
  return Buffer.from(JSON.stringify({ pk: item.pk, sk: item.sk })).toString("base64url");
}

/**
 * Scan calls until a page's rows are found, the table ends, or SCAN_CALLS calls were made. Rows
 * beyond the page are left for the next one, which starts right after the last row shown.
 */
async function boundedScan<T extends object>(
  page: (cursor: string | null) => Promise<ScanPage<T & { pk?: unknown; sk?: unknown }>>,
  cursor: string | undefined,
): Promise<ListPage<T>> {
  const items: (T & { pk?: unknown; sk?: unknown })[] = [];
  let next: string | null = cursor === undefined ? null : checkCursor(cursor);
  let calls = 0;
  do {
    const result = await page(next);
    items.push(...result.data);
    next = result.cursor;
    calls += 1;
  } while (next !== null && calls < SCAN_CALLS && items.length < LIST_PAGE_ROWS);
  const last = items[LIST_PAGE_ROWS - 1];
  if (items.length > LIST_PAGE_ROWS && last) next = cursorAfter(last);
  const rows = items.slice(0, LIST_PAGE_ROWS).map(({ pk: _pk, sk: _sk, ...item }) => item as T);
  return { items: rows, ...(next !== null && { next }) };
}

export interface InventoryFilter {
  warehouseId?: string | undefined;
  skuPrefix?: string | undefined;
  after?: string | undefined;
}

/** A page of inventory items, by warehouse (exact) and SKU prefix; sorted by warehouse, SKU within the page. */
export async function listInventory(
  context: OpsContext,
  filter: InventoryFilter,
): Promise<ListPage<InventoryStateItem>> {
  const listed = await boundedScan<InventoryStateItem>(
    (cursor) =>
      context.entities.inventoryStates.scan
        .where(({ warehouseId, sku }, { eq, begins }) =>
          [
            filter.warehouseId !== undefined ? eq(warehouseId, filter.warehouseId) : "",
            filter.skuPrefix !== undefined ? begins(sku, filter.skuPrefix) : "",
          ]
            .filter(Boolean)
            .join(" AND "),
        )
        .go({ cursor, limit: SCAN_CALL_ITEMS, pages: 1, data: "includeKeys" }),
    filter.after,
  );
  listed.items.sort((a, b) => compare(a.warehouseId, b.warehouseId) || compare(a.sku, b.sku));
  return listed;
}

export interface OrderFilter {
  orderIdPrefix?: string | undefined;
  status?: CanonicalOrderStatus | undefined;
  after?: string | undefined;
}

/** A page of orders, by orderId prefix and status; sorted by orderId within the page. */
export async function listOrders(
  context: OpsContext,
  filter: OrderFilter,
): Promise<ListPage<OrderStateItem>> {
  const listed = await boundedScan<OrderStateItem>(
    (cursor) =>
      context.entities.orderStates.scan
        .where(({ orderId, status }, { eq, begins }) =>
          [
            filter.orderIdPrefix !== undefined ? begins(orderId, filter.orderIdPrefix) : "",
            filter.status !== undefined ? eq(status, filter.status) : "",
          ]
            .filter(Boolean)
            .join(" AND "),
        )
        .go({ cursor, limit: SCAN_CALL_ITEMS, pages: 1, data: "includeKeys" }),
    filter.after,
  );
  listed.items.sort((a, b) => compare(a.orderId, b.orderId));
  return listed;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export interface EntityHistory<V> {
  explanation: Explanation<V>;
  /** The chain's steps shown: [from, to) in fold order. */
  from: number;
  to: number;
  /** The feed entry of each shown step's change, by ingestId (absent while it is not published yet). */
  feed: Map<string, OutboxEntryItem>;
  /**
   * The shown steps whose feed position is not known, by ingestId: logged before the log recorded
   * positions (their changes are in the feed, at a position this page cannot tell).
   */
  unknownPositions: Set<string>;
}

/** The steps [from, to) a chain page shows: the CHAIN_PAGE_STEPS before `before` (the latest by default). */
export function chainWindow(total: number, before: number | undefined): { from: number; to: number } {
  const to = before === undefined ? total : Math.max(0, Math.min(before, total));
  return { from: Math.max(0, to - CHAIN_PAGE_STEPS), to };
}

/** The feed entries of the shown steps: one GetItem each, at the position its log item records. */
async function withFeed<V>(
  context: OpsContext,
  { explanation, feedPositions }: ExplanationWithFeed<V>,
  before: number | undefined,
): Promise<EntityHistory<V>> {
  const { from, to } = chainWindow(explanation.steps.length, before);
  const feed = new Map<string, OutboxEntryItem>();
  const unknownPositions = new Set<string>();
  const shown = explanation.steps.slice(from, to);
  // A few at a time: an entity page should not swamp the store.
  for (let i = 0; i < shown.length; i += 10) {
    const found = await Promise.all(
      shown.slice(i, i + 10).map(({ ingestId }) => {
        const feedPosition = feedPositions.get(ingestId);
        if (feedPosition === undefined) unknownPositions.add(ingestId);
        return readLoggedEntry(context.entities, { ingestId, ...(feedPosition && { feedPosition }) });
      }),
    );
    for (const entry of found) if (entry?.ingestId) feed.set(entry.ingestId, entry);
  }
  return { explanation, from, to, feed, unknownPositions };
}

export async function inventoryHistory(
  context: OpsContext,
  warehouseId: string,
  sku: string,
  before?: number,
): Promise<EntityHistory<InventoryView>> {
  return withFeed(context, await explainInventoryWithFeed(context.entities, warehouseId, sku), before);
}

export async function orderHistory(
  context: OpsContext,
  orderId: string,
  before?: number,
): Promise<EntityHistory<OrderView>> {
  return withFeed(context, await explainOrderWithFeed(context.entities, orderId), before);
}

/** The change an event made: its entity, the version it gave it, and where it is in the feed. */
export interface EventChange {
  entity: EntityRef;
  version: number;
  /** Its feed entry, once written. */
  entry?: OutboxEntryItem;
  /** Its log item records no feed position (logged before the log recorded them). */
  positionUnknown?: true;
}

/** The entities the executions' ApplyState results name, latest first (one, unless the crosswalk changed). */
function appliedEntitiesOf(story: EventStory): EntityRef[] {
  const found = new Map<string, EntityRef>();
  for (const execution of [...story.executions].reverse()) {
    for (const step of execution.steps) {
      if (step.state !== "ApplyState" || step.status !== "succeeded") continue;
      const entity = (step.output as { applied?: { entity?: EntityRef } } | undefined)?.applied?.entity;
      if (typeof entity?.type === "string" && typeof entity.key === "string") {
        found.set(`${entity.type}#${entity.key}`, { type: entity.type, key: entity.key });
      }
    }
  }
  return [...found.values()];
}

/**
 * The change an event made, if it made one: the entity its ApplyState named, that entity's log item
 * of the event (a GetItem by the event's occurredAt and ingestId), and the feed entry at the
 * position the log item records (readLoggedEntry). Undefined while the event is not logged.
 */
export async function changeOf(context: OpsContext, story: EventStory): Promise<EventChange | undefined> {
  const occurredAt = story.record?.occurredAt;
  if (occurredAt === undefined) return undefined;
  for (const entity of appliedEntitiesOf(story)) {
    const logged = await readLoggedEvent(context.entities, entity, occurredAt, story.ingestId);
    if (!logged) continue;
    const entry = await readLoggedEntry(context.entities, logged);
    return {
      entity,
      version: logged.version,
      ...(entry && { entry }),
      ...(logged.feedPosition === undefined && { positionUnknown: true as const }),
    };
  }
  return undefined;
}
