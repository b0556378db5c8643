import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { divergencesOfEvent, type Entities } from "../src/entities/index.ts";
import { WRITE_CONTENTION_ERROR } from "../src/errors.ts";
import type { NormalizedDocument } from "../src/normalized.ts";
import { applyStateChange, recordIdempotencyConflict } from "../src/state/apply.ts";
import { takePosition } from "../src/state/feed.ts";
import { compareFoldPositions, foldPositionOf } from "../src/state/fold-position.ts";
import { type InventoryState, inventoryView } from "../src/state/inventory.ts";
import { type FeedItem, getInventoryState, getOrderState, readFeed } from "../src/state/read.ts";
import { applyEvent, type EntityState } from "../src/state/rules.ts";
import type { StateEntities } from "../src/state/store.ts";
import { CONTENTION_RETRY } from "../src/workflow.ts";
import { at, inventoryAdjusted, inventoryUpdated, orderCreated, orderStatusChanged } from "./state-events.ts";
import { startTestStores } from "./stores.ts";

const PRIORITIES: Record<string, number> = { vendorA: 10, vendorB: 20, vendorC: 10 };
const options = (event: NormalizedDocument) => ({
  vendorPriority: PRIORITIES[event.vendorId] ?? 100,
  mappingVersion: "1",
});

let stores: Awaited<ReturnType<typeof startTestStores>>;
let entities: Entities;

beforeAll(async () => {
  stores = await startTestStores("state-test");
  entities = stores.entities;
});

afterAll(() => stores?.close());

let warehouseCount = 0;
/** A warehouse no other test uses, so tests sharing the tables do not see each other's state. */
const freshWarehouse = () => `W${++warehouseCount}`;

/** The feed's cursor now: tests read only what they add after it. */
async function feedEnd(): Promise<string> {
  let page = await readFeed(entities, { limit: 500, gapGraceMs: 0 });
  while (page.items.length > 0)
    page = await readFeed(entities, { after: page.next, limit: 500, gapGraceMs: 0 });
  return page.next;
}

/** Every feed item after a cursor, paging `limit` at a time. */
async function feedAfter(
  after: string,
  limit = 500,
): Promise<{ items: FeedItem[]; next: string; pages: number }> {
  const items: FeedItem[] = [];
  let cursor = after;
  let pages = 0;
  for (;;) {
    const page = await readFeed(entities, { after: cursor, limit, gapGraceMs: 0 });
    pages++;
    if (page.items.length === 0) return { items, next: page.next, pages };
    items.push(...page.items);
    cursor = page.next;
  }
}

/** The pure fold of the events in the order given: the expected state. */
function fold(events: NormalizedDocument[]): EntityState {
  let state: EntityState | undefined;
  for (const event of events)
    state = applyEvent(state, event, { priority: options(event).vendorPriority }).item;
  return state as EntityState;
}

/** Entities whose outbox entry writes fail once, as if the process died right before them. */
function crashingBeforeFeedEntry(): { entities: StateEntities; crashed: () => boolean } {
  let crashed = false;
  const outboxEntries = new Proxy(entities.outboxEntries, {
    get(target, property, receiver) {
      if (property !== "create") return Reflect.get(target, property, receiver);
      return (item: { kind: string }) => {
        if (item.kind === "change" && !crashed) {
          crashed = true;
          return {
            go: async () => {
              throw new Error("process died");
            },
          };
        }
        return target.create(item as Parameters<typeof target.create>[0]);
      };
    },
  });
  return { entities: { ...entities, outboxEntries }, crashed: () => crashed };
}

const conditionFailed = () =>
  Object.assign(new Error("The conditional request failed"), { name: "ConditionalCheckFailedException" });

