/**
 * What DVSS costs on AWS per accepted event and per month: a pure model, no AWS calls.
 *
 * Counts come from the code: Lambda invocations, state transitions and execution-history events
 * from the workflow definition (workflow.ts), DynamoDB and S3 requests from the code paths of the
 * ingest handler and of each task (listed in CALLS_PER_EVENT with where they come from).
 * Durations default to the local handler timings of `npm run bench` (a proxy: in AWS every store
 * call crosses the network, so real durations are longer; pass measured ones once deployed).
 *
 * Prices: PRICES below, us-east-1 public on-demand list prices as of PRICES.asOf, quoted from the
 * published price pages from memory. Check them against the current pages before relying on a
 * figure. Free tiers are ignored.
 */

import { type AslDefinition, buildNormalizeDefinition, TASK_NAMES, type TaskName } from "./workflow.ts";

export const PRICES = {
  asOf: "2025-06",
  region: "us-east-1",
  lambda: {
    perMillionRequests: 0.2,
    /** arm64 (infra/function.ts deploys arm64), first 7.5 billion GB-s of a month. */
    perGbSecondArm64: 0.0000133334,
    perGbSecondX86: 0.0000166667,
  },
  stepFunctionsExpress: {
    perMillionRequests: 1.0,
    /** Per GB-second, by monthly tier: first 1,000 GB-hours, next 4,000, beyond. */
    gbSecondTiers: [
      { upTo: 3_600_000, price: 0.00001667 },
      { upTo: 18_000_000, price: 0.00000833 },
      { upTo: Number.POSITIVE_INFINITY, price: 0.00000456 },
    ],
    /** Memory is billed in 64 MB chunks, duration rounded up to 100 ms. */
    memoryChunkMb: 64,
    durationStepMs: 100,
  },
  /** Standard workflows, for comparison only (DVSS deploys Express). */
  stepFunctionsStandard: { perThousandTransitions: 0.025 },
  apiGatewayHttp: {
    requestTiers: [
      { upTo: 300_000_000, price: 1.0 / 1_000_000 },
      { upTo: Number.POSITIVE_INFINITY, price: 0.9 / 1_000_000 },
    ],
  },
  /** On-demand, after the November 2024 reduction. */
  dynamodb: { perMillionWriteUnits: 0.625, perMillionReadUnits: 0.125 },
  s3: { perThousandPuts: 0.005, perThousandGets: 0.0004, perGbMonth: 0.023 },
  /** Vended logs (Step Functions and Lambda log delivery), by monthly tier of GB ingested. */
  cloudWatchLogs: {
    ingestionTiers: [
      { upTo: 10 * 1024, price: 0.5 },
      { upTo: 30 * 1024, price: 0.25 },
      { upTo: 50 * 1024, price: 0.1 },
      { upTo: Number.POSITIVE_INFINITY, price: 0.05 },
    ],
  },
  eventBridge: { perMillionPipeRequests: 0.4, perMillionCustomEvents: 1.0 },
} as const;

export const SECONDS_PER_MONTH = 30 * 24 * 3600;

/**
 * The Express state machine's logging level, as the cost model takes it: ALL logs every
 * execution-history event with its execution data (state input and output), as development stages
 * deploy it; ERROR logs only failures, without execution data, as production deploys it, so an
 * execution on the happy path logs nothing; OFF logs nothing.
 */
export type ExpressLogLevel = "ALL" | "ERROR" | "OFF";
export const EXPRESS_LOG_LEVELS: readonly ExpressLogLevel[] = ["ALL", "ERROR", "OFF"];

/**
 * The production stage's level (stacks/settings.ts `workflowLogging`; infra/test/stacks.test.ts
 * fails unless the two agree): the model's default.
 */
export const PRODUCTION_EXPRESS_LOG_LEVEL: ExpressLogLevel = "ERROR";

/**
 * The functions' Lambda system log level, as the cost model takes it: INFO logs START, END and
 * REPORT for every invocation (lambdaPlatformLogBytes), as development stages deploy it; WARN logs
 * none of them (only Lambda's warnings, none on the happy path), as staging and production do.
 */
