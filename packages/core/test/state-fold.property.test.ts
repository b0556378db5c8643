import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CrosswalkEntry,
  type CrosswalkTable,
  canonicalDocument,
  entryKey,
  lookupIn,
  type MatchKind,
  matchEvent,
} from "../src/crosswalk.ts";
import type { NormalizedDocument } from "../src/normalized.ts";
import { ORDER_STATUSES, type OrderLine } from "../src/standard-events.ts";
import { type InventoryState, inventoryView } from "../src/state/inventory.ts";
import { type OrderState, orderView } from "../src/state/orders.ts";
import { applyEvent, type EntityState, entityOf } from "../src/state/rules.ts";
import { type Divergence, divergenceId } from "../src/state/types.ts";
import { inventoryAdjusted, inventoryUpdated, orderCreated, orderStatusChanged } from "./state-events.ts";

const PRIORITIES: Record<string, number> = { vendorA: 10, vendorB: 20, vendorC: 10 };
const VENDORS = Object.keys(PRIORITIES);
const BASE = Date.UTC(2026, 0, 30, 12, 0, 0);
const OFFSETS = [0, 60, -330];

/** occurredAt at BASE + seconds, written with one of several offsets: the instant is what counts. */
function occurredAt(seconds: number, offsetMinutes: number): string {
  const local = new Date(BASE + seconds * 1000 + offsetMinutes * 60_000).toISOString().slice(0, 19);
  if (offsetMinutes === 0) return `${local}Z`;
  const sign = offsetMinutes > 0 ? "+" : "-";
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

// Within two hours, so the 24 h watermark never forgets anything and every order is equivalent.
const meta = fc.record({
  vendorId: fc.constantFrom(...VENDORS),
  externalEventId: fc.integer({ min: 1, max: 40 }).map((n) => `x-${n}`),
  seconds: fc.integer({ min: 0, max: 7200 }).map((s) => s - (s % 30)),
  offset: fc.constantFrom(...OFFSETS),
});
const uniqueByVendorEvent = {
  selector: (e: { vendorId: string; externalEventId: string }) => `${e.vendorId}/${e.externalEventId}`,
};

const inventorySpecs = fc.uniqueArray(
  fc.record({
    meta,
    sku: fc.constantFrom("ABC-001", "XYZ-002"),
    snapshot: fc.boolean(),
    quantity: fc.integer({ min: 0, max: 30 }),
    delta: fc.integer({ min: -10, max: 10 }).filter((d) => d !== 0),
  }),
  { minLength: 1, maxLength: 25, selector: (spec) => uniqueByVendorEvent.selector(spec.meta) },
);

const line: fc.Arbitrary<OrderLine> = fc.record({
  sku: fc.constantFrom("ABC-001", "XYZ-002"),
  quantity: fc.integer({ min: 1, max: 5 }),
});
const orderSpecs = fc.uniqueArray(
  fc.record({
    meta,
    orderId: fc.constantFrom("o-1", "o-2"),
    created: fc.boolean(),
    lines: fc.array(line, { minLength: 1, maxLength: 3 }),
    status: fc.constantFrom(...ORDER_STATUSES),
  }),
  { minLength: 1, maxLength: 20, selector: (spec) => uniqueByVendorEvent.selector(spec.meta) },
);

const metaOf = (m: { vendorId: string; externalEventId: string; seconds: number; offset: number }) => ({
  vendorId: m.vendorId,
  externalEventId: m.externalEventId,
  occurredAt: occurredAt(m.seconds, m.offset),
});

const inventoryEvents = inventorySpecs.map((specs) =>
  specs.map((s) =>
    s.snapshot
      ? inventoryUpdated(s.quantity, metaOf(s.meta), "ROA", s.sku)
      : inventoryAdjusted(s.delta, metaOf(s.meta), "ROA", s.sku),
  ),
);
const orderEvents = orderSpecs.map((specs) =>
  specs.map((s) =>
    s.created
      ? orderCreated(s.orderId, s.lines, metaOf(s.meta))
      : orderStatusChanged(s.orderId, s.status, metaOf(s.meta)),
  ),
);

/** Events and two arrival orders of them. */
const withTwoArrivals = (events: fc.Arbitrary<NormalizedDocument[]>) =>
  events.chain((list) =>
    fc.tuple(
      fc.constant(list),
      fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }),
      fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }),
    ),
  );

interface Run {
  states: Map<string, EntityState>;
  /** ingestIds that joined an entity (version + 1, one feed item), per entity. */
  changes: Map<string, Set<string>>;
  /** Version given to each change, per entity. */
  versions: Map<string, number[]>;
  divergences: Divergence[];
}

