import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Entities } from "../src/entities/index.ts";
import { formatPosition } from "../src/entities/outbox.ts";
import { applyStateChange } from "../src/state/apply.ts";
import {
  forgetPublishedChanges,
  PUBLISHED_CHANGES_KEPT,
  publishChange,
  readLoggedEntry,
  writeGap,
} from "../src/state/feed.ts";
import { type LoggedEvent, loggedEventOf, readLoggedEvent, writeLoggedEvent } from "../src/state/log.ts";
import { readFeed } from "../src/state/read.ts";
import { type EntityState, entityOf } from "../src/state/rules.ts";
import {
  type PendingChange,
  readState,
  type StateEntities,
  type StoredState,
  stateKeyOf,
} from "../src/state/store.ts";
import { at, inventoryAdjusted, inventoryUpdated } from "./state-events.ts";
import { startTestStores } from "./stores.ts";

/*
 * How ApplyState publishes a change (state/feed.ts, publishChange): the change it has just reserved
 * is written without reading its position first, and the previous change on the item is not read
 * again when this process published it. What the feed guarantees stays as it was.
 */

let stores: Awaited<ReturnType<typeof startTestStores>>;
let entities: Entities;

beforeAll(async () => {
  stores = await startTestStores("feed-publish-test");
  entities = stores.entities;
});

afterAll(() => stores?.close());

const OPTIONS = { vendorPriority: 10, mappingVersion: "1", feedShards: 1 };

let warehouses = 0;
const freshWarehouse = () => `P${++warehouses}`;

/** The feed's cursor now. */
async function feedEnd(): Promise<string> {
  let page = await readFeed(entities, { limit: 500, gapGraceMs: 0, shards: 1 });
  while (page.items.length > 0)
    page = await readFeed(entities, { after: page.next, limit: 500, gapGraceMs: 0, shards: 1 });
  return page.next;
}

/** The changes after a cursor, as `<ingestId> v<version>`. */
async function changesAfter(after: string): Promise<string[]> {
  const page = await readFeed(entities, { after, limit: 500, gapGraceMs: 0, shards: 1 });
  return page.items.map((item) => `${item.event.ingestId} v${item.version}`);
}

/**
 * The entities, recording the feed's reads and writes of positions in order (`read <position>`,
 * `change <position>` or `change <position> refused`) and how many log items were put. `beforeChange`
 * runs before a change entry's write.
 */