export type LambdaSystemLogLevel = "INFO" | "WARN";
export const LAMBDA_SYSTEM_LOG_LEVELS: readonly LambdaSystemLogLevel[] = ["INFO", "WARN"];

/**
 * The production stage's level (stacks/settings.ts `functionSystemLogLevel`;
 * infra/test/stacks.test.ts fails unless the two agree): the model's default.
 */
export const PRODUCTION_LAMBDA_SYSTEM_LOG_LEVEL: LambdaSystemLogLevel = "WARN";

/**
 * A handler an event's cost counts: the ingest handler and each workflow task, by task name (not
 * the deployed function's name, infra/access.ts FunctionName).
 */
export type CostedHandler = "Ingest" | TaskName;

/**
 * Handler durations (ms) measured by `npm run bench` on the local runtime with the workflow not
 * waiting for CPU (docs/performance.md): task states from their execution history, ingest as its
 * p50 latency at concurrency 1; Quarantine is not on the happy path and is an estimate, and so is
 * Map (the Validate task it replaced, 11 ms, plus the normalized write of WriteNormalized, ~5 ms;
 * the machine has been too busy since to measure it). A proxy for Lambda billed duration: locally
 * a store call takes about a millisecond, in AWS several.
 */
export const LOCAL_DURATIONS_MS: Readonly<Record<CostedHandler, number>> = {
  Ingest: 18,
  Map: 16,
  // Off the common path: NeedsMatch skips it for a vendor without crosswalk entries or required kinds.
  Match: 3,
  // 19 for the state, and the 6 of UpdateStatus's record and scorecard writes, its last step now.
  ApplyState: 25,
  // MarkFailed only: off the happy path.
  UpdateStatus: 6,
  Quarantine: 8,
};

/** One kind of store call: how many per event, where from, and its DynamoDB capacity units per call. */
export interface StoreCall {
  calls: number;
  by: string;
  /**
   * DynamoDB only, per call (the mean when the calls of one kind write items of different sizes):
   * read units (0.5 eventually consistent, 1 consistent, items under 4 KB) or write units (1 per
   * KB of the larger of the item before and after, rounded up, plus what the write does to each
   * index entry: 1 per KB to put or delete one, both when its key changes, 1 per KB to update one
   * when a projected attribute changes, none otherwise).
   */
  units?: number;
}

/**
 * Store calls per accepted event in steady state (the entity exists), by kind as the local stores
 * count them: `<service> <operation> <table or bucket>` (packages/local/src/call-counts.ts,
 * `npm run bench`). packages/local/test/calls-per-event.test.ts runs events through the local
 * runtime and fails unless the code makes exactly these calls, and unless their items cost exactly
 * these units as the local DynamoDB measures them (packages/local/src/capacity-units.ts): change
 * one, change the other. The units are those of the test's inventory updates; larger documents
 * (an order with many lines) make larger state and feed items.
 */
