import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { CreateTableCommand, DynamoDBClient, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_CREDENTIALS } from "../src/clients.ts";
import { closeDynaliteIterators } from "../src/dynalite-iterators.ts";

interface Iterator {
  close(): Promise<void>;
}

/** Counts the iterators dynalite's store opens and has not closed. */
function countOpenIterators(): { open(): number } {
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve("dynalite"));
  const fromStore = createRequire(fromDynalite.resolve("memory-level"));
  const { AbstractLevel } = fromStore("abstract-level") as {
    AbstractLevel: { prototype: Record<string, (...args: unknown[]) => Iterator> };
  };
  let open = 0;
  for (const method of ["iterator", "keys", "values"] as const) {
    const original = AbstractLevel.prototype[method] as (...args: unknown[]) => Iterator;
    AbstractLevel.prototype[method] = function counted(this: unknown, ...args: unknown[]) {
      const iterator = original.apply(this, args);
      open += 1;
      const close = iterator.close.bind(iterator);
      let closed = false;
      iterator.close = () => {
        if (!closed) open -= 1;
        closed = true;
        return close();
      };
      return iterator;
    };
  }
  return { open: () => open };
}

describe("dynalite's Queries", () => {
  let server: Server;
  let client: DynamoDBClient;
  const counter = countOpenIterators();
  beforeAll(async () => {
    closeDynaliteIterators();
    server = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: "us-east-1",
      credentials: LOCAL_CREDENTIALS,
    });
    await client.send(
      new CreateTableCommand({
        TableName: "items",
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    for (let n = 0; n < 5; n++) {
      await client.send(
        new PutItemCommand({ TableName: "items", Item: { pk: { S: "a" }, sk: { S: String(n) } } }),
      );
    }
  });
  afterAll(async () => {
    client?.destroy();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it("close their iterators, whether they read to the end or stop at their Limit", async () => {
    const query = (limit?: number) =>
      client.send(
        new QueryCommand({
          TableName: "items",
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": { S: "a" } },
          ...(limit && { Limit: limit }),
        }),
      );
    for (let n = 0; n < 10; n++) {
      expect((await query()).Items).toHaveLength(5);
      expect((await query(2)).Items).toHaveLength(2);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(counter.open()).toBe(0);
  });
});
