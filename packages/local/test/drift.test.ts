import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { listDrift } from "@dvss/core/ops/drift";
import { afterEach, describe, expect, it } from "vitest";
import { localClients } from "../src/clients.ts";
import { bundledVendors, type Harness, startHarness } from "./harness.ts";

/**
 * vendorD's order_state/1: a schema that lets unknown fields and a count written as text through
 * (as many vendors' schemas do), a mapping that translates four status words, and two golden
 * examples. Only the drift profile can see the vendor change its format.
 */
export function vendorsWithVendorD(): string {
  const vendorsDir = bundledVendors();
  const dir = join(vendorsDir, "vendorD", "order_state", "1");
  mkdirSync(join(dir, "examples"), { recursive: true });
  writeFileSync(
    join(vendorsDir, "vendorD", "vendor.json"),
    JSON.stringify({ vendorId: "vendorD", name: "Vendor D", priority: 60, rateLimitPerSecond: 1000 }),
  );
  writeFileSync(
    join(dir, "payload.schema.json"),
    JSON.stringify({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: {
        order_ref: { type: "string", minLength: 1, maxLength: 256 },
        state: { type: "string" },
        line_count: { type: ["integer", "string"] },
      },
      required: ["order_ref", "state"],
    }),
  );
  writeFileSync(
    join(dir, "mapping.jsonata"),
    `(
  $statuses := {"acknowledged": "ACKED", "dispatched": "SHIPPED", "delivered": "DELIVERED", "cancelled": "CANCELED"};
  {"eventType": "OrderStatusChanged", "data": {"orderId": payload.order_ref, "status": $lookup($statuses, payload.state)}}
)`,
  );
  const examples = [
    {
      name: "dispatched",
      payload: { order_ref: "D-1", state: "dispatched", line_count: 2 },
      status: "SHIPPED",
    },
    {
      name: "cancelled",
      payload: { order_ref: "D-2", state: "cancelled", line_count: 1 },
      status: "CANCELED",
    },
  ];
  for (const { name, payload, status } of examples) {
    const envelope = {
      vendorId: "vendorD",
      externalEventId: `example-${name}`,
      eventType: "order_state",
      occurredAt: "2026-01-30T20:15:12Z",
      payload,
    };
    writeFileSync(join(dir, `examples/${name}.input.json`), JSON.stringify(envelope));
    const { payload: _, eventType: __, ...rest } = envelope;
    writeFileSync(
      join(dir, `examples/${name}.expected.json`),
      JSON.stringify({
        ...rest,
        eventType: "OrderStatusChanged",
        schemaVersion: "1.0",
        data: { orderId: payload.order_ref, status },
      }),
    );
  }
  return vendorsDir;
}

/**
 * From event 1 on, vendorD sends a new field (gift_wrap) and line_count as text; from event 11 on
 * also a status word its mapping does not know ("returned"), which fails the mapping.
 */
export function driftedEnvelope(i: number) {
  return {
    vendorId: "vendorD",
    externalEventId: `drift-${i}`,
    eventType: "order_state",
    occurredAt: "2026-01-30T20:15:12Z",
    payload: {
      order_ref: `D-${100 + i}`,
      state: i > 10 ? "returned" : "dispatched",
      line_count: "3",
      gift_wrap: true,
    },
  };
}

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
