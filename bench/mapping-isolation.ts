/**
 * `node bench/mapping-isolation.ts`: what evaluating mappings in an evaluator process costs per
 * event, against evaluating them on the calling thread as before (the same JSONata expression and
 * standard event check, in process). Wall-clock microseconds per mapping, one at a time and
 * 8 in flight, on vendorA's seed inventory update and on an order of 100 lines (~5 KiB, the most a standard order holds).
 * BENCH_ITERATIONS (default 5,000) per round; the median of 5 rounds is printed.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Envelope, parseEnvelope } from "@dvss/core/envelope";
import { compileMappingVersion, DEFAULT_MAPPING_LIMITS } from "@dvss/core/mapping/compile";
import { createExpression } from "@dvss/core/mapping/evaluator";
import { createFileSystemSource } from "@dvss/core/mapping/fs-source";
import { closeSharedMappingPool } from "@dvss/core/mapping/isolation";
import { validateStandardEvent } from "@dvss/core/standard-events";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 5_000);
const source = createFileSystemSource(join(REPO_ROOT, "schemas/vendors"));

async function cases() {
  const seed = parseEnvelope(
    readFileSync(join(REPO_ROOT, "schemas/vendors/vendorA/inventory_update/1/examples/seed.input.json")),
  );
  const order: Envelope = {
    vendorId: "vendorA",
    externalEventId: "bench-order",
    eventType: "order_created",
    occurredAt: "2026-01-30T19:00:00Z",
    schemaVersion: "1",
    payload: {
      orderId: "SO-BENCH",
      warehouse: "ROA",
      lines: Array.from({ length: 100 }, (_, i) => ({
        sku: `SKU-${String(i).padStart(5, "0")}`,
        qty: 1 + (i % 9),
      })),
    },
  };
  return [
    { name: "seed inventory update", envelope: seed },
    { name: "order of 100 lines", envelope: order },
  ];
}

/** Median wall-clock microseconds per call over 5 rounds, `inFlight` calls at a time. */
async function microsPerCall(call: () => Promise<unknown>, inFlight: number): Promise<number> {
  for (let i = 0; i < 500; i++) await call();
  const rounds: number[] = [];
  for (let round = 0; round < 5; round++) {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next++ < ITERATIONS) await call();
      }),
    );
    rounds.push(((performance.now() - started) / ITERATIONS) * 1000);
  }
  rounds.sort((a, b) => a - b);
  return Math.round((rounds[2] as number) * 10) / 10;
}

const rows: Record<string, number | string>[] = [];
for (const { name, envelope } of await cases()) {
  const definition = await source.loadMappingVersion(envelope.vendorId, envelope.eventType, "1");
  if (!definition) throw new Error(`no definition for ${name}`);
  const compiled = compileMappingVersion(definition);
  // As map() evaluated before: the expression on the calling thread, then the standard event check.
  const expression = createExpression(definition.mapping, DEFAULT_MAPPING_LIMITS);
  const inProcess = async () => {
    const output = (await expression.evaluate(envelope)) as { eventType: unknown; data: unknown };
    return validateStandardEvent(output.eventType, output.data);
  };
  const isolated = () => compiled.map(envelope);
  const same = JSON.stringify((await inProcess()).data) === JSON.stringify((await isolated()).data);
  if (!same) throw new Error(`${name}: the two paths disagree`);
  for (const inFlight of [1, 8]) {
    const before = await microsPerCall(inProcess, inFlight);
    const after = await microsPerCall(isolated, inFlight);
    rows.push({
      event: name,
      inFlight,
      inProcessMicros: before,
      evaluatorMicros: after,
      addedMicros: Math.round((after - before) * 10) / 10,
    });
  }
}
console.table(rows);
await closeSharedMappingPool();
