import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from "@aws-sdk/client-dynamodb";
import {
  BUCKET_NAMES,
  type BucketName,
  createTableInput,
  OBJECT_LOCK_BUCKETS,
  TABLE_NAMES,
  TABLES,
  type TableDefinition,
  type TableName,
} from "@dvss/core/tables";
import { LOCAL_CREDENTIALS } from "./clients.ts";
import { type HeapSource, WORKER_RESOURCE_LIMITS, workerHeap } from "./memory.ts";
import type { StoreWorkerData, StoreWorkerMessage } from "./store-worker.ts";

export interface StoreOptions {
  /** Where dynalite and s3rver keep their files; absent = in memory (tests). */
  dataDir?: string;
  /** Prefix of table and bucket names, like an SST stage's. */
  stage: string;
  /**
   * A store thread died and cannot be started again on its port (another process took it):
   * the runtime cannot recover in place. Default: log it.
   */
  onFatal?(error: Error): void;
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
  /** Ends a store's thread the way a crash would (tests, chaos); it is started again on its port. */
  crash(store: StoreKind): Promise<void>;
  /** Each store thread's heap, by thread name (dynalite, s3rver). */
  heaps: Record<string, HeapSource>;
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

type StoreKind = StoreWorkerData["kind"];

/** Starts one store thread (store-worker.ts); resolves with it and its endpoint once it listens. */
function launchStoreWorker(data: StoreWorkerData): Promise<{ worker: Worker; endpoint: string }> {
  // The thread name shows in /proc (the bench reports CPU per thread by it).
  const worker = new Worker(new URL("./store-worker.ts", import.meta.url), {
    workerData: data,
    name: data.kind === "dynamodb" ? "dynalite" : "s3rver",
    resourceLimits: WORKER_RESOURCE_LIMITS,
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
        void worker.terminate();
        reject(failure);
        return;
      }
      resolve({ worker, endpoint: message.endpoint });
    });
  });
}

async function stopStoreWorker(worker: Worker): Promise<void> {
  const exited = new Promise<void>((done) => worker.once("exit", () => done()));
  // The store closes its files (LevelDB) before the thread ends.
  const closed = new Promise<void>((done) => worker.once("message", () => done()));
  worker.postMessage("close");
  await Promise.race([closed, exited]);
  await worker.terminate();
  await exited;
}

/** A store whose thread died is started again after this long, doubling up to STORE_RESTART_MAX_MS. */
const STORE_RESTART_FIRST_MS = 250;
const STORE_RESTART_MAX_MS = 5_000;
/** A thread that lived this long before dying starts the back-off afresh. */
const STORE_HEALTHY_MS = 10_000;
/** Another process holding the store's port this long is fatal: endpoints.json names that port. */
const STORE_PORT_TAKEN_FATAL_MS = 30_000;

interface SupervisedStore {
  endpoint: string;
  close(): Promise<void>;
  /** Ends the store's thread the way a crash would (tests and the chaos script); it is started again. */
  crash(): Promise<void>;
  heap: HeapSource;
}

/**
 * One store on its own thread, kept running: when the thread dies (a disk error s3rver or dynalite
 * does not survive, a crash) it is started again on the same port, so every client and
 * endpoints.json keep working; while it is down callers get connection errors (the API answers 503).
 * A restart that cannot get the port back for 30 s calls onFatal.
 */