export const CALLS_PER_EVENT: Readonly<Record<string, StoreCall>> = {
  "DynamoDB GetItem IngestRecords": { calls: 1, units: 0.5, by: "Ingest: duplicate check (core/ingest.ts)" },
  "DynamoDB PutItem IngestRecords": {
    calls: 1,
    units: 3,
    by: "Ingest: conditional put of the record, ~0.6 KB, in gsi1 (its key only) and gsi2",
  },
  "S3 PutObject RawBucket": { calls: 1, by: "Ingest: the raw body (core/ingest.ts)" },
  "StepFunctions StartExecution": { calls: 1, by: "Ingest: one Express execution per event" },
  "S3 GetObject RawBucket": { calls: 1, by: "Map: the raw body, read once (tasks/map.ts)" },
  "S3 PutObject NormalizedBucket": {
    calls: 1,
    by: "Map: the normalized document, which its result also carries up to CARRIED_DOCUMENT_MAX_BYTES (workflow.ts): Match and ApplyState do not read it back",
  },
  "DynamoDB GetItem CanonicalState": {
    calls: 1,
    units: 1,
    by: "ApplyState: the entity's item, consistent (state/store.ts)",
  },
  // No GetItem of the Outbox: the new feed entry is a conditional put without a read of its
  // position, and the entity's previous change is not read again by the process that published it
  // (state/feed.ts, publishChange). On AWS an event whose entity's previous change another
  // container published reads that entry: 1 consistent read unit more.
  "DynamoDB UpdateItem Outbox": { calls: 1, units: 1, by: "ApplyState: the outbox sequence (state/feed.ts)" },
  "DynamoDB PutItem CanonicalState": {
    calls: 2,
    units: 1.5,
    by: "ApplyState: conditional put of the item with its change (~1.5 KB, 2 units) and the event's log entry (~0.5 KB, 1 unit; state/log.ts)",
  },
  "DynamoDB PutItem Outbox": {
    calls: 1,
    units: 1,
    by: "ApplyState: conditional put of the feed entry with the event, ~0.6 KB for an inventory update, in no index (core/tables.ts)",
  },
  "DynamoDB UpdateItem IngestRecords": {
    calls: 1,
    units: 2,
    by: "ApplyState, marking the record NORMALIZED and answering it as it was (leaves gsi2; gsi1 copies none of what changes)",
  },
  "DynamoDB UpdateItem Scorecards": {
    calls: 1,
    units: 1,
    by: "ApplyState, marking the record: the event's outcome added to its vendor's counters of the day, an item under 1 KB (core/scorecard.ts)",
  },
};

/** The outbox stream goes through a pipe to the bus: one pipe request and one event per change. */
export const EVENTBRIDGE_PER_EVENT = { pipeRequests: 1, customEvents: 1 } as const;

/** One request an accepted event cannot avoid, whatever the design: what it is and what it counts as. */
export interface FloorRequest {
  what: string;
  counts: "apiRequests" | "lambdaInvocations" | "expressRequests" | "dynamodbWriteUnits" | "s3Puts";
  amount: number;
}

/**
 * The floor: the requests an accepted event cannot avoid. It arrives through the API, one function
 * takes it, its body is kept raw and normalized (an object each), it is recorded once for
 * idempotency, applied to the entity's state and written to the feed (one write unit each: an item
 * under 1 KB in no index), and it runs one Express execution. Requests only: no Lambda or Express
 * duration, reads, storage, logs or bus. Priced by costModel from PRICES, like the lines.
 */
export const FLOOR_REQUESTS: readonly FloorRequest[] = [
  { what: "API request", counts: "apiRequests", amount: 1 },
  { what: "ingest invocation", counts: "lambdaInvocations", amount: 1 },
  { what: "Express execution request", counts: "expressRequests", amount: 1 },
  { what: "raw PUT", counts: "s3Puts", amount: 1 },
  { what: "normalized PUT", counts: "s3Puts", amount: 1 },
  { what: "idempotency write", counts: "dynamodbWriteUnits", amount: 1 },
  { what: "state write", counts: "dynamodbWriteUnits", amount: 1 },
  { what: "feed write", counts: "dynamodbWriteUnits", amount: 1 },
];

/** DynamoDB operations that read (billed in read units); the others write. */
export const DYNAMODB_READS: ReadonlySet<string> = new Set([
  "GetItem",
  "Query",
  "Scan",
  "BatchGetItem",
  "TransactGetItems",
]);
const S3_GETS = new Set(["GetObject", "HeadObject"]);

/** The model's calls of one service, by whether they read: units for DynamoDB, requests for the others. */
function callTotals(service: "DynamoDB" | "S3" | "StepFunctions") {
  let reads = 0;
  let writes = 0;
  for (const [kind, call] of Object.entries(CALLS_PER_EVENT)) {
    const [callService, operation = ""] = kind.split(" ");
    if (callService !== service) continue;
    const amount = service === "DynamoDB" ? call.calls * (call.units ?? 0) : call.calls;
    if ((service === "DynamoDB" ? DYNAMODB_READS : S3_GETS).has(operation)) reads += amount;
    else writes += amount;
  }
  return { reads, writes };
}

