import { describe, expect, it } from "vitest";
import type { NormalizedDocument } from "../src/normalized.ts";
import { compareFoldPositions, foldPositionOf, instantOf } from "../src/state/fold-position.ts";
import { applyInventoryEvent, type InventoryState, inventoryView } from "../src/state/inventory.ts";
import { applyOrderEvent, type OrderState, orderView } from "../src/state/orders.ts";
import { applyEvent, type EntityState, entityOf } from "../src/state/rules.ts";
import {
  type Divergence,
  divergenceId,
  type InventoryDocument,
  type OrderDocument,
} from "../src/state/types.ts";
import {
  applyWithLog,
  at,
  inventoryAdjusted,
  inventoryUpdated,
  orderCreated,
  orderStatusChanged,
} from "./state-events.ts";

const PRIORITIES: Record<string, number> = { vendorA: 10, vendorB: 20, vendorC: 10, vendorX: 30 };
const HOUR = 60 * 60_000;

/** Applies events in the given (arrival) order; returns the final state and every divergence. */
function applyInOrder<S extends EntityState>(events: NormalizedDocument[]) {
  let state: EntityState | undefined;
  const divergences: Divergence[] = [];
  const changed: boolean[] = [];
  for (const event of events) {
    const outcome = applyEvent(state, event, { priority: PRIORITIES[event.vendorId] ?? 100 });
    state = outcome.item;
    changed.push(outcome.changed);
    divergences.push(...outcome.divergences);
  }
  return { state: state as S, divergences, changed };
}

const kinds = (divergences: Divergence[]) => divergences.map((d) => d.kind);

describe("order key", () => {
  it("compares occurredAt as an instant, whatever the offset, keeping sub-millisecond digits", () => {
    const plusOne = instantOf("2026-01-30T21:15:12+01:00");
    const utc = instantOf("2026-01-30T20:15:12Z");
    const micro = instantOf("2026-01-30T20:15:12.000001Z");
    const westward = instantOf("2026-01-30T15:15:13-05:00");

    expect(plusOne).toBe("2026-01-30T20:15:12.000000000Z");
    expect(utc).toBe(plusOne);
    expect(micro > utc).toBe(true);
    expect(westward > micro).toBe(true);
  });

  it("puts the preferred of same-instant events last (it wins): lower priority, then smaller externalEventId, then smaller vendorId", () => {
    const time = "2026-01-30T20:00:00Z";
    const a = foldPositionOf({ occurredAt: time, externalEventId: "x-2", vendorId: "vendorA" }, 10);
    const b = foldPositionOf({ occurredAt: time, externalEventId: "x-1", vendorId: "vendorB" }, 20);
    const c = foldPositionOf({ occurredAt: time, externalEventId: "x-1", vendorId: "vendorC" }, 10);
    const d = foldPositionOf({ occurredAt: time, externalEventId: "x-1", vendorId: "vendorD" }, 10);
    const earlier = foldPositionOf(
      { occurredAt: "2026-01-30T19:59:59Z", externalEventId: "x-1", vendorId: "vendorA" },
      10,
    );

    const sorted = [c, b, earlier, a, d].sort(compareFoldPositions);

    expect(sorted).toEqual([earlier, b, a, d, c]);
  });
});

