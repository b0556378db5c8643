import { marshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { divergenceEntity, formatPosition } from "../src/entities/index.ts";
import { MAX_OCCURRED_AT_LENGTH } from "../src/envelope.ts";
import { EntityTooLargeError } from "../src/errors.ts";
import type { NormalizedDocument } from "../src/normalized.ts";
import { MAX_ORDER_LINES, MAX_TEXT_LENGTH } from "../src/standard-events.ts";
import { applyStateChange } from "../src/state/apply.ts";
import { divergenceItem } from "../src/state/divergences.ts";
import type { InventoryState } from "../src/state/inventory.ts";
import { DYNAMODB_ITEM_LIMIT_BYTES, itemBytes, valueBytes } from "../src/state/item-size.ts";
import { applyEvent, type EntityState, entityOf } from "../src/state/rules.ts";
import {
  assertStateFits,
  DIVERGENCE_CHUNK_BYTES,
  INLINE_DIVERGENCE_BYTES,
  MAX_STATE_ITEM_BYTES,
  type PendingChange,
  placeDivergences,
  readState,
  stateItemBytes,
  stateKeyOf,
} from "../src/state/store.ts";
import { DEFAULT_STATE_RULES, type Divergence } from "../src/state/types.ts";
import {
  applyWithLog,
  inventoryAdjusted,
  inventoryUpdated,
  orderCreated,
  orderStatusChanged,
} from "./state-events.ts";
import { startTestStores } from "./stores.ts";

/*
 * The largest canonical state items the rules allow, measured as DynamoDB counts them: ids as long
 * as the standard events allow, each character 3 bytes in UTF-8 (the most a UTF-16 unit takes),
 * vendorIds of 64 characters, occurredAt of 64, and as many events and divergences as the rules keep.
 */

/** A text of `length` characters of 3 UTF-8 bytes each, ending in `suffix`. */
const wide = (length: number, suffix = "") => "\u4e2d".repeat(length - suffix.length) + suffix;
const LONGEST = MAX_TEXT_LENGTH;
const VENDORS = ["a".repeat(64), "b".repeat(64)];
const PRIORITY: Record<string, number> = { [VENDORS[0] as string]: 10, [VENDORS[1] as string]: 20 };
const BASE = Date.UTC(2026, 0, 30, 12, 0, 0);

/** occurredAt of MAX_OCCURRED_AT_LENGTH characters at BASE + ms. */
function longOccurredAt(ms: number): string {
  const stem = new Date(BASE + ms).toISOString().slice(0, 23); // to the millisecond, then more digits
  return `${stem}${"7".repeat(MAX_OCCURRED_AT_LENGTH - stem.length - 1)}Z`;
}

/** Independent of itemBytes: the size of the item as the SDK marshals it (typed attribute values). */
function marshalledBytes(item: Record<string, unknown>): number {
  const size = (value: Record<string, unknown>): number => {
    const [[type, inner]] = Object.entries(value) as [[string, unknown]];
    if (type === "S") return Buffer.byteLength(inner as string);
    if (type === "N") return Math.ceil((inner as string).replace(/^-|\./g, "").length / 2) + 1;
    if (type === "BOOL" || type === "NULL") return 1;
    if (type === "M") {
      return Object.entries(inner as Record<string, Record<string, unknown>>).reduce(
        (sum, [name, element]) => sum + 1 + Buffer.byteLength(name) + size(element),
        3,
      );
    }
    if (type === "L") return (inner as Record<string, unknown>[]).reduce((sum, e) => sum + 1 + size(e), 3);
    throw new Error(`Unexpected attribute type ${type}`);
  };
  const typed = marshall(item, { removeUndefinedValues: true }) as unknown as Record<
    string,
    Record<string, unknown>
  >;
  return Object.entries(typed).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + size(value), 0);
}

interface Step {
  bytes: number;
  state: EntityState;
  change: PendingChange;
  chunks: Divergence[][];
}

