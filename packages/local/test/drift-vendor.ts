import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bundledVendors } from "./harness.ts";

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