describe("applyStateChange and the state reads", () => {
  it("applies events and answers with the contract's inventory and order shapes", async () => {
    const warehouseId = freshWarehouse();
    const snapshot = inventoryUpdated(10, { occurredAt: at(0) }, warehouseId);
    const adjustment = inventoryAdjusted(-3, { vendorId: "vendorB", occurredAt: at(1) }, warehouseId);
    const created = orderCreated(
      `${warehouseId}-o1`,
      [{ sku: "ABC-001", quantity: 2 }],
      { occurredAt: at(0) },
      warehouseId,
    );
    const shipped = orderStatusChanged(`${warehouseId}-o1`, "SHIPPED", { occurredAt: at(2) });

    for (const event of [snapshot, adjustment, created, shipped])
      await applyStateChange(entities, event, options(event));

    expect(await getInventoryState(entities, warehouseId, "ABC-001")).toEqual({
      warehouseId,
      sku: "ABC-001",
      quantityOnHand: 7,
      asOf: at(1),
      version: 2,
      lastIngestId: adjustment.ingestId,
      sourceVendorId: "vendorB",
    });
    expect(await getOrderState(entities, `${warehouseId}-o1`)).toEqual({
      orderId: `${warehouseId}-o1`,
      status: "SHIPPED",
      lines: [{ sku: "ABC-001", quantity: 2 }],
      warehouseId,
      asOf: at(2),
      version: 2,
      lastIngestId: shipped.ingestId,
      sourceVendorId: "vendorA",
    });
  });

  it("answers NOT_FOUND for an entity it never saw", async () => {
    const inventory = getInventoryState(entities, freshWarehouse(), "NOPE");
    const order = getOrderState(entities, "no-such-order");

    await expect(inventory).rejects.toMatchObject({ name: "NotFoundError", code: "NOT_FOUND" });
    await expect(order).rejects.toMatchObject({ name: "NotFoundError", code: "NOT_FOUND" });
  });

  it("treats sku and warehouse case as significant", async () => {
    const warehouseId = freshWarehouse();
    const upper = inventoryUpdated(5, { occurredAt: at(0) }, warehouseId, "ABC-001");
    const lower = inventoryUpdated(9, { occurredAt: at(0) }, warehouseId, "abc-001");

    await applyStateChange(entities, upper, options(upper));
    await applyStateChange(entities, lower, options(lower));

    expect((await getInventoryState(entities, warehouseId, "ABC-001")).quantityOnHand).toBe(5);
    expect((await getInventoryState(entities, warehouseId, "abc-001")).quantityOnHand).toBe(9);
  });

  it("adds no version, no feed item and no divergence when events are replayed", async () => {
    const warehouseId = freshWarehouse();
    const snapshot = inventoryUpdated(10, { occurredAt: at(5) }, warehouseId);
    const stale = inventoryAdjusted(-2, { occurredAt: at(1) }, warehouseId);
    const start = await feedEnd();
    const first = [];
    for (const event of [snapshot, stale])
      first.push(await applyStateChange(entities, event, options(event)));
    const feedBefore = await feedAfter(start);
    const divergencesBefore = (
      await entities.divergences.query
        .byEntity({ entityType: "inventory", entityKey: `${warehouseId}#ABC-001` })
        .go()
    ).data;

    const replays = [];
    for (const event of [stale, snapshot, stale])
      replays.push(await applyStateChange(entities, event, options(event)));

    expect(first.map((r) => [r.outcome, r.version, r.divergences.map((d) => d.kind)])).toEqual([
      ["APPLIED", 1, []],
      ["APPLIED", 2, ["STALE_EVENT"]],
    ]);
    expect(replays.map((r) => [r.outcome, r.version, r.divergences])).toEqual([
      ["ALREADY_APPLIED", 2, []],
      ["ALREADY_APPLIED", 2, []],
      ["ALREADY_APPLIED", 2, []],
    ]);
    expect(feedBefore.items.map((item) => [item.event.ingestId, item.version])).toEqual([
      [snapshot.ingestId, 1],
      [stale.ingestId, 2],
    ]);
    expect((await feedAfter(feedBefore.next)).items).toEqual([]);
    expect(divergencesBefore.map((d) => [d.kind, d.ingestId])).toEqual([["STALE_EVENT", stale.ingestId]]);
    const divergencesAfter = (
      await entities.divergences.query
        .byEntity({ entityType: "inventory", entityKey: `${warehouseId}#ABC-001` })
        .go()
    ).data;
    expect(divergencesAfter).toEqual(divergencesBefore);
  });

  it("records each divergence with the event, the entity, the state before and the raw key, findable by ingestId and kind", async () => {
    const warehouseId = freshWarehouse();
    const snapshot = inventoryUpdated(1, { occurredAt: at(0) }, warehouseId);
    const adjustment = inventoryAdjusted(-4, { vendorId: "vendorB", occurredAt: at(1) }, warehouseId);
    const now = new Date("2026-02-01T00:00:00Z");

    await applyStateChange(entities, snapshot, options(snapshot));
    await applyStateChange(entities, adjustment, { ...options(adjustment), now });

    const byIngestId = await divergencesOfEvent(entities.divergences, adjustment.ingestId);
    const { data: byKind } = await entities.divergences.query
      .byKind({ kind: "NEGATIVE_QUANTITY_RESULT" })
      .begins({ detectedAt: "2026-02-01" })
      .go();
    expect(byIngestId).toEqual([
      expect.objectContaining({
        kind: "NEGATIVE_QUANTITY_RESULT",
        entityType: "inventory",
        entityKey: `${warehouseId}#ABC-001`,
        ingestId: adjustment.ingestId,
        vendorId: "vendorB",
        externalEventId: adjustment.externalEventId,
        eventType: "InventoryAdjusted",
        occurredAt: at(1),
        rawKey: adjustment.rawRef.key,
        said: adjustment.data,
        stateBefore: expect.objectContaining({ quantityOnHand: 1, version: 1 }),
        detectedAt: now.toISOString(),
      }),
    ]);
    expect(byKind.map((d) => d.ingestId)).toContain(adjustment.ingestId);
  });

  it("folds an event older than what the item keeps in its place, from the log, and a replay of it is ALREADY_APPLIED", async () => {
    const warehouseId = freshWarehouse();
    const old = inventoryAdjusted(4, { occurredAt: at(0) }, warehouseId);
    const recent = inventoryAdjusted(10, { occurredAt: at(48 * 60) }, warehouseId);
    const late = inventoryAdjusted(-1, { occurredAt: at(-10) }, warehouseId);
    for (const event of [old, recent]) await applyStateChange(entities, event, options(event));

    const applied = await applyStateChange(entities, late, options(late));
    const replays = [
      await applyStateChange(entities, old, options(old)),
      await applyStateChange(entities, late, options(late)),
    ];

    expect(applied).toMatchObject({ outcome: "APPLIED", version: 3, divergences: [], outOfOrder: true });
    const replay = { entity: applied.entity, outcome: "ALREADY_APPLIED", version: 3, divergences: [] };
    expect(replays).toEqual([
      { ...replay, outOfOrder: false },
      { ...replay, outOfOrder: false },
    ]);
    expect((await getInventoryState(entities, warehouseId, "ABC-001")).quantityOnHand).toBe(13);
    const { data } = await entities.divergences.query.byIngestId({ ingestId: late.ingestId }).go();
    expect(data).toEqual([]);
  });

  it("converges to the fold when many events for one entity are applied at once, each in the feed exactly once, versions in order", async () => {
    const warehouseId = freshWarehouse();
    const vendors = ["vendorA", "vendorB", "vendorC"];
    const events = Array.from({ length: 24 }, (_, i) =>
      i % 4 === 0
        ? inventoryUpdated(20 + i, { vendorId: vendors[i % 3], occurredAt: at((i * 7) % 24) }, warehouseId)
        : inventoryAdjusted(
            (i % 5) - 2 || 1,
            { vendorId: vendors[i % 3], occurredAt: at((i * 5) % 24) },
            warehouseId,
          ),
    );
    const start = await feedEnd();

    const results = await Promise.all(
      events.map((event) => applyStateChange(entities, event, { ...options(event), maxAttempts: 100 })),
    );

    const key = (event: NormalizedDocument) => foldPositionOf(event, options(event).vendorPriority);
    const inFoldOrder = [...events].sort((a, b) => compareFoldPositions(key(a), key(b)));
    const expected = inventoryView(fold(inFoldOrder) as InventoryState);
    expect(await getInventoryState(entities, warehouseId, "ABC-001")).toEqual(expected);
    expect(expected.version).toBe(events.length);
    expect(results.map((r) => r.outcome)).toEqual(events.map(() => "APPLIED"));
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(events.map((_, i) => i + 1));
    const feed = (await feedAfter(start)).items.filter(
      (item) => item.entity.key === `${warehouseId}#ABC-001`,
    );
    expect(feed.map((item) => item.version)).toEqual(events.map((_, i) => i + 1));
    expect(new Set(feed.map((item) => item.event.ingestId))).toEqual(new Set(events.map((e) => e.ingestId)));
  });

  it("gives the same state whatever order the same events arrive in", async () => {
    const [w1, w2] = [freshWarehouse(), freshWarehouse()];
    const make = (warehouseId: string) => [
      inventoryAdjusted(3, { occurredAt: at(1), externalEventId: "a1" }, warehouseId),
      inventoryUpdated(10, { vendorId: "vendorB", occurredAt: at(2), externalEventId: "s1" }, warehouseId),
      inventoryAdjusted(-2, { occurredAt: at(3), externalEventId: "a2" }, warehouseId),
      inventoryUpdated(12, { vendorId: "vendorA", occurredAt: at(2), externalEventId: "s2" }, warehouseId),
    ];
    const [one, other] = [make(w1), make(w2).reverse()];

    for (const event of one) await applyStateChange(entities, event, options(event));
    for (const event of other) await applyStateChange(entities, event, options(event));

    const [s1, s2] = [
      await getInventoryState(entities, w1, "ABC-001"),
      await getInventoryState(entities, w2, "ABC-001"),
    ];
    expect({ ...s1, warehouseId: "", lastIngestId: "" }).toEqual({
      ...s2,
      warehouseId: "",
      lastIngestId: "",
    });
    // At +2 min vendorA's 12 (priority 10) wins over vendorB's 10 (priority 20), then -2.
    expect(s1).toMatchObject({ quantityOnHand: 10, version: 4 });
  });
});

