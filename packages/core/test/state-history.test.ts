import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Entities } from "../src/entities/index.ts";
import type { NormalizedDocument } from "../src/normalized.ts";
import { applyStateChange } from "../src/state/apply.ts";
import { getInventoryState } from "../src/state/read.ts";
import { at, inventoryAdjusted, inventoryUpdated } from "./state-events.ts";
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
    await applyAll([...sorted.history.slice(0, 3), sorted.dayTwo, ...sorted.history.slice(3)]);

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
