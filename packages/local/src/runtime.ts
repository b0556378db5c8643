import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { isConditionalCheckFailed } from "@dvss/core/entities/conditions";
import { createEntities } from "@dvss/core/entities/index";
import { StorageUnavailableError } from "@dvss/core/errors";
import { encodeTaskFailure } from "@dvss/core/failures";
import { closeSharedMappingPool } from "@dvss/core/mapping/isolation";
import {
  buildNormalizeDefinition,
  type NormalizeInput,
  TASK_NAMES,
  type TaskName,
  WORKFLOW_TASKS,
} from "@dvss/core/workflow";
import { LOCAL_CREDENTIALS } from "./clients.ts";
import { loadCrosswalkFiles, type RefusedCrosswalk } from "./crosswalk.ts";
import { type DataDirLock, lockDataDir } from "./data-dir-lock.ts";
import { type ExtraRoute, serverUrl, startHttpServer } from "./http-server.ts";
import { lambdaContext, loadHandler, REPO_ROOT } from "./lambda.ts";
import { memoryRoute } from "./memory.ts";
import { type ExecutionRecord, LocalStepFunctions, type TaskInvoker } from "./step-functions.ts";
import { type RunningStores, startStores } from "./stores.ts";
import type { LocalEndpointsFile } from "./target.ts";
import { TaskThread } from "./task-thread.ts";
import { loadVendorFolders, type RefusedVendor, type RefusedVersion, refusedVendorRoute } from "./vendors.ts";

export { LOCAL_CONSUMER_KEY, localVendorKey, type RefusedVendor, type RefusedVersion } from "./vendors.ts";

export interface LocalOptions {
  /** Where data lives; absent = in memory (tests). */
  dataDir?: string;
  /** API port; 0 = any free port. */
  port?: number;
  /** Where the bundled vendor definitions are read from, once, at start (default schemas/vendors). */
  vendorsDir?: string;
  /** Where the bundled crosswalk files are imported from at start (default schemas/crosswalk). */
  crosswalkDir?: string;
  /** Scales the workflow's retry waits (tests use a small factor). */
  retryIntervalScale?: number;
  /** At most this many workflow executions run at once (default 8; tests of contention raise it). */
  maxConcurrentExecutions?: number;
  /** At most this many executions wait for their turn; a start beyond them is refused (step-functions.ts). */
  maxWaitingExecutions?: number;
  /** How often the reconciler runs; 0 = never (tests drive it). */
  reconcileIntervalMs?: number;
  /** Extra routes served before the API's. */
  extraRoutes?: ExtraRoute[];
  /** Serve the operator console at /console (console/index.ts). */
  console?: boolean;
  /**
   * The runtime cannot recover in place (a store thread died and its port was taken by another
   * process). Default: log it; `npm start` exits so a supervisor can start it again.
   */
  onFatal?(error: Error): void;
  /**
   * Fault injection: the next N calls of a task fail with a transient StorageUnavailableError
   * before reaching the handler, to watch the workflow's Retry at work.
   */
  transientFaults?: Partial<Record<TaskName, number>>;
}

/** What the runtime tells of itself: endpoints.json's part (target.ts), and its executions table. */
export interface LocalEndpoints extends LocalEndpointsFile {
  executionsTable: string;
  /**
   * The bundled vendor definitions the workflow reads: a copy of the vendors folder taken and checked
   * at start, so tools (publish, replay) compare and map with what runs, not with later edits.
   */
  vendorsDir: string;
}

export interface LocalRuntime {
  endpoints: LocalEndpoints;
  stepFunctions: LocalStepFunctions;
  stores: RunningStores;
  /** Vendor folders that failed their check at start: not loaded, their events answered 503. */
  refusedVendors: RefusedVendor[];
  /** Version folders that failed the checks of `dvss mapping publish` at start: left out. */
  refusedVersions: RefusedVersion[];
  /** The folder the bundled definitions were read from at start. */
  vendorsSourceDir: string;
  /** Bundled crosswalk files refused at start: not loaded. */
  refusedCrosswalks: RefusedCrosswalk[];
  close(): Promise<void>;
}