/** What the workflow definition says one execution costs, on its happy path. */
export interface WorkflowCounts {
  /** Task states visited (each a Lambda invocation), by function. */
  taskInvocations: TaskName[];
  /** States visited: what Standard workflows bill as state transitions. */
  stateTransitions: number;
  /** Execution-history events, each one CloudWatch Logs record at logging level ALL. */
  historyEvents: number;
  /**
   * Of those, the ones whose execution data holds Map's result, and so the normalized document it
   * carries (CARRIED_DOCUMENT_MAX_BYTES): from Map's TaskSucceeded on, every record with state
   * data (a Task state's Entered, Scheduled and Exited, its TaskSucceeded only for Map; a Pass or
   * Succeed state's Entered and Exited; ExecutionSucceeded), not TaskStarted.
   */
  historyEventsWithDocument: number;
}

/**
 * Follows the definition from StartAt to its Succeed state along Next (no failure; at a Choice, its
 * first rule, the common path: NeedsMatch skips Match for a vendor without a crosswalk), counting
 * Lambda invocations, states and history events as Step Functions records them: a Task state
 * logs Entered, Scheduled, Started, Succeeded and Exited; other states Entered and Exited; the
 * execution itself Started and Succeeded. Counts too the records that carry Map's document.
 */
export function workflowCounts(definition: AslDefinition): WorkflowCounts {
  const functionOf = new Map<string, TaskName>(TASK_NAMES.map((task) => [`cost:${task}`, task]));
  const taskInvocations: TaskName[] = [];
  let stateTransitions = 0;
  let historyEvents = 2;
  // Whether the state holds Map's result yet, and the records that then carry it.
  let carrying = false;
  let historyEventsWithDocument = 0;
  let name: string | undefined = definition.StartAt;
  while (name !== undefined) {
    const state: AslDefinition["States"][string] | undefined = definition.States[name];
    if (!state) throw new Error(`The definition has no state ${name}`);
    stateTransitions += 1;
    if (state.Type === "Task") {
      const task = functionOf.get(state.Resource);
      if (!task) throw new Error(`State ${name} calls an unknown resource ${state.Resource}`);
      taskInvocations.push(task);
      historyEvents += 5;
      // Entered and Scheduled carry the state as it comes in, Succeeded the task's result, Exited both.
      if (carrying) historyEventsWithDocument += 2;
      if (task === "Map") carrying = true;
      if (carrying) historyEventsWithDocument += task === "Map" ? 2 : 1;
    } else {
      historyEvents += 2;
      if (carrying) historyEventsWithDocument += 2;
    }
    // A Choice goes on by its first rule: the definition lists the common path first.
    name = state.Type === "Choice" ? state.Choices[0]?.Next : "Next" in state ? state.Next : undefined;
    if (stateTransitions > 100) throw new Error("The definition's happy path does not end");
  }
  // ExecutionSucceeded's output is the last state.
  if (carrying) historyEventsWithDocument += 1;
  return { taskInvocations, stateTransitions, historyEvents, historyEventsWithDocument };
}

/** The Normalize definition as deployed, with placeholder ARNs that name each task. */
export function normalizeWorkflowCounts(): WorkflowCounts {
  return workflowCounts(buildNormalizeDefinition((task) => `cost:${task}`));
}

