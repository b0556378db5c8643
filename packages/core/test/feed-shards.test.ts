import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Entities } from "../src/entities/index.ts";
import type { NormalizedDocument } from "../src/normalized.ts";
import { applyStateChange } from "../src/state/apply.ts";
import {
  feedShards,
  formatCursor,
  MAX_FEED_SHARDS,
  parseCursor,
  shardOf,
  takePosition,
} from "../src/state/feed.ts";
import { type FeedItem, readFeed } from "../src/state/read.ts";
import { entityOf } from "../src/state/rules.ts";
import type { StateEntities } from "../src/state/store.ts";
import { at, inventoryAdjusted, orderCreated, orderStatusChanged } from "./state-events.ts";
import { startTestStores } from "./stores.ts";

let stores: Awaited<ReturnType<typeof startTestStores>>;
let entities: Entities;

beforeAll(async () => {
  stores = await startTestStores("feed-shards-test");
  entities = stores.entities;
});

afterAll(() => stores?.close());

const options = (shards: number) => ({ vendorPriority: 10, mappingVersion: "1", feedShards: shards });

let warehouses = 0;
/** A warehouse no other test uses, whose ABC-001 entity is in `shard` of `shards`. */
function warehouseIn(shard: number, shards: number): string {
  for (;;) {
    const warehouseId = `S${++warehouses}`;
    if (shardOf({ type: "inventory", key: `${warehouseId}#ABC-001` }, shards) === shard) return warehouseId;
  }
}

/** Every feed item after a cursor, paging `limit` at a time. */
async function feedAfter(
  after: string | undefined,
  shards: number,
  limit = 500,
): Promise<{ items: FeedItem[]; next: string }> {
  const items: FeedItem[] = [];
  let cursor = after;
  for (;;) {
    const page = await readFeed(entities, { ...(cursor && { after: cursor }), limit, gapGraceMs: 0, shards });
    if (page.items.length === 0) return { items, next: page.next };
    items.push(...page.items);
    cursor = page.next;
  }
}

const feedEnd = async (shards: number) => (await feedAfter(undefined, shards)).next;

const changesOf = (items: FeedItem[]) => items.map((item) => `${item.entity.key} v${item.version}`);

/** Each entity's versions in feed order are 1, 2, 3, ... and every applied event is there once. */
function expectExactlyOnceInOrder(items: FeedItem[], applied: NormalizedDocument[]) {
  expect(items.map((item) => item.event.ingestId).sort()).toEqual(applied.map((doc) => doc.ingestId).sort());
  const versions = new Map<string, number[]>();
  for (const item of items)
    versions.set(item.entity.key, [...(versions.get(item.entity.key) ?? []), item.version]);
  for (const [key, seen] of versions) {
    expect(seen, key).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1));
  }
}

/** Entities whose first feed entry of a change waits, once its position is taken, until released. */
function slowWriter(): { entities: StateEntities; holding: Promise<void>; release: () => void } {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held = () => {};
  const holding = new Promise<void>((resolve) => {
    held = resolve;
  });
  const outboxEntries = new Proxy(entities.outboxEntries, {
    get(target, property, receiver) {
      if (property !== "create") return Reflect.get(target, property, receiver);
      return (item: { kind: string }) => {
        const operation = target.create(item as Parameters<typeof target.create>[0]);
        return {
          go: async () => {
            if (item.kind === "change") {
              held();
              await gate;
            }
            return operation.go();
          },
        };
      };
    },
  });
  return { entities: { ...entities, outboxEntries }, holding, release };
}

describe("feed shards and cursors", () => {
  it("reads the shard count from DVSS_FEED_SHARDS: 1 when unset, a deployment error outside 1..64", () => {
    expect(feedShards({})).toBe(1);
    expect(feedShards({ DVSS_FEED_SHARDS: " 4 " })).toBe(4);
    expect(feedShards({ DVSS_FEED_SHARDS: "64" })).toBe(MAX_FEED_SHARDS);
    for (const bad of ["0", "65", "2.5", "-1", "four"]) {
      expect(() => feedShards({ DVSS_FEED_SHARDS: bad }), bad).toThrow(/DVSS_FEED_SHARDS/);
    }
  });

  it("puts an entity always in the same shard, spreading entities evenly", () => {
    const entity = { type: "inventory" as const, key: "ROA#ABC-001" };
    // Pinned: a change of this hash would move entities between shards of a running stage.
    expect([1, 2, 4, 16].map((shards) => shardOf(entity, shards))).toEqual([0, 1, 1, 9]);
    expect(shardOf({ type: "order", key: "ROA#ABC-001" }, 16)).toBe(7);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const shard = shardOf({ type: "order", key: `o-${i}` }, 4);
      counts[shard] = (counts[shard] ?? 0) + 1;
    }
    for (const count of counts) expect(count).toBeGreaterThan(900);
  });

  it("writes one shard's cursor in 16 digits as before, several shards' as base64url of their positions", () => {
    expect(formatCursor([42])).toBe("0000000000000042");
    expect(parseCursor("0000000000000042")).toEqual([42]);
    expect(parseCursor("42")).toEqual([42]);
    const cursor = formatCursor([42, 0, 7, 1_000_000]);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(cursor, "base64url").toString()).toBe("42.0.7.1000000");
    expect(parseCursor(cursor)).toEqual([42, 0, 7, 1_000_000]);
  });

  it("refuses a cursor it could not have given with BAD_REQUEST naming after", async () => {
    const encode = (text: string) => Buffer.from(text).toString("base64url");
    const refused = [
      "not-a-cursor",
      "",
      "00000000000000042",
      encode("1.x"),
      encode("01.2"),
      encode("1"),
      encode("1..2"),
      encode(Array.from({ length: MAX_FEED_SHARDS + 1 }, () => "1").join(".")),
      `${encode("1.2")}=`,
    ];
    for (const after of refused) {
      await expect(readFeed(entities, { after, shards: 4 }), after).rejects.toMatchObject({
        code: "BAD_REQUEST",
        details: [{ path: "after", message: "must be a cursor returned as next" }],
      });
    }
  });
});

