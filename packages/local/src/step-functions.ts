import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/lib-dynamodb";
import type { AslDefinition } from "@dvss/core/workflow";
import { StateMachine } from "aws-local-stepfunctions";
import { createCallCounter } from "./call-counts.ts";

/**
 * The local Step Functions endpoint: the AWS JSON 1.0 protocol for StartExecution,
 * DescribeExecution, ListExecutions and GetExecutionHistory, running the state machine's ASL with
 * aws-local-stepfunctions. Task states call the handlers in-process; executions and their event
 * history are kept in a local table so they outlive the process like the other stores. That table
 * is the local runtime's alone (AWS keeps Express executions itself), so it costs the pipeline as
 * little as it can: executions are written in batches, RUNNING then ended (one write if it ended
 * before its batch), and reads of what runs here are answered from memory.
 */

type Json = ReturnType<typeof JSON.parse>;
export type TaskInvoker = (input: Json) => Promise<Json>;

export interface StateMachineConfig {
  name: string;
  arn: string;
  definition: AslDefinition;
  /** Task state name → the in-process call of its function. */
  tasks: Record<string, TaskInvoker>;
}

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED" | "TIMED_OUT";

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: number;
  stopDate?: number;
  history: HistoryEvent[];
}

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  details: Record<string, unknown>;
}

/** Why an execution a stopped runtime left RUNNING ended ABORTED when the next one started. */
export const RUNTIME_STOPPED = {
  error: "LocalRuntimeStopped",
  cause: "The local runtime stopped before this execution finished; the reconciler starts the event again",
};

/**
 * Index partition (gsi1pk) of the executions still RUNNING: finding them at start is one small
 * query. An execution moves to its state machine's partition when it ends.
 */
const runningPartition = (stateMachineArn: string) => `${stateMachineArn}#RUNNING`;
/** Marks the executions table as searched once for RUNNING executions written before that partition. */
const LEGACY_RUNNING_SEARCHED = { pk: "local-stepfunctions", sk: "legacy-running-searched" };
/** Tries of an execution's write while a store is down (about 40 s in all). */
const WRITE_TRIES = 10;
/**
 * Executions are written in batches (BatchWriteItem takes 25 items): at most this long after the
 * first one waiting, or at once when 25 wait. Under load one call writes 25 executions, and an
 * execution that ends before its RUNNING item went out is written once, ended.
 */
const WRITE_BATCH_WAIT_MS = 100;
const WRITE_BATCH_ITEMS = 25;

/** The index sort key of an execution: by start time, then name. */
const startOrder = (record: Pick<ExecutionRecord, "startDate" | "name">) =>
  `${String(record.startDate).padStart(15, "0")}#${record.name}`;

/**
 * Executions that may wait for their turn at once. Each waiting one holds its record, input and
 * promises in the API thread's heap (~2.4 KB measured): unbounded, a burst longer than the workflow
 * could follow grew that heap without limit, until the heap bound (memory.ts) ended the process.
 * 20,000 hold ~50 MB, and are several minutes of work at the workflow's 40-70 events/s. Past
 * them StartExecution is refused with ThrottlingException, as Step Functions refuses a start
 * beyond its rate: the SDK retries it with backoff, then ingest accepts the event all the same and
 * leaves it RECEIVED for the reconciler.
 */
const MAX_WAITING_EXECUTIONS = 20_000;

/** Names of ended executions remembered to refuse a reuse with another input (Express itself refuses none). */
const REMEMBERED_ENDED_EXECUTIONS = 10_000;

class SfnError extends Error {
  readonly type: string;
  constructor(type: string, message: string) {
    super(message);
    this.type = type;
  }
}

export interface StepFunctionsOptions {
  dynamodb: DynamoDBClient;
  table: string;
  stateMachine: StateMachineConfig;
  /**
   * At most this many executions run at once; the rest wait their turn (Express has no such limit,
   * our CPU does). Default 8: against 32 the bench showed ingest bursts ~25% faster (fewer workflow
   * calls queued at the stores ahead of ingest's) for ~12% less workflow throughput.
   */
  maxConcurrent?: number;
  /** At most this many executions wait for their turn; a start beyond them is refused (default MAX_WAITING_EXECUTIONS). */
  maxWaiting?: number;
  /** Retry waits are scaled by this factor (tests make them short). */
  retryIntervalScale?: number;
}