export interface CostInputs {
  eventsPerSecond: number;
  durationsMs?: Partial<Record<CostedHandler, number>>;
  lambdaMemoryMb?: number;
  architecture?: "arm64" | "x86_64";
  /** Step Functions' own time between states (Lambda invoke round trips), per Task state. */
  stateOverheadMs?: number;
  /** Memory an Express execution is billed for (64 MB chunks; DVSS states carry references and documents of at most 8 KiB). */
  expressMemoryMb?: number;
  /** The state machine's logging level (default: production's, PRODUCTION_EXPRESS_LOG_LEVEL). */
  expressLogLevel?: ExpressLogLevel;
  /**
   * Bytes of one execution-history log record with execution data (level ALL), without the
   * normalized document Map's result carries (carriedDocumentBytes). The bench measured ~820 bytes
   * per local history event (state input/output included) while the state carried references
   * only; CloudWatch records add the execution ARN, timestamps and ids.
   */
  bytesPerHistoryEvent?: number;
  /**
   * Bytes the carried normalized document adds to each history record that holds it
   * (historyEventsWithDocument), at level ALL; taken as 450. The seed event's is 391 bytes as JSON
   * escaped in a record's input or output string (its local history grew 9,244 → 14,080 bytes,
   * 12 records × 403); ids longer than the seed's make it larger.
   */
  carriedDocumentBytes?: number;
  /** The functions' system log level (default: production's, PRODUCTION_LAMBDA_SYSTEM_LOG_LEVEL). */
  lambdaSystemLogLevel?: LambdaSystemLogLevel;
  /** Bytes Lambda logs per invocation at system log level INFO: START, END and REPORT platform records. */
  lambdaPlatformLogBytes?: number;
  /**
   * Application log bytes per accepted event, measured at INFO (production's and staging's
   * application level) with the local runtime: the ingest handler's "event accepted" line (~440),
   * ApplyState's "event outcome" line (~380) and the five EMF metric lines (~1,300, two of them a
   * metric's dimension sets sharing a line; docs/operations/observability.md). ~2,100, taken as
   * 2,200 (function names on AWS are longer than local ones). It was ~2,440 with a line per
   * dimension set (seven, ~1,690), ~4,760 while the four tasks logged a "task input" line each at INFO
   * (~2,490) and every line carried the function's ARN, memory size and sampling rate; those lines
   * are DEBUG now, which development stages log (~5,950 bytes more per event).
   */
  applicationLogBytesPerEvent?: number;
  rawObjectBytes?: number;
  normalizedObjectBytes?: number;
}

export interface PerEventCounts {
  apiRequests: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  expressRequests: number;
  expressBilledMs: number;
  expressGbSeconds: number;
  stateTransitions: number;
  historyEvents: number;
  /** Execution-history records the logging level sends to CloudWatch Logs: all of them at ALL, none on the happy path otherwise. */
  expressLogRecords: number;
  logBytes: number;
  dynamodbReadUnits: number;
  dynamodbWriteUnits: number;
  s3Puts: number;
  s3Gets: number;
  s3StoredBytes: number;
  pipeRequests: number;
  busEvents: number;
}

export interface CostLine {
  service: string;
  item: string;
  /** Per month. */
  quantity: number;
  unit: string;
  monthlyUsd: number;
  /** What the floor (FLOOR_REQUESTS) costs of this line per month: 0 if the floor has none of it. */
  floorMonthlyUsd: number;
}

export interface CostModel {
  inputs: Required<Omit<CostInputs, "durationsMs">> & { durationsMs: Record<CostedHandler, number> };
  pricesAsOf: string;
  eventsPerMonth: number;
  perEvent: PerEventCounts;
  lines: CostLine[];
  totalMonthlyUsd: number;
  usdPerMillionEvents: number;
  /** The floor's requests per event (FLOOR_REQUESTS) and their price, at the same volume and tiers. */
  floor: { perEvent: PerEventCounts; monthlyUsd: number; usdPerMillionEvents: number };
  /** totalMonthlyUsd / floor.monthlyUsd. */
  ratioToFloor: number;
  /** For comparison: the same workflow as Standard, billed per transition instead of Express requests and duration. */
  standardWorkflowMonthlyUsd: number;
}

/** Price of `quantity` under monthly volume tiers (each tier's `upTo` is cumulative). */
export function tiered(quantity: number, tiers: readonly { upTo: number; price: number }[]): number {
  let total = 0;
  let from = 0;
  for (const tier of tiers) {
    if (quantity <= from) break;
    total += (Math.min(quantity, tier.upTo) - from) * tier.price;
    from = tier.upTo;
  }
  return total;
}

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

