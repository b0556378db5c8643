import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Envelope } from "@dvss/core/envelope";
import { parseEnvelope } from "@dvss/core/envelope";
import { createMappingEngine } from "@dvss/core/mapping/engine";
import { createFileSystemSource } from "@dvss/core/mapping/fs-source";
import { definitionsCacheMs } from "@dvss/core/mapping/store-source";

/** CPU per event of validate + map, in this process, on vendorA's seed example. */
export interface MappingCost {
  iterations: number;
  /** What the Validate and Map tasks call: engine.validatePayload + engine.mapEvent (version selection included). */
  engineMicros: number;
  /** The compiled version alone: ajv validator + JSONata + standard event check. */
  compiledMicros: number;
  /** The same checks and output written by hand for this one event type. */
  handWrittenMicros: number;
  engineVsHand: number;
  compiledVsHand: number;
}

const isText = (value: unknown): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= 256 && value.trim() === value;

/** vendorA inventory_update 1, by hand: the payload schema, the mapping and the InventoryUpdated rules. */
function handWrittenValidateAndMap(envelope: Envelope) {
  const payload = envelope.payload as Record<string, unknown>;
  const keys = Object.keys(payload);
  if (keys.length !== 3 || !isText(payload.sku) || !isText(payload.warehouse))
    throw new Error("invalid payload");
  const qty = payload.qty;
  if (typeof qty !== "number" || !Number.isInteger(qty) || qty < 0) throw new Error("invalid qty");
  return {
    standardEventType: "InventoryUpdated",
    data: { warehouseId: payload.warehouse, sku: payload.sku, quantityOnHand: qty },
    mappingVersion: "1",
  };
}

async function cpuMicrosPerCall(iterations: number, call: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < Math.min(2_000, iterations); i++) await call();
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await call();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / iterations;
}

export async function measureMappingCost(repoRoot: string, iterations = 20_000): Promise<MappingCost> {
  const vendorsDir = join(repoRoot, "schemas/vendors");
  const envelope = parseEnvelope(
    readFileSync(join(vendorsDir, "vendorA/inventory_update/1/examples/seed.input.json")),
  );
  // Built as the tasks build it: the vendor folder is re-read at most once per cache period.
  const engine = createMappingEngine({
    source: createFileSystemSource(vendorsDir, { cacheMs: definitionsCacheMs() }),
  });
  const compiled = await engine.compiled(envelope.vendorId, envelope.eventType, "1");

  // The three must agree before their costs are compared.
  const { mappingVersion } = await engine.validatePayload(envelope);
  const byEngine = await engine.mapEvent(envelope, mappingVersion);
  const byHand = handWrittenValidateAndMap(envelope);
  if (JSON.stringify(byEngine) !== JSON.stringify(byHand)) {
    throw new Error(`hand-written mapping differs: ${JSON.stringify(byEngine)} vs ${JSON.stringify(byHand)}`);
  }

  const engineMicros = await cpuMicrosPerCall(iterations, async () => {
    const selected = await engine.validatePayload(envelope);
    return engine.mapEvent(envelope, selected.mappingVersion);
  });
  const compiledMicros = await cpuMicrosPerCall(iterations, () => {
    compiled.validatePayload(envelope.payload);
    return compiled.map(envelope);
  });
  const handWrittenMicros = await cpuMicrosPerCall(iterations * 10, () =>
    handWrittenValidateAndMap(envelope),
  );
  return {
    iterations,
    engineMicros,
    compiledMicros,
    handWrittenMicros,
    engineVsHand: engineMicros / handWrittenMicros,
    compiledVsHand: compiledMicros / handWrittenMicros,
  };
}