function run(arrivals: NormalizedDocument[]): Run {
  const result: Run = { states: new Map(), changes: new Map(), versions: new Map(), divergences: [] };
  for (const event of arrivals) {
    const key = `${entityOf(event).type}:${entityOf(event).key}`;
    const outcome = applyEvent(result.states.get(key), event, {
      priority: PRIORITIES[event.vendorId] as number,
    });
    result.states.set(key, outcome.item);
    result.divergences.push(...outcome.divergences);
    if (outcome.changed) {
      result.changes.set(key, (result.changes.get(key) ?? new Set()).add(event.ingestId));
      result.versions.set(key, [...(result.versions.get(key) ?? []), outcome.item.version]);
    }
  }
  return result;
}

const view = (state: EntityState) =>
  "sku" in state ? inventoryView(state as InventoryState) : orderView(state as OrderState);
const views = (r: Run) => new Map([...r.states].map(([key, state]) => [key, view(state)]));

/**
 * The fold order of docs/spec/canonical-state.md written out plainly, as the oracle: by instant; at the same instant
 * the preferred event last (the last applied wins): the lower priority number, then the smaller
 * externalEventId, then the smaller vendorId.
 */
function sortedForFold(events: NormalizedDocument[]) {
  const rank = (e: NormalizedDocument) =>
    [Date.parse(e.occurredAt), PRIORITIES[e.vendorId] as number, e.externalEventId, e.vendorId] as const;
  return [...events].sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    for (let i = 0; i < x.length; i++) {
      if (x[i] === y[i]) continue;
      const ascending = (x[i] as number | string) < (y[i] as number | string) ? -1 : 1;
      return i === 0 ? ascending : -ascending;
    }
    return 0;
  });
}

function expectedQuantity(events: NormalizedDocument[]): number {
  let quantity = 0;
  for (const e of sortedForFold(events)) {
    if (e.eventType === "InventoryUpdated") quantity = e.data.quantityOnHand;
    if (e.eventType === "InventoryAdjusted") quantity += e.data.quantityDelta;
  }
  return quantity;
}

function expectedOrder(events: NormalizedDocument[]) {
  const rank = ["CREATED", "ACKED", "PICKED", "SHIPPED", "DELIVERED"];
  let status: string | undefined;
  let lines: OrderLine[] = [];
  for (const e of sortedForFold(events)) {
    if (e.eventType === "OrderCreated") {
      lines = e.data.lines;
      status ??= "CREATED";
    } else if (e.eventType === "OrderStatusChanged") {
      const next = e.data.status;
      const applies =
        status === undefined ||
        (status !== "CANCELED" &&
          (next === "CANCELED" || (status !== "DELIVERED" && rank.indexOf(next) > rank.indexOf(status))));
      if (applies) status = next;
    }
  }
  return { status, lines };
}

