import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lambdaContext, loadHandler } from "../src/lambda.ts";
import { type Harness, seedEnvelope, startHarness, vendorsWith } from "./harness.ts";

// The tested vendor definitions plus vendorT, whose mapping takes 100 off every quantity: its
// example (150) passes, a smaller quantity makes an invalid standard event (below 0).
const vendorsDir = vendorsWith({
  vendorId: "vendorT",
  name: "Broken mapping",
  mapping:
    '{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.warehouse, "sku": payload.sku, "quantityOnHand": payload.qty - 100}}',
  example: {
    payload: { sku: "ABC-001", qty: 150, warehouse: "ROA" },
    data: { warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 50 },
  },
});

let dvss: Harness;
beforeAll(async () => {
  dvss = await startHarness({ vendorsDir, transientFaults: { Map: 1 } });
});
afterAll(async () => {
  await dvss?.close();
});

const keyOf = (vendorId: string) => ({ "x-api-key": `local-${vendorId}-key` });

async function postAndSettle(envelope: Record<string, unknown>) {
  const response = await dvss.post(envelope, keyOf(String(envelope.vendorId)));
  expect(response.status).toBe(202);
  await dvss.runtime.stepFunctions.drain();
  const event = await dvss.request("GET", `/v1/events/${response.body.ingestId}`, {
    headers: keyOf(String(envelope.vendorId)),
  });
  return { ingestId: response.body.ingestId as string, event: event.body };
}

async function normalizedKeys(): Promise<string[]> {
  const listing = await dvss.s3.send(
    new ListObjectsV2Command({ Bucket: dvss.endpoints.buckets.NormalizedBucket }),
  );
  return (listing.Contents ?? []).map((object) => object.Key ?? "");
}