export function costModel(options: CostInputs): CostModel {
  const inputs: CostModel["inputs"] = {
    eventsPerSecond: options.eventsPerSecond,
    durationsMs: { ...LOCAL_DURATIONS_MS, ...options.durationsMs },
    lambdaMemoryMb: options.lambdaMemoryMb ?? 512,
    architecture: options.architecture ?? "arm64",
    stateOverheadMs: options.stateOverheadMs ?? 20,
    expressMemoryMb: options.expressMemoryMb ?? 64,
    expressLogLevel: options.expressLogLevel ?? PRODUCTION_EXPRESS_LOG_LEVEL,
    bytesPerHistoryEvent: options.bytesPerHistoryEvent ?? 1_000,
    carriedDocumentBytes: options.carriedDocumentBytes ?? 450,
    lambdaSystemLogLevel: options.lambdaSystemLogLevel ?? PRODUCTION_LAMBDA_SYSTEM_LOG_LEVEL,
    lambdaPlatformLogBytes: options.lambdaPlatformLogBytes ?? 450,
    applicationLogBytesPerEvent: options.applicationLogBytesPerEvent ?? 2_200,
    rawObjectBytes: options.rawObjectBytes ?? 250,
    normalizedObjectBytes: options.normalizedObjectBytes ?? 450,
  };
  const workflow = normalizeWorkflowCounts();
  const functions: CostedHandler[] = ["Ingest", ...workflow.taskInvocations];
  const gb = inputs.lambdaMemoryMb / 1024;
  const lambdaMs = sum(functions.map((name) => Math.ceil(inputs.durationsMs[name])));
  const taskMs = sum(
    workflow.taskInvocations.map((task) => inputs.durationsMs[task] + inputs.stateOverheadMs),
  );
  const { durationStepMs, memoryChunkMb } = PRICES.stepFunctionsExpress;
  const expressBilledMs = Math.ceil(taskMs / durationStepMs) * durationStepMs;
  const expressGb = (Math.ceil(inputs.expressMemoryMb / memoryChunkMb) * memoryChunkMb) / 1024;
  const expressLogRecords = inputs.expressLogLevel === "ALL" ? workflow.historyEvents : 0;
  const expressLogDocuments = inputs.expressLogLevel === "ALL" ? workflow.historyEventsWithDocument : 0;
  const lambdaPlatformLogBytes = inputs.lambdaSystemLogLevel === "INFO" ? inputs.lambdaPlatformLogBytes : 0;

  const perEvent: PerEventCounts = {
    apiRequests: 1,
    lambdaInvocations: functions.length,
    lambdaGbSeconds: (lambdaMs / 1000) * gb,
    expressRequests: callTotals("StepFunctions").writes,
    expressBilledMs,
    expressGbSeconds: (expressBilledMs / 1000) * expressGb,
    stateTransitions: workflow.stateTransitions,
    historyEvents: workflow.historyEvents,
    expressLogRecords,
    logBytes:
      expressLogRecords * inputs.bytesPerHistoryEvent +
      expressLogDocuments * inputs.carriedDocumentBytes +
      functions.length * lambdaPlatformLogBytes +
      inputs.applicationLogBytesPerEvent,
    dynamodbReadUnits: callTotals("DynamoDB").reads,
    dynamodbWriteUnits: callTotals("DynamoDB").writes,
    s3Puts: callTotals("S3").writes,
    s3Gets: callTotals("S3").reads,
    s3StoredBytes: inputs.rawObjectBytes + inputs.normalizedObjectBytes,
    pipeRequests: EVENTBRIDGE_PER_EVENT.pipeRequests,
    busEvents: EVENTBRIDGE_PER_EVENT.customEvents,
  };

  const events = inputs.eventsPerSecond * SECONDS_PER_MONTH;
  const month = (perEventQuantity: number) => perEventQuantity * events;
  const gbSecondPrice =
    inputs.architecture === "arm64" ? PRICES.lambda.perGbSecondArm64 : PRICES.lambda.perGbSecondX86;
  // One pricing of per-event counts, for the model's and for the floor's.
  const priced = (perEvent: PerEventCounts): Omit<CostLine, "floorMonthlyUsd">[] => {
    const logGb = month(perEvent.logBytes) / 1024 ** 3;
    const storedGb = month(perEvent.s3StoredBytes) / 1024 ** 3;
    return [
      {
        service: "API Gateway",
        item: "HTTP API requests",
        quantity: month(perEvent.apiRequests),
        unit: "requests",
        monthlyUsd: tiered(month(perEvent.apiRequests), PRICES.apiGatewayHttp.requestTiers),
      },
      {
        service: "Lambda",
        item: `requests (ingest + ${workflow.taskInvocations.length} tasks)`,
        quantity: month(perEvent.lambdaInvocations),
        unit: "invocations",
        monthlyUsd: (month(perEvent.lambdaInvocations) / 1e6) * PRICES.lambda.perMillionRequests,
      },
      {
        service: "Lambda",
        item: `duration (${inputs.lambdaMemoryMb} MB, ${inputs.architecture})`,
        quantity: month(perEvent.lambdaGbSeconds),
        unit: "GB-s",
        monthlyUsd: month(perEvent.lambdaGbSeconds) * gbSecondPrice,
      },
      {
        service: "Step Functions Express",
        item: "requests (executions)",
        quantity: month(perEvent.expressRequests),
        unit: "executions",
        monthlyUsd: (month(perEvent.expressRequests) / 1e6) * PRICES.stepFunctionsExpress.perMillionRequests,
      },
      {
        service: "Step Functions Express",
        item: `duration (${expressBilledMs} ms billed, ${inputs.expressMemoryMb} MB)`,
        quantity: month(perEvent.expressGbSeconds),
        unit: "GB-s",
        monthlyUsd: tiered(month(perEvent.expressGbSeconds), PRICES.stepFunctionsExpress.gbSecondTiers),
      },
      {
        service: "DynamoDB",
        item: "write request units (on-demand)",
        quantity: month(perEvent.dynamodbWriteUnits),
        unit: "WRU",
        monthlyUsd: (month(perEvent.dynamodbWriteUnits) / 1e6) * PRICES.dynamodb.perMillionWriteUnits,
      },
      {
        service: "DynamoDB",
        item: "read request units (on-demand)",
        quantity: month(perEvent.dynamodbReadUnits),
        unit: "RRU",
        monthlyUsd: (month(perEvent.dynamodbReadUnits) / 1e6) * PRICES.dynamodb.perMillionReadUnits,
      },
      {
        service: "S3",
        item: "PUT requests",
        quantity: month(perEvent.s3Puts),
        unit: "requests",
        monthlyUsd: (month(perEvent.s3Puts) / 1000) * PRICES.s3.perThousandPuts,
      },
      {
        service: "S3",
        item: "GET requests",
        quantity: month(perEvent.s3Gets),
        unit: "requests",
        monthlyUsd: (month(perEvent.s3Gets) / 1000) * PRICES.s3.perThousandGets,
      },
      {
        service: "S3",
        item: "storage added this month (raw + normalized; it accumulates)",
        quantity: storedGb,
        unit: "GB-month",
        monthlyUsd: storedGb * PRICES.s3.perGbMonth,
      },
      {
        service: "CloudWatch Logs",
        item: `ingestion (Express level ${inputs.expressLogLevel}: ${perEvent.expressLogRecords} records per execution; Lambda system level ${inputs.lambdaSystemLogLevel})`,
        quantity: logGb,
        unit: "GB",
        monthlyUsd: tiered(logGb, PRICES.cloudWatchLogs.ingestionTiers),
      },
      {
        service: "EventBridge",
        item: "outbox pipe requests + bus events",
        quantity: month(perEvent.pipeRequests + perEvent.busEvents),
        unit: "requests",
        monthlyUsd:
          (month(perEvent.pipeRequests) / 1e6) * PRICES.eventBridge.perMillionPipeRequests +
          (month(perEvent.busEvents) / 1e6) * PRICES.eventBridge.perMillionCustomEvents,
      },
    ];
  };
  const floorPerEvent: PerEventCounts = {
    apiRequests: 0,
    lambdaInvocations: 0,
    lambdaGbSeconds: 0,
    expressRequests: 0,
    expressBilledMs: 0,
    expressGbSeconds: 0,
    stateTransitions: 0,
    historyEvents: 0,
    expressLogRecords: 0,
    logBytes: 0,
    dynamodbReadUnits: 0,
    dynamodbWriteUnits: 0,
    s3Puts: 0,
    s3Gets: 0,
    s3StoredBytes: 0,
    pipeRequests: 0,
    busEvents: 0,
  };
  for (const request of FLOOR_REQUESTS) floorPerEvent[request.counts] += request.amount;
  const floorLines = priced(floorPerEvent);
  const lines: CostLine[] = priced(perEvent).map((line, i) => ({
    ...line,
    floorMonthlyUsd: floorLines[i]?.monthlyUsd ?? 0,
  }));
  const totalMonthlyUsd = sum(lines.map((line) => line.monthlyUsd));
  const floorMonthlyUsd = sum(lines.map((line) => line.floorMonthlyUsd));
  const expressUsd = sum(
    lines.filter((line) => line.service === "Step Functions Express").map((line) => line.monthlyUsd),
  );
  const standardUsd =
    (month(perEvent.stateTransitions) / 1000) * PRICES.stepFunctionsStandard.perThousandTransitions;
  return {
    inputs,
    pricesAsOf: PRICES.asOf,
    eventsPerMonth: events,
    perEvent,
    lines,
    totalMonthlyUsd,
    usdPerMillionEvents: events > 0 ? (totalMonthlyUsd / events) * 1e6 : 0,
    floor: {
      perEvent: floorPerEvent,
      monthlyUsd: floorMonthlyUsd,
      usdPerMillionEvents: events > 0 ? (floorMonthlyUsd / events) * 1e6 : 0,
    },
    ratioToFloor: floorMonthlyUsd > 0 ? totalMonthlyUsd / floorMonthlyUsd : 0,
    standardWorkflowMonthlyUsd: totalMonthlyUsd - expressUsd + standardUsd,
  };
}

