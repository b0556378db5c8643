import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateTableCommand,
} from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_CREDENTIALS } from "../src/clients.ts";
import { cacheTableStore } from "../src/dynalite-tables.ts";

/** A LevelDB-like store of table descriptions in memory, counting its reads. */
function tableStore() {
  const rows = new Map<string, string>();
  let reads = 0;
  const store = {
    get(key: string, callback: (error: Error | null, value?: unknown) => void) {
      reads += 1;
      const row = rows.get(key);
      setImmediate(() =>
        row === undefined
          ? callback(Object.assign(new Error("NotFound"), { name: "NotFoundError" }))
          : callback(null, JSON.parse(row)),
      );
    },
    put(key: string, value: unknown, callback: (error?: Error | null) => void) {
      rows.set(key, JSON.stringify(value));
      setImmediate(callback, null);
    },
    del(key: string, callback: (error?: Error | null) => void) {
      rows.delete(key);
      setImmediate(callback, null);
    },
    batch(operations: { type: string; key: string }[], callback: (error?: Error | null) => void) {
      for (const operation of operations) if (operation.type === "del") rows.delete(operation.key);
      setImmediate(callback, null);
    },
  };
  return { store, reads: () => reads };
}

const read = (store: ReturnType<typeof tableStore>["store"], key: string) =>
  new Promise<unknown>((resolve, reject) =>
    store.get(key, (error, value) => (error ? reject(error) : resolve(value))),
  );
const write = (store: ReturnType<typeof tableStore>["store"], key: string, value: unknown) =>
  new Promise<void>((resolve) => store.put(key, value, () => resolve()));

describe("a table store that keeps what it read", () => {
  it("reads a description once, and gives a fresh copy each time", async () => {
    const { store, reads } = tableStore();
    await write(store, "t", { TableName: "t", TableStatus: "ACTIVE" });
    cacheTableStore(store);

    const first = (await read(store, "t")) as { TableStatus: string };
    first.TableStatus = "CHANGED BY A READER";
    const second = await read(store, "t");

    expect(second).toEqual({ TableName: "t", TableStatus: "ACTIVE" });
    expect(reads()).toBe(1);
  });

  it("reads again after a write, a delete or a batch", async () => {
    const { store, reads } = tableStore();
    cacheTableStore(store);
    await write(store, "t", { TableStatus: "CREATING" });
    await read(store, "t");
    await write(store, "t", { TableStatus: "ACTIVE" });

    expect(await read(store, "t")).toEqual({ TableStatus: "ACTIVE" });
    await new Promise<void>((resolve) => store.del("t", () => resolve()));
    await expect(read(store, "t")).rejects.toThrow("NotFound");
    expect(reads()).toBe(3);
  });

  it("does not keep what a read found when a write ended while it was under way", async () => {
    const { store } = tableStore();
    await write(store, "t", { TableStatus: "CREATING" });
    cacheTableStore(store);

    const [during] = await Promise.all([read(store, "t"), write(store, "t", { TableStatus: "ACTIVE" })]);

    expect(during).toBeDefined();
    expect(await read(store, "t")).toEqual({ TableStatus: "ACTIVE" });
  });
});

describe("dynalite with its table descriptions kept in memory", () => {
  let server: Server;
  let client: DynamoDBClient;
  beforeAll(async () => {
    const { cacheDynaliteTables } = await import("../src/dynalite-tables.ts");
    cacheDynaliteTables();
    server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: "us-east-1",
      credentials: LOCAL_CREDENTIALS,
    });
  });
  afterAll(async () => {
    client?.destroy();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("sees a table's creation, its update and its deletion", async () => {
    const TableName = "described";
    await client.send(
      new CreateTableCommand({
        TableName,
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
      }),
    );
    await client.send(new PutItemCommand({ TableName, Item: { pk: { S: "a" }, v: { N: "1" } } }));
    await client.send(
      new UpdateTableCommand({
        TableName,
        ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
      }),
    );

    const described = await client.send(new DescribeTableCommand({ TableName }));
    const item = await client.send(new GetItemCommand({ TableName, Key: { pk: { S: "a" } } }));
    await client.send(new DeleteTableCommand({ TableName }));

    expect(described.Table?.ProvisionedThroughput?.ReadCapacityUnits).toBe(5);
    expect(item.Item?.v).toEqual({ N: "1" });
    await expect(
      client.send(new GetItemCommand({ TableName, Key: { pk: { S: "a" } } })),
    ).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });
});