describe("crash recovery", () => {
  it("completes a change whose feed entry was not written when the same event runs again", async () => {
    const warehouseId = freshWarehouse();
    const snapshot = inventoryUpdated(1, { occurredAt: at(0) }, warehouseId);
    const negative = inventoryAdjusted(-5, { occurredAt: at(1) }, warehouseId);
    await applyStateChange(entities, snapshot, options(snapshot));
    const start = await feedEnd();
    const crashing = crashingBeforeFeedEntry();

    await expect(applyStateChange(crashing.entities, negative, options(negative))).rejects.toThrow(
      "process died",
    );
    const rerun = await applyStateChange(entities, negative, options(negative));

    expect(crashing.crashed()).toBe(true);
    expect(rerun).toMatchObject({ outcome: "ALREADY_APPLIED", version: 2 });
    const feed = await feedAfter(start);
    expect(feed.items.map((item) => [item.event.ingestId, item.version])).toEqual([[negative.ingestId, 2]]);
    const { data } = await entities.divergences.query.byIngestId({ ingestId: negative.ingestId }).go();
    expect(data.map((d) => d.kind)).toEqual(["NEGATIVE_QUANTITY_RESULT"]);
  });

  it("publishes the interrupted change before the next change to the same entity", async () => {
    const orderId = `${freshWarehouse()}-order`;
    const created = orderCreated(orderId, [{ sku: "ABC-001", quantity: 1 }], { occurredAt: at(0) });
    const acked = orderStatusChanged(orderId, "ACKED", { occurredAt: at(1) });
    const start = await feedEnd();
    const crashing = crashingBeforeFeedEntry();

    await expect(applyStateChange(crashing.entities, created, options(created))).rejects.toThrow(
      "process died",
    );
    await applyStateChange(entities, acked, options(acked));

    const feed = await feedAfter(start);
    expect(feed.items.map((item) => [item.event.ingestId, item.version])).toEqual([
      [created.ingestId, 1],
      [acked.ingestId, 2],
    ]);
  });

  it("moves a change to a new position when a reader closed its position as a gap meanwhile, and it is read once", async () => {
    const warehouseId = freshWarehouse();
    const snapshot = inventoryUpdated(3, { occurredAt: at(0) }, warehouseId);
    const start = await feedEnd();
    const crashing = crashingBeforeFeedEntry();
    await expect(applyStateChange(crashing.entities, snapshot, options(snapshot))).rejects.toThrow(
      "process died",
    );

    const whileMissing = await readFeed(entities, { after: start, gapGraceMs: 0 });
    const rerun = await applyStateChange(entities, snapshot, options(snapshot));
    const afterRerun = await readFeed(entities, { after: whileMissing.next, gapGraceMs: 0 });

    expect(whileMissing.items).toEqual([]);
    expect(whileMissing.next > start).toBe(true);
    expect(rerun.outcome).toBe("ALREADY_APPLIED");
    expect(afterRerun.items.map((item) => [item.event.ingestId, item.version])).toEqual([
      [snapshot.ingestId, 1],
    ]);
    expect((await feedAfter(start)).items.map((item) => item.event.ingestId)).toEqual([snapshot.ingestId]);
  });

  it("makes a reader wait at a recently taken empty position rather than skip it", async () => {
    const warehouseId = freshWarehouse();
    const start = await feedEnd();
    const first = inventoryUpdated(1, { occurredAt: at(0) }, warehouseId);
    await applyStateChange(entities, first, options(first));
    await takePosition(entities, new Date());
    const second = inventoryAdjusted(1, { occurredAt: at(1) }, warehouseId);
    await applyStateChange(entities, second, options(second));

    const patient = await readFeed(entities, { after: start, gapGraceMs: 60_000 });
    const patientAgain = await readFeed(entities, { after: patient.next, gapGraceMs: 60_000 });
    const later = await readFeed(entities, { after: patient.next, gapGraceMs: 0 });

    expect(patient.items.map((item) => item.event.ingestId)).toEqual([first.ingestId]);
    expect(patientAgain).toEqual({ items: [], next: patient.next });
    expect(later.items.map((item) => item.event.ingestId)).toEqual([second.ingestId]);
  });

  describe("64 writers racing for one entity", () => {
    // Stores of their own: on a loaded machine the race can outlast its timeout, and writers still
    // retrying then must not take feed positions or versions under the tests that follow.
    let race: Awaited<ReturnType<typeof startTestStores>>;
    beforeAll(async () => {
      race = await startTestStores("state-race-test");
    });
    afterAll(() => race?.close());
    // Each writer may wait out the whole retrier (under 1 s, scaled) between attempts that each
    // contend with 63 others: seconds on an idle machine, a minute or more on a loaded one.
    const RACE_TIMEOUT_MS = 180_000;

    it(
      "lands 64 writers racing for one entity from separate processes, within the workflow's contention retrier",
      async () => {
        // No in-process turn-taking here: each call stands for a function in its own container. A lost
        // race ends in WriteContentionError, which the state machine retries per CONTENTION_RETRY
        // (waits scaled down 100×, full jitter as deployed).
        const warehouseId = freshWarehouse();
        const events = Array.from({ length: 64 }, (_, i) =>
          inventoryAdjusted(i + 1, { occurredAt: at(i % 24), externalEventId: `race-${i}` }, warehouseId),
        );
        let retried = 0;
        // Once the test has ended (passed, failed or timed out), no writer tries again.
        let ended = false;
        onTestFinished(() => {
          ended = true;
        });
        async function asTheWorkflowRuns(event: NormalizedDocument) {
          for (let retry = 0; ; retry++) {
            try {
              return await applyStateChange(race.entities, event, options(event));
            } catch (error) {
              if (
                ended ||
                (error as Error).name !== WRITE_CONTENTION_ERROR ||
                retry >= CONTENTION_RETRY.maxAttempts
              )
                throw error;
              retried += 1;
              const wait = Math.min(
                CONTENTION_RETRY.maxDelaySeconds,
                CONTENTION_RETRY.intervalSeconds * CONTENTION_RETRY.backoffRate ** retry,
              );
              await new Promise((resolve) => setTimeout(resolve, Math.random() * wait * 10));
            }
          }
        }

        const results = await Promise.all(events.map(asTheWorkflowRuns));

        expect(results.map((result) => result.outcome)).toEqual(events.map(() => "APPLIED"));
        expect(await getInventoryState(race.entities, warehouseId, "ABC-001")).toMatchObject({
          quantityOnHand: (64 * 65) / 2,
          version: 64,
        });
        // The race was real: some writers lost more than their in-process attempts and were retried.
        expect(retried).toBeGreaterThan(0);
      },
      RACE_TIMEOUT_MS,
    );
  });

  it("gives up with RECONCILE_WRITE_CONTENTION after losing every compare-and-swap, leaving no position open", async () => {
    const warehouseId = freshWarehouse();
    const event = inventoryUpdated(3, { occurredAt: at(0) }, warehouseId);
    const start = await feedEnd();
    const alwaysLosing = new Proxy(entities.inventoryStates, {
      get(target, property, receiver) {
        const lose = { go: async () => Promise.reject(conditionFailed()) };
        if (property === "create") return () => lose;
        if (property === "put") return () => ({ where: () => lose });
        return Reflect.get(target, property, receiver);
      },
    });

    const attempt = applyStateChange({ ...entities, inventoryStates: alwaysLosing }, event, {
      ...options(event),
      maxAttempts: 3,
    });

    await expect(attempt).rejects.toMatchObject({
      name: "WriteContentionError",
      code: "RECONCILE_WRITE_CONTENTION",
    });
    const page = await readFeed(entities, { after: start, gapGraceMs: 60 * 60_000 });
    expect(page.items).toEqual([]);
    expect(Number(page.next) - Number(start)).toBe(3);
  });
});

