import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { newIngestId } from "@dvss/core/ids";
import { rawKey } from "@dvss/core/keys";
import { REPO_ROOT } from "@dvss/local/lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedEnvelope, tempDir } from "../../local/test/harness.ts";
import { type CliHarness, startCliHarness } from "./harness.ts";

let dvss: CliHarness;
const startOfDay = new Date(new Date().toISOString().slice(0, 10)).toISOString();
const posted: { ingestId: string; externalEventId: string }[] = [];
let orphanKey = "";

beforeAll(async () => {
  dvss = await startCliHarness();
  const envelopes = [
    { ...seedEnvelope, externalEventId: "rp-inv-1", payload: { sku: "RP-1", qty: 5, warehouse: "ROA" } },
    {
      ...seedEnvelope,
      externalEventId: "rp-inv-2",
      occurredAt: "2026-01-30T21:00:00Z",
      payload: { sku: "RP-1", qty: 8, warehouse: "ROA" },
    },
    // No schemaVersion: follows the active version (see the dry-run test).
    {
      vendorId: "vendorA",
      externalEventId: "rp-inv-3",
      eventType: "inventory_update",
      occurredAt: "2026-01-30T22:00:00Z",
      payload: { sku: "RP-2", qty: 3, warehouse: "ROA" },
    },
    {
      vendorId: "vendorA",
      externalEventId: "rp-ord-1",
      eventType: "order_created",
      occurredAt: "2026-01-30T19:00:00Z",
      schemaVersion: "1",
      payload: { orderId: "RP-SO-1", warehouse: "ROA", lines: [{ sku: "RP-1", qty: 2 }] },
    },
  ];
  for (const envelope of envelopes) {
    posted.push({ ingestId: await dvss.postAndSettle(envelope), externalEventId: envelope.externalEventId });
  }
  // A raw object whose record write never happened (ingest lost a race or a store failed).
  const orphan = newIngestId();
  orphanKey = rawKey("vendorA", orphan);
  await dvss.s3.send(
    new PutObjectCommand({
      Bucket: dvss.endpoints.buckets.RawBucket,
      Key: orphanKey,
      Body: JSON.stringify({ ...seedEnvelope, externalEventId: "rp-orphan" }),
      // The raw bucket is under Object Lock: every write carries a checksum.
      ChecksumAlgorithm: "CRC32",
    }),
  );
});
afterAll(async () => {
  await dvss?.close();
});

async function normalizedBytes(): Promise<Map<string, Buffer>> {
  const bytes = new Map<string, Buffer>();
  for (const record of await dvss.records()) {
    if (record.normalizedKey && record.normalizedBucket) {
      bytes.set(record.ingestId, await dvss.object(record.normalizedBucket, record.normalizedKey));
    }
  }
  return bytes;
}

async function outboxPositions(): Promise<string[]> {
  const { data } = await dvss.entities.outboxEntries.scan.go({ pages: "all" });
  return data.map((entry) => `${entry.position}:${entry.kind}:${entry.ingestId ?? ""}`).sort();
}

const inventory = async (sku: string) =>
  (
    await dvss.request("GET", `/v1/state/inventory/ROA/${sku}`, {
      headers: { authorization: "Bearer local-consumer-key" },
    })
  ).body;

