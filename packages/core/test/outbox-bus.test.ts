import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type AttributeValue, ScanCommand } from "@aws-sdk/client-dynamodb";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  OUTBOX_BUS_DETAIL,
  OUTBOX_BUS_EVENT,
  OUTBOX_PIPE_FILTER,
  outboxBusTemplate,
} from "../src/outbox-bus.ts";
import { applyStateChange } from "../src/state/apply.ts";
import { readFeed, takePosition } from "../src/state/feed.ts";
import { at, inventoryAdjusted, inventoryUpdated, orderCreated, orderStatusChanged } from "./state-events.ts";
import { startTestStores } from "./stores.ts";

/** A DynamoDB stream record of an insert, as EventBridge Pipes filters and transforms it. */
interface StreamRecord {
  eventName: "INSERT";
  dynamodb: { NewImage: Record<string, AttributeValue> };
}

/**
 * EventBridge pattern matching, for what OUTBOX_PIPE_FILTER uses: an array lists the values a
 * field may have, an object matches the field's own fields; a field the record lacks never matches.
 */
function matches(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.some((allowed) => allowed === value);
  if (typeof pattern !== "object" || pattern === null) return false;
  if (typeof value !== "object" || value === null) return false;
  return Object.entries(pattern).every(([key, sub]) =>
    Object.hasOwn(value, key) ? matches(sub, (value as Record<string, unknown>)[key]) : false,
  );
}

/** Resolves `$.a.b.c` in the record; undefined when any step is missing. */
function resolvePath(record: unknown, path: string): unknown {
  return path
    .replace(/^\$\./, "")
    .split(".")
    .reduce<unknown>(
      (value, key) =>
        typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined,
      record,
    );
}

/** The bus event detail EventBridge Pipes makes of a record with the template (quoted string paths). */
function render(template: string, record: StreamRecord): unknown {
  const rendered = template.replace(/"<(\$\.[^>]+)>"/g, (_, path: string) => {
    const value = resolvePath(record, path);
    if (typeof value !== "string") throw new Error(`${path} is not a string in ${JSON.stringify(record)}`);
    return JSON.stringify(value);
  });
  return JSON.parse(rendered);
}

let stores: Awaited<ReturnType<typeof startTestStores>>;

beforeAll(async () => {
  stores = await startTestStores("outbox-bus-test");
});

afterAll(() => stores?.close());

async function outboxRecords(): Promise<StreamRecord[]> {
  const { Items = [] } = await stores.dynamodb.send(new ScanCommand({ TableName: stores.tables.Outbox }));
  return Items.map((item) => ({ eventName: "INSERT", dynamodb: { NewImage: item } }));
}

const options = { vendorPriority: 10, mappingVersion: "1" };