const STAGE = "local";
/**
 * Records per pending-index shard a local reconciler run restarts (8 shards): 800 per run, every
 * 10 s with `npm start`, more than the workflow drains, so recovery after a crash is bounded by
 * the workflow. Restarts wait in the executions queue; the reconciler leaves an event whose
 * execution is queued alone (DVSS_RECONCILE_SKIP_RUNNING), however long it waits.
 */
const LOCAL_RECONCILE_BATCH_PER_SHARD = 100;
/**
 * How long a record stays RECEIVED before the local reconciler restarts it: shorter than in AWS
 * (the longest execution plus a margin, 360 s for Express), because here the reconciler first asks
 * which executions still run or wait in the queue and leaves their events alone. What remains past
 * this is an execution that ended without an outcome, or one that never started.
 */
const LOCAL_RECONCILE_AFTER_SECONDS = 120;
const REGION = "us-east-1";

/** A task state calls its handler on the task thread; a thrown error reaches the state machine as Lambda reports it. */
function taskInvoker(
  task: TaskName,
  faults: Partial<Record<TaskName, number>>,
  thread: () => TaskThread,
): TaskInvoker {
  const { handler: handlerPath, functionName } = WORKFLOW_TASKS[task];
  return async (input) => {
    try {
      const pendingFaults = faults[task] ?? 0;
      if (pendingFaults > 0) {
        faults[task] = pendingFaults - 1;
        // Reported as a task reports a store that did not answer (the one task-failure codec).
        throw encodeTaskFailure(new StorageUnavailableError(`Injected transient fault in ${task}`)).reported;
      }
      return await thread().invoke(handlerPath, functionName, input);
    } catch (error) {
      const failure = error as Error;
      const lambdaError = new Error(
        JSON.stringify({ errorType: failure.name, errorMessage: failure.message, trace: [] }),
      );
      lambdaError.name = failure.name;
      throw lambdaError;
    }
  };
}

/** Sets what SST and the AWS SDK read, so the handlers find the local stores exactly as they find AWS. */
function exportEnvironment(
  stores: RunningStores,
  sfnEndpoint: string,
  stateMachineArn: string,
  vendorsDir: string,
): void {
  const env = process.env;
  env.AWS_REGION = REGION;
  // s3rver's fixed credentials; dynalite takes any. Never a developer's real AWS credentials.
  env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  delete env.AWS_SESSION_TOKEN;
  delete env.AWS_PROFILE;
  env.AWS_ENDPOINT_URL_DYNAMODB = stores.dynamodbEndpoint;
  env.AWS_ENDPOINT_URL_S3 = stores.s3Endpoint;
  env.AWS_ENDPOINT_URL_SFN = sfnEndpoint;
  env.DVSS_S3_FORCE_PATH_STYLE = "true";
  env.DVSS_VENDORS_DIR = vendorsDir;
  env.POWERTOOLS_LOG_LEVEL ??= process.env.DVSS_LOG_LEVEL ?? "WARN";
  // The handlers' EMF metric lines show with their INFO log lines (DVSS_LOG_LEVEL=INFO), as in AWS.
  env.POWERTOOLS_METRICS_DISABLED ??= String(!["TRACE", "DEBUG", "INFO"].includes(env.POWERTOOLS_LOG_LEVEL));
  env.SST_RESOURCE_App = JSON.stringify({ name: "dvss", stage: STAGE });
  for (const [name, value] of Object.entries({ ...stores.tables, ...stores.buckets })) {
    env[`SST_RESOURCE_${name}`] = JSON.stringify({ name: value });
  }
  env.SST_RESOURCE_Normalize = JSON.stringify({ name: `dvss-${STAGE}-Normalize`, arn: stateMachineArn });
}

/**
 * Adds each aborted execution to its event's lostExecutions, while the event is still RECEIVED:
 * the reconciler does not count an execution lost with the runtime toward its maximum attempts.
 */
