import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Entities } from "../src/entities/index.ts";
import type { NormalizedDocument } from "../src/normalized.ts";
import { applyStateChange } from "../src/state/apply.ts";
import { readLoggedEntry } from "../src/state/feed.ts";
import { instantOf } from "../src/state/fold-position.ts";
import {
  explainInventory,
  explainInventoryWithFeed,
  explainOrder,
  getInventoryStateAsOf,
  getOrderStateAsOf,
} from "../src/state/history.ts";
import { type LoggedEvent, readLog, writeLoggedEvent } from "../src/state/log.ts";
import { getInventoryState } from "../src/state/read.ts";
import { readState } from "../src/state/store.ts";
import { at, inventoryAdjusted, inventoryUpdated, orderCreated, orderStatusChanged } from "./state-events.ts";
import { startTestStores } from "./stores.ts";

const PRIORITIES: Record<string, number> = { vendorA: 10, vendorB: 20 };
const options = (event: NormalizedDocument) => ({
  vendorPriority: PRIORITIES[event.vendorId] ?? 100,
  mappingVersion: "1",
});
const DAY = 24 * 60;

let stores: Awaited<ReturnType<typeof startTestStores>>;
let entities: Entities;

beforeAll(async () => {
  stores = await startTestStores("state-history-test");
  entities = stores.entities;
});

afterAll(() => stores?.close());

let warehouseCount = 0;
const freshWarehouse = () => `H${++warehouseCount}`;

async function applyAll(events: NormalizedDocument[]) {
  const results = [];
  for (const event of events) results.push(await applyStateChange(entities, event, options(event)));
  return results;
}

/** A snapshot, adjustments over three days, and one adjustment dated day 2. */
function threeDays(warehouseId: string) {
  const history = [
    inventoryUpdated(100, { occurredAt: at(0) }, warehouseId),
    inventoryAdjusted(-5, { occurredAt: at(DAY / 2) }, warehouseId),
    inventoryAdjusted(7, { occurredAt: at(DAY + 60) }, warehouseId),
    inventoryAdjusted(-3, { occurredAt: at(2 * DAY + 600) }, warehouseId),
    inventoryAdjusted(2, { occurredAt: at(3 * DAY) }, warehouseId),
  ];
  const dayTwo = inventoryAdjusted(-4, { vendorId: "vendorB", occurredAt: at(DAY + 30) }, warehouseId);
  return { history, dayTwo };
}

describe("late events, folded in place", () => {
  it("gives an adjustment that arrives days late, after the latest snapshot, the same state as in occurredAt order", async () => {
    const [late, inOrder] = [freshWarehouse(), freshWarehouse()];
    const arrivingLate = threeDays(late);
    const sorted = threeDays(inOrder);

    const lateResults = await applyAll([...arrivingLate.history, arrivingLate.dayTwo]);
    await applyAll([...sorted.history.slice(0, 2), sorted.dayTwo, ...sorted.history.slice(2)]);

    const [one, other] = [
      await getInventoryState(entities, late, "ABC-001"),
      await getInventoryState(entities, inOrder, "ABC-001"),
    ];
    expect(lateResults.at(-1)).toMatchObject({ outcome: "APPLIED", version: 6, divergences: [] });
    expect(one).toMatchObject({ quantityOnHand: 100 - 5 + 7 - 4 - 3 + 2, version: 6 });
    expect({ ...one, warehouseId: "", lastIngestId: "" }).toEqual({
      ...other,
      warehouseId: "",
      lastIngestId: "",
    });
  });
});

