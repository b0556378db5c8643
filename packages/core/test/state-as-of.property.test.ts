import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Entities } from "../src/entities/index.ts";
import { applyStateChange } from "../src/state/apply.ts";
import { getInventoryStateAsOf } from "../src/state/history.ts";
import { getInventoryState } from "../src/state/read.ts";
import type { InventoryDocument } from "../src/state/types.ts";
import { inventoryAdjusted, inventoryUpdated } from "./state-events.ts";
import { startTestStores } from "./stores.ts";

const PRIORITIES: Record<string, number> = { vendorA: 10, vendorB: 20 };
const BASE = Date.UTC(2026, 0, 30, 0, 0, 0);
const DAY_SECONDS = 24 * 60 * 60;
// A small window, so that most late events sort into the item's base and are folded from the log.
const RULES = { watermarkMs: 60 * 60 * 1000, maxEntries: 3 };

let stores: Awaited<ReturnType<typeof startTestStores>>;
let entities: Entities;

beforeAll(async () => {
  stores = await startTestStores("state-as-of-property");
  entities = stores.entities;
});

afterAll(() => stores?.close());

const spec = fc.record({
  vendorId: fc.constantFrom("vendorA", "vendorB"),
  // Over four days, on whole minutes so that ties at one instant happen.
  seconds: fc.integer({ min: 0, max: 4 * 24 * 60 }).map((minutes) => minutes * 60),
  snapshot: fc.boolean(),
  quantity: fc.integer({ min: 0, max: 50 }),
  delta: fc.integer({ min: -10, max: 10 }),
});
const history = fc
  .uniqueArray(fc.tuple(spec, fc.integer({ min: 1, max: 1_000_000 })), {
    minLength: 1,
    maxLength: 12,
    selector: ([, id]) => id,
  })
  .chain((specs) =>
    fc.tuple(
      fc.constant(specs),
      // Arrival order: any permutation, so events arrive days after later ones.
      fc.shuffledSubarray(specs, { minLength: specs.length, maxLength: specs.length }),
      fc.array(fc.integer({ min: -3600, max: 4 * DAY_SECONDS + 3600 }), { minLength: 3, maxLength: 3 }),
    ),
  );

/** The fold order of docs/spec/canonical-state.md, written out: instant, then the preferred event last. */
function inFoldOrder(events: InventoryDocument[]): InventoryDocument[] {
  return [...events].sort(
    (a, b) =>
      Date.parse(a.occurredAt) - Date.parse(b.occurredAt) ||
      (PRIORITIES[b.vendorId] as number) - (PRIORITIES[a.vendorId] as number) ||
      (a.externalEventId < b.externalEventId ? 1 : a.externalEventId > b.externalEventId ? -1 : 0),
  );
}

let entityCount = 0;

describe("the state as of any time", () => {
  it("is the fold of the events with occurredAt at or before it, whatever order and delay they arrived with", async () => {
    await fc.assert(
      fc.asyncProperty(history, async ([specs, arrival, instants]) => {
        const warehouseId = `P${++entityCount}`;
        const build = ([s, id]: (typeof specs)[number]) => {
          const meta = {
            vendorId: s.vendorId,
            externalEventId: `e-${id}`,
            occurredAt: new Date(BASE + s.seconds * 1000).toISOString(),
          };
          return s.snapshot
            ? inventoryUpdated(s.quantity, meta, warehouseId)
            : inventoryAdjusted(s.delta, meta, warehouseId);
        };
        const byId = new Map(specs.map((entry) => [entry[1], build(entry)]));
        const events = [...byId.values()];
        for (const [, id] of arrival) {
          const event = byId.get(id) as InventoryDocument;
          await applyStateChange(entities, event, {
            vendorPriority: PRIORITIES[event.vendorId] as number,
            mappingVersion: "1",
            rules: RULES,
          });
        }

        const sorted = inFoldOrder(events);
        const current = await getInventoryState(entities, warehouseId, "ABC-001");
        expect(current.version).toBe(events.length);
        expect(current.quantityOnHand).toBe(fold(sorted));
        for (const seconds of instants) {
          const instant = new Date(BASE + seconds * 1000).toISOString();
          const known = sorted.filter((event) => Date.parse(event.occurredAt) <= Date.parse(instant));
          const asOf = getInventoryStateAsOf(entities, warehouseId, "ABC-001", instant);
          if (known.length === 0) {
            await expect(asOf).rejects.toMatchObject({ code: "NOT_FOUND" });
            continue;
          }
          expect(await asOf).toEqual({
            warehouseId,
            sku: "ABC-001",
            quantityOnHand: fold(known),
            asOf: known.at(-1)?.occurredAt,
            version: known.length,
            lastIngestId: known.at(-1)?.ingestId,
            sourceVendorId: known.at(-1)?.vendorId,
            ingestIds: known.map((event) => event.ingestId),
          });
        }
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});

function fold(events: InventoryDocument[]): number {
  let quantity = 0;
  for (const event of events) {
    quantity =
      event.eventType === "InventoryUpdated"
        ? event.data.quantityOnHand
        : quantity + event.data.quantityDelta;
  }
  return quantity;
}