describe("the normalize workflow", () => {
  it("normalizes the seed example into the contract's normalized document (after retrying a transient fault)", async () => {
    const { ingestId, event } = await postAndSettle({ ...seedEnvelope, externalEventId: "seed-1" });

    expect(event.status).toBe("NORMALIZED");
    expect(event.normalizedRef.key).toMatch(
      new RegExp(`^normalized/InventoryUpdated/\\d{4}/\\d{2}/\\d{2}/${ingestId}\\.json$`),
    );
    const document = JSON.parse(
      (await dvss.object(event.normalizedRef.bucket, event.normalizedRef.key)).toString(),
    );
    expect(document).toEqual({
      ingestId,
      vendorId: "vendorA",
      externalEventId: "seed-1",
      eventType: "InventoryUpdated",
      schemaVersion: "1.0",
      occurredAt: "2026-01-30T20:15:12Z",
      data: { warehouseId: "ROA", sku: "ABC-001", quantityOnHand: 12 },
      rawRef: event.rawRef,
    });
    const history = await dvss.runtime.stepFunctions.describeExecution(
      `arn:aws:states:us-east-1:000000000000:execution:dvss-local-Normalize:${ingestId}`,
    );
    expect(history.status).toBe("SUCCEEDED");
    expect(history.history.some((h) => h.type === "TaskStateRetried" && h.details.name === "Map")).toBe(true);
  });

  // The bundled ones the runtime was started with (vendorT's own example aside).
  const goldenExamples = readdirSync(vendorsDir, { recursive: true, encoding: "utf8" })
    .filter((path) => path.endsWith(".input.json") && !path.startsWith("vendorT"))
    .map((path) => join(vendorsDir, path));

  it.each(goldenExamples.map((path) => [path.slice(vendorsDir.length + 1), path]))(
    "normalizes the golden example %s through the API",
    async (_name, inputPath) => {
      const input = JSON.parse(readFileSync(String(inputPath), "utf8"));
      const expected = JSON.parse(
        readFileSync(String(inputPath).replace(".input.json", ".expected.json"), "utf8"),
      );
      const envelope = { ...input, externalEventId: `golden-${input.externalEventId}-${Math.random()}` };

      const { ingestId, event } = await postAndSettle(envelope);

      expect(event.status).toBe("NORMALIZED");
      const document = JSON.parse(
        (await dvss.object(event.normalizedRef.bucket, event.normalizedRef.key)).toString(),
      );
      expect(document).toEqual({
        ...expected,
        externalEventId: envelope.externalEventId,
        ingestId,
        rawRef: event.rawRef,
      });
    },
  );

  it("quarantines a payload that breaks the vendor schema, naming the field, and writes nothing normalized", async () => {
    const before = await normalizedKeys();

    const { ingestId, event } = await postAndSettle({
      ...seedEnvelope,
      externalEventId: "bad-schema-1",
      payload: { sku: "ABC-001", qty: "twelve", warehouse: "ROA" },
    });

    expect(event.status).toBe("FAILED_NORMALIZE");
    expect(event.error.code).toBe("SCHEMA_VALIDATION_FAILED");
    const { data: entry } = await dvss.entities.quarantine.get({ ingestId }).go();
    expect(entry).toMatchObject({
      stage: "Validate",
      reason: "SCHEMA_VALIDATION_FAILED",
      errorName: "SchemaValidationError",
      status: "open",
      rawKey: event.rawRef.key,
    });
    expect(entry?.details?.some((detail) => detail.path?.includes("qty"))).toBe(true);
    expect(await normalizedKeys()).toEqual(before);
  });

  it("resolves the quarantine entry when a failed event later ends NORMALIZED", async () => {
    const { ingestId, event } = await postAndSettle({
      ...seedEnvelope,
      externalEventId: "resolve-1",
      payload: { sku: "ABC-001", qty: -1, warehouse: "ROA" },
    });
    const updateStatus = await loadHandler("packages/functions/src/tasks/update-status.handler");

    await updateStatus(
      {
        ingestId,
        vendorId: "vendorA",
        externalEventId: "resolve-1",
        rawRef: event.rawRef,
        outcome: "NORMALIZED",
        normalized: {
          normalizedRef: {
            bucket: dvss.endpoints.buckets.NormalizedBucket,
            key: `normalized/x/${ingestId}.json`,
          },
          standardEventType: "InventoryUpdated",
          mappingVersion: "1",
        },
      },
      lambdaContext("UpdateStatusTask"),
    );

    const { data: entry } = await dvss.entities.quarantine.get({ ingestId }).go();
    expect(entry?.status).toBe("resolved");
    const resolved = await dvss.entities.quarantine.query.byStatus({ status: "resolved" }).go();
    const open = await dvss.entities.quarantine.query.byStatus({ status: "open" }).go();
    expect(resolved.data.map((item) => item.ingestId)).toContain(ingestId);
    expect(open.data.map((item) => item.ingestId)).not.toContain(ingestId);
  });

  it("marks the record NORMALIZED in ApplyState, and names the stage UpdateStatus when it cannot", async () => {
    const { ingestId, event } = await postAndSettle({ ...seedEnvelope, externalEventId: "marked-1" });
    const execution = await dvss.runtime.stepFunctions.describeExecution(
      `arn:aws:states:us-east-1:000000000000:execution:dvss-local-Normalize:${ingestId}`,
    );
    const state = JSON.parse(execution.output ?? "{}");
    const applyState = await loadHandler("packages/functions/src/tasks/apply-state.handler");

    // The same event under a record key that does not exist: the state is already applied, the
    // record cannot be marked.
    const failure = await applyState(
      { ...state, externalEventId: "no-such-record" },
      lambdaContext("ApplyStateTask"),
    ).catch((error: Error) => error);

    expect(event.status).toBe("NORMALIZED");
    expect(state.applied).toMatchObject({ outcome: "APPLIED" });
    expect(failure).toBeInstanceOf(Error);
    expect(JSON.parse((failure as Error).message)).toMatchObject({
      code: "MISSING_RECORD",
      stage: "UpdateStatus",
    });
  });

  it("quarantines an unknown schemaVersion", async () => {
    const { ingestId, event } = await postAndSettle({
      ...seedEnvelope,
      externalEventId: "bad-version-1",
      schemaVersion: "99",
    });

    expect(event.status).toBe("FAILED_NORMALIZE");
    const { data: entry } = await dvss.entities.quarantine.get({ ingestId }).go();
    expect(entry).toMatchObject({ stage: "Validate", reason: "UNKNOWN_SCHEMA_VERSION" });
    expect(entry?.message).toContain("99");
  });

  it("quarantines a mapping whose output breaks the standard event schema", async () => {
    const before = await normalizedKeys();

    const { ingestId, event } = await postAndSettle({
      ...seedEnvelope,
      vendorId: "vendorT",
      externalEventId: "bad-map-1",
    });

    expect(event.status).toBe("FAILED_NORMALIZE");
    const { data: entry } = await dvss.entities.quarantine.get({ ingestId }).go();
    expect(entry).toMatchObject({ stage: "Map", reason: "MAPPING_FAILED", errorName: "MappingError" });
    expect(entry?.details?.some((detail) => detail.path?.includes("quantityOnHand"))).toBe(true);
    expect(await normalizedKeys()).toEqual(before);
  });

  it.each(["9007199254740993", "1e125", "1e308"])(
    "quarantines qty %s at Map as MAPPING_FAILED naming the field, once, without retrying it as a store failure",
    async (qty) => {
      const externalEventId = `huge-qty-${qty}`;
      const body = JSON.stringify({ ...seedEnvelope, externalEventId }).replace('"qty":12', `"qty":${qty}`);
      const response = await dvss.post(body);
      expect(response.status).toBe(202);
      await dvss.runtime.stepFunctions.drain();
      const { ingestId } = response.body;

      const { data: entry } = await dvss.entities.quarantine.get({ ingestId }).go();
      expect(entry).toMatchObject({ stage: "Map", reason: "MAPPING_FAILED", errorName: "MappingError" });
      expect(entry?.details).toContainEqual({
        path: "data.quantityOnHand",
        message: "must be between -9007199254740991 and 9007199254740991",
      });
      const { data: record } = await dvss.entities.ingestRecords
        .get({ vendorId: "vendorA", externalEventId })
        .go();
      expect(record).toMatchObject({ status: "FAILED_NORMALIZE", attempts: 1 });
    },
  );

  it("changes nothing when a finished execution's input runs again (replay)", async () => {
    const { ingestId, event } = await postAndSettle({ ...seedEnvelope, externalEventId: "replay-1" });
    const original = await dvss.object(event.normalizedRef.bucket, event.normalizedRef.key);
    const { data: recordBefore } = await dvss.entities.ingestRecords
      .get({ vendorId: "vendorA", externalEventId: "replay-1" })
      .go();

    await dvss.rerun(ingestId);

    expect(await dvss.object(event.normalizedRef.bucket, event.normalizedRef.key)).toEqual(original);
    const { data: recordAfter } = await dvss.entities.ingestRecords
      .get({ vendorId: "vendorA", externalEventId: "replay-1" })
      .go();
    expect({ ...recordAfter, updatedAt: undefined }).toEqual({ ...recordBefore, updatedAt: undefined });
  });

  it("lets the reconciler start an event whose StartExecution failed", async () => {
    const { resetAwsClients } = await import("@dvss/functions/lib/aws");
    const sfnEndpoint = process.env.AWS_ENDPOINT_URL_SFN;
    process.env.AWS_ENDPOINT_URL_SFN = "http://127.0.0.1:9";
    resetAwsClients();
    let ingestId: string;
    try {
      ingestId = (await dvss.post({ ...seedEnvelope, externalEventId: "stuck-1" })).body.ingestId;
    } finally {
      process.env.AWS_ENDPOINT_URL_SFN = sfnEndpoint;
      resetAwsClients();
    }
    process.env.DVSS_RECONCILE_AFTER_SECONDS = "0";
    const reconcile = await loadHandler("packages/functions/src/reconciler.handler");

    const report = await reconcile({}, lambdaContext("Reconciler"));
    await dvss.runtime.stepFunctions.drain();

    expect(report.restarted).toContain(ingestId);
    const event = await dvss.request("GET", `/v1/events/${ingestId}`, { headers: keyOf("vendorA") });
    expect(event.body.status).toBe("NORMALIZED");
    const { data: record } = await dvss.entities.ingestRecords
      .get({ vendorId: "vendorA", externalEventId: "stuck-1" })
      .go();
    // Ingest's refused start was no execution: the reconciler's run is attempt 1, under its name.
    expect(record?.attempts).toBe(1);
    expect(record?.pendingShard).toBeUndefined();
    const execution = await dvss.runtime.stepFunctions.describeExecution(
      `arn:aws:states:us-east-1:000000000000:execution:dvss-local-Normalize:${ingestId}`,
    );
    expect(execution.status).toBe("SUCCEEDED");
  });
});
