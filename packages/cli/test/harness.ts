import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "@dvss/local/lambda";
import type { LocalOptions } from "@dvss/local/runtime";
import { bundledVendors, startHarness, tempDir } from "../../local/test/harness.ts";
import { bufferIo } from "../src/io.ts";
import { runCli } from "../src/main.ts";

/**
 * vendorF, a vendor whose bundled stock_level/1 mapping is broken: from 10 units on, quantityOnHand
 * comes out as a string, so the standard event is invalid (MAPPING_FAILED); its one example (5 units)
 * does not show it, so it passes the checks at start. A fixed stock_level/2 outside the tree is
 * ready to publish. Written into the tested vendors folder (bundledVendors), as the runtime's folder.
 */
const STOCK_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: { site: { type: "string" }, item: { type: "string" }, units: { type: "integer" } },
  required: ["site", "item", "units"],
  additionalProperties: false,
};
const BROKEN_MAPPING = `{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.site, "sku": payload.item, "quantityOnHand": payload.units < 10 ? payload.units : $string(payload.units)}}`;
export const FIXED_MAPPING = `{"eventType": "InventoryUpdated", "data": {"warehouseId": payload.site, "sku": payload.item, "quantityOnHand": payload.units}}`;

export function stockEnvelope(externalEventId: string, units = 17) {
  return {
    vendorId: "vendorF",
    externalEventId,
    eventType: "stock_level",
    occurredAt: "2026-01-30T20:15:12Z",
    payload: { site: "ROA", item: "F-1", units },
  };
}

/** A version folder `<root>/vendorF/stock_level/<version>/` with one passing example. */
export function writeStockVersion(root: string, version: string, mapping = FIXED_MAPPING): string {
  const dir = join(root, "vendorF", "stock_level", version);
  mkdirSync(join(dir, "examples"), { recursive: true });
  writeFileSync(join(dir, "payload.schema.json"), JSON.stringify(STOCK_SCHEMA, null, 2));
  writeFileSync(join(dir, "mapping.jsonata"), mapping);
  const input = stockEnvelope("example-1", 5);
  writeFileSync(join(dir, "examples/one.input.json"), JSON.stringify(input, null, 2));
  writeFileSync(
    join(dir, "examples/one.expected.json"),
    JSON.stringify(
      {
        vendorId: "vendorF",
        externalEventId: "example-1",
        eventType: "InventoryUpdated",
        schemaVersion: "1.0",
        occurredAt: input.occurredAt,
        data: { warehouseId: "ROA", sku: "F-1", quantityOnHand: 5 },
      },
      null,
      2,
    ),
  );
  return dir;
}

export function vendorsWithBrokenVendorF(): string {
  const vendorsDir = bundledVendors();
  mkdirSync(join(vendorsDir, "vendorF"), { recursive: true });
  writeFileSync(
    join(vendorsDir, "vendorF/vendor.json"),
    JSON.stringify({
      vendorId: "vendorF",
      name: "Vendor F (broken stock mapping)",
      priority: 40,
      rateLimitPerSecond: 100,
    }),
  );
  writeStockVersion(vendorsDir, "1", BROKEN_MAPPING);
  return vendorsDir;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever the command printed
  json(): any;
}

/** An embedded DVSS with a data directory (endpoints.json), and the CLI run in-process against it. */
export async function startCliHarness(
  options: LocalOptions = {},
  settings: { definitionsCacheMs?: number } = {},
) {
  // Workers and CLI agree on how long a publish takes to reach the workers; 1 s keeps redrives after a
  // publish quick (they wait it out) and takes the same path as the 5 s default.
  process.env.DVSS_DEFINITIONS_CACHE_MS = String(settings.definitionsCacheMs ?? 1_000);
  const dataDir = tempDir("dvss-cli-data-");
  const dvss = await startHarness({ dataDir, ...options });
  const env = { ...process.env, DVSS_DATA_DIR: dataDir, NO_COLOR: "1" };
  async function cli(...argv: string[]): Promise<CliRun> {
    const io = bufferIo({ env, cwd: REPO_ROOT });
    const code = await runCli(argv, io);
    return { code, stdout: io.stdout(), stderr: io.stderr(), json: () => JSON.parse(io.stdout()) };
  }
  /** Posts an envelope with the vendor's local key and waits for its execution. */
  async function postAndSettle(envelope: { vendorId: string } & Record<string, unknown>): Promise<string> {
    const response = await dvss.post(envelope, { "x-api-key": `local-${envelope.vendorId}-key` });
    if (response.status !== 202) throw new Error(`POST answered ${response.status}: ${response.text}`);
    await dvss.runtime.stepFunctions.drain();
    return response.body.ingestId as string;
  }
  return { ...dvss, dataDir, env, cli, postAndSettle };
}

export type CliHarness = Awaited<ReturnType<typeof startCliHarness>>;