const usd = (value: number) =>
  value >= 100 ? `$${Math.round(value).toLocaleString("en-US")}` : `$${value.toFixed(2)}`;
const quantity = (value: number) =>
  value >= 1e9
    ? `${(value / 1e9).toFixed(2)} B`
    : value >= 1e6
      ? `${(value / 1e6).toFixed(1)} M`
      : value >= 1e3
        ? `${(value / 1e3).toFixed(1)} k`
        : value.toFixed(1);

/** The model as a table: per-event counts, then one line per billed item and the total. */
export function formatCost(model: CostModel): string {
  const { perEvent } = model;
  const rows = [
    ["", "", "", "", "floor"],
    ...model.lines.map((line) => [
      line.service,
      line.item,
      `${quantity(line.quantity)} ${line.unit}`,
      usd(line.monthlyUsd),
      line.floorMonthlyUsd > 0 ? usd(line.floorMonthlyUsd) : "-",
    ]),
  ];
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  const lines = rows.map((row) =>
    row.map((cell, i) => (i >= 2 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join("  "),
  );
  return [
    `DVSS on AWS at ${model.inputs.eventsPerSecond} events/s (${quantity(model.eventsPerMonth)} events per 30-day month)`,
    `prices: ${PRICES.region} public on-demand list prices as of ${model.pricesAsOf}, quoted from memory: check them`,
    "",
    `per event: ${perEvent.lambdaInvocations} Lambda invocations (${perEvent.lambdaGbSeconds.toFixed(5)} GB-s), ` +
      `1 Express execution (${perEvent.expressBilledMs} ms billed, ${perEvent.stateTransitions} states, ` +
      `${perEvent.expressLogRecords} of its ${perEvent.historyEvents} history events logged at level ${model.inputs.expressLogLevel}), ` +
      `${perEvent.dynamodbWriteUnits} WRU, ${perEvent.dynamodbReadUnits} RRU, ${perEvent.s3Puts} S3 PUT, ${perEvent.s3Gets} S3 GET, ` +
      `${(perEvent.logBytes / 1024).toFixed(1)} KB of logs`,
    "",
    ...lines,
    "",
    `total ${usd(model.totalMonthlyUsd)} per month, ${usd(model.usdPerMillionEvents)} per million events` +
      ` (as a Standard workflow instead: ${usd(model.standardWorkflowMonthlyUsd)} per month)`,
    `floor ${usd(model.floor.monthlyUsd)} per month, ${usd(model.floor.usdPerMillionEvents)} per million events ` +
      `(${FLOOR_REQUESTS.map((request) => request.what).join(", ")}): the total is ${model.ratioToFloor.toFixed(2)}× the floor`,
  ].join("\n");
}