describe.each([1, 4])("the feed with %i shard(s)", (shards) => {
  it("has every change once, each entity's in version order, across pages, from any item's cursor", async () => {
    const start = await feedEnd(shards);
    const applied = Array.from({ length: 8 }, (_, w) => `P${shards}-${w}`).flatMap((warehouseId) =>
      Array.from({ length: 5 }, (_, i) => inventoryAdjusted(i + 1, { occurredAt: at(i) }, warehouseId)),
    );
    await Promise.all(
      applied.map((doc) => applyStateChange(entities, doc, { ...options(shards), maxAttempts: 50 })),
    );

    const paged = await feedAfter(start, shards, 7);
    const whole = await feedAfter(start, shards);

    expectExactlyOnceInOrder(paged.items, applied);
    expect(changesOf(whole.items).sort()).toEqual(changesOf(paged.items).sort());
    for (const [i, item] of paged.items.entries()) {
      expect(changesOf((await feedAfter(item.cursor, shards)).items), item.cursor).toEqual(
        expect.arrayContaining(changesOf(paged.items.slice(i + 1))),
      );
      expect((await feedAfter(item.cursor, shards)).items).toHaveLength(paged.items.length - i - 1);
    }
    if (shards === 1) expect(paged.next).toMatch(/^\d{16}$/);
    else expect(parseCursor(paged.next)).toHaveLength(shards);
    const used = new Set(applied.map((doc) => shardOf(entityOf(doc), shards)));
    expect(used.size).toBe(shards);
  });

  it("does not let a reader pass a position a slow writer holds in its shard, and loses nothing after", async () => {
    const start = await feedEnd(shards);
    const shard = shards - 1;
    const [slow, behind] = [warehouseIn(shard, shards), warehouseIn(shard, shards)];
    const elsewhere = warehouseIn(0, shards);
    const slowly = slowWriter();
    const [first, second, other] = [
      inventoryAdjusted(1, { occurredAt: at(0) }, slow),
      inventoryAdjusted(1, { occurredAt: at(0) }, behind),
      inventoryAdjusted(1, { occurredAt: at(0) }, elsewhere),
    ];

    const slowWrite = applyStateChange(slowly.entities, first, options(shards));
    await slowly.holding;
    await applyStateChange(entities, second, options(shards));
    await applyStateChange(entities, other, options(shards));
    const patient = await readFeed(entities, { after: start, gapGraceMs: 60_000, shards });
    slowly.release();
    await slowWrite;
    const rest = await feedAfter(patient.next, shards);

    const sameShardFirst = shards === 1 ? [] : [other.ingestId];
    expect(patient.items.map((item) => item.event.ingestId)).toEqual(sameShardFirst);
    expect([...patient.items, ...rest.items].map((item) => item.event.ingestId)).toEqual([
      ...sameShardFirst,
      first.ingestId,
      second.ingestId,
      ...(shards === 1 ? [other.ingestId] : []),
    ]);
  });

  it("keeps order and exactly-once over random interleavings of writers and readers", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({
              write: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 6 }),
              // A reader paging while the writes are in flight: patient (waits at an empty
              // position) or not (closes it at once, and its writer moves).
              readDuring: fc.constantFrom(undefined, 0, 60_000),
            }),
            fc.record({ read: fc.integer({ min: 1, max: 4 }) }),
            fc.record({ hold: fc.integer({ min: 0, max: shards - 1 }) }),
            fc.record({ slow: fc.integer({ min: 0, max: 5 }), limit: fc.integer({ min: 1, max: 4 }) }),
          ),
          { minLength: 1, maxLength: 12 },
        ),
        async (steps) => {
          const run = `R${++warehouses}`;
          const start = await feedEnd(shards);
          const applied: NormalizedDocument[] = [];
          const read: FeedItem[] = [];
          const cursors: string[] = [];
          let cursor = start;
          let minute = 0;
          for (const step of steps) {
            if ("write" in step) {
              // Writers of several orders at once; one order's events in turn, as its workflow runs them.
              const byOrder = new Map<number, NormalizedDocument[]>();
              for (const order of step.write) {
                const orderId = `${run}-${order}`;
                const known = applied.some((doc) => (doc.data as { orderId?: string }).orderId === orderId);
                const queued = byOrder.get(order) ?? [];
                const doc =
                  !known && queued.length === 0
                    ? orderCreated(orderId, [{ sku: "ABC-001", quantity: 1 }], { occurredAt: at(minute++) })
                    : orderStatusChanged(orderId, minute % 2 ? "ACKED" : "SHIPPED", {
                        occurredAt: at(minute++),
                      });
                byOrder.set(order, [...queued, doc]);
              }
              const writes = Promise.all(
                [...byOrder.values()].map(async (docs) => {
                  for (const doc of docs) {
                    const result = await applyStateChange(entities, doc, {
                      ...options(shards),
                      maxAttempts: 50,
                    });
                    if (result.outcome === "APPLIED") applied.push(doc);
                  }
                }),
              );
              if (step.readDuring !== undefined) {
                const page = await readFeed(entities, {
                  after: cursor,
                  limit: 3,
                  gapGraceMs: step.readDuring,
                  shards,
                });
                read.push(...page.items);
                cursors.push(...page.items.map((item) => item.cursor));
                cursor = page.next;
              }
              await writes;
            } else if ("slow" in step) {
              // A slow writer: a patient reader pages while its position is taken and empty.
              const doc = orderCreated(`${run}-slow-${minute}`, [{ sku: "ABC-001", quantity: 1 }], {
                occurredAt: at(minute++),
              });
              const writer = slowWriter();
              const write = applyStateChange(writer.entities, doc, options(shards));
              await writer.holding;
              const page = await readFeed(entities, {
                after: cursor,
                limit: step.limit,
                gapGraceMs: 60_000,
                shards,
              });
              read.push(...page.items);
              cursors.push(...page.items.map((item) => item.cursor));
              cursor = page.next;
              writer.release();
              await write;
              applied.push(doc);
            } else if ("hold" in step) {
              // A writer that took a position and died: readers close it once it is old.
              await takePosition(entities, new Date(), step.hold);
            } else {
              const page = await readFeed(entities, {
                after: cursor,
                limit: step.read,
                gapGraceMs: 0,
                shards,
              });
              read.push(...page.items);
              cursors.push(...page.items.map((item) => item.cursor));
              cursor = page.next;
            }
          }
          read.push(...(await feedAfter(cursor, shards)).items);

          expectExactlyOnceInOrder(read, applied);
          const resumeAt = cursors.length > 0 ? cursors.length - 1 : -1;
          if (resumeAt >= 0) {
            const resumed = await feedAfter(cursors[resumeAt], shards);
            expect(changesOf(resumed.items).sort()).toEqual(changesOf(read.slice(resumeAt + 1)).sort());
          }
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);
});

