import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { createEntities, type TableNames } from "../src/entities/index.ts";
import { StorageUnavailableError } from "../src/errors.ts";
import { storeCall } from "../src/state/store.ts";

// Nothing listens on port 9: a call that reaches the network is refused at once.
const client = new DynamoDBClient({
  endpoint: "http://127.0.0.1:9",
  region: "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
  maxAttempts: 1,
});
const tables = new Proxy({}, { get: (_, name) => `store-test-${String(name)}` }) as TableNames;
const entities = createEntities(client, tables);

afterAll(() => client.destroy());

const orderWith = (quantity: number) => ({
  orderId: "SO-1",
  status: "ACKED" as const,
  lines: [{ sku: "A", quantity }],
  asOf: "2026-01-30T20:15:12Z",
  lastIngestId: "01KG7C0000000000000000000",
  sourceVendorId: "vendorA",
  version: 1,
  fold: {},
  change: {},
  changePosition: "0000000000000001",
  updatedAt: "2026-01-30T20:15:12Z",
});

describe("storeCall's classification of failures", () => {
  it("calls a store that did not answer unavailable (retried)", async () => {
    const failure = await storeCall("Read order state", () =>
      entities.orderStates.get({ orderId: "SO-1" }).go(),
    ).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(StorageUnavailableError);
  });

  it.each([2 ** 60, 1e125, 1e308])(
    "does not call an item the client refuses to serialize (a number %d beyond 2^53-1) unavailable: no retry can store it",
    async (quantity) => {
      const failure = await storeCall("Write order state", () =>
        entities.orderStates.create(orderWith(quantity)).go(),
      ).catch((error: unknown) => error);

      expect(failure).not.toBeInstanceOf(StorageUnavailableError);
      expect(String((failure as Error).message)).toMatch(/MAX_SAFE_INTEGER/);
    },
  );
});
