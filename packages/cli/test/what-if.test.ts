import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "@dvss/local/lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir, vendorsWith, writeInventoryVersion } from "../../local/test/harness.ts";
import { bufferIo } from "../src/io.ts";
import { runCli } from "../src/main.ts";
import { type CliHarness, startCliHarness } from "./harness.ts";

/*
 * A candidate that changes one field (the SKU, upper-cased) is tried with what-if, then published
 * and replayed for real in the same runtime: what-if must name exactly the entities whose state
 * the replay changes, with the states the replay leaves.
 */
const CURRENT = `{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.site, "sku": payload.item, "quantityOnHand": payload.units}}`;
const CANDIDATE = `{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.site, "sku": $uppercase(payload.item), "quantityOnHand": payload.units}}`;

const stock = (
  externalEventId: string,
  item: string,
  units: unknown,
  occurredAt: string,
  schemaVersion?: string,
) => ({
  vendorId: "vendorW",
  externalEventId,
  eventType: "inventory_update",
  occurredAt,
  ...(schemaVersion && { schemaVersion }),
  payload: { site: "ROA", item, units },
});

// Every entity the events name now or with the candidate.
const SKUS = ["W-1", "w-1", "W-2", "w-2", "W-3", "w-5", "W-5"];

let dvss: CliHarness;
let candidateDir: string;

beforeAll(async () => {
  const example = {
    payload: { site: "ROA", item: "w-9", units: 1 },
    data: { warehouseId: "ROA", sku: "W-9", quantityOnHand: 1 },
  };
  dvss = await startCliHarness({
    vendorsDir: vendorsWith({
      vendorId: "vendorW",
      name: "Vendor W",
      mapping: CURRENT,
      example: { ...example, data: { ...example.data, sku: "w-9" } },
    }),
  });
  candidateDir = writeInventoryVersion(tempDir("dvss-what-if-"), "vendorW", "2", CANDIDATE, example);
  for (const envelope of [
    stock("w-e1", "W-1", 5, "2026-01-30T20:00:00Z"),
    stock("w-e2", "w-2", 3, "2026-01-30T20:00:00Z"),
    // Text units: MAPPING_FAILED now and with the candidate.
    stock("w-e3", "W-3", "7", "2026-01-30T20:00:00Z"),
    stock("w-e4", "W-1", 9, "2026-01-30T21:00:00Z"),
    // Names version 1: a publish of version 2 does not change how it maps.
    stock("w-e5", "w-5", 4, "2026-01-30T20:00:00Z", "1"),
    // Between W-1's two snapshots: with the candidate it joins W-1, where it cannot change the
    // quantity (a later snapshot follows) but counts (version + 1).
    stock("w-e7", "w-1", 20, "2026-01-30T20:30:00Z"),
    // Days after W-1's other events: they fold into the item's base, so w-e7 joins W-1 from its log.
    stock("w-e9", "W-1", 11, "2026-02-02T09:00:00Z"),
  ]) {
    await dvss.postAndSettle(envelope);
  }
}, 60_000);
afterAll(async () => {
  await dvss?.close();
});

async function states(): Promise<Map<string, unknown>> {
  const found = new Map<string, unknown>();
  for (const sku of SKUS) {
    const response = await dvss.request("GET", `/v1/state/inventory/ROA/${sku}`, {
      headers: { authorization: "Bearer local-consumer-key" },
    });
    if (response.status === 200) found.set(`ROA#${sku}`, response.body);
  }
  return found;
}

async function stored() {
  const records = (await dvss.records()).map(({ ingestId, status, normalizedKey, attempts }) => ({
    ingestId,
    status,
    normalizedKey,
    attempts,
  }));
  return { records, states: await states() };
}