async function countLostExecutions(stores: RunningStores, aborted: ExecutionRecord[]): Promise<void> {
  if (aborted.length === 0) return;
  const dynamodb = new DynamoDBClient({
    endpoint: stores.dynamodbEndpoint,
    region: REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const entities = createEntities(dynamodb, stores.tables);
  try {
    for (let next = 0; next < aborted.length; next += 16) {
      await Promise.all(
        aborted.slice(next, next + 16).map(async (execution) => {
          const { vendorId, externalEventId } = JSON.parse(execution.input) as Partial<NormalizeInput>;
          if (!vendorId || !externalEventId) return;
          await entities.ingestRecords
            .update({ vendorId, externalEventId })
            .add({ lostExecutions: 1 })
            .where(({ status }, { eq }) => eq(status, "RECEIVED"))
            .go()
            .catch((error: unknown) => {
              if (!isConditionalCheckFailed(error)) throw error;
            });
        }),
      );
    }
  } finally {
    dynamodb.destroy();
  }
}

/** Everything DVSS needs, on this machine: stores, workflow endpoint, HTTP API. */
export async function startLocal(options: LocalOptions = {}): Promise<LocalRuntime> {
  if (!options.dataDir) return startUnlocked(options);
  mkdirSync(options.dataDir, { recursive: true });
  // One runtime per data directory: a second one is refused before it opens or writes anything there.
  const lock = lockDataDir(options.dataDir);
  try {
    return await startUnlocked(options, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function startUnlocked(options: LocalOptions, lock?: DataDirLock): Promise<LocalRuntime> {
  // Executions started before this moment belong to an earlier process: they died with it.
  const startedAt = new Date().toISOString();
  const stores = await startStores({
    stage: STAGE,
    ...(options.dataDir && { dataDir: options.dataDir }),
    ...(options.onFatal && { onFatal: options.onFatal }),
  });
  const stateMachineArn = `arn:aws:states:${REGION}:000000000000:stateMachine:dvss-${STAGE}-Normalize`;
  const functionArn = (task: TaskName) =>
    `arn:aws:lambda:${REGION}:000000000000:function:${WORKFLOW_TASKS[task].functionName}`;
  const definition = buildNormalizeDefinition(functionArn);
  // Every Task state (MarkFailed runs UpdateStatus too) calls the handler its Resource ARN names.
  const faults = { ...options.transientFaults };
  // Started on the first task call, after the environment below is exported: the thread copies it.
  let taskThread: TaskThread | undefined;
  const thread = () => {
    taskThread ??= new TaskThread();
    return taskThread;
  };
  const taskByArn = new Map(TASK_NAMES.map((task) => [functionArn(task), task]));
  const tasks = Object.fromEntries(
    Object.entries(definition.States).flatMap(([stateName, state]) => {
      const task = state.Type === "Task" ? taskByArn.get(state.Resource) : undefined;
      return task ? [[stateName, taskInvoker(task, faults, thread)]] : [];
    }),
  );
  const stepFunctions = new LocalStepFunctions({
    dynamodb: new DynamoDBClient({
      endpoint: stores.dynamodbEndpoint,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
    }),
    table: stores.executionsTable,
    stateMachine: { name: `dvss-${STAGE}-Normalize`, arn: stateMachineArn, definition, tasks },
    ...(options.retryIntervalScale !== undefined && { retryIntervalScale: options.retryIntervalScale }),
    ...(options.maxConcurrentExecutions !== undefined && { maxConcurrent: options.maxConcurrentExecutions }),
    ...(options.maxWaitingExecutions !== undefined && { maxWaiting: options.maxWaitingExecutions }),
  });
  // Executions a previous process left RUNNING end ABORTED; their events are restarted by the
  // reconciler, and the lost execution does not count against them.
  await countLostExecutions(stores, await stepFunctions.abortOrphans());
  const sfnEndpoint = await stepFunctions.listen();
  const vendorsSourceDir = options.vendorsDir ?? join(REPO_ROOT, "schemas/vendors");
  // What runs is the copy taken at start (vendors.ts): an edit on disk waits for a publish or a restart.
  const vendorsDir = options.dataDir
    ? join(options.dataDir, "bundled-vendors")
    : mkdtempSync(join(tmpdir(), "dvss-vendors-"));
  exportEnvironment(stores, sfnEndpoint, stateMachineArn, vendorsDir);
  // Their records are still RECEIVED: the reconciler restarts them at its first run rather than
  // after its usual threshold (an execution of this runtime may still be queued that long).
  process.env.DVSS_EXECUTIONS_LOST_BEFORE = startedAt;
  process.env.DVSS_RECONCILE_BATCH_PER_SHARD ??= String(LOCAL_RECONCILE_BATCH_PER_SHARD);
  // An execution waiting in this runtime's queue is not lost, however long it waits.
  process.env.DVSS_RECONCILE_SKIP_RUNNING ??= "true";
  process.env.DVSS_RECONCILE_AFTER_SECONDS ??= String(LOCAL_RECONCILE_AFTER_SECONDS);
  // Handlers of an earlier runtime in this process hold clients for old endpoints.
  const { resetAwsClients } = await import("@dvss/functions/lib/aws");
  resetAwsClients();
  const { clearAuthCache } = await import("@dvss/core/auth");
  clearAuthCache();

  // A broken vendor folder is refused on its own: the other vendors still start.
  const { refused: refusedVendors, refusedVersions } = await loadVendorFolders(
    stores.tables,
    vendorsSourceDir,
    vendorsDir,
  );
  const refusedCrosswalks = await loadCrosswalkFiles(
    stores.tables,
    options.crosswalkDir ?? join(REPO_ROOT, "schemas/crosswalk"),
  );
  // The checks above ran each vendor's examples in this thread's mapping evaluators (~50 MiB of
  // memory each, two or more), which nothing here uses again: the tasks thread has its own.
  await closeSharedMappingPool();

  // The console is served by the API's server but needs the endpoints, known once it listens.
  let endpoints: LocalEndpoints | undefined;
  const routes = [
    refusedVendorRoute(refusedVendors),
    memoryRoute({ tasks: () => taskThread?.heap() ?? Promise.resolve(undefined), ...stores.heaps }),
    ...(options.extraRoutes ?? []),
  ];
  let operatorConsole: { close(): void } | undefined;
  if (options.console) {
    const { consoleRoute } = await import("./console/index.ts");
    const served = consoleRoute(() => endpoints);
    routes.unshift(served.route);
    operatorConsole = served;
  }
  let server: Server;
  try {
    server = await startHttpServer(options.port ?? 4000, routes);
  } catch (error) {
    await stepFunctions.close();
    await taskThread?.close();
    await stores.close();
    throw error;
  }

  let reconcileTimer: NodeJS.Timeout | undefined;
  let firstReconcile: NodeJS.Timeout | undefined;
  if (options.reconcileIntervalMs) {
    let reconciling = false;
    const reconcile = async () => {
      if (reconciling) return; // a long run is not overlapped by the next one
      reconciling = true;
      try {
        const handler = await loadHandler("packages/functions/src/reconciler.handler");
        await handler({}, lambdaContext("Reconciler"));
      } catch (error) {
        console.error("reconciler run failed", error);
      } finally {
        reconciling = false;
      }
    };
    reconcileTimer = setInterval(() => void reconcile(), options.reconcileIntervalMs);
    reconcileTimer.unref();
    // Soon after start, so what a stopped runtime left unfinished is restarted at once.
    firstReconcile = setTimeout(() => void reconcile(), Math.min(options.reconcileIntervalMs, 2_000));
    firstReconcile.unref();
  }

  endpoints = {
    api: serverUrl(server),
    dynamodb: stores.dynamodbEndpoint,
    s3: stores.s3Endpoint,
    sfn: sfnEndpoint,
    region: REGION,
    stateMachineArn,
    tables: stores.tables,
    buckets: stores.buckets,
    executionsTable: stores.executionsTable,
    vendorsDir,
  };
  if (options.dataDir) {
    writeFileSync(join(options.dataDir, "endpoints.json"), `${JSON.stringify(endpoints, null, 2)}\n`);
  }
  lock?.listening(endpoints.api);

  return {
    endpoints,
    stepFunctions,
    stores,
    refusedVendors,
    refusedVersions,
    refusedCrosswalks,
    vendorsSourceDir,
    async close() {
      if (reconcileTimer) clearInterval(reconcileTimer);
      if (firstReconcile) clearTimeout(firstReconcile);
      operatorConsole?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stepFunctions.close();
      await taskThread?.close();
      await stores.close();
      if (!options.dataDir) rmSync(vendorsDir, { recursive: true, force: true });
      lock?.release();
    },
  };
}