async function superviseStore(
  data: StoreWorkerData,
  hooks: { afterRestart?(): Promise<void>; onFatal(error: Error): void },
): Promise<SupervisedStore> {
  const kind: StoreKind = data.kind;
  const first = await launchStoreWorker(data);
  const port = Number(new URL(first.endpoint).port);
  let worker: Worker | undefined = first.worker;
  let startedAt = Date.now();
  let closing = false;
  let delay = STORE_RESTART_FIRST_MS;
  let restarting: Promise<void> | undefined;

  const restart = async (reason: string) => {
    const downSince = Date.now();
    if (downSince - startedAt >= STORE_HEALTHY_MS) delay = STORE_RESTART_FIRST_MS;
    console.error(`The ${kind} store stopped (${reason}); starting it again on port ${port}`);
    let portTakenSince: number | undefined;
    let lastFailure = "";
    while (!closing) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, STORE_RESTART_MAX_MS);
      if (closing) return;
      try {
        const next = await launchStoreWorker({ ...data, port });
        if (closing) {
          await stopStoreWorker(next.worker);
          return;
        }
        worker = next.worker;
        startedAt = Date.now();
        watch(next.worker);
        await hooks.afterRestart?.().catch((error: unknown) => {
          console.error(`The ${kind} store came back but could not be prepared`, error);
        });
        const seconds = ((Date.now() - downSince) / 1000).toFixed(1);
        console.error(`The ${kind} store is back on port ${port} after ${seconds}s`);
        return;
      } catch (error) {
        const failure = error as NodeJS.ErrnoException;
        if (failure.code === "EADDRINUSE") {
          portTakenSince ??= Date.now();
          if (Date.now() - portTakenSince >= STORE_PORT_TAKEN_FATAL_MS) {
            hooks.onFatal(
              new Error(
                `The ${kind} store cannot listen on port ${port} again: another process holds it ` +
                  "(endpoints.json names this port). Restart DVSS.",
              ),
            );
            return;
          }
        } else {
          portTakenSince = undefined;
        }
        const message = failure.message ?? String(error);
        if (message !== lastFailure) {
          console.error(`The ${kind} store could not start again (${message}); retrying`);
          lastFailure = message;
        }
      }
    }
  };

  function watch(thread: Worker) {
    let lastError = "";
    thread.on("error", (error: Error) => {
      lastError = `${error.name}: ${error.message}`;
    });
    thread.once("exit", (code) => {
      if (closing || thread !== worker) return;
      worker = undefined;
      restarting = restart(lastError || `exit ${code}`).finally(() => {
        restarting = undefined;
      });
    });
  }
  watch(first.worker);

  return {
    endpoint: first.endpoint,
    async close() {
      closing = true;
      if (worker) await stopStoreWorker(worker);
      await restarting;
    },
    async crash() {
      await worker?.terminate();
    },
    heap: workerHeap(() => worker),
  };
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

  const executionsTable = `dvss-${options.stage}-LocalExecutions`;
  const definitions: [string, TableDefinition][] = [
    ...TABLE_NAMES.map((name): [string, TableDefinition] => [tables[name], TABLES[name]]),
    [executionsTable, EXECUTIONS_TABLE],
  ];
  let dynamodbEndpoint = "";
  const createTables = async () => {
    const client = new DynamoDBClient({
      endpoint: dynamodbEndpoint,
      region: "us-east-1",
      credentials: LOCAL_CREDENTIALS,
    });
    try {
      for (const [tableName, definition] of definitions) {
        try {
          await client.send(new CreateTableCommand(createTableInput(tableName, definition)));
        } catch (error) {
          if (!(error instanceof ResourceInUseException)) throw error;
        }
      }
    } finally {
      client.destroy();
    }
  };
  const onFatal =
    options.onFatal ?? ((error: Error) => console.error(`${error.message} The store stays down.`));

  const started = await Promise.allSettled([
    superviseStore(
      { kind: "dynamodb", ...(dynamoPath && { directory: dynamoPath }) },
      // In memory (tests) a restarted dynalite starts empty; on disk the tables are there already.
      { afterRestart: createTables, onFatal },
    ),
    superviseStore(
      {
        kind: "s3",
        directory: s3Dir,
        buckets: Object.values(buckets),
        lockedBuckets: OBJECT_LOCK_BUCKETS.map((name) => buckets[name]),
      },
      { onFatal },
    ),
  ]);
  const [dynamo, s3] = started.map((result) => (result.status === "fulfilled" ? result.value : undefined));
  const closeStores = () => Promise.all([s3?.close(), dynamo?.close()]).then(() => undefined);
  const failure = started.find((result) => result.status === "rejected");
  if (!dynamo || !s3) {
    await closeStores();
    throw (failure as PromiseRejectedResult).reason;
  }
  dynamodbEndpoint = dynamo.endpoint;
  const s3Endpoint = s3.endpoint;
  try {
    await createTables();
  } catch (error) {
    await closeStores();
    throw error;
  }

  return {
    dynamodbEndpoint,
    executionsTable,
    s3Endpoint,
    tables,
    buckets,
    crash: (store) => (store === "dynamodb" ? dynamo : s3).crash(),
    heaps: { dynalite: dynamo.heap, s3rver: s3.heap },
    async close() {
      await closeStores();
    },
  };
}