describe("the event log", () => {
  it("holds one item per event applied, with its fold position, mapping version, raw key, data and feed position, a replay adding none", async () => {
    const warehouseId = freshWarehouse();
    const { history, dayTwo } = threeDays(warehouseId);
    await applyAll([...history, dayTwo]);
    await applyAll([dayTwo, history[0] as NormalizedDocument]);

    const log = await readLog(entities, { type: "inventory", key: `${warehouseId}#ABC-001` });

    expect(log.map((event) => event.ingestId)).toEqual(
      [...history.slice(0, 2), dayTwo, ...history.slice(2)].map((event) => event.ingestId),
    );
    expect(log.map((event) => event.version)).toEqual([1, 2, 6, 3, 4, 5]);
    expect(log[2]).toEqual({
      entity: { type: "inventory", key: `${warehouseId}#ABC-001` },
      key: {
        at: instantOf(dayTwo.occurredAt),
        priority: 20,
        externalEventId: dayTwo.externalEventId,
        vendorId: "vendorB",
      },
      ingestId: dayTwo.ingestId,
      occurredAt: dayTwo.occurredAt,
      eventType: "InventoryAdjusted",
      data: dayTwo.data,
      mappingVersion: "1",
      rawKey: dayTwo.rawRef.key,
      version: 6,
      appliedAt: expect.any(String),
      feedPosition: expect.stringMatching(/^\d{16}$/),
    });
    // The position its change is published at: the feed entry there is this event's.
    expect(await readLoggedEntry(entities, log[2] as LoggedEvent)).toMatchObject({
      kind: "change",
      position: log[2]?.feedPosition,
      ingestId: dayTwo.ingestId,
      version: 6,
    });
  });

  it("reads from a position onward, and through an instant", async () => {
    const warehouseId = freshWarehouse();
    const { history } = threeDays(warehouseId);
    await applyAll(history);
    const entity = { type: "inventory" as const, key: `${warehouseId}#ABC-001` };

    const from = await readLog(entities, entity, { from: instantOf(at(DAY)) });
    const through = await readLog(entities, entity, { through: instantOf(at(DAY + 60)) });

    expect(from.map((event) => event.occurredAt)).toEqual([at(DAY + 60), at(2 * DAY + 600), at(3 * DAY)]);
    expect(through.map((event) => event.occurredAt)).toEqual([at(0), at(DAY / 2), at(DAY + 60)]);
  });
});