describe("dvss replay", () => {
  it("re-runs a window through the workflow: byte-identical documents, no new outbox items, state unchanged", async () => {
    const bytesBefore = await normalizedBytes();
    const outboxBefore = await outboxPositions();
    const stateBefore = await inventory("RP-1");

    const result = await dvss.cli("replay", "--vendor", "vendorA", "--from", startOfDay, "--json");
    const report = result.json();

    expect(result.code).toBe(0);
    expect(report.counts).toEqual({ unchanged: 4, skipped: 1 });
    expect(report.items.find((item: { rawKey: string }) => item.rawKey === orphanKey)).toMatchObject({
      result: "skipped",
      message: expect.stringContaining("orphan"),
    });
    for (const { ingestId } of posted) {
      expect(report.items).toContainEqual(
        expect.objectContaining({ ingestId, result: "unchanged", executionName: `${ingestId}-replay-2` }),
      );
    }
    expect(await normalizedBytes()).toEqual(bytesBefore);
    expect(outboxBefore.length).toBeGreaterThanOrEqual(posted.length);
    expect(await outboxPositions()).toEqual(outboxBefore);
    expect(await inventory("RP-1")).toEqual(stateBefore);
    expect(stateBefore).toMatchObject({ quantityOnHand: 8 });
    const records = await dvss.records();
    expect(
      records.filter((r) => posted.some((p) => p.ingestId === r.ingestId)).map((r) => r.attempts),
    ).toEqual([2, 2, 2, 2]);
  });

  it("narrows to one event type, the vendor's or the standard one, and to a window", async () => {
    const vendorType = (
      await dvss.cli("replay", "--vendor", "vendorA", "--event-type", "order_created", "--dry-run", "--json")
    ).json();
    const standardType = (
      await dvss.cli("replay", "--vendor", "vendorA", "--event-type", "OrderCreated", "--dry-run", "--json")
    ).json();
    const before = await dvss.cli(
      "replay",
      "--vendor",
      "vendorA",
      "--to",
      "2000-01-01T00:00:00Z",
      "--dry-run",
    );

    const orderId = posted.find((p) => p.externalEventId === "rp-ord-1")?.ingestId;
    expect(vendorType.items.map((item: { ingestId: string }) => item.ingestId)).toEqual([orderId]);
    expect(standardType.items.map((item: { ingestId: string }) => item.ingestId)).toEqual([orderId]);
    expect(before.code).toBe(0);
    expect(before.stdout).toContain("No events of vendorA");
  });

  it("dry-runs a new active version: shows which documents would change and how, and writes nothing", async () => {
    // vendorA inventory_update/2 adds 100 to every quantity; only the event without a schemaVersion follows it.
    const dir = join(tempDir("dvss-replay-"), "vendorA/inventory_update/2");
    const bundled = join(REPO_ROOT, "schemas/vendors/vendorA/inventory_update/1");
    mkdirSync(join(dir, "examples"), { recursive: true });
    writeFileSync(join(dir, "payload.schema.json"), readFileSync(join(bundled, "payload.schema.json")));
    writeFileSync(
      join(dir, "mapping.jsonata"),
      '{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.warehouse, "sku": payload.sku, "quantityOnHand": payload.qty + 100}}',
    );
    const example = readFileSync(join(bundled, "examples/zero-without-schema-version.input.json"));
    const expected = JSON.parse(
      readFileSync(join(bundled, "examples/zero-without-schema-version.expected.json"), "utf8"),
    );
    writeFileSync(join(dir, "examples/zero.input.json"), example);
    writeFileSync(
      join(dir, "examples/zero.expected.json"),
      JSON.stringify({ ...expected, data: { ...expected.data, quantityOnHand: 100 } }),
    );
    expect((await dvss.cli("mapping", "publish", dir)).code).toBe(0);
    const bytesBefore = await normalizedBytes();
    const follower = posted.find((p) => p.externalEventId === "rp-inv-3")?.ingestId;

    const result = await dvss.cli(
      "replay",
      "--vendor",
      "vendorA",
      "--from",
      startOfDay,
      "--dry-run",
      "--json",
    );
    const human = await dvss.cli("replay", "--vendor", "vendorA", "--from", startOfDay, "--dry-run");

    expect(result.code).toBe(0);
    expect(result.json().counts).toEqual({ unchanged: 3, changed: 1, skipped: 1 });
    expect(result.json().items).toContainEqual(
      expect.objectContaining({
        ingestId: follower,
        result: "changed",
        diff: ["data.quantityOnHand: expected 3, got 103"],
      }),
    );
    expect(human.stdout).toContain("data.quantityOnHand: expected 3, got 103");
    expect(human.stdout).toContain("Nothing was written.");
    expect(await normalizedBytes()).toEqual(bytesBefore);
  });

  it("refuses a window that ends before it starts (exit 2)", async () => {
    const result = await dvss.cli(
      "replay",
      "--vendor",
      "vendorA",
      "--from",
      "2026-02-01T00:00:00Z",
      "--to",
      "2026-01-01T00:00:00Z",
    );

    expect(result.code).toBe(2);
  });
});