/** Applies events in order as applyStateChange would, measuring the item each write would store. */
function* applyAll(events: NormalizedDocument[]): Generator<Step> {
  let state: EntityState | undefined;
  const now = new Date(BASE);
  const apply = applyWithLog();
  for (const doc of events) {
    const outcome = apply(state, doc, { priority: PRIORITY[doc.vendorId] ?? 10 });
    if (!outcome.changed) continue;
    const { change, chunks } = placeDivergences({
      entity: entityOf(doc),
      version: outcome.item.version,
      ingestId: doc.ingestId,
      event: doc,
      mappingVersion: "v".repeat(32),
      priority: PRIORITY[doc.vendorId] ?? 10,
      appliedAt: now.toISOString(),
      divergences: outcome.divergences,
    });
    const next = { state: outcome.item, change, changePosition: formatPosition(0) };
    assertStateFits(next, now);
    state = outcome.item;
    yield { bytes: stateItemBytes(next, now), state, change, chunks };
  }
}

/** Snapshots alternating between two vendors, 100 ms apart and all different: every one conflicts. */
function snapshotStorm(count: number, warehouseId: string, sku: string): NormalizedDocument[] {
  return Array.from({ length: count }, (_, i) =>
    inventoryUpdated(
      i,
      {
        vendorId: VENDORS[i % 2] as string,
        externalEventId: wide(LONGEST, String(i).padStart(6, "0")),
        occurredAt: longOccurredAt(i * 100),
      },
      warehouseId,
      sku,
    ),
  );
}

