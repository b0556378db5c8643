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
 * A copy of the bundled vendor definitions plus one test vendor whose inventory_update version 1
 * takes any object and maps it with `mapping`: the folder to start a harness with.
 */
export function vendorsWith(vendor: { vendorId: string; name: string; mapping: string }): string {
  const vendorsDir = tempDir("dvss-vendors-");
  cpSync(join(REPO_ROOT, "schemas/vendors"), vendorsDir, { recursive: true });
  const folder = join(vendorsDir, vendor.vendorId);
  mkdirSync(join(folder, "inventory_update/1"), { recursive: true });
  writeFileSync(
    join(folder, "vendor.json"),
    JSON.stringify({ vendorId: vendor.vendorId, name: vendor.name, priority: 50, rateLimitPerSecond: 100 }),
  );
  writeFileSync(
    join(folder, "inventory_update/1/payload.schema.json"),
    JSON.stringify({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "object" }),
  );
  writeFileSync(join(folder, "inventory_update/1/mapping.jsonata"), vendor.mapping);
  return vendorsDir;
}

/** One embedded DVSS for a test file, with the clients a test needs to look inside its stores. */
export async function startHarness(options: LocalOptions = {}) {
  const runtime: LocalRuntime = await startLocal({ port: 0, retryIntervalScale: 0.001, ...options });
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
