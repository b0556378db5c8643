import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { createEntities } from "@dvss/core/entities/index";
import { seedEnvelope } from "../../core/test/fixtures.ts";
import { localClients } from "../src/clients.ts";
import { REPO_ROOT } from "../src/lambda.ts";
import { type LocalOptions, type LocalRuntime, startLocal } from "../src/runtime.ts";

export { seedEnvelope };

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

/**
 * The bundled versions the tests are written against. A version a developer adds under
 * schemas/vendors (one being worked on) is not among them, so it cannot change what a test sees.
 */
const TESTED_BUNDLED_VERSIONS: Record<string, string[]> = {
  vendorA: ["inventory_adjust/1", "inventory_update/1", "order_created/1", "order_status/1"],
  vendorB: ["order_placed/1", "order_state/1", "stock_movement/1", "stock_snapshot/1", "stock_snapshot/2"],
};

/** A vendors folder of its own for a test: the tested bundled vendors and versions, copied. */
export function bundledVendors(): string {
  const vendorsDir = tempDir("dvss-vendors-");
  for (const [vendorId, versions] of Object.entries(TESTED_BUNDLED_VERSIONS)) {
    const from = join(REPO_ROOT, "schemas/vendors", vendorId);
    mkdirSync(join(vendorsDir, vendorId));
    cpSync(join(from, "vendor.json"), join(vendorsDir, vendorId, "vendor.json"));
    for (const version of versions) {
      cpSync(join(from, version), join(vendorsDir, vendorId, version), { recursive: true });
    }
  }
  return vendorsDir;
}

/**
 * Writes `<vendorsDir>/<vendorId>/inventory_update/<version>/`: a schema that takes any object,
 * `mapping`, and one golden example (`example.payload` in, `example.data` out) that the mapping
 * must pass, as for any version that runs.
 */
export function writeInventoryVersion(
  vendorsDir: string,
  vendorId: string,
  version: string,
  mapping: string,
  example: { payload: Record<string, unknown>; data: Record<string, unknown> },
): string {
  const dir = join(vendorsDir, vendorId, "inventory_update", version);
  mkdirSync(join(dir, "examples"), { recursive: true });
  writeFileSync(
    join(dir, "payload.schema.json"),
    JSON.stringify({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "object" }),
  );
  writeFileSync(join(dir, "mapping.jsonata"), mapping);
  const envelope = {
    vendorId,
    externalEventId: "example-1",
    eventType: "inventory_update",
    occurredAt: "2026-01-30T20:15:12Z",
    payload: example.payload,
  };
  writeFileSync(join(dir, "examples/one.input.json"), JSON.stringify(envelope));
  const { payload: _payload, eventType: _eventType, ...rest } = envelope;
  writeFileSync(
    join(dir, "examples/one.expected.json"),
    JSON.stringify({ ...rest, eventType: "InventoryUpdated", schemaVersion: "1.0", data: example.data }),
  );
  return dir;
}

/**
 * The tested bundled vendors (bundledVendors) plus one test vendor whose inventory_update version 1
 * maps with `mapping`, which must pass `example` (and, with `match`, whose identifiers of those
 * kinds must be in the crosswalk): the folder to start a harness with.
 */
export function vendorsWith(vendor: {
  vendorId: string;
  name: string;
  mapping: string;
  example: { payload: Record<string, unknown>; data: Record<string, unknown> };
  match?: Partial<Record<"location" | "product" | "order", "identity" | "required">>;
}): string {
  const vendorsDir = bundledVendors();
  mkdirSync(join(vendorsDir, vendor.vendorId));
  writeFileSync(
    join(vendorsDir, vendor.vendorId, "vendor.json"),
    JSON.stringify({
      vendorId: vendor.vendorId,
      name: vendor.name,
      priority: 50,
      rateLimitPerSecond: 100,
      ...(vendor.match && { match: vendor.match }),
    }),
  );
  writeInventoryVersion(vendorsDir, vendor.vendorId, "1", vendor.mapping, vendor.example);
  return vendorsDir;
}

/** A crosswalk folder holding one vendor's entries, as `npm start` loads schemas/crosswalk. */
export function crosswalkWith(vendorId: string, entries: Record<string, unknown>[]): string {
  const dir = tempDir("dvss-crosswalk-");
  writeFileSync(join(dir, `${vendorId}.json`), JSON.stringify({ vendorId, entries }));
  return dir;
}

/** One embedded DVSS for a test file, with the clients a test needs to look inside its stores. */
export async function startHarness(options: LocalOptions = {}) {
  const runtime: LocalRuntime = await startLocal({
    port: 0,
    retryIntervalScale: 0.001,
    ...options,
    vendorsDir: options.vendorsDir ?? bundledVendors(),
  });
  const { endpoints } = runtime;
  const { dynamodb, s3 } = localClients(endpoints);
  const entities = createEntities(dynamodb, endpoints.tables);

  async function request(
    method: string,
    path: string,
    init: { body?: string | Buffer; headers?: Record<string, string> } = {},
  ) {
    const response = await fetch(`${endpoints.api}${path}`, {
      method,
      body: init.body,
      headers: init.headers,
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      body: text ? JSON.parse(text) : undefined,
    };
  }

  return {
    runtime,
    endpoints,
    entities,
    s3,
    request,
    post(body: unknown, headers: Record<string, string> = { "x-api-key": "local-vendorA-key" }) {
      return request("POST", "/v1/events", {
        body: typeof body === "string" ? body : JSON.stringify(body),
        headers: { "content-type": "application/json", ...headers },
      });
    },
    async rawKeys(): Promise<string[]> {
      const listing = await s3.send(new ListObjectsV2Command({ Bucket: endpoints.buckets.RawBucket }));
      return (listing.Contents ?? []).map((object) => object.Key ?? "");
    },
    async object(bucket: string, key: string): Promise<Buffer> {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(
        await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
    },
    /** Runs a finished execution's input again under a new name, as a replay does, and waits for it. */
    async rerun(ingestId: string) {
      const execution = await runtime.stepFunctions.describeExecution(
        `arn:aws:states:us-east-1:000000000000:execution:dvss-local-Normalize:${ingestId}`,
      );
      await runtime.stepFunctions.startExecution(
        endpoints.stateMachineArn,
        `${ingestId}-rerun`,
        execution.input,
      );
      await runtime.stepFunctions.drain();
    },
    async records() {
      return (await entities.ingestRecords.scan.go({ pages: "all" })).data;
    },
    async close() {
      dynamodb.destroy();
      s3.destroy();
      await runtime.close();
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;