/** An execution as ListExecutions shows it (dates in epoch seconds, as the JSON protocol has them). */
function executionSummary(execution: ExecutionRecord) {
  return {
    executionArn: execution.executionArn,
    stateMachineArn: execution.stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: execution.startDate / 1000,
    stopDate: execution.stopDate === undefined ? undefined : execution.stopDate / 1000,
  };
}

/** Maps aws-local-stepfunctions' event log entries to Step Functions history event types. */
function historyEventOf(
  log: { type: string; state?: { name: string; type: string; input?: unknown; output?: unknown } } & Record<
    string,
    unknown
  >,
): { type: string; details: Record<string, unknown> } {
  const state = log.state;
  switch (log.type) {
    case "ExecutionStarted":
      return { type: "ExecutionStarted", details: { input: JSON.stringify(log.input) } };
    case "ExecutionSucceeded":
      return { type: "ExecutionSucceeded", details: { output: JSON.stringify(log.output) } };
    case "ExecutionFailed":
      return { type: "ExecutionFailed", details: { error: log.Error, cause: String(log.Cause ?? "") } };
    case "ExecutionTerminated":
      return { type: "ExecutionAborted", details: {} };
    case "StateEntered":
      return {
        type: `${state?.type}StateEntered`,
        details: { name: state?.name, input: JSON.stringify(state?.input) },
      };
    case "StateExited":
      return {
        type: `${state?.type}StateExited`,
        details: { name: state?.name, output: JSON.stringify(state?.output) },
      };
    case "StateFailed":
      return {
        // AWS's name for a task's failure; other state types have no AWS equivalent.
        type: state?.type === "Task" ? "TaskFailed" : `${state?.type}StateFailed`,
        details: { name: state?.name, error: log.Error, cause: String(log.Cause ?? "") },
      };
    case "StateRetried":
      return {
        type: `${state?.type}StateRetried`,
        details: { name: state?.name, attempt: (log.retry as { attempt?: number } | undefined)?.attempt },
      };
    case "StateCaught":
      return { type: `${state?.type}StateCaught`, details: { name: state?.name } };
    default:
      return { type: log.type, details: {} };
  }
}

/**
 * The same definition with every retrier's waits multiplied by `scale`: backoff and full jitter
 * keep working as deployed, only faster (tests). Step Functions itself wants whole seconds; the
 * local interpreter takes fractions.
 */
function scaleRetries(definition: AslDefinition, scale: number): AslDefinition {
  const states = Object.entries(definition.States).map(([name, state]) => [
    name,
    state.Type === "Task"
      ? {
          ...state,
          Retry: state.Retry.map((retrier) => ({
            ...retrier,
            IntervalSeconds: retrier.IntervalSeconds * scale,
            MaxDelaySeconds: retrier.MaxDelaySeconds * scale,
          })),
        }
      : state,
  ]);
  return { ...definition, States: Object.fromEntries(states) };
}

export class LocalStepFunctions {
  readonly #documents: DynamoDBDocumentClient;
  readonly #options: StepFunctionsOptions;
  readonly #machine: StateMachine;
  readonly #running = new Set<Promise<void>>();
  readonly #queue: (() => void)[] = [];
  readonly #calls = createCallCounter();
  /** Executions started by this process and not yet written as ended: what a read answers first. */
  readonly #live = new Map<string, ExecutionRecord>();
  /** The latest executions that ended here, by ARN: a reused name is refused without a read. */
  readonly #ended = new Map<string, { input: string; startDate: number }>();
  /** Executions waiting for the next batch write (the latest state of each), with who waits for it. */
  readonly #unwritten = new Map<string, { record: ExecutionRecord; written: PromiseWithResolvers<void>[] }>();
  #batchTimer: NodeJS.Timeout | undefined;
  #flushing = false;
  #draining = 0;
  #active = 0;
  #server: Server | undefined;