describe("the size of a canonical state item", () => {
  it("counts an item as DynamoDB does: the same as the marshalled item's typed attributes", () => {
    // prepare
    const item = { pk: "a#b", n: 123456789, big: -9007199254740991, m: { x: [1, "\u4e2d", true, null] } };

    // act and assess
    expect(itemBytes(item)).toBe(marshalledBytes(item));
  });

  it("keeps the largest inventory item the rules allow under 400 KB: a window of the longest ids, a storm of conflicts", () => {
    // prepare: 600 snapshots within a minute, each conflicting with every snapshot of the other vendor
    const events = snapshotStorm(600, wide(LONGEST), wide(LONGEST));

    // act
    let largest: Step | undefined;
    let last: Step | undefined;
    let spilled = 0;
    for (const step of applyAll(events)) {
      if (!largest || step.bytes > largest.bytes) largest = step;
      if (step.chunks.length > 0) spilled++;
      last = step;
    }

    // assess
    const { bytes, change } = largest as Step;
    const fold = ((last as Step).state as InventoryState).fold;
    expect(bytes).toBeLessThanOrEqual(MAX_STATE_ITEM_BYTES);
    expect(bytes).toBeLessThan(DYNAMODB_ITEM_LIMIT_BYTES);
    expect(valueBytes(fold.entries)).toBeLessThanOrEqual(DEFAULT_STATE_RULES.maxFoldBytes);
    expect(valueBytes(change.divergences)).toBeLessThanOrEqual(INLINE_DIVERGENCE_BYTES);
    // Without the byte budget the window would take 135 KB; it keeps fewer, longer events, up to the budget.
    expect(fold.entries.length).toBeLessThan(DEFAULT_STATE_RULES.maxEntries);
    const oneEntry = 1 + valueBytes(fold.entries[0]);
    expect(valueBytes(fold.entries)).toBeGreaterThan(DEFAULT_STATE_RULES.maxFoldBytes - oneEntry);
    // Hundreds of conflicts per snapshot (2 MB and more): written as chunks, not kept on the item.
    expect(spilled).toBeGreaterThan(500);
  });

  it("folds the oldest events into the base once the kept ones take more than maxFoldBytes, the quantity unchanged", () => {
    // prepare
    const rules = { maxFoldBytes: 4_000 };
    const deltas = Array.from({ length: 40 }, (_, i) =>
      inventoryAdjusted(
        i + 1,
        { externalEventId: `adj-${i}`, occurredAt: longOccurredAt(i * 1000) },
        "W",
        "S",
      ),
    );

    // act
    let state: InventoryState | undefined;
    for (const doc of deltas) state = applyEvent(state, doc, { priority: 10, rules }).item as InventoryState;
    const final = state as InventoryState;

    // assess
    expect(final.quantityOnHand).toBe((40 * 41) / 2);
    expect(valueBytes(final.fold.entries)).toBeLessThanOrEqual(rules.maxFoldBytes);
    expect(final.fold.entries.length).toBeLessThan(40);
    expect(final.fold.base.through?.externalEventId).toBe(`adj-${39 - final.fold.entries.length}`);
    expect(final.version).toBe(40);
  });

  it("puts every divergence of a change in a chunk under DynamoDB's limit, and each divergence in a Divergence item under it", () => {
    // prepare
    const events = snapshotStorm(120, wide(LONGEST), wide(LONGEST));
    const lines = Array.from({ length: MAX_ORDER_LINES }, (_, i) => ({
      sku: wide(LONGEST, String(i).padStart(4, "0")),
      quantity: 9_007_199_254_740_991,
    }));
    const orderId = wide(LONGEST);
    const meta = (n: number, vendor = 0) => ({
      vendorId: VENDORS[vendor] as string,
      externalEventId: wide(LONGEST, String(n)),
      occurredAt: longOccurredAt(n * 60_000),
    });
    // Status events after DELIVERED, then a late CANCELED: each is a divergence naming the order
    // as it was, with all its lines.
    const order = [
      orderCreated(orderId, lines, meta(0), wide(LONGEST)),
      orderStatusChanged(orderId, "DELIVERED", meta(10)),
      ...Array.from({ length: 6 }, (_, n) => orderStatusChanged(orderId, "SHIPPED", meta(11 + n, n % 2))),
      orderStatusChanged(orderId, "CANCELED", meta(20)),
    ];

    // act
    const steps = [...applyAll(events), ...applyAll(order)];
    const chunks = steps.flatMap((step) => step.chunks);
    const divergences = chunks.flat();
    // The largest divergences of each entity type, as Divergence items (formatting is slow).
    const largest = (type: string) =>
      divergences
        .filter((d) => d.entity.type === type)
        .sort((a, b) => valueBytes(b) - valueBytes(a))
        .slice(0, 2);
    const divergenceItems = [...largest("inventory"), ...largest("order")].map((divergence) =>
      itemBytes(
        divergenceEntity({ table: "size" })
          .create(divergenceItem(divergence, new Date(BASE)))
          .params().Item as Record<string, unknown>,
      ),
    );

    // assess
    expect(chunks.length).toBeGreaterThan(0);
    for (const chunk of chunks) expect(valueBytes(chunk)).toBeLessThanOrEqual(DIVERGENCE_CHUNK_BYTES);
    expect(divergenceItems).toHaveLength(4);
    expect(Math.max(...divergenceItems)).toBeLessThan(DYNAMODB_ITEM_LIMIT_BYTES);
    for (const step of steps) expect(step.bytes).toBeLessThanOrEqual(MAX_STATE_ITEM_BYTES);
  });

  it("refuses the event that would take an order past one item, as ENTITY_TOO_LARGE naming the order", () => {
    // prepare: orders keep all their events; a vendor resending the largest OrderCreated
    const lines = Array.from({ length: MAX_ORDER_LINES }, (_, i) => ({
      sku: wide(LONGEST, String(i).padStart(4, "0")),
      quantity: 1,
    }));
    const orderId = wide(LONGEST);
    const resent = Array.from({ length: 10 }, (_, n) =>
      orderCreated(
        orderId,
        lines,
        {
          vendorId: VENDORS[0] as string,
          externalEventId: wide(LONGEST, String(n)),
          occurredAt: longOccurredAt(n),
        },
        wide(LONGEST),
      ),
    );

    // act
    const accepted: number[] = [];
    let refused: unknown;
    try {
      for (const step of applyAll(resent)) accepted.push(step.bytes);
    } catch (error) {
      refused = error;
    }

    // assess: a real order's history is far smaller; this one fits a few times over, then is refused
    expect(accepted.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...accepted)).toBeLessThanOrEqual(MAX_STATE_ITEM_BYTES);
    expect(refused).toBeInstanceOf(EntityTooLargeError);
    expect(refused).toMatchObject({
      code: "ENTITY_TOO_LARGE",
      details: [{ path: "entity", message: `order ${orderId}` }],
    });
  });
});