describe("dvss mapping what-if", () => {
  it("prints the three lists as tables and limits the window to --from/--to (before any publish)", async () => {
    const run = await dvss.cli("mapping", "what-if", candidateDir);
    expect(run.stdout).toContain(
      "What-if vendorW/inventory_update/2: 7 event(s) of vendorW inventory_update",
    );
    expect(run.stdout).toMatch(
      /Would fail\n.*\n\S+\s+w-e3\s+MAPPING_FAILED\s+MAPPING_FAILED\s+data\.quantityOnHand/,
    );
    expect(run.stdout).toMatch(/w-e2\s+changed\s+data\.sku: "w-2" → "W-2"/);
    expect(run.stdout).toMatch(/inventory ROA#W-1\s+11 → 11\s+3 → 4\n/);
    expect(run.stdout).toMatch(/inventory ROA#W-2\s+\(none\) → 3\s+0 → 1\n/);

    // On a terminal, a progress bar on stderr, cleared at the end; stdout is the same report.
    const io = bufferIo({ env: dvss.env, cwd: REPO_ROOT, errIsTTY: true });
    expect(await runCli(["mapping", "what-if", candidateDir], io)).toBe(1);
    expect(io.stderr()).toContain("what-if [");
    expect(io.stderr()).toContain("7/7");
    expect(io.stdout()).toContain("7 event(s) of vendorW inventory_update");

    const empty = await dvss.cli(
      "mapping",
      "what-if",
      candidateDir,
      "--to",
      "2020-01-01T00:00:00Z",
      "--json",
    );
    expect(empty.code).toBe(0);
    expect(empty.json().counts.events).toBe(0);
    expect(
      (
        await dvss.cli(
          "mapping",
          "what-if",
          candidateDir,
          "--from",
          "2030-01-01T00:00:00Z",
          "--to",
          "2020-01-01T00:00:00Z",
        )
      ).code,
    ).toBe(2);
  });

  it("a changed document on the entity it was applied to leaves the state: applied already", async () => {
    const plusOne = `{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.site, "sku": payload.item, "quantityOnHand": payload.units + 1}}`;
    const example = {
      payload: { site: "ROA", item: "w-9", units: 1 },
      data: { warehouseId: "ROA", sku: "w-9", quantityOnHand: 2 },
    };
    const dir = writeInventoryVersion(tempDir("dvss-what-if-"), "vendorW", "3", plusOne, example);

    const report = (await dvss.cli("mapping", "what-if", dir, "--json")).json();

    expect(report.counts).toMatchObject({ events: 7, changed: 5, wouldFail: 1, otherVersion: 1, states: 0 });
    expect(report.states).toEqual([]);
    for (const item of report.documents) {
      expect(item.appliedAlready).toBe(true);
      expect(item.fields).toEqual([
        { path: "data.quantityOnHand", now: expect.any(Number), after: expect.any(Number) },
      ]);
    }
    // "7" + 1: JSONata refuses to add text.
    expect(report.wouldFail).toEqual([
      expect.objectContaining({ externalEventId: "w-e3", code: "MAPPING_FAILED" }),
    ]);
  });

  it("an event that fails now and maps with the candidate is a new document and a new state", async () => {
    const numbers = `{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.site, "sku": payload.item, "quantityOnHand": $number(payload.units)}}`;
    const example = {
      payload: { site: "ROA", item: "w-9", units: "1" },
      data: { warehouseId: "ROA", sku: "w-9", quantityOnHand: 1 },
    };
    const dir = writeInventoryVersion(tempDir("dvss-what-if-"), "vendorW", "4", numbers, example);

    const run = await dvss.cli("mapping", "what-if", dir, "--json");

    expect(run.code).toBe(0);
    const report = run.json();
    expect(report.counts).toMatchObject({ events: 7, unchanged: 5, new: 1, wouldFail: 0, states: 1 });
    expect(report.documents).toEqual([
      expect.objectContaining({
        externalEventId: "w-e3",
        change: "new",
        now: { status: "FAILED_NORMALIZE", code: "MAPPING_FAILED" },
        fields: [
          { path: "eventType", after: "InventoryUpdated" },
          { path: "data", after: { warehouseId: "ROA", sku: "W-3", quantityOnHand: 7 } },
        ],
        appliedAlready: false,
      }),
    ]);
    expect(report.states).toEqual([
      expect.objectContaining({
        entity: { type: "inventory", key: "ROA#W-3" },
        now: null,
        after: expect.objectContaining({ quantityOnHand: 7, version: 1, sourceVendorId: "vendorW" }),
      }),
    ]);
  });

  it("predicts what publish + replay changes: failures, documents and exactly the states, writing nothing", async () => {
    const before = await stored();

    const run = await dvss.cli("mapping", "what-if", candidateDir, "--json");

    expect(run.code).toBe(1); // w-e3 would fail
    const report = run.json();
    expect(await stored()).toEqual(before);
    expect(report.candidate).toBe("vendorW/inventory_update/2");
    expect(report.publish).toEqual({ examples: { total: 1, failed: 0 } });
    expect(report.counts).toEqual({
      events: 7,
      unchanged: 3,
      changed: 2,
      new: 0,
      wouldFail: 1,
      otherVersion: 1,
      orphans: 0,
      states: 2,
    });
    expect(report.wouldFail).toEqual([
      expect.objectContaining({
        externalEventId: "w-e3",
        now: { status: "FAILED_NORMALIZE", code: "MAPPING_FAILED" },
        code: "MAPPING_FAILED",
        fields: ["data.quantityOnHand"],
      }),
    ]);
    expect(
      report.documents.map(
        (item: { externalEventId: string; change: string; fields: unknown; appliedAlready: boolean }) => [
          item.externalEventId,
          item.change,
          item.fields,
          item.appliedAlready,
        ],
      ),
    ).toEqual([
      ["w-e2", "changed", [{ path: "data.sku", now: "w-2", after: "W-2" }], false],
      ["w-e7", "changed", [{ path: "data.sku", now: "w-1", after: "W-1" }], false],
    ]);
    expect(report.states.map((item: { entity: { key: string } }) => item.entity.key)).toEqual([
      "ROA#W-1",
      "ROA#W-2",
    ]);
    const [w1, w2] = report.states;
    expect([w1.now.quantityOnHand, w1.now.version, w1.after.quantityOnHand, w1.after.version]).toEqual([
      11, 3, 11, 4,
    ]);
    expect(w2.now).toBeNull();
    expect(w2.fields).toContainEqual({ path: "quantityOnHand", after: 3 });
    expect([w2.after.quantityOnHand, w2.after.version]).toEqual([3, 1]);

    // The real thing, in the same runtime.
    expect((await dvss.cli("mapping", "publish", candidateDir)).code).toBe(0);
    const replay = await dvss.cli(
      "replay",
      "--vendor",
      "vendorW",
      "--event-type",
      "inventory_update",
      "--json",
    );
    expect(replay.json().counts).toEqual({ unchanged: 4, changed: 2, quarantined: 1 });
    const after = await states();

    const changed = [...after.keys()].filter(
      (key) => JSON.stringify(after.get(key)) !== JSON.stringify(before.states.get(key)),
    );
    expect(changed.sort()).toEqual(report.states.map((item: { entity: { key: string } }) => item.entity.key));
    for (const item of report.states) expect(after.get(item.entity.key)).toEqual(item.after);
  }, 60_000);

  it("predicts an order's state as publish + replay leaves it", async () => {
    const status = {
      vendorId: "vendorA",
      externalEventId: "wf-sts-1",
      eventType: "order_status",
      occurredAt: "2026-01-30T22:00:00Z",
      payload: { orderId: "wf-so-1", status: "shipped" },
    };
    await dvss.postAndSettle({
      ...status,
      externalEventId: "wf-ord-1",
      eventType: "order_created",
      occurredAt: "2026-01-30T21:00:00Z",
      payload: { orderId: "wf-so-1", lines: [{ sku: "W-1", qty: 2 }] },
    });
    await dvss.postAndSettle(status);
    // Candidate: order ids upper-cased; the status event moves to an order that has no OrderCreated.
    const dir = join(tempDir("dvss-what-if-"), "vendorA", "order_status", "2");
    mkdirSync(join(dir, "examples"), { recursive: true });
    cpSync(
      join(REPO_ROOT, "schemas/vendors/vendorA/order_status/1/payload.schema.json"),
      join(dir, "payload.schema.json"),
    );
    writeFileSync(
      join(dir, "mapping.jsonata"),
      `{"eventType": "OrderStatusChanged", "data": {"orderId": $uppercase(payload.orderId), "status": $uppercase(payload.status)}}`,
    );
    writeFileSync(join(dir, "examples/one.input.json"), JSON.stringify(status));
    const { payload: _payload, ...rest } = status;
    writeFileSync(
      join(dir, "examples/one.expected.json"),
      JSON.stringify({
        ...rest,
        eventType: "OrderStatusChanged",
        schemaVersion: "1.0",
        data: { orderId: "WF-SO-1", status: "SHIPPED" },
      }),
    );
    const order = async (orderId: string) =>
      (
        await dvss.request("GET", `/v1/state/orders/${orderId}`, {
          headers: { authorization: "Bearer local-consumer-key" },
        })
      ).body;
    const before = await order("wf-so-1");

    const report = (await dvss.cli("mapping", "what-if", dir, "--json")).json();

    expect(report.states).toEqual([
      expect.objectContaining({
        entity: { type: "order", key: "WF-SO-1" },
        now: null,
        after: expect.objectContaining({ orderId: "WF-SO-1", status: "SHIPPED", lines: [], version: 1 }),
      }),
    ]);
    expect((await dvss.cli("mapping", "publish", dir)).code).toBe(0);
    expect((await dvss.cli("replay", "--vendor", "vendorA", "--event-type", "order_status")).code).toBe(0);
    expect(await order("WF-SO-1")).toEqual(report.states[0].after);
    expect(await order("wf-so-1")).toEqual(before);
  }, 60_000);

  it("says when publish would refuse the candidate: a failing example, a version taken by other content", async () => {
    const example = {
      payload: { site: "ROA", item: "w-9", units: 1 },
      data: { warehouseId: "ROA", sku: "w-9", quantityOnHand: 1 },
    };
    // The example expects the SKU as it was; the candidate upper-cases it.
    const failing = writeInventoryVersion(tempDir("dvss-what-if-"), "vendorW", "6", CANDIDATE, example);
    const taken = writeInventoryVersion(tempDir("dvss-what-if-"), "vendorW", "1", CANDIDATE, {
      ...example,
      data: { ...example.data, sku: "W-9" },
    });

    const [failingRun, takenRun] = [
      await dvss.cli("mapping", "what-if", failing),
      await dvss.cli("mapping", "what-if", taken, "--json"),
    ];

    expect(failingRun.code).toBe(1);
    expect(failingRun.stdout).toContain("Publish would be refused: 1 of 1 example(s) fail");
    expect(takenRun.code).toBe(1);
    expect(takenRun.json().publish).toEqual({
      examples: { total: 1, failed: 0 },
      refusal: expect.stringContaining(
        "vendorW/inventory_update/1 exists with other content (MAPPING_VERSION_CONFLICT)",
      ),
    });
  });

  it("refuses a folder that is not a version folder, does not exist or does not compile", async () => {
    expect((await dvss.cli("mapping", "what-if", tempDir("dvss-what-if-none-"))).code).toBe(2);
    expect((await dvss.cli("mapping", "what-if", "/nonexistent/vendorW/inventory_update/3")).code).toBe(3);
    const example = { payload: {}, data: {} };
    const broken = writeInventoryVersion(tempDir("dvss-what-if-"), "vendorW", "5", '{"eventType": ', example);
    const run = await dvss.cli("mapping", "what-if", broken, "--json");
    expect(run.code).toBe(1);
    expect(run.json().error.code).toBe("INVALID_VENDOR_DEFINITION");
  });
});
