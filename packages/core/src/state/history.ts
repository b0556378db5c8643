import { isRfc3339, MAX_OCCURRED_AT_LENGTH } from "../envelope.ts";
import { BadRequestError, NotFoundError } from "../errors.ts";
import type { OrderLine } from "../standard-events.ts";
import { instantOf } from "./fold-position.ts";
import { type InventoryState, type InventoryView, inventoryKey, inventoryView } from "./inventory.ts";
import { documentOf, entityHistory, type LoggedEvent } from "./log.ts";
import { type OrderState, type OrderView, orderView } from "./orders.ts";
import { applyEvent } from "./rules.ts";
import { readState, type StateEntities, type StateKey, type StoredState } from "./store.ts";
import type { DivergenceKind, EntityRef } from "./types.ts";

/*
 * The state of an entity as of any time, and how it came to be (docs/spec/canonical-state.md,
 * "State as of a time" and "Explain"): both fold the entity's event log, in fold order, with the
 * same rules as every write.
 */

/** The entities these reads need. */
export type HistoryReaders = Pick<
  StateEntities,
  "inventoryStates" | "orderStates" | "entityEvents" | "divergences"
>;

type View = InventoryView | OrderView;

/**
 * Folds logged events in fold order, calling `step` with each event and the entity after it.
 * Inventory is set-or-add, one pass (its history can be long); an order goes through the order
 * rules, event by event, as its writes do (its history is short).
 */
function foldLog(
  events: readonly LoggedEvent[],
  step: (event: LoggedEvent, view: View) => void = () => {},
): View | undefined {
  let quantity = 0;
  let order: OrderState | undefined;
  let view: View | undefined;
  events.forEach((event, index) => {
    if (event.eventType === "InventoryUpdated" || event.eventType === "InventoryAdjusted") {
      const data = event.data as {
        warehouseId: string;
        sku: string;
        quantityOnHand?: number;
        quantityDelta?: number;
      };
      quantity =
        event.eventType === "InventoryUpdated"
          ? (data.quantityOnHand as number)
          : quantity + (data.quantityDelta as number);
      view = {
        warehouseId: data.warehouseId,
        sku: data.sku,
        quantityOnHand: quantity,
        asOf: event.occurredAt,
        version: index + 1,
        lastIngestId: event.ingestId,
        sourceVendorId: event.key.vendorId,
      };
    } else {
      order = applyEvent(order, documentOf(event), { priority: event.key.priority }).item as OrderState;
      view = orderView(order);
    }
    step(event, view);
  });
  return view;
}

/**
 * The `asOf` query parameter as a sortable instant: an RFC 3339 date-time with an offset or Z, as
 * occurredAt is; BadRequestError naming `asOf` otherwise.
 */
export function parseAsOf(asOf: string): string {
  if (asOf.length > MAX_OCCURRED_AT_LENGTH || !isRfc3339(asOf)) {
    throw new BadRequestError("asOf must be an RFC 3339 date-time with an offset or Z", {
      details: [
        {
          path: "asOf",
          message: "must be an RFC 3339 date-time with an offset or Z, e.g. 2026-01-30T20:15:12Z",
        },
      ],
    });
  }
  return instantOf(asOf);
}

/** An entity's state as of a time: what its events with occurredAt ≤ asOf fold to. */
export type AsOf<V> = V & {
  /** The events folded, in fold order: those DVSS holds now with occurredAt ≤ asOf. */
  ingestIds: string[];
};

/** The asOf is checked before anything is read. */
async function stateAsOf(
  entities: HistoryReaders,
  key: StateKey,
  entity: EntityRef,
  asOf: string,
): Promise<{ state: View; ingestIds: string[] }> {
  const through = parseAsOf(asOf);
  const stored = await readState(entities, key);
  const events = stored ? await entityHistory(entities, entity, stored, through) : [];
  const state = foldLog(events);
  if (!state) throw new NotFoundError(`No ${entity.type} state for ${entity.key} as of ${asOf}`);
  return { state, ingestIds: events.map((event) => event.ingestId) };
}

/** GET /v1/state/inventory/{warehouseId}/{sku}?asOf=… (docs/contract). */
export async function getInventoryStateAsOf(
  entities: HistoryReaders,
  warehouseId: string,
  sku: string,
  asOf: string,
): Promise<AsOf<InventoryView>> {
  const { state, ingestIds } = await stateAsOf(
    entities,
    { type: "inventory", warehouseId, sku },
    { type: "inventory", key: inventoryKey(warehouseId, sku) },
    asOf,
  );
  return { ...(state as InventoryView), ingestIds };
}

/** GET /v1/state/orders/{orderId}?asOf=… (docs/contract). */
export async function getOrderStateAsOf(
  entities: HistoryReaders,
  orderId: string,
  asOf: string,
): Promise<AsOf<OrderView>> {
  const { state, ingestIds } = await stateAsOf(
    entities,
    { type: "order", orderId },
    { type: "order", key: orderId },
    asOf,
  );
  return { ...(state as OrderView), ingestIds };
}

/** A divergence as explain lists it. */
export interface ExplainedDivergence {
  divergenceId: string;
  kind: DivergenceKind;
  ingestId: string;
  reason: string;
  /** The other event of a pair kind. */
  relatedIngestId?: string;
}

