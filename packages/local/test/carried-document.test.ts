import { PutObjectCommand } from "@aws-sdk/client-s3";
import { newIngestId } from "@dvss/core/ids";
import { normalizedKey } from "@dvss/core/keys";
import { buildNormalizedDocument, normalizedBody } from "@dvss/core/normalized";
import { CARRIED_DOCUMENT_MAX_BYTES, type NormalizeState, type TaskInputs } from "@dvss/core/workflow";
import { readCallCounts } from "@dvss/local/call-counts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lambdaContext, loadHandler } from "../src/lambda.ts";
import { crosswalkWith, type Harness, seedEnvelope, startHarness, vendorsWith } from "./harness.ts";

/**
 * Map's result carries the normalized document when its JSON is at most
 * CARRIED_DOCUMENT_MAX_BYTES: Match and ApplyState fold that one and do not read back from the
 * normalized bucket what Map has just written there. A larger document, and the state of an
 * execution older code started (the reference only), are read from the bucket and apply the same.
 */

const consumer = { authorization: "Bearer local-consumer-key" };

/** vendorC names its products its own way and requires a crosswalk entry: Match reads the document. */
const vendorsWithVendorC = () =>
  vendorsWith({
    vendorId: "vendorC",
    name: "Vendor C (own keys)",
    mapping: `{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.site, "sku": payload.item, "quantityOnHand": payload.units}}`,
    example: {
      payload: { site: "ROA", item: "C-ABC", units: 5 },
      data: { warehouseId: "ROA", sku: "C-ABC", quantityOnHand: 5 },
    },
    match: { product: "required" },
  });

const crosswalkDir = () =>
  crosswalkWith("vendorC", [{ kind: "product", vendorKey: "C-ABC", canonicalId: "CARRIED-C" }]);

let dvss: Harness;
beforeAll(async () => {
  dvss = await startHarness({ vendorsDir: vendorsWithVendorC(), crosswalkDir: crosswalkDir() });
});
afterAll(async () => {
  await dvss?.close();
});

const normalizedGets = async () =>
  (await readCallCounts(dvss.endpoints.s3))[`GetObject ${dvss.endpoints.buckets.NormalizedBucket}`] ?? 0;

/** Posts an envelope, waits for the workflow, and answers the execution's final state and the normalized GETs it made. */
async function run(envelope: Record<string, unknown>, apiKey = "local-vendorA-key") {
  const before = await normalizedGets();
  const response = await dvss.post(envelope, { "x-api-key": apiKey });
  expect(response.body?.status).toBe("ACCEPTED");
  await dvss.runtime.stepFunctions.drain();
  const gets = (await normalizedGets()) - before;
  const execution = await dvss.runtime.stepFunctions.describeExecution(
    `arn:aws:states:us-east-1:000000000000:execution:dvss-local-Normalize:${response.body.ingestId}`,
  );
  const state = JSON.parse(execution.output ?? "{}") as NormalizeState;
  const { bucket, key } = state.normalized?.normalizedRef ?? { bucket: "", key: "" };
  const stored = JSON.parse((await dvss.object(bucket, key)).toString());
  const status = (await dvss.records()).find((record) => record.ingestId === response.body.ingestId)?.status;
  return { gets, state, stored, status, storedBytes: Buffer.byteLength(JSON.stringify(stored)) };
}

/** An order of `lines` lines, each of a 200-character sku: ~230 bytes of document a line. */
const order = (orderId: string, lines: number) => ({
  vendorId: "vendorA",
  externalEventId: orderId,
  eventType: "order_created",
  occurredAt: "2026-01-30T19:00:00Z",
  schemaVersion: "1",
  payload: {
    orderId,
    warehouse: "ROA",
    lines: Array.from({ length: lines }, (_, n) => ({
      sku: `${String(n).padStart(3, "0")}${"S".repeat(197)}`,
      qty: n + 1,
    })),
  },
});

async function orderState(orderId: string) {
  const response = await dvss.request("GET", `/v1/state/orders/${orderId}`, { headers: consumer });
  expect(response.status).toBe(200);
  return response.body as { lines: { sku: string; quantity: number }[] };
}