describe("the outbox pipe's filter and template over the items the Outbox table holds", () => {
  it("forwards every change entry and nothing else: gaps and the feed counter stay out", async () => {
    // prepare: changes, the counter (written with the first position) and a gap
    await applyStateChange(stores.entities, inventoryUpdated(12, { occurredAt: at(0) }), options);
    await applyStateChange(stores.entities, inventoryAdjusted(-2, { occurredAt: at(1) }), options);
    await applyStateChange(
      stores.entities,
      orderCreated("o-1", [{ sku: "A", quantity: 1 }], { occurredAt: at(0) }),
      options,
    );
    await takePosition(stores.entities, new Date());
    await readFeed(stores.entities, { limit: 500, gapGraceMs: 0 });

    // act
    const records = await outboxRecords();
    const forwarded = records.filter((record) => matches(OUTBOX_PIPE_FILTER, record));

    // assess
    const kinds = records.map((record) => record.dynamodb.NewImage.kind?.S ?? "counter").sort();
    expect(kinds).toEqual(["change", "change", "change", "counter", "gap"]);
    expect(forwarded.map((record) => record.dynamodb.NewImage.kind?.S)).toEqual([
      "change",
      "change",
      "change",
    ]);
  });

  it("announces each change as its feed item: position, entity, version, the event without its data, and the new state", async () => {
    // prepare
    const snapshot = inventoryUpdated(40, { occurredAt: at(10) }, "W9", 'S"K\\U');
    const status = orderStatusChanged("o-9", "SHIPPED", { occurredAt: at(10) });
    const created = orderCreated("o-9", [{ sku: "A", quantity: 3 }], { occurredAt: at(9) });
    const applied = [
      await applyStateChange(stores.entities, snapshot, options),
      await applyStateChange(
        stores.entities,
        inventoryAdjusted(5, { occurredAt: at(11) }, "W9", 'S"K\\U'),
        options,
      ),
      await applyStateChange(stores.entities, status, options),
      await applyStateChange(stores.entities, created, options),
    ];

    // act
    const details = (await outboxRecords())
      .filter((record) => matches(OUTBOX_PIPE_FILTER, record))
      .map((record) => render(outboxBusTemplate(), record) as Record<string, unknown>);

    // assess
    const byCursor = new Map(details.map((detail) => [detail.cursor, detail]));
    expect(applied.map((result) => byCursor.get(result.cursor))).toEqual([
      {
        cursor: applied[0]?.cursor,
        entity: { type: "inventory", key: 'W9#S"K\\U' },
        version: "1",
        event: {
          ingestId: snapshot.ingestId,
          vendorId: snapshot.vendorId,
          externalEventId: snapshot.externalEventId,
          eventType: "InventoryUpdated",
          occurredAt: snapshot.occurredAt,
        },
        state: "40",
      },
      expect.objectContaining({
        version: "2",
        event: expect.objectContaining({ eventType: "InventoryAdjusted" }),
        state: "45",
      }),
      expect.objectContaining({ entity: { type: "order", key: "o-9" }, version: "1", state: "SHIPPED" }),
      expect.objectContaining({
        version: "2",
        event: expect.objectContaining({ ingestId: created.ingestId, eventType: "OrderCreated" }),
        state: "SHIPPED",
      }),
    ]);
    for (const detail of details)
      expect(Object.keys(detail).sort()).toEqual(Object.keys(OUTBOX_BUS_DETAIL).sort());
  });

  it("publishes events that the published schema (schemas/bus) accepts, for every kind of change", async () => {
    // prepare: one change of each standard event type, written by the state code
    const changes = [
      inventoryUpdated(7, { occurredAt: at(30) }, "W7", "SKU-7"),
      inventoryAdjusted(-2, { occurredAt: at(31) }, "W7", "SKU-7"),
      orderCreated("o-7", [{ sku: "SKU-7", quantity: 2 }], { occurredAt: at(30) }),
      orderStatusChanged("o-7", "DELIVERED", { occurredAt: at(32) }),
    ];
    const cursors = new Set<string>();
    for (const change of changes)
      cursors.add(String((await applyStateChange(stores.entities, change, options)).cursor));
    const schema = JSON.parse(
      readFileSync(join(import.meta.dirname, "../../../schemas/bus/dvss.state.changed.schema.json"), "utf8"),
    ) as object;
    const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

    // act: the event EventBridge delivers to a rule's target, around the pipe's detail
    const events = (await outboxRecords())
      .filter((record) => matches(OUTBOX_PIPE_FILTER, record))
      .filter((record) => cursors.has(String(record.dynamodb.NewImage.position?.S)))
      .map((record) => ({
        version: "0",
        id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": OUTBOX_BUS_EVENT.detailType,
        source: OUTBOX_BUS_EVENT.source,
        account: "111122223333",
        time: "2026-01-30T20:15:13Z",
        region: "us-east-1",
        resources: [],
        detail: render(outboxBusTemplate(), record),
      }));

    // assess
    expect(
      events.map((event) => (event.detail as { event: { eventType: string } }).event.eventType).sort(),
    ).toEqual(["InventoryAdjusted", "InventoryUpdated", "OrderCreated", "OrderStatusChanged"]);
    for (const event of events) expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
    const [first] = events;
    expect(validate({ ...first, detail: { ...(first?.detail as object), version: "03" } })).toBe(false);
    expect(validate({ ...first, source: "dvss.outbox" })).toBe(false);
  });

  it("describes the cursor as the position within the change's shard, a feed cursor only with one shard", () => {
    const schema = JSON.parse(
      readFileSync(join(import.meta.dirname, "../../../schemas/bus/dvss.state.changed.schema.json"), "utf8"),
    );
    const description: string =
      JSON.stringify(schema).match(/"cursor":\{"type":"string","description":"([^"]*)"/)?.[1] ?? "";

    expect(description).toContain("position within its entity's feed shard");
    expect(description).toContain("with more shards it is not a feed cursor");
    expect(description).not.toMatch(/^The change's feed position: pass it as `after`/);
  });

  it("keeps the bus event small whatever the size of the change's document", async () => {
    // prepare: an order as large as the standard events allow
    const lines = Array.from({ length: 100 }, (_, i) => ({
      sku: `${"\u4e2d".repeat(250)}${String(i).padStart(6, "0")}`,
      quantity: 1,
    }));
    const big = orderCreated("\u4e2d".repeat(256), lines, { occurredAt: at(20) }, "\u4e2d".repeat(256));
    const result = await applyStateChange(stores.entities, big, options);

    // act
    const record = (await outboxRecords()).find(
      (r) => r.dynamodb.NewImage.position?.S === result.cursor,
    ) as StreamRecord;
    const detail = JSON.stringify(render(outboxBusTemplate(), record));

    // assess: the entry holds the whole document; the bus event only ids (PutEvents takes 256 KB)
    expect(Buffer.byteLength(JSON.stringify(record.dynamodb.NewImage))).toBeGreaterThan(50_000);
    expect(Buffer.byteLength(detail)).toBeLessThan(4_096);
  });
});