/** One event of the chain, in fold order. */
export interface ExplainStep {
  ingestId: string;
  vendorId: string;
  externalEventId: string;
  eventType: string;
  occurredAt: string;
  mappingVersion: string;
  rawKey: string;
  /** The version it gave the entity when it was applied (its place in arrival order). */
  version: number;
  /**
   * What it did in the fold: `set` or `add` the quantity; `lines` (an OrderCreated) or `status`;
   * `skipped` for a status the rules do not apply (its divergence, if any, says why).
   */
  effect: "set" | "add" | "lines" | "status" | "skipped";
  /** What it said: the quantity, the delta, the lines or the status. */
  value: number | string | OrderLine[];
  /** The entity's value after it: quantityOnHand, or the order's status. */
  running: number | string;
  /** The divergences recorded on this event. */
  divergences: ExplainedDivergence[];
}

export interface Explanation<V> {
  entity: EntityRef;
  /** The stored state, as GET /v1/state answers it. */
  state: V;
  steps: ExplainStep[];
  /** The entity's divergences on no event of its log (none, unless the log lacks events). */
  otherDivergences: ExplainedDivergence[];
  /** Whether the last running value is the stored one (it is, unless the log lacks events). */
  consistent: boolean;
}

async function explain(
  entities: HistoryReaders,
  entity: EntityRef & { type: "inventory" | "order" },
  stored: StoredState | undefined,
) {
  if (!stored) throw new NotFoundError(`No ${entity.type} state for ${entity.key}`);
  const [events, recorded] = await Promise.all([
    entityHistory(entities, entity, stored),
    entities.divergences.query
      .byEntity({ entityType: entity.type, entityKey: entity.key })
      .go({ pages: "all" })
      .then(({ data }) => data),
  ]);
  const byEvent = new Map<string, ExplainedDivergence[]>();
  for (const item of recorded) {
    const explained: ExplainedDivergence = {
      divergenceId: item.divergenceId,
      kind: item.kind,
      ingestId: item.ingestId,
      reason: item.reason,
      ...(item.related && { relatedIngestId: (item.related as { ingestId: string }).ingestId }),
    };
    byEvent.set(item.ingestId, [...(byEvent.get(item.ingestId) ?? []), explained]);
  }
  const steps: ExplainStep[] = [];
  let previous: View | undefined;
  foldLog(events, (event, state) => {
    const data = event.data as Record<string, unknown>;
    const running = "quantityOnHand" in state ? state.quantityOnHand : state.status;
    const before = previous && ("quantityOnHand" in previous ? previous.quantityOnHand : previous.status);
    const [effect, value]: [ExplainStep["effect"], ExplainStep["value"]] =
      event.eventType === "InventoryUpdated"
        ? ["set", data.quantityOnHand as number]
        : event.eventType === "InventoryAdjusted"
          ? ["add", data.quantityDelta as number]
          : event.eventType === "OrderCreated"
            ? ["lines", data.lines as OrderLine[]]
            : [before === running && previous ? "skipped" : "status", data.status as string];
    steps.push({
      ingestId: event.ingestId,
      vendorId: event.key.vendorId,
      externalEventId: event.key.externalEventId,
      eventType: event.eventType,
      occurredAt: event.occurredAt,
      mappingVersion: event.mappingVersion,
      rawKey: event.rawKey,
      version: event.version,
      effect,
      value,
      running,
      divergences: byEvent.get(event.ingestId) ?? [],
    });
    byEvent.delete(event.ingestId);
    previous = state;
  });
  const storedValue = "quantityOnHand" in stored.state ? stored.state.quantityOnHand : stored.state.status;
  // Where each change is in the feed, as its log item records it (a pending change not logged yet:
  // the position its state item reserves).
  const feedPositions = new Map<string, string>();
  for (const event of events) if (event.feedPosition) feedPositions.set(event.ingestId, event.feedPosition);
  return {
    chain: {
      steps,
      otherDivergences: [...byEvent.values()].flat(),
      consistent: steps.at(-1)?.running === storedValue && steps.length === stored.state.version,
    },
    feedPositions,
  };
}

/**
 * An explanation, and the feed position of each step's change, by ingestId (state/feed.ts
 * readLoggedEntry reads its entry): the console's entity pages. Not in the explain answer. A step
 * logged before positions were recorded has none.
 */
export interface ExplanationWithFeed<V> {
  explanation: Explanation<V>;
  feedPositions: Map<string, string>;
}

/** GET /v1/state/inventory/{warehouseId}/{sku}/explain and `dvss explain inventory` (docs/contract). */
export async function explainInventory(
  entities: HistoryReaders,
  warehouseId: string,
  sku: string,
): Promise<Explanation<InventoryView>> {
  return (await explainInventoryWithFeed(entities, warehouseId, sku)).explanation;
}

export async function explainInventoryWithFeed(
  entities: HistoryReaders,
  warehouseId: string,
  sku: string,
): Promise<ExplanationWithFeed<InventoryView>> {
  const entity = { type: "inventory" as const, key: inventoryKey(warehouseId, sku) };
  const stored = await readState(entities, { type: "inventory", warehouseId, sku });
  const { chain, feedPositions } = await explain(entities, entity, stored);
  const state = inventoryView((stored as StoredState).state as InventoryState);
  return { explanation: { entity, state, ...chain }, feedPositions };
}

/** GET /v1/state/orders/{orderId}/explain and `dvss explain order` (docs/contract). */
export async function explainOrder(
  entities: HistoryReaders,
  orderId: string,
): Promise<Explanation<OrderView>> {
  return (await explainOrderWithFeed(entities, orderId)).explanation;
}

export async function explainOrderWithFeed(
  entities: HistoryReaders,
  orderId: string,
): Promise<ExplanationWithFeed<OrderView>> {
  const entity = { type: "order" as const, key: orderId };
  const stored = await readState(entities, { type: "order", orderId });
  const { chain, feedPositions } = await explain(entities, entity, stored);
  const state = orderView((stored as StoredState).state as OrderState);
  return { explanation: { entity, state, ...chain }, feedPositions };
}