describe("the normalized document in the execution's state", () => {
  it("is carried when small, and ApplyState folds it without reading the normalized bucket", async () => {
    const { gets, state, stored, status } = await run({
      ...seedEnvelope,
      externalEventId: "carried-1",
      payload: { sku: "CARRIED-1", qty: 7, warehouse: "ROA" },
    });

    expect(state.normalized?.document).toEqual(stored);
    expect(status).toBe("NORMALIZED");
    expect(gets).toBe(0);
    const inventory = await dvss.request("GET", "/v1/state/inventory/ROA/CARRIED-1", { headers: consumer });
    expect(inventory.body).toMatchObject({ quantityOnHand: 7 });
  });

  it("is carried up to the bound, and read by reference above it: both orders apply all their lines", async () => {
    const within = await run(order("CARRIED-ORDER-30", 30));
    const above = await run(order("CARRIED-ORDER-40", 40));

    expect(within.storedBytes).toBeLessThanOrEqual(CARRIED_DOCUMENT_MAX_BYTES);
    expect(within.state.normalized?.document).toEqual(within.stored);
    expect(within.gets).toBe(0);
    expect(above.storedBytes).toBeGreaterThan(CARRIED_DOCUMENT_MAX_BYTES);
    expect(above.state.normalized).not.toHaveProperty("document");
    expect(above.gets).toBe(1);
    for (const [orderId, lines] of [
      ["CARRIED-ORDER-30", 30],
      ["CARRIED-ORDER-40", 40],
    ] as const) {
      const applied = await orderState(orderId);
      expect(applied.lines.map((line) => line.quantity)).toEqual(
        Array.from({ length: lines }, (_, n) => n + 1),
      );
    }
  });

  it("is what Match resolves too: a vendor with crosswalk entries reads nothing from the normalized bucket", async () => {
    const { gets, state, status } = await run(
      {
        vendorId: "vendorC",
        externalEventId: "carried-c-1",
        eventType: "inventory_update",
        occurredAt: "2026-01-30T19:00:00Z",
        schemaVersion: "1",
        payload: { site: "ROA", item: "C-ABC", units: 9 },
      },
      "local-vendorC-key",
    );

    expect(state.match?.matched.length).toBeGreaterThan(0);
    expect(status).toBe("NORMALIZED");
    expect(gets).toBe(0);
    const inventory = await dvss.request("GET", "/v1/state/inventory/ROA/CARRIED-C", { headers: consumer });
    expect(inventory.body).toMatchObject({ quantityOnHand: 9 });
  });

  it("is read from the normalized bucket when the state has only its reference, as an older execution's has", async () => {
    // What Map of older code left: the object in the bucket, its reference in the state.
    const ingestId = newIngestId();
    const document = buildNormalizedDocument({
      ingestId,
      envelope: { vendorId: "vendorA", externalEventId: "older-1", occurredAt: "2026-01-30T19:00:00Z" },
      standardEventType: "InventoryUpdated",
      data: { warehouseId: "ROA", sku: "OLDER-1", quantityOnHand: 4 },
      rawRef: { bucket: dvss.endpoints.buckets.RawBucket, key: `raw/vendorA/older/${ingestId}.json` },
    });
    const normalizedRef = {
      bucket: dvss.endpoints.buckets.NormalizedBucket,
      key: normalizedKey(document.eventType, ingestId),
    };
    await dvss.s3.send(
      new PutObjectCommand({
        Bucket: normalizedRef.bucket,
        Key: normalizedRef.key,
        Body: normalizedBody(document),
      }),
    );
    const state: TaskInputs["ApplyState"] = {
      ingestId,
      vendorId: "vendorA",
      externalEventId: "older-1",
      rawRef: document.rawRef,
      normalized: { normalizedRef, standardEventType: document.eventType, mappingVersion: "1" },
      match: { matched: [] },
    };
    await dvss.entities.ingestRecords
      .create({
        vendorId: "vendorA",
        externalEventId: "older-1",
        ingestId,
        eventType: "inventory_update",
        occurredAt: document.occurredAt,
        receivedAt: new Date().toISOString(),
        rawBucket: document.rawRef.bucket,
        rawKey: document.rawRef.key,
        payloadSha256: "0".repeat(64),
        status: "RECEIVED",
      })
      .go();
    const applyState = await loadHandler("packages/functions/src/tasks/apply-state.handler");
    const before = await normalizedGets();

    const result = await applyState(state, lambdaContext("ApplyStateTask"));

    expect(result).toMatchObject({ outcome: "APPLIED", version: 1 });
    const { data: record } = await dvss.entities.ingestRecords
      .get({ vendorId: "vendorA", externalEventId: "older-1" })
      .go();
    expect(record?.status).toBe("NORMALIZED");
    expect((await normalizedGets()) - before).toBe(1);
    const inventory = await dvss.request("GET", "/v1/state/inventory/ROA/OLDER-1", { headers: consumer });
    expect(inventory.body).toMatchObject({ quantityOnHand: 4, lastIngestId: ingestId });
  });
});