describe("state as of a time", () => {
  it("folds the events with occurredAt at or before asOf, whatever their arrival, and lists them", async () => {
    const warehouseId = freshWarehouse();
    const { history, dayTwo } = threeDays(warehouseId);
    await applyAll([...history, dayTwo]);

    const dayOne = await getInventoryStateAsOf(entities, warehouseId, "ABC-001", at(DAY + 45));
    const offset = await getInventoryStateAsOf(entities, warehouseId, "ABC-001", "2026-01-31T21:45:00+01:00");
    const now = await getInventoryStateAsOf(entities, warehouseId, "ABC-001", at(10 * DAY));

    expect(dayOne).toEqual({
      warehouseId,
      sku: "ABC-001",
      quantityOnHand: 100 - 5 - 4,
      asOf: dayTwo.occurredAt,
      version: 3,
      lastIngestId: dayTwo.ingestId,
      sourceVendorId: "vendorB",
      ingestIds: [history[0]?.ingestId, history[1]?.ingestId, dayTwo.ingestId],
    });
    expect(offset).toEqual(dayOne);
    const { ingestIds, ...current } = now;
    expect(current).toEqual(await getInventoryState(entities, warehouseId, "ABC-001"));
    expect(ingestIds).toHaveLength(6);
  });

  it("answers an order as of a time with the order rules", async () => {
    const orderId = `${freshWarehouse()}-o1`;
    const created = orderCreated(orderId, [{ sku: "ABC-001", quantity: 2 }], { occurredAt: at(0) });
    const shipped = orderStatusChanged(orderId, "SHIPPED", { occurredAt: at(DAY) });
    const acked = orderStatusChanged(orderId, "ACKED", { occurredAt: at(60) });
    await applyAll([created, shipped, acked]);

    const before = await getOrderStateAsOf(entities, orderId, at(120));

    expect(before).toMatchObject({ status: "ACKED", version: 2, lastIngestId: acked.ingestId });
    expect(before.ingestIds).toEqual([created.ingestId, acked.ingestId]);
    expect((await getOrderStateAsOf(entities, orderId, at(2 * DAY))).status).toBe("SHIPPED");
  });

  it("answers NOT_FOUND before the entity's first event, and BAD_REQUEST naming asOf for a date-time it cannot read", async () => {
    const warehouseId = freshWarehouse();
    await applyAll([inventoryUpdated(5, { occurredAt: at(60) }, warehouseId)]);

    const early = () => getInventoryStateAsOf(entities, warehouseId, "ABC-001", at(0));
    const never = () => getOrderStateAsOf(entities, "no-such-order", at(0));

    await expect(early()).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(never()).rejects.toMatchObject({ code: "NOT_FOUND" });
    for (const bad of [
      "yesterday",
      "2026-01-30",
      "2026-01-30T20:00:00",
      "2026-02-30T00:00:00Z",
      "2026-01-30T24:00:00Z",
      `${at(0)}${" ".repeat(64)}`,
      "",
    ]) {
      await expect(getInventoryStateAsOf(entities, warehouseId, "ABC-001", bad)).rejects.toMatchObject({
        code: "BAD_REQUEST",
        details: [{ path: "asOf" }],
      });
    }
  });

  it("includes a change whose log item a crash left unwritten, from the state item", async () => {
    const warehouseId = freshWarehouse();
    const first = inventoryUpdated(5, { occurredAt: at(0) }, warehouseId);
    const second = inventoryAdjusted(2, { occurredAt: at(1) }, warehouseId);
    const [applied] = await applyAll([first]);
    const crashing = {
      ...entities,
      entityEvents: new Proxy(entities.entityEvents, {
        get(target, property, receiver) {
          if (property !== "put") return Reflect.get(target, property, receiver);
          const died = {
            go: async () => {
              throw new Error("process died");
            },
          };
          return () => ({ ...died, where: () => died });
        },
      }),
    };
    await expect(applyStateChange(crashing, second, options(second))).rejects.toThrow("process died");

    const asOf = await getInventoryStateAsOf(entities, warehouseId, "ABC-001", at(5));
    const explained = await explainInventory(entities, warehouseId, "ABC-001");

    expect(asOf).toMatchObject({
      quantityOnHand: 7,
      version: 2,
      ingestIds: [first.ingestId, second.ingestId],
    });
    expect(explained.steps.map((step) => step.running)).toEqual([5, 7]);
    expect(explained.consistent).toBe(true);
    // Where each change is in the feed: the logged one's from its log item, the pending one's the
    // position its state item reserves. The explain answer itself does not carry them.
    const { explanation, feedPositions } = await explainInventoryWithFeed(entities, warehouseId, "ABC-001");
    const stored = await readState(entities, { type: "inventory", warehouseId, sku: "ABC-001" });
    expect(explanation).toEqual(explained);
    expect(stored?.change.ingestId).toBe(second.ingestId);
    expect(Object.fromEntries(feedPositions)).toEqual({
      [first.ingestId]: applied?.cursor,
      [second.ingestId]: stored?.changePosition,
    });
    expect(JSON.stringify(explained)).not.toContain("feedPosition");
  });
});

