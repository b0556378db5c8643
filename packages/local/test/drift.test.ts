import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { listDrift } from "@dvss/core/ops/drift";
import { afterEach, describe, expect, it } from "vitest";
import { localClients } from "../src/clients.ts";
import { driftedEnvelope, vendorsWithVendorD } from "./drift-vendor.ts";
import { type Harness, seedEnvelope, startHarness } from "./harness.ts";

let dvss: Harness | undefined;
afterEach(async () => {
  await dvss?.close();
  dvss = undefined;
  delete process.env.DVSS_DRIFT_WRITE_INTERVAL_MS;
});

async function postDrifted(harness: Harness, events: number) {
  const statuses: number[] = [];
  for (let i = 1; i <= events; i++) {
    statuses.push((await harness.post(driftedEnvelope(i), { "x-api-key": "local-vendorD-key" })).status);
  }
  await harness.runtime.stepFunctions.drain();
  return statuses;
}

describe("drift: a vendor that changes its format is seen before it breaks, once per change", () => {
  it("20 events with a new field, a number as text and a new status word make exactly three findings", async () => {
    dvss = await startHarness({ vendorsDir: vendorsWithVendorD() });

    const statuses = await postDrifted(dvss, 20);
    const records = await dvss.records();
    const { findings } = await listDrift({ entities: dvss.entities } as never, { vendorId: "vendorD" });

    expect(statuses).toEqual(Array(20).fill(202));
    // Drift never changes an event's fate: the ten with a known word normalize, the ten others fail.
    const byStatus = records.filter((r) => r.vendorId === "vendorD").map((r) => r.status);
    expect(byStatus.filter((s) => s === "NORMALIZED")).toHaveLength(10);
    expect(byStatus.filter((s) => s === "FAILED_NORMALIZE")).toHaveLength(10);
    expect(
      findings.map(({ kind, path, severity, eventType, version }) => ({
        kind,
        path,
        severity,
        eventType,
        version,
      })),
    ).toEqual([
      { kind: "new_value", path: "state", severity: "breaking", eventType: "order_state", version: "1" },
      expect.objectContaining({ kind: expect.any(String), severity: "non_breaking" }),
      expect.objectContaining({ kind: expect.any(String), severity: "non_breaking" }),
    ]);
    expect(
      findings
        .slice(1)
        .map((f) => `${f.kind} ${f.path}`)
        .sort(),
    ).toEqual(["type_widened line_count", "undeclared_field gift_wrap"]);
    const breaking = findings[0];
    expect(breaking).toMatchObject({
      expected: 'one of "acknowledged", "dispatched", "delivered", "cancelled" (mapping and examples)',
      seen: 'string "returned"',
    });
    const quarantined = records.filter((r) => r.status === "FAILED_NORMALIZE").map((r) => r.ingestId);
    expect(quarantined).toContain(breaking?.exampleIngestId);
  });

  it("a field a strict schema refuses is a breaking finding at that field", async () => {
    dvss = await startHarness();

    const response = await dvss.post({
      ...seedEnvelope,
      externalEventId: "drift-strict",
      payload: { ...seedEnvelope.payload, bin: "A-7" },
    });
    await dvss.runtime.stepFunctions.drain();
    const { findings } = await listDrift({ entities: dvss.entities } as never, { vendorId: "vendorA" });

    expect(findings).toEqual([
      expect.objectContaining({
        eventType: "inventory_update",
        kind: "undeclared_field",
        path: "bin",
        severity: "breaking",
        seen: 'string "A-7"',
        exampleIngestId: response.body.ingestId,
      }),
    ]);
  });

  it("counts every event exactly when each event writes (DVSS_DRIFT_WRITE_INTERVAL_MS=0)", async () => {
    process.env.DVSS_DRIFT_WRITE_INTERVAL_MS = "0";
    dvss = await startHarness({ vendorsDir: vendorsWithVendorD() });

    await postDrifted(dvss, 20);
    const { findings } = await listDrift({ entities: dvss.entities } as never, { vendorId: "vendorD" });

    expect(Object.fromEntries(findings.map((f) => [`${f.kind} ${f.path}`, f.count]))).toEqual({
      "new_value state": 10,
      "type_widened line_count": 20,
      "undeclared_field gift_wrap": 20,
    });
  });

  it("a drift store that fails is logged and swallowed: the event normalizes as it would have", async () => {
    dvss = await startHarness({ vendorsDir: vendorsWithVendorD() });
    const { dynamodb } = localClients(dvss.endpoints);
    await dynamodb.send(new DeleteTableCommand({ TableName: dvss.endpoints.tables.Divergence }));
    dynamodb.destroy();

    const [status] = await postDrifted(dvss, 1);
    const [record] = await dvss.records();

    expect(status).toBe(202);
    expect(record).toMatchObject({ externalEventId: "drift-1", status: "NORMALIZED" });
  });
});
