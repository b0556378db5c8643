import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from "@aws-sdk/client-dynamodb";
import {
  BUCKET_NAMES,
  type BucketName,
  createTableInput,
  TABLE_NAMES,
  TABLES,
  type TableDefinition,
  type TableName,
} from "@dvss/core/tables";
import dynalite from "dynalite";
import S3rver from "s3rver";

export interface StoreOptions {
  /** Where dynalite and s3rver keep their files; absent = in memory (tests). */
  dataDir?: string;
  /** Prefix of table and bucket names, like an SST stage's. */
  stage: string;
}

/** Local-only: where the local Step Functions endpoint keeps executions and their history. */
export const EXECUTIONS_TABLE: TableDefinition = {
  fields: { pk: "string", sk: "string", gsi1pk: "string", gsi1sk: "string" },
  primaryIndex: { hashKey: "pk", rangeKey: "sk" },
  globalIndexes: { gsi1: { hashKey: "gsi1pk", rangeKey: "gsi1sk" } },
};

export interface RunningStores {
  dynamodbEndpoint: string;
  executionsTable: string;
  s3Endpoint: string;
  tables: Record<TableName, string>;
  buckets: Record<BucketName, string>;
  close(): Promise<void>;
}

export function resourceNames(stage: string) {
  const tables = Object.fromEntries(TABLE_NAMES.map((name) => [name, `dvss-${stage}-${name}`])) as Record<
    TableName,
    string
  >;
  const buckets = Object.fromEntries(
    BUCKET_NAMES.map((name) => [name, `dvss-${stage}-${name.replace("Bucket", "").toLowerCase()}`]),
  ) as Record<BucketName, string>;
  return { tables, buckets };
}

function listenDynalite(server: ReturnType<typeof dynalite>): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

/** Starts dynalite and s3rver and creates every table and bucket from the shared definitions. */
export async function startStores(options: StoreOptions): Promise<RunningStores> {
  const { tables, buckets } = resourceNames(options.stage);
  let dynamoPath: string | undefined;
  let s3Dir: string;
  if (options.dataDir) {
    dynamoPath = join(options.dataDir, "dynamodb");
    s3Dir = join(options.dataDir, "s3");
    mkdirSync(dynamoPath, { recursive: true });
  } else {
    // s3rver has no in-memory mode: tests get a throwaway directory.
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    s3Dir = mkdtempSync(join(tmpdir(), "dvss-s3-"));
  }
  mkdirSync(s3Dir, { recursive: true });

  const dynamo = dynalite({ path: dynamoPath, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const dynamodbEndpoint = await listenDynalite(dynamo);

  const s3 = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory: s3Dir,
    silent: true,
    configureBuckets: Object.values(buckets).map((name) => ({ name, configs: [] })),
  });
  const s3Address = (await s3.run()) as AddressInfo;
  const s3Endpoint = `http://127.0.0.1:${s3Address.port}`;

  const client = new DynamoDBClient({
    endpoint: dynamodbEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  const executionsTable = `dvss-${options.stage}-LocalExecutions`;
  const definitions: [string, TableDefinition][] = [
    ...TABLE_NAMES.map((name): [string, TableDefinition] => [tables[name], TABLES[name]]),
    [executionsTable, EXECUTIONS_TABLE],
  ];
  for (const [tableName, definition] of definitions) {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName, definition)));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  client.destroy();

  return {
    dynamodbEndpoint,
    executionsTable,
    s3Endpoint,
    tables,
    buckets,
    async close() {
      await s3.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}
