import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Entities } from "../src/entities/index.ts";
import { DvssError, TRANSIENT_ERROR_NAMES } from "../src/errors.ts";
import type { NormalizedDocument } from "../src/normalized.ts";
import { applyStateChange } from "../src/state/apply.ts";
import { getInventoryState } from "../src/state/read.ts";
import { applyEvent, type EntityState } from "../src/state/rules.ts";
import { at, inventoryAdjusted, inventoryUpdated } from "./state-events.ts";
import { startTestStores } from "./stores.ts";

const MAX = Number.MAX_SAFE_INTEGER;

/** The state after `events` in this order, then what applying `last` throws. */
function failureOf(events: NormalizedDocument[], last: NormalizedDocument): unknown {
  let state: EntityState | undefined;
  for (const event of events) state = applyEvent(state, event, { priority: 10 }).item;
  try {
    applyEvent(state, last, { priority: 10 });
  } catch (error) {
    return error;
  }
  return undefined;
}

const outOfRange = {
  name: "QuantityOutOfRangeError",
  code: "QUANTITY_OUT_OF_RANGE",
  transience: "permanent",
  details: [{ path: "entity", message: "inventory ROA#ABC-001" }],
};

describe("an inventory quantity beyond ±(2^53−1)", () => {
  it("is refused by the rules with QUANTITY_OUT_OF_RANGE naming the entity, not retried", () => {
    const full = inventoryUpdated(MAX, { occurredAt: at(0) });
    const more = inventoryAdjusted(1, { occurredAt: at(1) });

    const failure = failureOf([full], more);

    expect(failure).toBeInstanceOf(DvssError);
    expect(failure).toMatchObject(outOfRange);
    expect((failure as Error).message).toContain(more.ingestId);
    expect(TRANSIENT_ERROR_NAMES).not.toContain((failure as Error).name);
  });

  it("is refused below -(2^53−1) too", () => {
    const failure = failureOf(
      [inventoryAdjusted(-MAX, { occurredAt: at(0) })],
      inventoryAdjusted(-MAX, { occurredAt: at(1) }),
    );

    expect(failure).toMatchObject(outOfRange);
  });

  it("is refused at any step of the fold, even when a later adjustment would bring it back in range", () => {
    // MAX, then +5 (arriving late, sorted before the -10): MAX+5 is not exact, so neither is MAX-5.
    const events = [
      inventoryUpdated(MAX, { occurredAt: at(0) }),
      inventoryAdjusted(-10, { occurredAt: at(3) }),
    ];

    const failure = failureOf(events, inventoryAdjusted(5, { occurredAt: at(2) }));

    expect(failure).toMatchObject(outOfRange);
  });

  it("applies the largest exact quantity", () => {
    const failure = failureOf(
      [inventoryUpdated(MAX - 1, { occurredAt: at(0) })],
      inventoryAdjusted(1, { occurredAt: at(1) }),
    );

    expect(failure).toBeUndefined();
  });
});

describe("applying a quantity beyond ±(2^53−1) to canonical state", () => {
  let stores: Awaited<ReturnType<typeof startTestStores>>;
  let entities: Entities;

  beforeAll(async () => {
    stores = await startTestStores("quantity-test");
    entities = stores.entities;
  });

  afterAll(() => stores?.close());

  it("fails QUANTITY_OUT_OF_RANGE before the write: the state keeps its quantity and version", async () => {
    const options = { vendorPriority: 10, mappingVersion: "1" };
    await applyStateChange(entities, inventoryUpdated(MAX, { occurredAt: at(0) }), options);

    const failure = await applyStateChange(
      entities,
      inventoryAdjusted(MAX, { occurredAt: at(1) }),
      options,
    ).catch((error: unknown) => error);

    expect(failure).toMatchObject(outOfRange);
    expect(await getInventoryState(entities, "ROA", "ABC-001")).toMatchObject({
      quantityOnHand: MAX,
      version: 1,
    });
  });
});