describe("a change whose divergences do not fit on its item, against the stores", () => {
  let stores: Awaited<ReturnType<typeof startTestStores>>;

  beforeAll(async () => {
    stores = await startTestStores("state-size-test");
  });

  afterAll(() => stores?.close());

  const options = (doc: NormalizedDocument) => ({
    vendorPriority: PRIORITY[doc.vendorId] ?? 10,
    mappingVersion: "1",
  });

  /** The divergences recorded for an event, read from the Divergence table's ingestId index. */
  async function recordedFor(ingestId: string): Promise<number> {
    const { data } = await stores.entities.divergences.query.byIngestId({ ingestId }).go({ pages: "all" });
    return data.length;
  }

  it("records every divergence from its chunks, the item keeping none inline, even after a crash before the feed entry", async () => {
    // prepare: each later snapshot conflicts with every earlier one of the other vendor
    const events = snapshotStorm(24, wide(LONGEST, "W1"), wide(LONGEST));
    for (const event of events.slice(0, -1)) await applyStateChange(stores.entities, event, options(event));
    const last = events.at(-1) as NormalizedDocument;
    let crashed = false;
    const crashing = {
      ...stores.entities,
      divergences: new Proxy(stores.entities.divergences, {
        get(target, property, receiver) {
          if (property !== "create" || crashed) return Reflect.get(target, property, receiver);
          crashed = true;
          return () => ({
            go: async () => {
              throw new Error("process died");
            },
          });
        },
      }),
    };

    // act
    const first = await applyStateChange(crashing, last, options(last)).catch((error: Error) => error);
    const stored = await readState(stores.entities, stateKeyOf(last));
    const again = await applyStateChange(stores.entities, last, options(last));

    // assess
    expect(first).toBeInstanceOf(Error);
    expect(stored?.change.ingestId).toBe(last.ingestId);
    expect(stored?.change.divergences).toEqual([]);
    expect(stored?.change.divergenceChunks).toBeGreaterThan(0);
    expect(again.outcome).toBe("ALREADY_APPLIED");
    expect(await recordedFor(last.ingestId)).toBe(12);
    const { data: chunks } = await stores.entities.pendingDivergences.query
      .change({ entityType: "inventory", entityKey: entityOf(last).key })
      .go({ pages: "all" });
    expect(chunks.filter((chunk) => chunk.ingestId === last.ingestId)).toHaveLength(
      stored?.change.divergenceChunks as number,
    );
  });

  it("refuses an order too large for one item before taking a feed position or writing anything", async () => {
    // prepare
    const lines = Array.from({ length: MAX_ORDER_LINES }, (_, i) => ({
      sku: wide(LONGEST, String(i)),
      quantity: 1,
    }));
    const orderId = wide(LONGEST, "O2");
    const created = (n: number) =>
      orderCreated(
        orderId,
        lines,
        {
          vendorId: VENDORS[0] as string,
          externalEventId: wide(LONGEST, `c${n}`),
          occurredAt: longOccurredAt(n),
        },
        wide(LONGEST),
      );
    const feedHead = async () =>
      (await stores.entities.outboxSequence.get({ sequenceOf: "feed#0" }).go({ consistent: true })).data
        ?.position;

    // act: the vendor sends it again and again
    let refused: unknown;
    let before: Awaited<ReturnType<typeof readState>>;
    let headBefore: number | undefined;
    for (let n = 0; refused === undefined && n < 10; n++) {
      const doc = created(n);
      before = await readState(stores.entities, stateKeyOf(doc));
      headBefore = await feedHead();
      refused = await applyStateChange(stores.entities, doc, options(doc)).then(
        () => undefined,
        (error: unknown) => error,
      );
    }

    // assess
    expect(refused).toBeInstanceOf(EntityTooLargeError);
    expect(before?.state.version).toBeGreaterThanOrEqual(2);
    expect((await readState(stores.entities, { type: "order", orderId }))?.state.version).toBe(
      before?.state.version,
    );
    expect(await feedHead()).toBe(headBefore);
  });
});