describe("inventory rules", () => {
  it("starts from 0: a snapshot sets the quantity and an adjustment adds to it", () => {
    const events = [
      inventoryAdjusted(-2, { occurredAt: at(0) }),
      inventoryUpdated(10, { occurredAt: at(1) }),
    ];
    const later = inventoryAdjusted(3, { occurredAt: at(2) });

    const { state } = applyInOrder<InventoryState>([...events, later]);

    expect(inventoryView(state)).toEqual({
      warehouseId: "ROA",
      sku: "ABC-001",
      quantityOnHand: 13,
      asOf: at(2),
      version: 3,
      lastIngestId: later.ingestId,
      sourceVendorId: "vendorA",
    });
  });

  it("places a late snapshot in fold order: adjustments before it no longer count, those after it do", () => {
    const before = inventoryAdjusted(5, { occurredAt: at(1) });
    const after = inventoryAdjusted(2, { occurredAt: at(3) });
    const lateSnapshot = inventoryUpdated(10, { occurredAt: at(2) });

    const { state, divergences } = applyInOrder<InventoryState>([before, after, lateSnapshot]);

    expect(state.quantityOnHand).toBe(12);
    expect(state.version).toBe(3);
    expect(state.lastIngestId).toBe(after.ingestId);
    expect(divergences).toEqual([]);
  });

  it("reports an event that arrives after a later snapshot as STALE_EVENT, keeps the quantity, and still counts it", () => {
    const snapshot = inventoryUpdated(10, { occurredAt: at(5) });
    const stale = inventoryAdjusted(-4, { occurredAt: at(1) });

    const { state, divergences, changed } = applyInOrder<InventoryState>([snapshot, stale]);

    expect(state.quantityOnHand).toBe(10);
    expect(state.version).toBe(2);
    expect(changed).toEqual([true, true]);
    expect(divergences).toHaveLength(1);
    expect(divergences[0]).toMatchObject({
      kind: "STALE_EVENT",
      ingestId: stale.ingestId,
      vendorId: "vendorA",
      externalEventId: stale.externalEventId,
      rawKey: stale.rawRef.key,
      said: stale.data,
      stateBefore: { quantityOnHand: 10, version: 1, lastIngestId: snapshot.ingestId },
      related: { ingestId: snapshot.ingestId, said: snapshot.data },
      entity: { type: "inventory", key: "ROA#ABC-001" },
    });
    expect(divergences[0]?.reason).toMatch(/^BEFORE_SNAPSHOT/);
  });

  it("gives the same quantity and version whichever of the two arrives first", () => {
    const snapshot = inventoryUpdated(10, { occurredAt: at(5) });
    const adjustment = inventoryAdjusted(-4, { occurredAt: at(1) });

    const one = applyInOrder<InventoryState>([snapshot, adjustment]).state;
    const other = applyInOrder<InventoryState>([adjustment, snapshot]).state;

    expect(inventoryView(one)).toEqual(inventoryView(other));
  });

  it("changes nothing and reports nothing for an ingestId it already holds", () => {
    const snapshot = inventoryUpdated(10, { occurredAt: at(5) });
    const stale = inventoryAdjusted(-4, { occurredAt: at(1) });
    const { state } = applyInOrder<InventoryState>([snapshot, stale]);

    const replays = [snapshot, stale].map((event) => applyInventoryEvent(state, event, { priority: 10 }));

    for (const replay of replays) {
      expect(replay).toEqual({ item: state, changed: false, divergences: [] });
    }
  });

  it("keeps a negative result and reports NEGATIVE_QUANTITY_RESULT", () => {
    const snapshot = inventoryUpdated(2, { occurredAt: at(0) });
    const adjustment = inventoryAdjusted(-5, { occurredAt: at(1) });

    const { state, divergences } = applyInOrder<InventoryState>([snapshot, adjustment]);

    expect(state.quantityOnHand).toBe(-3);
    expect(divergences).toEqual([
      expect.objectContaining({ kind: "NEGATIVE_QUANTITY_RESULT", ingestId: adjustment.ingestId }),
    ]);
  });

  it("reports CONFLICTING_SOURCE on the later of two vendors' differing snapshots within the window, whichever arrives last", () => {
    const fromA = inventoryUpdated(10, { vendorId: "vendorA", occurredAt: at(0) });
    const fromB = inventoryUpdated(12, { vendorId: "vendorB", occurredAt: at(4) });

    const one = applyInOrder<InventoryState>([fromA, fromB]);
    const other = applyInOrder<InventoryState>([fromB, fromA]);

    const conflicts = (divergences: Divergence[]) =>
      divergences.filter((d) => d.kind === "CONFLICTING_SOURCE");

    expect(one.divergences.map(divergenceId)).toEqual([
      `${fromB.ingestId}#CONFLICTING_SOURCE#${fromA.ingestId}`,
    ]);
    expect(conflicts(other.divergences).map(divergenceId)).toEqual(one.divergences.map(divergenceId));
    expect(conflicts(other.divergences)[0]).toMatchObject({
      vendorId: "vendorB",
      said: fromB.data,
      related: { vendorId: "vendorA", said: fromA.data },
    });
    expect(one.state.quantityOnHand).toBe(12);
    expect(other.state.quantityOnHand).toBe(12);
  });

  it("does not report CONFLICTING_SOURCE for agreeing vendors, one vendor's own snapshots, or snapshots beyond the window", () => {
    const cases = [
      [
        inventoryUpdated(10, { vendorId: "vendorA", occurredAt: at(0) }),
        inventoryUpdated(10, { vendorId: "vendorB", occurredAt: at(1) }),
      ],
      [
        inventoryUpdated(10, { vendorId: "vendorA", occurredAt: at(0) }),
        inventoryUpdated(8, { vendorId: "vendorA", occurredAt: at(1) }),
      ],
      [
        inventoryUpdated(10, { vendorId: "vendorA", occurredAt: at(0) }),
        inventoryUpdated(8, { vendorId: "vendorB", occurredAt: at(6) }),
      ],
    ];

    const reported = cases.map((events) => kinds(applyInOrder(events).divergences));

    expect(reported).toEqual([[], [], []]);
  });

  it("orders events with the same instant by vendor priority, the lower number last, across offsets", () => {
    const fromB = inventoryUpdated(7, { vendorId: "vendorB", occurredAt: "2026-01-30T21:00:00+01:00" });
    const fromA = inventoryUpdated(5, { vendorId: "vendorA", occurredAt: "2026-01-30T20:00:00Z" });

    const { state } = applyInOrder<InventoryState>([fromA, fromB]);

    expect(state.quantityOnHand).toBe(5);
    expect(state.sourceVendorId).toBe("vendorA");
  });

  it("folds events older than the watermark into the base, and an event sorting into the base in its place, from the log", () => {
    const apply = applyWithLog();
    const old = inventoryAdjusted(3, { occurredAt: at(0) });
    const newer = inventoryUpdated(10, { occurredAt: at(60) });
    const afterIt = inventoryAdjusted(4, { occurredAt: at(100) });
    const muchNewer = inventoryAdjusted(1, { occurredAt: at(26 * 60) });
    let state: InventoryState | undefined;
    for (const event of [old, newer, afterIt, muchNewer])
      state = apply(state, event, { priority: 10 }).item as InventoryState;
    const folded = state as InventoryState;
    const beforeSnapshot = inventoryAdjusted(-1, { occurredAt: at(30) });
    const afterSnapshot = inventoryAdjusted(-2, { occurredAt: at(90) });

    const stale = apply(folded, beforeSnapshot, { priority: 10 });
    const placed = apply(stale.item, afterSnapshot, { priority: 10 });
    const withoutLog = () => applyInventoryEvent(folded, afterSnapshot, { priority: 10 });

    expect(folded.fold.entries.map((entry) => entry.ingestId)).toEqual([muchNewer.ingestId]);
    expect(folded.fold.base.quantity).toBe(14);
    expect(folded.quantityOnHand).toBe(15);
    expect([stale.changed, stale.item.version, (stale.item as InventoryState).quantityOnHand]).toEqual([
      true,
      5,
      15,
    ]);
    expect(stale.divergences).toEqual([
      expect.objectContaining({ kind: "STALE_EVENT", ingestId: beforeSnapshot.ingestId }),
    ]);
    expect(stale.divergences[0]?.reason).toMatch(/^BEFORE_SNAPSHOT/);
    expect(stale.divergences[0]?.related?.ingestId).toBe(newer.ingestId);
    expect([placed.changed, placed.item.version, (placed.item as InventoryState).quantityOnHand]).toEqual([
      true,
      6,
      13,
    ]);
    expect((placed.item as InventoryState).fold.base.quantity).toBe(12);
    expect(placed.divergences).toEqual([]);
    expect(withoutLog).toThrow(/needs the log/);
  });

  it("changes nothing for a replay of an event the item folded away, found in the log", () => {
    const apply = applyWithLog();
    const old = inventoryAdjusted(3, { occurredAt: at(0) });
    const muchNewer = inventoryAdjusted(1, { occurredAt: at(26 * 60) });
    const state = apply(apply(undefined, old, { priority: 10 }).item, muchNewer, { priority: 10 }).item;

    const replay = apply(state, old, { priority: 10 });

    expect((state as InventoryState).fold.entries).toHaveLength(1);
    expect(replay).toEqual({ item: state, changed: false, divergences: [] });
  });

  it("still applies an event older than the watermark when nothing after it was forgotten, and folds it at once", () => {
    const recent = inventoryAdjusted(2, { occurredAt: at(48 * 60) });
    const old = inventoryUpdated(10, { occurredAt: at(0) });

    const { state, divergences } = applyInOrder<InventoryState>([recent, old]);

    expect(state.quantityOnHand).toBe(12);
    expect(state.version).toBe(2);
    expect(state.fold.entries.map((entry) => entry.ingestId)).toEqual([recent.ingestId]);
    expect(divergences).toEqual([]);
  });

  it("takes its watermark and window from the rule options", () => {
    const first = inventoryAdjusted(1, { occurredAt: at(0) });
    const second = inventoryAdjusted(1, { occurredAt: at(90) });
    const rules = { watermarkMs: HOUR, maxEntries: 500, conflictWindowMs: 0 };

    const s1 = applyInventoryEvent(undefined, first, { priority: 10, rules }).item;
    const s2 = applyInventoryEvent(s1, second, { priority: 10, rules }).item;

    expect(s2.fold.entries).toHaveLength(1);
    expect(s2.fold.base).toEqual({ quantity: 1, through: s1.fold.entries[0]?.key });
    expect(s2.quantityOnHand).toBe(2);
  });

  it("keeps at most maxEntries events per item, folding the oldest", () => {
    const rules = { maxEntries: 3 };
    let state: InventoryState | undefined;
    for (let minute = 0; minute < 5; minute++) {
      state = applyInventoryEvent(state, inventoryAdjusted(1, { occurredAt: at(minute) }), {
        priority: 10,
        rules,
      }).item;
    }

    expect(state?.fold.entries).toHaveLength(3);
    expect(state?.fold.base.quantity).toBe(2);
    expect(state?.quantityOnHand).toBe(5);
    expect(state?.version).toBe(5);
  });
});