function recording(beforeChange?: (position: string) => Promise<void>) {
  const calls: string[] = [];
  let logPuts = 0;
  const outboxEntries = new Proxy(entities.outboxEntries, {
    get(target, property, receiver) {
      if (property === "get") {
        return (key: { shard: string; position: string }) => {
          const operation = target.get(key);
          return {
            go: (options: Parameters<typeof operation.go>[0]) => {
              calls.push(`read ${key.position}`);
              return operation.go(options);
            },
          };
        };
      }
      if (property === "create") {
        return (item: { kind: string; position: string }) => {
          const operation = target.create(item as Parameters<typeof target.create>[0]);
          if (item.kind !== "change") return operation;
          return {
            go: async () => {
              await beforeChange?.(item.position);
              try {
                const written = await operation.go();
                calls.push(`change ${item.position}`);
                return written;
              } catch (error) {
                calls.push(`change ${item.position} refused`);
                throw error;
              }
            },
          };
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
  const entityEvents = new Proxy(entities.entityEvents, {
    get(target, property, receiver) {
      if (property !== "put") return Reflect.get(target, property, receiver);
      return (item: Parameters<typeof target.put>[0]) => {
        logPuts += 1;
        return target.put(item);
      };
    },
  });
  return {
    entities: { ...entities, outboxEntries, entityEvents } as StateEntities,
    calls,
    logPuts: () => logPuts,
  };
}

/** A store operation (and what `.where` makes of it) that runs `before` when it goes. */
function beforeGo<T extends object>(operation: T, before: () => Promise<void>): T {
  return new Proxy(operation, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === "where") {
        return (...args: unknown[]) =>
          beforeGo((value as (...a: unknown[]) => object).apply(target, args), before);
      }
      if (property === "go") {
        return async (...args: unknown[]) => {
          await before();
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return value;
    },
  });
}

/** Entities whose change entry writes fail once, as if the process died right before them. */
function crashingBeforeFeedEntry(): StateEntities {
  let crashed = false;
  return recording(async () => {
    if (crashed) return;
    crashed = true;
    throw new Error("process died");
  }).entities;
}

describe("publishing a change", () => {
  it("writes the change it has just reserved without reading its position, and does not read again the previous change it published", async () => {
    const warehouseId = freshWarehouse();
    const start = await feedEnd();
    const first = inventoryUpdated(5, { occurredAt: at(0) }, warehouseId);
    const second = inventoryAdjusted(2, { occurredAt: at(1) }, warehouseId);
    const { entities: counted, calls } = recording();

    const applied = [
      await applyStateChange(counted, first, OPTIONS),
      await applyStateChange(counted, second, OPTIONS),
    ];

    const positions = applied.map((result) => result.cursor);
    expect(calls).toEqual(positions.map((position) => `change ${position}`));
    expect(await changesAfter(start)).toEqual([`${first.ingestId} v1`, `${second.ingestId} v2`]);
  });

  it("moves a change whose reserved position a reader closed before its entry was written, and it is in the feed once", async () => {
    const warehouseId = freshWarehouse();
    const start = await feedEnd();
    const event = inventoryUpdated(7, { occurredAt: at(0) }, warehouseId);
    let closed: string | undefined;
    const {
      entities: counted,
      calls,
      logPuts,
    } = recording(async (position) => {
      if (closed !== undefined) return;
      closed = position;
      expect(await writeGap(entities, position, new Date())).toBe(true);
    });

    const result = await applyStateChange(counted, event, OPTIONS);

    const moved = result.cursor as string;
    expect(Number(moved)).toBeGreaterThan(Number(closed));
    // One read, of the closed position, after its write was refused; none of the new one.
    expect(calls).toEqual([`change ${closed} refused`, `read ${closed}`, `change ${moved}`]);
    // Logged at the reserved position, then again at the new one before its entry was written there.
    expect(logPuts()).toBe(2);
    expect(await changesAfter(start)).toEqual([`${event.ingestId} v1`]);
    const logged = await readLoggedEvent(entities, entityOf(event), event.occurredAt, event.ingestId);
    expect(logged?.feedPosition).toBe(moved);
    expect(await readLoggedEntry(entities, logged as LoggedEvent)).toMatchObject({
      position: moved,
      kind: "change",
      ingestId: event.ingestId,
      version: 1,
    });
  });

  it("logs the position another writer published the change at, over the closed one it logged", async () => {
    const warehouseId = freshWarehouse();
    const start = await feedEnd();
    const event = inventoryUpdated(3, { occurredAt: at(0) }, warehouseId);
    const logged: string[] = [];
    let other: string | undefined;
    // Before this writer's first log put (at its reserved position) lands, a reader closes that
    // position and another process publishes the change at a new one, logging it there: this
    // writer's put then overwrites that log item with the closed position.
    const entityEvents = new Proxy(entities.entityEvents, {
      get(target, property, receiver) {
        if (property !== "put") return Reflect.get(target, property, receiver);
        return (item: Parameters<typeof target.put>[0]) =>
          beforeGo(target.put(item), async () => {
            const { feedPosition } = item as unknown as { feedPosition: string };
            if (other === undefined) {
              other = "";
              expect(await writeGap(entities, feedPosition, new Date())).toBe(true);
              const stored = await readState(entities, stateKeyOf(event));
              other = await publishChange(entities, stored as StoredState, new Date());
            }
            logged.push(feedPosition);
          });
      },
    });

    const result = await applyStateChange({ ...entities, entityEvents } as StateEntities, event, OPTIONS);

    expect(result.cursor).toBe(other);
    expect(logged).toHaveLength(2);
    expect(logged[0]).not.toBe(other);
    expect(logged[1]).toBe(other);
    const read = await readLoggedEvent(entities, entityOf(event), event.occurredAt, event.ingestId);
    expect(read?.feedPosition).toBe(other);
    expect(await changesAfter(start)).toEqual([`${event.ingestId} v1`]);
  });

  it("keeps in the log the latest position of a change: a late write of a closed, earlier one changes nothing", async () => {
    const warehouseId = freshWarehouse();
    const event = inventoryUpdated(4, { occurredAt: at(0) }, warehouseId);
    const { cursor } = await applyStateChange(entities, event, OPTIONS);
    const published = cursor as string;
    const earlier = formatPosition(Number(published) - 1);
    const later = formatPosition(Number(published) + 1);
    const logged = async () =>
      (await readLoggedEvent(entities, entityOf(event), event.occurredAt, event.ingestId))?.feedPosition;
    const change = (await readState(entities, stateKeyOf(event)))?.change as PendingChange;

    // A writer whose put of a position since closed lands after the change moved on.
    await writeLoggedEvent(entities, { ...loggedEventOf(change), feedPosition: earlier });
    expect(await logged()).toBe(published);

    await writeLoggedEvent(entities, { ...loggedEventOf(change), feedPosition: later });
    expect(await logged()).toBe(later);
  });

  it("finds a change another process left unpublished (it crashed) and publishes it before its own", async () => {
    const warehouseId = freshWarehouse();
    const start = await feedEnd();
    const created = inventoryUpdated(1, { occurredAt: at(0) }, warehouseId);
    const adjusted = inventoryAdjusted(1, { occurredAt: at(1) }, warehouseId);
    await expect(applyStateChange(crashingBeforeFeedEntry(), created, OPTIONS)).rejects.toThrow(
      "process died",
    );
    forgetPublishedChanges();
    const { entities: counted, calls } = recording();

    const result = await applyStateChange(counted, adjusted, OPTIONS);

    const [pending] = calls;
    expect(calls).toEqual([pending, `change ${pending?.slice("read ".length)}`, `change ${result.cursor}`]);
    expect(pending).toMatch(/^read \d{16}$/);
    expect(await changesAfter(start)).toEqual([`${created.ingestId} v1`, `${adjusted.ingestId} v2`]);
  });

  it("reads the previous change's entry once when this process does not remember publishing it", async () => {
    const warehouseId = freshWarehouse();
    const first = inventoryUpdated(1, { occurredAt: at(0) }, warehouseId);
    const second = inventoryAdjusted(1, { occurredAt: at(1) }, warehouseId);
    const { cursor: previous } = await applyStateChange(entities, first, OPTIONS);
    forgetPublishedChanges();
    const { entities: counted, calls } = recording();

    const { cursor } = await applyStateChange(counted, second, OPTIONS);

    expect(calls).toEqual([`read ${previous}`, `change ${cursor}`]);
  });
});

describe("the memory of published changes", () => {
  /** Entities that keep feed entries in a map, counting reads: publishing needs nothing else here. */
  function memoryEntities() {
    const entries = new Map<string, Record<string, unknown>>();
    const reads: string[] = [];
    const done = async () => ({ data: {} });
    const stub = {
      outboxEntries: {
        create: (item: { position: string }) => ({
          go: async () => {
            entries.set(item.position, item);
            return { data: item };
          },
        }),
        get: (key: { position: string }) => ({
          go: async () => {
            reads.push(key.position);
            return { data: entries.get(key.position) ?? null };
          },
        }),
      },
      entityEvents: { put: () => ({ go: done, where: () => ({ go: done }) }) },
    };
    return { entities: stub as unknown as StateEntities, reads };
  }

  function pendingOf(n: number) {
    const event = inventoryUpdated(n, { occurredAt: at(0) }, `M${n}`);
    const change: PendingChange = {
      entity: { type: "inventory", key: `M${n}#ABC-001` },
      version: 1,
      ingestId: event.ingestId,
      event,
      mappingVersion: "1",
      priority: 10,
      appliedAt: at(0),
      divergences: [],
    };
    return { state: { quantityOnHand: n } as EntityState, change, changePosition: formatPosition(n + 1) };
  }

  it(`keeps the last ${PUBLISHED_CHANGES_KEPT} entities' changes, and reads an older one again`, async () => {
    forgetPublishedChanges();
    const { entities: stub, reads } = memoryEntities();
    const now = new Date();
    const pending = Array.from({ length: PUBLISHED_CHANGES_KEPT + 1 }, (_, n) => pendingOf(n));
    for (const change of pending) await publishChange(stub, change, now, { reserved: true });
    expect(reads).toEqual([]);

    const newest = pending[PUBLISHED_CHANGES_KEPT] as (typeof pending)[number];
    const oldest = pending[0] as (typeof pending)[number];
    const kept = pending[1] as (typeof pending)[number];
    expect(await publishChange(stub, newest, now)).toBe(newest.changePosition);
    expect(await publishChange(stub, kept, now)).toBe(kept.changePosition);
    expect(reads).toEqual([]);
    expect(await publishChange(stub, oldest, now)).toBe(oldest.changePosition);
    expect(reads).toEqual([oldest.changePosition]);
    // Another version at a remembered position is not taken for the remembered change.
    const otherVersion = { ...kept, change: { ...kept.change, version: 2 } };
    await expect(publishChange(stub, otherVersion, now)).rejects.toMatchObject({ code: "FEED_INCONSISTENT" });
    expect(reads).toEqual([oldest.changePosition, kept.changePosition]);
  });

  it("does not take another store's change at the same position and version for one it published", async () => {
    forgetPublishedChanges();
    const first = memoryEntities();
    const published = pendingOf(7);
    await publishChange(first.entities, published, new Date(), { reserved: true });

    // A fresh store in the same process: its entity's first change sits at the same position.
    const second = memoryEntities();
    const unpublished = {
      ...published,
      change: { ...published.change, ingestId: "01ANOTHERSTORESEVENT000000" },
    };
    expect(await publishChange(second.entities, unpublished, new Date())).toBe(unpublished.changePosition);

    expect(second.reads).toEqual([unpublished.changePosition]);
  });
});