describe("explain", () => {
  it("gives an inventory's chain in fold order, each event's effect and running value, ending at the stored state, with every divergence", async () => {
    const warehouseId = freshWarehouse();
    const snapshot = inventoryUpdated(10, { occurredAt: at(5) }, warehouseId);
    const other = inventoryUpdated(12, { vendorId: "vendorB", occurredAt: at(6) }, warehouseId);
    const beforeIt = inventoryAdjusted(-3, { occurredAt: at(1) }, warehouseId);
    const negative = inventoryAdjusted(-20, { occurredAt: at(7) }, warehouseId);
    await applyAll([snapshot, other, beforeIt, negative]);

    const explained = await explainInventory(entities, warehouseId, "ABC-001");
    const { data: divergences } = await entities.divergences.query
      .byEntity({ entityType: "inventory", entityKey: `${warehouseId}#ABC-001` })
      .go();

    expect(explained.steps.map((step) => [step.ingestId, step.effect, step.value, step.running])).toEqual([
      [beforeIt.ingestId, "add", -3, -3],
      [snapshot.ingestId, "set", 10, 10],
      [other.ingestId, "set", 12, 12],
      [negative.ingestId, "add", -20, -8],
    ]);
    expect(explained.steps.at(-1)?.running).toBe(explained.state.quantityOnHand);
    expect(explained.state).toEqual(await getInventoryState(entities, warehouseId, "ABC-001"));
    expect(explained.consistent).toBe(true);
    expect(explained.steps[0]).toMatchObject({
      vendorId: "vendorA",
      externalEventId: beforeIt.externalEventId,
      occurredAt: beforeIt.occurredAt,
      mappingVersion: "1",
      rawKey: beforeIt.rawRef.key,
      version: 3,
    });
    const listed = explained.steps.flatMap((step) => step.divergences.map((d) => d.divergenceId));
    expect(new Set([...listed, ...explained.otherDivergences.map((d) => d.divergenceId)])).toEqual(
      new Set(divergences.map((d) => d.divergenceId)),
    );
    expect(explained.steps.map((step) => step.divergences.map((d) => d.kind))).toEqual([
      ["STALE_EVENT"],
      [],
      ["CONFLICTING_SOURCE"],
      ["NEGATIVE_QUANTITY_RESULT"],
    ]);
  });

  it("gives an order's chain, the statuses the rules skip marked skipped with their divergence", async () => {
    const orderId = `${freshWarehouse()}-o2`;
    const created = orderCreated(orderId, [{ sku: "ABC-001", quantity: 2 }], { occurredAt: at(0) });
    const delivered = orderStatusChanged(orderId, "DELIVERED", { occurredAt: at(10) });
    const picked = orderStatusChanged(orderId, "PICKED", { occurredAt: at(20) });
    const canceled = orderStatusChanged(orderId, "CANCELED", { occurredAt: at(30) });
    await applyAll([picked, created, canceled, delivered]);

    const explained = await explainOrder(entities, orderId);

    expect(
      explained.steps.map((step) => [
        step.eventType,
        step.effect,
        step.running,
        step.divergences.map((d) => d.kind),
      ]),
    ).toEqual([
      ["OrderCreated", "lines", "CREATED", []],
      ["OrderStatusChanged", "status", "DELIVERED", []],
      ["OrderStatusChanged", "skipped", "DELIVERED", ["POST_DELIVER_UPDATE_IGNORED"]],
      ["OrderStatusChanged", "status", "CANCELED", ["CONFLICTING_TERMINAL_STATES"]],
    ]);
    expect(explained.steps.at(-1)?.running).toBe(explained.state.status);
    expect(explained.state.version).toBe(4);
    expect(explained.consistent).toBe(true);
  });

  it("answers NOT_FOUND for an entity it never saw", async () => {
    await expect(explainInventory(entities, freshWarehouse(), "NOPE")).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(explainOrder(entities, "no-such-order")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("reading the log page by page", () => {
  it("reads past a page of items, and stops once the caller has enough", async () => {
    const entity = { type: "inventory" as const, key: `${freshWarehouse()}#ABC-001` };
    const events = Array.from({ length: 450 }, (_, n) =>
      inventoryAdjusted(1, { occurredAt: at(n) }, entity.key.split("#")[0]),
    );
    await Promise.all(
      events.map((event, n) =>
        writeLoggedEvent(entities, {
          entity,
          key: {
            at: instantOf(event.occurredAt),
            priority: 10,
            externalEventId: event.externalEventId,
            vendorId: "vendorA",
          },
          ingestId: event.ingestId,
          occurredAt: event.occurredAt,
          eventType: event.eventType,
          data: event.data,
          mappingVersion: "1",
          rawKey: event.rawRef.key,
          version: n + 1,
          appliedAt: at(0),
        }),
      ),
    );
    let pages = 0;

    const all = await readLog(entities, entity);
    const some = await readLog(entities, entity, { from: instantOf(at(10)) }, () => ++pages >= 1);

    expect(all.map((event) => event.ingestId)).toEqual(events.map((event) => event.ingestId));
    expect(some.length).toBeLessThan(440);
    expect(some[0]?.occurredAt).toBe(at(10));
    expect(pages).toBe(1);
  });
});