describe("order rules", () => {
  const lines = [{ sku: "ABC-001", quantity: 2 }];

  it("gives CREATED, the lines and the warehouse from OrderCreated", () => {
    const created = orderCreated("o-1", lines, { occurredAt: at(0) });

    const { state } = applyInOrder<OrderState>([created]);

    expect(orderView(state)).toEqual({
      orderId: "o-1",
      status: "CREATED",
      lines,
      warehouseId: "ROA",
      asOf: at(0),
      version: 1,
      lastIngestId: created.ingestId,
      sourceVendorId: "vendorA",
    });
  });

  it("moves up the ranks and skips an equal status silently", () => {
    const events = [
      orderCreated("o-1", lines, { occurredAt: at(0) }),
      orderStatusChanged("o-1", "ACKED", { occurredAt: at(1) }),
      orderStatusChanged("o-1", "PICKED", { occurredAt: at(2) }),
      orderStatusChanged("o-1", "PICKED", { vendorId: "vendorB", occurredAt: at(3) }),
    ];

    const { state, divergences } = applyInOrder<OrderState>(events);

    expect(state.status).toBe("PICKED");
    expect(state.lastIngestId).toBe(events[2]?.ingestId);
    expect(state.version).toBe(4);
    expect(divergences).toEqual([]);
  });

  it("skips a lower status as STATUS_REGRESSION, and still counts the event", () => {
    const shipped = orderStatusChanged("o-1", "SHIPPED", { occurredAt: at(1) });
    const acked = orderStatusChanged("o-1", "ACKED", { occurredAt: at(2) });

    const { state, divergences } = applyInOrder<OrderState>([shipped, acked]);

    expect(state.status).toBe("SHIPPED");
    expect(state.version).toBe(2);
    expect(divergences).toEqual([
      expect.objectContaining({ kind: "STATUS_REGRESSION", ingestId: acked.ingestId, said: acked.data }),
    ]);
  });

  it("applies the statuses in occurredAt order, so a late earlier status is no regression", () => {
    const shipped = orderStatusChanged("o-1", "SHIPPED", { occurredAt: at(3) });
    const picked = orderStatusChanged("o-1", "PICKED", { occurredAt: at(2) });

    const { state, divergences } = applyInOrder<OrderState>([shipped, picked]);

    expect(state.status).toBe("SHIPPED");
    expect(divergences).toEqual([]);
  });

  it("reports a stored status that a late event turns into a regression, on that stored event", () => {
    const picked = orderStatusChanged("o-1", "PICKED", { occurredAt: at(3) });
    const lateShipped = orderStatusChanged("o-1", "SHIPPED", { occurredAt: at(2) });

    const { state, divergences } = applyInOrder<OrderState>([picked, lateShipped]);

    expect(state.status).toBe("SHIPPED");
    expect(divergences).toEqual([
      expect.objectContaining({ kind: "STATUS_REGRESSION", ingestId: picked.ingestId }),
    ]);
    expect(divergences[0]?.rawKey).toBe(picked.rawRef.key);
  });

  it("ignores any status but CANCELED once DELIVERED: POST_DELIVER_UPDATE_IGNORED", () => {
    const delivered = orderStatusChanged("o-1", "DELIVERED", { occurredAt: at(1) });
    const shipped = orderStatusChanged("o-1", "SHIPPED", { occurredAt: at(2) });
    const deliveredAgain = orderStatusChanged("o-1", "DELIVERED", { vendorId: "vendorB", occurredAt: at(3) });

    const { state, divergences } = applyInOrder<OrderState>([delivered, shipped, deliveredAgain]);

    expect(state.status).toBe("DELIVERED");
    expect(kinds(divergences)).toEqual(["POST_DELIVER_UPDATE_IGNORED"]);
  });

  it("applies CANCELED from any status", () => {
    const events = [
      orderCreated("o-1", lines, { occurredAt: at(0) }),
      orderStatusChanged("o-1", "SHIPPED", { occurredAt: at(1) }),
      orderStatusChanged("o-1", "CANCELED", { occurredAt: at(2) }),
    ];

    const { state, divergences } = applyInOrder<OrderState>(events);

    expect(state.status).toBe("CANCELED");
    expect(divergences).toEqual([]);
  });

  it("reports DELIVERED and CANCELED on one order as CONFLICTING_TERMINAL_STATES on the later one, and ends CANCELED either way", () => {
    const delivered = orderStatusChanged("o-1", "DELIVERED", { occurredAt: at(1) });
    const canceled = orderStatusChanged("o-1", "CANCELED", { vendorId: "vendorB", occurredAt: at(2) });
    const deliveredLate = orderStatusChanged("o-2", "DELIVERED", { occurredAt: at(2) });
    const canceledEarly = orderStatusChanged("o-2", "CANCELED", { vendorId: "vendorB", occurredAt: at(1) });

    const cancelAfter = applyInOrder<OrderState>([delivered, canceled]);
    const deliverAfter = applyInOrder<OrderState>([deliveredLate, canceledEarly]);

    expect(cancelAfter.state.status).toBe("CANCELED");
    expect(cancelAfter.divergences.map(divergenceId)).toEqual([
      `${canceled.ingestId}#CONFLICTING_TERMINAL_STATES#${delivered.ingestId}`,
    ]);
    expect(deliverAfter.state.status).toBe("CANCELED");
    expect(deliverAfter.divergences.map(divergenceId)).toEqual([
      `${deliveredLate.ingestId}#CONFLICTING_TERMINAL_STATES#${canceledEarly.ingestId}`,
    ]);
  });

  it("reports a status after CANCELED as STATUS_REGRESSION", () => {
    const canceled = orderStatusChanged("o-1", "CANCELED", { occurredAt: at(1) });
    const shipped = orderStatusChanged("o-1", "SHIPPED", { occurredAt: at(2) });

    const { state, divergences } = applyInOrder<OrderState>([canceled, shipped]);

    expect(state.status).toBe("CANCELED");
    expect(kinds(divergences)).toEqual(["STATUS_REGRESSION"]);
  });

  it("has no lines until OrderCreated arrives, which then gives them without lowering the status", () => {
    const acked = orderStatusChanged("o-1", "ACKED", { occurredAt: at(1) });
    const created = orderCreated("o-1", lines, { occurredAt: at(2) }, undefined);

    const before = applyInOrder<OrderState>([acked]).state;
    const after = applyInOrder<OrderState>([acked, created]);

    expect(orderView(before)).toMatchObject({ status: "ACKED", lines: [] });
    expect(orderView(before)).not.toHaveProperty("warehouseId");
    expect(orderView(after.state)).toMatchObject({
      status: "ACKED",
      lines,
      version: 2,
      lastIngestId: created.ingestId,
    });
    expect(after.divergences).toEqual([]);
  });

  it("changes nothing and reports nothing for an ingestId it already holds", () => {
    const shipped = orderStatusChanged("o-1", "SHIPPED", { occurredAt: at(1) });
    const acked = orderStatusChanged("o-1", "ACKED", { occurredAt: at(2) });
    const { state } = applyInOrder<OrderState>([shipped, acked]);

    const replay = applyOrderEvent(state, acked as OrderDocument, { priority: 10 });

    expect(replay).toEqual({ item: state, changed: false, divergences: [] });
  });
});