describe("a page with several shards", () => {
  it("takes at most its share of the limit from each shard, so a page reads no more than about one page", async () => {
    const start = await feedEnd(4);
    const docs = [0, 1, 2].map(() => inventoryAdjusted(1, { occurredAt: at(0) }, warehouseIn(1, 4)));
    for (const doc of docs) await applyStateChange(entities, doc, options(4));

    const first = await readFeed(entities, { after: start, limit: 8, gapGraceMs: 0, shards: 4 });
    const rest = await feedAfter(first.next, 4, 8);

    expect(first.items.map((item) => item.event.ingestId)).toEqual(
      docs.slice(0, 2).map((doc) => doc.ingestId),
    );
    expect(rest.items.map((item) => item.event.ingestId)).toEqual([docs[2]?.ingestId]);
  });
});

describe("a stage whose shard count is raised", () => {
  it("accepts a one-shard cursor with four shards: it reads on in shard 0 and the new shards from their start", async () => {
    const stage = await startTestStores("feed-shards-raised");
    try {
      const read = (after: string | undefined, shards: number) =>
        readFeed(stage.entities, { ...(after && { after }), limit: 500, gapGraceMs: 0, shards });
      const before = inventoryAdjusted(1, { occurredAt: at(0) }, warehouseIn(2, 4));
      await applyStateChange(stage.entities, before, options(1));
      const legacy = (await read(undefined, 1)).next;
      const after = [0, 1, 2, 3].map((shard) =>
        inventoryAdjusted(1, { occurredAt: at(1) }, warehouseIn(shard, 4)),
      );
      for (const doc of after) await applyStateChange(stage.entities, doc, options(4));

      const page = await read(legacy, 4);
      const again = await read(page.next, 4);

      expect(legacy).toBe("0000000000000001");
      expect(page.items.map((item) => item.event.ingestId).sort()).toEqual(
        after.map((doc) => doc.ingestId).sort(),
      );
      expect(parseCursor(page.next)).toEqual([2, 1, 1, 1]);
      expect(again).toEqual({ items: [], next: page.next });
    } finally {
      await stage.close();
    }
  });
});