describe("readFeed", () => {
  it("pages through every change exactly once, in order, then answers empty with the same next", async () => {
    const warehouses = [freshWarehouse(), freshWarehouse(), freshWarehouse()];
    const start = await feedEnd();
    const events = warehouses.flatMap((warehouseId) =>
      Array.from({ length: 10 }, (_, i) => inventoryAdjusted(i + 1, { occurredAt: at(i) }, warehouseId)),
    );
    await Promise.all(
      events.map((event) => applyStateChange(entities, event, { ...options(event), maxAttempts: 50 })),
    );

    const paged = await feedAfter(start, 7);
    const empty = await readFeed(entities, { after: paged.next, limit: 7 });

    expect(paged.items.map((item) => item.event.ingestId).sort()).toEqual(
      events.map((e) => e.ingestId).sort(),
    );
    expect(paged.pages).toBe(Math.ceil(events.length / 7) + 1);
    for (const warehouseId of warehouses) {
      const versions = paged.items
        .filter((item) => item.entity.key === `${warehouseId}#ABC-001`)
        .map((item) => item.version);
      expect(versions).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    }
    const cursors = paged.items.map((item) => item.cursor);
    expect([...cursors].sort()).toEqual(cursors);
    expect(empty).toEqual({ items: [], next: paged.next });
    expect(paged.items[0]).toEqual({
      cursor: expect.stringMatching(/^\d{16}$/),
      entity: { type: "inventory", key: expect.stringMatching(/#ABC-001$/) },
      version: expect.any(Number),
      event: expect.objectContaining({ schemaVersion: "1.0", rawRef: expect.any(Object) }),
    });
  });

  it("starts from the beginning without a cursor", async () => {
    const page = await readFeed(entities, { limit: 1, gapGraceMs: 0 });

    expect(page.items).toHaveLength(1);
    expect(page.next).toBe(page.items[0]?.cursor);
  });

  it("rejects a cursor it did not give, and a limit outside 1..500, as BAD_REQUEST", async () => {
    const attempts = [
      readFeed(entities, { after: "not-a-cursor" }),
      readFeed(entities, { limit: 0 }),
      readFeed(entities, { limit: 501 }),
      readFeed(entities, { limit: Number("abc") }),
    ];

    for (const attempt of attempts) {
      await expect(attempt).rejects.toMatchObject({ name: "BadRequestError", code: "BAD_REQUEST" });
    }
  });
});

describe("recordIdempotencyConflict", () => {
  it("records IDEMPOTENCY_CONFLICT once per rejected content, with both hashes", async () => {
    const conflict = {
      vendorId: "vendorA",
      externalEventId: "inv-conflict-1",
      ingestId: "01HZX0000000000000000000K3",
      existingSha256: "a".repeat(64),
      incomingSha256: "b".repeat(64),
      rawKey: "raw/vendorA/2026/01/30/01HZX0000000000000000000K3.json",
    };

    const first = await recordIdempotencyConflict(entities, conflict);
    const again = await recordIdempotencyConflict(entities, conflict);
    const other = await recordIdempotencyConflict(entities, { ...conflict, incomingSha256: "c".repeat(64) });

    expect(again).toBe(first);
    expect(other).not.toBe(first);
    const { data } = await entities.divergences.query
      .byEntity({ entityType: "ingest", entityKey: "vendorA#inv-conflict-1" })
      .go();
    expect(data).toHaveLength(2);
    expect(data[0]).toMatchObject({
      kind: "IDEMPOTENCY_CONFLICT",
      ingestId: conflict.ingestId,
      vendorId: "vendorA",
      externalEventId: "inv-conflict-1",
      rawKey: conflict.rawKey,
      said: { existingSha256: conflict.existingSha256, incomingSha256: expect.any(String) },
    });
  });
});