const byEntity = (events: NormalizedDocument[]) => {
  const groups = new Map<string, NormalizedDocument[]>();
  for (const e of events) {
    const key = `${entityOf(e).type}:${entityOf(e).key}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  return groups;
};

const ids = (divergences: Divergence[], kinds?: Divergence["kind"][]) =>
  new Set(divergences.filter((d) => !kinds || kinds.includes(d.kind)).map(divergenceId));

describe("the canonical fold, for any arrival order", () => {
  it("gives inventory the same state, version and feed changes as the fold of the sorted events", () => {
    fc.assert(
      fc.property(withTwoArrivals(inventoryEvents), ([events, first, second]) => {
        const [one, other] = [run(first), run(second)];

        expect(views(one)).toEqual(views(other));
        expect(one.changes).toEqual(other.changes);
        expect(ids(one.divergences, ["CONFLICTING_SOURCE"])).toEqual(
          ids(other.divergences, ["CONFLICTING_SOURCE"]),
        );
        for (const [key, group] of byEntity(events)) {
          const state = one.states.get(key) as InventoryState;
          const last = sortedForFold(group).at(-1) as NormalizedDocument;
          expect(state.quantityOnHand).toBe(expectedQuantity(group));
          expect(state.version).toBe(group.length);
          expect(one.versions.get(key)).toEqual(group.map((_, i) => i + 1));
          expect([state.lastIngestId, state.sourceVendorId]).toEqual([last.ingestId, last.vendorId]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("gives orders the same state, version and feed changes, and records at least the final fold's divergences", () => {
    fc.assert(
      fc.property(withTwoArrivals(orderEvents), ([events, first, second]) => {
        const [one, other, inFoldOrder] = [run(first), run(second), run(sortedForFold(events))];

        expect(views(one)).toEqual(views(other));
        expect(one.changes).toEqual(other.changes);
        for (const divergence of ids(inFoldOrder.divergences)) {
          expect(ids(one.divergences)).toContain(divergence);
          expect(ids(other.divergences)).toContain(divergence);
        }
        for (const [key, group] of byEntity(events)) {
          const state = one.states.get(key) as OrderState;
          expect({ status: state.status, lines: state.lines }).toEqual(expectedOrder(group));
          expect(state.version).toBe(group.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("adds no version, no feed change and no divergence when any event is applied again", () => {
    fc.assert(
      fc.property(
        withTwoArrivals(fc.tuple(inventoryEvents, orderEvents).map(([a, b]) => [...a, ...b])),
        ([, arrivals, replays]) => {
          const once = run(arrivals);
          const finalViews = views(once);

          const again = replays.map((event) => {
            const key = `${entityOf(event).type}:${entityOf(event).key}`;
            return applyEvent(once.states.get(key), event, {
              priority: PRIORITIES[event.vendorId] as number,
            });
          });

          for (const outcome of again) {
            expect(outcome.changed).toBe(false);
            expect(outcome.divergences).toEqual([]);
          }
          expect(views(once)).toEqual(finalViews);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("folds several vendors' own keys for one product and site, mapped by the crosswalk, into one canonical item", () => {
    // vendorA says ROA/ABC-001 (identity); vendorB and vendorC have keys of their own, vendorC
    // counting in cases of 12.
    const ownKeys: Record<string, Record<string, [string, string]>> = {
      vendorA: { "ABC-001": ["ROA", "ABC-001"], "XYZ-002": ["ROA", "XYZ-002"] },
      vendorB: { "ABC-001": ["ROANOKE-DC", "B-ABC-001"], "XYZ-002": ["ROANOKE-DC", "B-XYZ-002"] },
      vendorC: { "ABC-001": ["C-ROA", "C-ABC-CS"], "XYZ-002": ["C-ROA", "C-XYZ"] },
    };
    const entry = (vendorId: string, kind: MatchKind, vendorKey: string, canonicalId: string, extra = {}) =>
      ({
        vendorId,
        kind,
        vendorKey,
        canonicalId,
        version: 1,
        updatedAt: "",
        updatedBy: "",
        history: [],
        ...extra,
      }) as CrosswalkEntry;
    const tables: Record<string, CrosswalkTable> = Object.fromEntries(
      Object.entries({
        vendorA: [],
        vendorB: [
          entry("vendorB", "location", "ROANOKE-DC", "ROA"),
          entry("vendorB", "product", "B-ABC-001", "ABC-001"),
          entry("vendorB", "product", "B-XYZ-002", "XYZ-002"),
        ],
        vendorC: [
          entry("vendorC", "location", "C-ROA", "ROA"),
          entry("vendorC", "product", "C-ABC-CS", "ABC-001", { unit: "EA", vendorUnit: "CS", factor: 12 }),
          entry("vendorC", "product", "C-XYZ", "XYZ-002"),
        ],
      }).map(([vendorId, entries]) => [
        vendorId,
        new Map(entries.map((e) => [entryKey(e.kind, e.vendorKey), e])),
      ]),
    );
    const vendorEvents = inventorySpecs.map((specs) =>
      specs.map((s) => {
        const keys = ownKeys[s.meta.vendorId] as Record<string, [string, string]>;
        const [warehouseId, sku] = keys[s.sku] as [string, string];
        const doc = s.snapshot
          ? inventoryUpdated(s.quantity, metaOf(s.meta), warehouseId, sku)
          : inventoryAdjusted(s.delta, metaOf(s.meta), warehouseId, sku);
        if (sku === "C-ABC-CS") doc.data = { ...doc.data, unit: "CS" };
        return doc;
      }),
    );
    // What Match and ApplyState do to each event.
    const canonical = (doc: NormalizedDocument) =>
      canonicalDocument(doc, matchEvent(doc, undefined, lookupIn(tables[doc.vendorId] as CrosswalkTable)));

    fc.assert(
      fc.property(withTwoArrivals(vendorEvents), ([events, first, second]) => {
        const [one, other] = [run(first.map(canonical)), run(second.map(canonical))];

        expect(views(one)).toEqual(views(other));
        expect(one.changes).toEqual(other.changes);
        const canonicalEvents = events.map(canonical);
        const groups = byEntity(canonicalEvents);
        // One entity per product at ROA, whoever said it and under whichever key.
        for (const key of one.states.keys())
          expect(["inventory:ROA#ABC-001", "inventory:ROA#XYZ-002"]).toContain(key);
        for (const [key, group] of groups) {
          const state = one.states.get(key) as InventoryState;
          expect(state.quantityOnHand).toBe(expectedQuantity(group));
          expect(state.version).toBe(group.length);
          const mapped = new Set(
            events
              .filter(
                (e) =>
                  e.vendorId !== "vendorA" &&
                  `${entityOf(canonical(e)).type}:${entityOf(canonical(e)).key}` === key,
              )
              .map((e) => {
                const { warehouseId, sku } = e.data as { warehouseId: string; sku: string };
                return JSON.stringify({ vendorId: e.vendorId, warehouseId, sku });
              }),
          );
          expect(new Set((state.vendorKeys ?? []).map((ref) => JSON.stringify(ref)))).toEqual(mapped);
        }
      }),
      { numRuns: 300 },
    );
  });
});
