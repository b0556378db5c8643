import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
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
import { LOCAL_CREDENTIALS } from "./clients.ts";
import type { StoreWorkerData, StoreWorkerMessage } from "./store-worker.ts";

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

/** Starts one store on its own thread (store-worker.ts); resolves with its endpoint once it listens. */
function startStoreWorker(data: StoreWorkerData): Promise<{ endpoint: string; close(): Promise<void> }> {
  // The thread name shows in /proc (the bench reports CPU per thread by it).
  const worker = new Worker(new URL("./store-worker.ts", import.meta.url), {
    workerData: data,
    name: data.kind === "dynamodb" ? "dynalite" : "s3rver",
  });
  return new Promise((resolve, reject) => {
    const onExit = (code: number) =>
      reject(new Error(`The ${data.kind} store stopped (exit ${code}) before it was ready`));
    worker.once("error", reject);
    worker.once("exit", onExit);
    worker.once("message", (message: StoreWorkerMessage) => {
      worker.off("error", reject);
      worker.off("exit", onExit);
      if (message.type !== "ready") {
        const failure = new Error(message.type === "failed" ? message.message : `unexpected ${message.type}`);
        if (message.type === "failed" && message.code) Object.assign(failure, { code: message.code });
        reject(failure);
        return;
      }
      worker.on("error", (error) => console.error(`The ${data.kind} store failed`, error));
      resolve({
        endpoint: message.endpoint,
        async close() {
          const exited = new Promise<void>((done) => worker.once("exit", () => done()));
          // The store closes its files (LevelDB) before the thread ends.
          const closed = new Promise<void>((done) => worker.once("message", () => done()));
          worker.postMessage("close");
          await Promise.race([closed, exited]);
          await worker.terminate();
          await exited;
        },
      });
    });
  });
}

/** Starts dynalite and s3rver, each on its own thread, and creates every table and bucket from the shared definitions. */
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

  const started = await Promise.allSettled([
    startStoreWorker({ kind: "dynamodb", ...(dynamoPath && { directory: dynamoPath }) }),
    startStoreWorker({ kind: "s3", directory: s3Dir, buckets: Object.values(buckets) }),
  ]);
  const [dynamo, s3] = started.map((result) => (result.status === "fulfilled" ? result.value : undefined));
  const closeStores = () => Promise.all([s3?.close(), dynamo?.close()]).then(() => undefined);
  const failure = started.find((result) => result.status === "rejected");
  if (!dynamo || !s3) {
    await closeStores();
    throw (failure as PromiseRejectedResult).reason;
  }
  const dynamodbEndpoint = dynamo.endpoint;
  const s3Endpoint = s3.endpoint;

  const client = new DynamoDBClient({
    endpoint: dynamodbEndpoint,
    region: "us-east-1",
    credentials: LOCAL_CREDENTIALS,
  });
  const executionsTable = `dvss-${options.stage}-LocalExecutions`;
  const definitions: [string, TableDefinition][] = [
    ...TABLE_NAMES.map((name): [string, TableDefinition] => [tables[name], TABLES[name]]),
    [executionsTable, EXECUTIONS_TABLE],
  ];
  try {
    for (const [tableName, definition] of definitions) {
      try {
        await client.send(new CreateTableCommand(createTableInput(tableName, definition)));
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
    }
  } catch (error) {
    await closeStores();
    throw error;
  } finally {
    client.destroy();
  }

  return {
    dynamodbEndpoint,
    executionsTable,
    s3Endpoint,
    tables,
    buckets,
    async close() {
      await closeStores();
    },
  };
}