  constructor(options: StepFunctionsOptions) {
    this.#options = options;
    this.#documents = DynamoDBDocumentClient.from(options.dynamodb, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const { definition } = options.stateMachine;
    const scale = options.retryIntervalScale;
    this.#machine = new StateMachine(
      (scale === undefined ? definition : scaleRetries(definition, scale)) as never,
      {
        validationOptions: { checkArn: false },
      },
    );
  }

  /** Takes requests; call abortOrphans first. */
  async listen(): Promise<string> {
    this.#server = createServer(async (req, res) => {
      if (this.#calls.answer(req, res)) return;
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const target = String(req.headers["x-amz-target"] ?? "");
      const action = target.split(".")[1] ?? "";
      if (this.#calls.counts(req)) this.#calls.count(action);
      try {
        const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
        const result = await this.#dispatch(action, body);
        res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
        res.end(JSON.stringify(result));
      } catch (error) {
        const type = error instanceof SfnError ? error.type : "InternalFailure";
        res.writeHead(error instanceof SfnError ? 400 : 500, {
          "content-type": "application/x-amz-json-1.0",
          "x-amzn-errortype": type,
        });
        res.end(JSON.stringify({ __type: type, message: (error as Error).message }));
      }
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, "127.0.0.1", () => resolve()));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async #dispatch(action: string, body: Record<string, string | number | undefined>): Promise<unknown> {
    switch (action) {
      case "StartExecution":
        return this.startExecution(
          String(body.stateMachineArn),
          String(body.name ?? ""),
          String(body.input ?? "{}"),
        );
      case "DescribeExecution": {
        const execution = await this.describeExecution(String(body.executionArn));
        return {
          ...executionSummary(execution),
          input: execution.input,
          output: execution.output,
          error: execution.error,
          cause: execution.cause,
        };
      }
      case "ListExecutions": {
        if (body.statusFilter === "RUNNING") {
          const page = await this.listRunning(String(body.stateMachineArn), {
            limit: Number(body.maxResults ?? 100),
            ...(body.nextToken && { nextToken: String(body.nextToken) }),
          });
          return { executions: page.executions.map(executionSummary), nextToken: page.nextToken };
        }
        const executions = await this.listExecutions(String(body.stateMachineArn), {
          status: body.statusFilter as ExecutionStatus | undefined,
          limit: Number(body.maxResults ?? 100),
        });
        return { executions: executions.map(executionSummary) };
      }
      case "GetExecutionHistory": {
        const execution = await this.describeExecution(String(body.executionArn));
        return { events: execution.history.map((event) => this.#toAwsHistoryEvent(event)) };
      }
      default:
        throw new SfnError("UnknownOperationException", `The local endpoint does not implement ${action}`);
    }
  }

  #toAwsHistoryEvent(event: HistoryEvent): Record<string, unknown> {
    const { details } = event;
    const base = {
      id: event.id,
      previousEventId: event.previousEventId,
      timestamp: event.timestamp / 1000,
      type: event.type,
    };
    if (event.type === "ExecutionStarted") return { ...base, executionStartedEventDetails: details };
    if (event.type === "ExecutionSucceeded") return { ...base, executionSucceededEventDetails: details };
    if (event.type === "ExecutionFailed") return { ...base, executionFailedEventDetails: details };
    if (event.type === "ExecutionAborted") return { ...base, executionAbortedEventDetails: details };
    if (event.type.endsWith("StateEntered")) return { ...base, stateEnteredEventDetails: details };
    if (event.type.endsWith("StateExited")) return { ...base, stateExitedEventDetails: details };
    // AWS reports a task's error as taskFailedEventDetails {error, cause}; so does this endpoint.
    if (event.type === "TaskFailed" || event.type.endsWith("StateFailed")) {
      return { ...base, taskFailedEventDetails: { error: details.error, cause: details.cause } };
    }
    return base;
  }

  #executionArn(name: string): string {
    const { stateMachine } = this.#options;
    return `arn:aws:states:us-east-1:000000000000:execution:${stateMachine.name}:${name}`;
  }

  async startExecution(
    stateMachineArn: string,
    name: string,
    input: string,
  ): Promise<{ executionArn: string; startDate: number }> {
    if (stateMachineArn !== this.#options.stateMachine.arn) {
      throw new SfnError("StateMachineDoesNotExist", `State machine does not exist: ${stateMachineArn}`);
    }
    const executionName = name || crypto.randomUUID();
    const executionArn = this.#executionArn(executionName);
    const startDate = Date.now();
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn,
      name: executionName,
      status: "RUNNING",
      input,
      startDate,
      history: [],
    };
    // A name is checked against the executions this process ran lately, not read from the table
    // (Express itself checks none): names are unique per attempt, so a repeat is a retried call
    // (same input) or a mistake.
    const existing = this.#live.get(executionArn) ?? this.#ended.get(executionArn);
    if (existing) {
      // Same name, same input: Step Functions answers with the existing execution.
      if (existing.input === input) return { executionArn, startDate: existing.startDate / 1000 };
      throw new SfnError("ExecutionAlreadyExists", `Execution already exists: ${executionArn}`);
    }
    const maxWaiting = this.#options.maxWaiting ?? MAX_WAITING_EXECUTIONS;
    if (this.#queue.length >= maxWaiting) {
      throw new SfnError("ThrottlingException", `Rate exceeded: ${maxWaiting} executions wait to run`);
    }
    this.#live.set(executionArn, record);
    // Written RUNNING with the next batch (no wait): the reconciler and a restart find it there.
    this.#write(record).catch((error: unknown) => {
      console.error(`execution ${executionName} could not be recorded RUNNING`, error);
    });
    // The execution holds its turn; its write does not (it goes out with the next batch).
    const run = this.#schedule(() => this.#run(record))
      .then(() => this.#recordEnded(record))
      .catch((error: unknown) => {
        // Never an unhandled rejection, which would end the runtime: the execution stays RUNNING in
        // the table and the next start ends it ABORTED.
        console.error(`execution ${executionName} could not be recorded`, error);
      });
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
    return { executionArn, startDate: startDate / 1000 };
  }

  async #schedule(job: () => Promise<void>): Promise<void> {
    const limit = this.#options.maxConcurrent ?? 8;
    if (this.#active >= limit) await new Promise<void>((resolve) => this.#queue.push(resolve));
    this.#active += 1;
    try {
      await job();
    } finally {
      this.#active -= 1;
      this.#queue.shift()?.();
    }
  }

  async #run(record: ExecutionRecord): Promise<void> {
    const { stateMachine } = this.#options;
    const execution = this.#machine.run(JSON.parse(record.input), {
      overrides: {
        taskResourceLocalHandlers: stateMachine.tasks,
      },
      context: {
        Execution: {
          Id: record.executionArn,
          Name: record.name,
          Input: JSON.parse(record.input),
          StartTime: new Date(record.startDate).toISOString(),
        },
        StateMachine: { Id: stateMachine.arn, Name: stateMachine.name },
      } as never,
    });
    const collecting = (async () => {
      let id = 0;
      for await (const log of execution.eventLogs) {
        id += 1;
        const { type, details } = historyEventOf(log as never);
        record.history.push({ id, previousEventId: id - 1, timestamp: log.timestamp, type, details });
      }
    })();
    try {
      const output = await execution.result;
      record.status = "SUCCEEDED";
      record.output = JSON.stringify(output);
    } catch (error) {
      record.status = "FAILED";
      const failure = error as Error & { cause?: { name?: string; message?: string } };
      record.error = failure.cause?.name ?? failure.name;
      record.cause = failure.cause?.message ?? failure.message;
      // Quarantines end in success; a failed execution means an outcome could not be recorded.
      console.error(`execution ${record.name} FAILED: ${record.error}: ${record.cause}`);
    }
    await collecting.catch(() => undefined);
    record.stopDate = Date.now();
  }

  /** Writes the ended execution; until it is in the table, reads answer from memory. */
  async #recordEnded(record: ExecutionRecord): Promise<void> {
    try {
      await this.#write(record);
    } finally {
      this.#live.delete(record.executionArn);
      this.#ended.set(record.executionArn, { input: record.input, startDate: record.startDate });
      if (this.#ended.size > REMEMBERED_ENDED_EXECUTIONS) {
        this.#ended.delete(this.#ended.keys().next().value as string);
      }
    }
  }

  /** Writes the execution as it is now with the next batch; resolves once it is in the table. */
  #write(record: ExecutionRecord): Promise<void> {
    const written = Promise.withResolvers<void>();
    const waiting = this.#unwritten.get(record.executionArn);
    // The latest state replaces one not yet written (RUNNING, then ended: one write).
    this.#unwritten.set(record.executionArn, {
      record: { ...record, history: [...record.history] },
      written: [...(waiting?.written ?? []), written],
    });
    // While a batch is out, the next one fills up; otherwise wait a little for company.
    if (!this.#flushing) this.#flushSoon();
    return written.promise;
  }

  /** A full batch (or anything, while someone drains) goes at once; a partial one after WRITE_BATCH_WAIT_MS. */
  #flushSoon(): void {
    if (this.#unwritten.size >= WRITE_BATCH_ITEMS || this.#draining > 0) this.#flush();
    else this.#batchTimer ??= setTimeout(() => this.#flush(), WRITE_BATCH_WAIT_MS);
  }

  /**
   * Sends what waits, 25 items per BatchWriteItem, one batch at a time: an execution's RUNNING
   * item is in the table before its ended one is sent, never after it. Full batches go out one
   * after the other; a partial one waits for company (WRITE_BATCH_WAIT_MS) first.
   */
  #flush(): void {
    clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    if (this.#flushing) return;
    this.#flushing = true;
    void (async () => {
      try {
        do {
          const batch = [...this.#unwritten.values()].slice(0, WRITE_BATCH_ITEMS);
          for (const { record } of batch) this.#unwritten.delete(record.executionArn);
          try {
            await this.#batchWrite(batch.map(({ record }) => this.#item(record)));
            for (const entry of batch) for (const written of entry.written) written.resolve();
          } catch (error) {
            for (const entry of batch) for (const written of entry.written) written.reject(error);
          }
        } while (
          this.#unwritten.size >= WRITE_BATCH_ITEMS ||
          (this.#draining > 0 && this.#unwritten.size > 0)
        );
      } finally {
        this.#flushing = false;
        if (this.#unwritten.size > 0) this.#flushSoon();
      }
    })();
  }

  /** One BatchWriteItem, its unprocessed items again; a store thread that died is started again within seconds (stores.ts). */
  async #batchWrite(items: Record<string, unknown>[]): Promise<void> {
    let requests = items.map((Item) => ({ PutRequest: { Item } }));
    for (let tries = 1; ; tries++) {
      try {
        const { UnprocessedItems } = await this.#documents.send(
          new BatchWriteCommand({ RequestItems: { [this.#options.table]: requests } }),
        );
        requests = (UnprocessedItems?.[this.#options.table] ?? []) as typeof requests;
        if (requests.length === 0) return;
      } catch (error) {
        if (tries >= WRITE_TRIES) throw error;
      }
      if (tries >= WRITE_TRIES) throw new Error(`${requests.length} executions stayed unprocessed`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** tries, 5_000)));
    }
  }

  /** Every item of one gsi1 partition, page by page, with only the attributes an abort needs. */
  async #queryPartition(partition: string, status?: ExecutionStatus): Promise<ExecutionRecord[]> {
    const records: ExecutionRecord[] = [];
    let ExclusiveStartKey: QueryCommandInput["ExclusiveStartKey"];
    do {
      const page = await this.#documents.send(
        new QueryCommand({
          TableName: this.#options.table,
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :partition",
          ProjectionExpression: "executionArn, stateMachineArn, #name, #status, #input, startDate",
          ExpressionAttributeNames: { "#name": "name", "#status": "status", "#input": "input" },
          ExpressionAttributeValues: { ":partition": partition, ...(status && { ":status": status }) },
          ...(status && { FilterExpression: "#status = :status" }),
          ExclusiveStartKey,
        }),
      );
      records.push(
        ...(page.Items ?? []).map((item) => ({ ...item, history: [] }) as unknown as ExecutionRecord),
      );
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return records;
  }

  /**
   * Ends ABORTED every execution a previous process left RUNNING (killed, or stopped before they
   * finished): nothing will ever run them again. Their history records why; their events are
   * still RECEIVED, so the reconciler starts them again. Only one runtime uses a data directory at
   * a time (the stores lock it), so every RUNNING execution found before this endpoint listens is
   * such an orphan. Call it before listen. Returns the executions it ended.
   */
  async abortOrphans(): Promise<ExecutionRecord[]> {
    const { table, stateMachine } = this.#options;
    const orphans = await this.#queryPartition(runningPartition(stateMachine.arn));
    const { Item: searched } = await this.#documents.send(
      new GetCommand({ TableName: table, Key: LEGACY_RUNNING_SEARCHED }),
    );
    // Data written before RUNNING executions had their own partition: searched once.
    if (!searched) orphans.push(...(await this.#queryPartition(stateMachine.arn, "RUNNING")));
    const stopDate = Date.now();
    const ended: ExecutionRecord[] = [];
    const abort = async (orphan: ExecutionRecord) => {
      const aborted: ExecutionRecord = {
        ...orphan,
        status: "ABORTED",
        ...RUNTIME_STOPPED,
        stopDate,
        history: [
          {
            id: 1,
            previousEventId: 0,
            timestamp: orphan.startDate,
            type: "ExecutionStarted",
            details: { input: orphan.input },
          },
          {
            id: 2,
            previousEventId: 1,
            timestamp: stopDate,
            type: "ExecutionAborted",
            details: RUNTIME_STOPPED,
          },
        ],
      };
      const put = (record: ExecutionRecord, onlyIfRunning = false) =>
        this.#documents.send(
          new PutCommand({
            TableName: table,
            Item: this.#item(record),
            ...(onlyIfRunning && {
              ConditionExpression: "#status = :running",
              ExpressionAttributeNames: { "#status": "status" },
              ExpressionAttributeValues: { ":running": "RUNNING" },
            }),
          }),
        );
      try {
        await put(aborted, true);
        ended.push(aborted);
        return;
      } catch (error) {
        if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
      }
      // The index says RUNNING, the item does not: the process was killed inside a write, which
      // dynalite applies to the index before the item (a StartExecution whose item was never
      // written, say). Writing the item RUNNING takes over that index entry; the next write
      // moves it where the item's status says.
      const { Item } = await this.#documents.send(
        new GetCommand({ TableName: table, Key: { pk: orphan.executionArn, sk: "execution" } }),
      );
      const current = Item ? this.#record(Item) : undefined;
      await put({ ...(current ?? orphan), status: "RUNNING" });
      if (current && current.status !== "RUNNING") {
        await put(current);
        return;
      }
      await put(aborted);
      ended.push(aborted);
    };
    for (let next = 0; next < orphans.length; next += 16) {
      await Promise.all(orphans.slice(next, next + 16).map(abort));
    }
    if (!searched) {
      await this.#documents.send(new PutCommand({ TableName: table, Item: LEGACY_RUNNING_SEARCHED }));
    }
    if (ended.length > 0) {
      console.log(
        `Ended ${ended.length} executions the previous run left RUNNING (ABORTED: ${RUNTIME_STOPPED.cause})`,
      );
    }
    return ended;
  }

  #item(record: ExecutionRecord): Record<string, unknown> {
    return {
      pk: record.executionArn,
      sk: "execution",
      gsi1pk: record.status === "RUNNING" ? runningPartition(record.stateMachineArn) : record.stateMachineArn,
      gsi1sk: startOrder(record),
      ...record,
      // One string, not a list of maps: marshalling ~30 nested events cost more than the rest of the write.
      history: JSON.stringify(record.history),
    };
  }

  #record(item: Record<string, unknown>): ExecutionRecord {
    const { history } = item;
    return {
      ...item,
      history: typeof history === "string" ? JSON.parse(history) : history,
    } as ExecutionRecord;
  }

  async describeExecution(executionArn: string): Promise<ExecutionRecord> {
    const live = this.#live.get(executionArn);
    if (live) return { ...live, history: [...live.history] };
    const { Item } = await this.#documents.send(
      new GetCommand({ TableName: this.#options.table, Key: { pk: executionArn, sk: "execution" } }),
    );
    if (!Item) throw new SfnError("ExecutionDoesNotExist", `Execution does not exist: ${executionArn}`);
    return this.#record(Item);
  }

  async listExecutions(
    stateMachineArn: string,
    options: { status?: ExecutionStatus | undefined; limit?: number; namePrefix?: string } = {},
  ): Promise<ExecutionRecord[]> {
    const { status } = options;
    const running = runningPartition(stateMachineArn);
    const partitions =
      status === "RUNNING" ? [running] : status ? [stateMachineArn] : [running, stateMachineArn];
    const pages = await Promise.all(
      partitions.map((partition) =>
        this.#documents.send(
          new QueryCommand({
            TableName: this.#options.table,
            IndexName: "gsi1",
            KeyConditionExpression: "gsi1pk = :partition",
            ExpressionAttributeValues: { ":partition": partition },
            ScanIndexForward: false,
          }),
        ),
      ),
    );
    const byArn = new Map(
      pages.flatMap((page) => page.Items ?? []).map((item) => [String(item.pk), this.#record(item)]),
    );
    // What runs here is newer than its item, which may not be written yet (a batch away).
    for (const record of this.#live.values()) {
      if (record.stateMachineArn === stateMachineArn) {
        byArn.set(record.executionArn, { ...record, history: [...record.history] });
      }
    }
    // Newest first, as the index orders one partition.
    return [...byArn.values()]
      .sort((a, b) => startOrder(b).localeCompare(startOrder(a)))
      .filter((item) => !options.status || item.status === options.status)
      .filter((item) => !options.namePrefix || item.name.startsWith(options.namePrefix))
      .slice(0, options.limit ?? 100);
  }

  /**
   * The RUNNING executions (started, or waiting their turn), newest first, page by page: what
   * the reconciler asks before it restarts an event whose execution is only queued. Answered from
   * this process, the only one that runs executions on its data directory (the stores lock it);
   * what a stopped one left RUNNING was ended ABORTED at start (abortOrphans).
   */
  async listRunning(
    stateMachineArn: string,
    options: { limit?: number; nextToken?: string } = {},
  ): Promise<{ executions: ExecutionRecord[]; nextToken?: string }> {
    const running = [...this.#live.values()]
      .filter((record) => record.stateMachineArn === stateMachineArn && record.status === "RUNNING")
      .sort((a, b) => startOrder(b).localeCompare(startOrder(a)));
    const offset = options.nextToken ? Number(Buffer.from(options.nextToken, "base64url").toString()) : 0;
    const end = offset + Math.min(Math.max(1, options.limit ?? 100), 1000);
    return {
      executions: running.slice(offset, end).map((record) => ({ ...record, history: [...record.history] })),
      ...(end < running.length && { nextToken: Buffer.from(String(end)).toString("base64url") }),
    };
  }

  /** Resolves when every execution started so far has finished (tests, clean shutdown). */
  async drain(): Promise<void> {
    // Whoever drains waits for the writes too: no batch waits for company meanwhile.
    this.#draining += 1;
    try {
      if (!this.#flushing && this.#unwritten.size > 0) this.#flush();
      while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
    } finally {
      this.#draining -= 1;
    }
  }

  async close(): Promise<void> {
    await this.drain();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
