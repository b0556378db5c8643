import type { LocalEndpoints } from "@dvss/local/runtime";
import type { RecordReader } from "./records.ts";

export interface HotEntityResult {
  events: number;
  connections: number;
  normalized: number;
  failed: number;
  stillReceived: number;
  /** NORMALIZED events of the entity per second, first accepted to last normalized. */
  normalizedPerSecond: number;
  /** The state's quantity against the fold of the accepted events (snapshot + every delta). */
  quantity: { expected: number; actual: number | undefined };
  version: number | undefined;
}

/**
 * Every event on one warehouse/sku, posted `connections` at a time: a snapshot, then adjustments
 * after it. Measures whether contention on one item is waited out (all NORMALIZED, the state is
 * the fold) and how fast one entity can go.
 */
export async function measureHotEntity(
  endpoints: LocalEndpoints,
  records: RecordReader,
  prefix: string,
  options: { events: number; connections: number; apiKey: string; drainTimeoutMs: number },
): Promise<HotEntityResult> {
  const sku = `HOT-${prefix}`;
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  const deltas = Array.from({ length: options.events - 1 }, (_, i) => (i % 3 === 2 ? -1 : 2));
  const bodies = [
    { eventType: "inventory_update", payload: { sku, qty: 100, warehouse: "HOT" } },
    ...deltas.map((delta) => ({
      eventType: "inventory_adjust",
      payload: { sku, qtyChange: delta, warehouse: "HOT" },
    })),
  ].map((event, n) =>
    JSON.stringify({
      vendorId: "vendorA",
      externalEventId: `${prefix}-${n}`,
      occurredAt: new Date(t0 + n * 1000).toISOString(),
      ...event,
    }),
  );
  let next = 0;
  await Promise.all(
    Array.from({ length: options.connections }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const response = await fetch(`${endpoints.api}/v1/events`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${options.apiKey}` },
          body,
        });
        if (response.status !== 202)
          throw new Error(`hot entity: ${response.status} ${await response.text()}`);
        await response.arrayBuffer().catch(() => undefined);
      }
    }),
  );
  await records.drain(options.drainTimeoutMs);
  const run = await records.endToEnd(prefix, Date.now());
  const state = await fetch(`${endpoints.api}/v1/state/inventory/HOT/${encodeURIComponent(sku)}`, {
    headers: { authorization: "Bearer local-consumer-key" },
  });
  const body =
    state.status === 200 ? ((await state.json()) as { quantityOnHand: number; version: number }) : undefined;
  return {
    events: options.events,
    connections: options.connections,
    normalized: run.normalized,
    failed: run.failed,
    stillReceived: run.stillReceived,
    normalizedPerSecond: run.normalizedPerSecond,
    quantity: { expected: 100 + deltas.reduce((sum, delta) => sum + delta, 0), actual: body?.quantityOnHand },
    version: body?.version,
  };
}