describe("events at the same occurredAt", () => {
  const both = <T>(one: T, other: T) => [
    [one, other],
    [other, one],
  ];

  it("gives an inventory snapshot tie to the preferred vendor (the lower priority number), in both arrival orders", () => {
    const fromA = inventoryUpdated(10, { vendorId: "vendorA", occurredAt: "2026-01-30T21:00:00+01:00" });
    const fromX = inventoryUpdated(30, { vendorId: "vendorX", occurredAt: "2026-01-30T20:00:00Z" });

    const results = both(fromA, fromX).map((events) => applyInOrder<InventoryState>(events).state);

    for (const state of results) {
      expect(state).toMatchObject({
        quantityOnHand: 10,
        sourceVendorId: "vendorA",
        lastIngestId: fromA.ingestId,
        version: 2,
      });
    }
  });

  it("gives an inventory snapshot tie at equal priority to the smaller externalEventId, in both arrival orders", () => {
    const sameVendor = [
      inventoryUpdated(1, { vendorId: "vendorA", externalEventId: "inv-1", occurredAt: at(0) }),
      inventoryUpdated(2, { vendorId: "vendorA", externalEventId: "inv-2", occurredAt: at(0) }),
    ] as const;
    // vendorC has vendorA's priority: the externalEventId decides before the vendorId does.
    const twoVendors = [
      inventoryUpdated(1, { vendorId: "vendorC", externalEventId: "inv-1", occurredAt: at(0) }),
      inventoryUpdated(2, { vendorId: "vendorA", externalEventId: "inv-2", occurredAt: at(0) }),
    ] as const;

    for (const [smaller, larger] of [sameVendor, twoVendors]) {
      for (const events of both(smaller, larger)) {
        const { state } = applyInOrder<InventoryState>(events);
        expect(state.quantityOnHand).toBe(1);
        expect(state.lastIngestId).toBe(smaller.ingestId);
      }
    }
  });

  it("puts an item stored in the earlier tie order (lower priority first) in the current order at its next event", () => {
    const fromA = inventoryUpdated(10, { vendorId: "vendorA", occurredAt: at(0) });
    const fromX = inventoryUpdated(30, { vendorId: "vendorX", occurredAt: at(0) });
    const { state } = applyInOrder<InventoryState>([fromA, fromX]);
    const stored: InventoryState = {
      ...state,
      fold: { ...state.fold, entries: [...state.fold.entries].reverse() },
    };

    const next = applyInventoryEvent(stored, inventoryAdjusted(1, { occurredAt: at(1) }), { priority: 10 });

    expect(next.item.fold.entries.map((entry) => entry.ingestId).slice(0, 2)).toEqual([
      fromX.ingestId,
      fromA.ingestId,
    ]);
    expect(next.item.quantityOnHand).toBe(11);
  });

  it("gives an order's lines to the preferred vendor's OrderCreated, then to the smaller externalEventId", () => {
    const one = [{ sku: "ABC-001", quantity: 1 }];
    const three = [{ sku: "ABC-001", quantity: 3 }];
    const byPriority = [
      orderCreated("o-1", one, { vendorId: "vendorA", externalEventId: "o-9", occurredAt: at(0) }),
      orderCreated("o-1", three, { vendorId: "vendorX", externalEventId: "o-1", occurredAt: at(0) }),
    ] as const;
    const byExternalEventId = [
      orderCreated("o-1", one, { vendorId: "vendorA", externalEventId: "o-1", occurredAt: at(0) }),
      orderCreated("o-1", three, { vendorId: "vendorA", externalEventId: "o-2", occurredAt: at(0) }),
    ] as const;

    for (const [winner, loser] of [byPriority, byExternalEventId]) {
      for (const events of both(winner, loser)) {
        const { state } = applyInOrder<OrderState>(events);
        expect(state).toMatchObject({ lines: one, lastIngestId: winner.ingestId });
      }
    }
  });

  it("applies the preferred vendor's status last, then the smaller externalEventId's: its lower status is the regression", () => {
    const byPriority = [
      orderStatusChanged("o-1", "PICKED", { vendorId: "vendorA", externalEventId: "s-9", occurredAt: at(0) }),
      orderStatusChanged("o-1", "SHIPPED", {
        vendorId: "vendorX",
        externalEventId: "s-1",
        occurredAt: at(0),
      }),
    ] as const;
    const byExternalEventId = [
      orderStatusChanged("o-1", "PICKED", { vendorId: "vendorA", externalEventId: "s-1", occurredAt: at(0) }),
      orderStatusChanged("o-1", "SHIPPED", {
        vendorId: "vendorA",
        externalEventId: "s-2",
        occurredAt: at(0),
      }),
    ] as const;

    for (const [last, first] of [byPriority, byExternalEventId]) {
      for (const events of both(last, first)) {
        const { state, divergences } = applyInOrder<OrderState>(events);
        expect(state).toMatchObject({ status: "SHIPPED", lastIngestId: first.ingestId });
        expect(divergences.map(divergenceId)).toEqual([`${last.ingestId}#STATUS_REGRESSION`]);
      }
    }
  });

  it("makes the preferred vendor's CANCELED the later terminal state against an equal-time DELIVERED", () => {
    const canceled = orderStatusChanged("o-1", "CANCELED", { vendorId: "vendorA", occurredAt: at(0) });
    const delivered = orderStatusChanged("o-1", "DELIVERED", { vendorId: "vendorX", occurredAt: at(0) });

    for (const events of both(canceled, delivered)) {
      const { state, divergences } = applyInOrder<OrderState>(events);
      expect(state).toMatchObject({ status: "CANCELED", lastIngestId: canceled.ingestId });
      expect(divergences.map(divergenceId)).toEqual([
        `${canceled.ingestId}#CONFLICTING_TERMINAL_STATES#${delivered.ingestId}`,
      ]);
    }
  });
});

describe("entityOf", () => {
  it("names inventory by <warehouseId>#<sku> and orders by orderId", () => {
    const inventory = inventoryAdjusted(1, { occurredAt: at(0) }, "ROA", "ABC-001") as InventoryDocument;
    const order = orderStatusChanged("o-9", "ACKED", { occurredAt: at(0) });

    expect([entityOf(inventory), entityOf(order)]).toEqual([
      { type: "inventory", key: "ROA#ABC-001" },
      { type: "order", key: "o-9" },
    ]);
  });
});
