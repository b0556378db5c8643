import { GetObjectCommand } from "@aws-sdk/client-s3";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  type ListExecutionsCommandOutput,
} from "@aws-sdk/client-sfn";
import {
  type DivergenceItem,
  divergencesOfEvent,
  findIngestRecord,
  type IngestRecordItem,
  type QuarantineItem,
} from "../entities/index.ts";
import { NotFoundError } from "../errors.ts";
import { decodeTaskFailure } from "../failures.ts";
import type { ObjectRef } from "../keys.ts";
import type { OpsContext } from "./context.ts";
import { executionNamesUpTo, isExecutionOf } from "./execution-names.ts";

/**
 * The whole story of one event: its record, every execution with each state's input, output and
 * error, its quarantine entry and its divergences. `dvss status` prints it; the local console
 * renders it. One loader for both.
 */

export interface StepError {
  error: string;
  cause: string;
  /** The DVSS error code and message inside a task's cause, when there is one. */
  code?: string;
  message?: string;
}

export interface ExecutionStep {
  state: string;
  /** Task, Pass, Succeed, ... */
  type: string;
  /** caught: failed, and the workflow's Catch took over (the failure path follows). */
  status: "succeeded" | "failed" | "caught" | "running";
  enteredAt?: string;
  exitedAt?: string;
  input?: unknown;
  output?: unknown;
  error?: StepError;
  retries: number;
}

export interface ExecutionView {
  name: string;
  executionArn: string;
  status: string;
  startDate?: string;
  stopDate?: string;
  error?: StepError;
  steps: ExecutionStep[];
}

export interface EventStory {
  ingestId: string;
  record?: IngestRecordItem;
  rawRef?: ObjectRef;
  normalizedRef?: ObjectRef;
  executions: ExecutionView[];
  /** Why executions could not be listed (an Express state machine in AWS), and where to look instead. */
  executionsNote?: string;
  quarantine?: QuarantineItem;
  divergences: DivergenceItem[];
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A task's Cause is Lambda's error document around the task's report (decodeTaskFailure, failures.ts). */
export function describeError(error: string, cause: string): StepError {
  const described: StepError = { error, cause };
  const failure = decodeTaskFailure(error, cause);
  if (failure.reported) described.code = failure.code;
  if (failure.reported || cause) described.message = failure.message;
  return described;
}

function errorOfDetails(details: { error?: string; cause?: string } | undefined): StepError | undefined {
  return details?.error ? describeError(details.error, details.cause ?? "") : undefined;
}

/** The error the Catch placed at `$.error` ({Error, Cause}), if the value carries one. */
function caughtErrorIn(value: unknown): StepError | undefined {
  const caught = (value as { error?: { Error?: unknown; Cause?: unknown } } | undefined)?.error;
  return typeof caught?.Error === "string"
    ? describeError(caught.Error, String(caught.Cause ?? ""))
    : undefined;
}

/**
 * Steps from a Step Functions history: the local endpoint's events and AWS's alike
 * (`<Type>StateEntered/Exited`, `TaskFailed`, `<Type>StateFailed`, retries).
 */
export function stepsOf(events: HistoryEvent[]): { steps: ExecutionStep[]; error?: StepError } {
  const steps: ExecutionStep[] = [];
  let executionError: StepError | undefined;
  let current: ExecutionStep | undefined;
  let scheduled = 0;
  for (const event of events) {
    const type = event.type ?? "";
    const at = event.timestamp ? new Date(event.timestamp).toISOString() : undefined;
    if (type.endsWith("StateEntered")) {
      const details = event.stateEnteredEventDetails;
      current = {
        state: details?.name ?? "?",
        type: type.slice(0, -"StateEntered".length),
        status: "running",
        ...(at && { enteredAt: at }),
        input: parseJson(details?.input),
        retries: 0,
      };
      scheduled = 0;
      steps.push(current);
    } else if (type.endsWith("StateExited")) {
      const details = event.stateExitedEventDetails;
      const step = [...steps].reverse().find((s) => s.state === details?.name) ?? current;
      if (!step) continue;
      step.output = parseJson(details?.output);
      if (at) step.exitedAt = at;
      if (step.status === "failed" || step.status === "caught") {
        step.status = "caught";
        step.error ??= caughtErrorIn(step.output);
      } else {
        step.status = "succeeded";
      }
    } else if (type.endsWith("StateRetried")) {
      if (current) current.retries += 1;
    } else if (type === "TaskScheduled" || type === "LambdaFunctionScheduled") {
      scheduled += 1;
      if (current && scheduled > 1) current.retries = scheduled - 1;
    } else if (type === "TaskFailed" || type === "LambdaFunctionFailed" || type.endsWith("StateFailed")) {
      if (!current) continue;
      current.status = "failed";
      const details = event.taskFailedEventDetails ?? event.lambdaFunctionFailedEventDetails;
      current.error = errorOfDetails(details) ?? current.error;
    } else if (type.endsWith("StateCaught")) {
      if (current) current.status = "caught";
    } else if (type === "ExecutionFailed") {
      executionError = errorOfDetails(event.executionFailedEventDetails);
    } else if (type === "ExecutionAborted") {
      // Stopped from outside (StopExecution, or the local runtime stopped before it finished).
      executionError = errorOfDetails(event.executionAbortedEventDetails);
    }
  }
  // A failed step's error may only show in what the Catch passed on to the next state.
  for (const [index, step] of steps.entries()) {
    if ((step.status === "failed" || step.status === "caught") && !step.error) {
      const next = steps[index + 1];
      const found = caughtErrorIn(step.output) ?? caughtErrorIn(next?.input);
      if (found) step.error = found;
    }
  }
  return { steps, ...(executionError && { error: executionError }) };
}

/** How many ListExecutions pages (1,000 executions each) a status lookup reads at most. */
const MAX_LIST_PAGES = 20;

/** Attempts whose execution names a status lookup probes one by one, at most. */
const MAX_PROBED_ATTEMPTS = 20;

/**
 * Listings can miss old executions (a page limit, the local endpoint's single page), so the names
 * the record's attempts imply are also looked up one by one.
 */
async function probeExecutions(context: OpsContext, names: string[]) {
  const machine = context.target.stateMachineArn;
  const prefix = machine.replace(":stateMachine:", ":execution:");
  const found = await Promise.all(
    names.map(async (name) => {
      try {
        const execution = await context.sfn.send(
          new DescribeExecutionCommand({ executionArn: `${prefix}:${name}` }),
        );
        return { ...execution, name };
      } catch (error) {
        if ((error as Error).name === "ExecutionDoesNotExist") return undefined;
        throw error;
      }
    }),
  );
  return found.filter((execution) => execution !== undefined);
}

async function executionsOf(
  context: OpsContext,
  ingestId: string,
  attempts: number,
): Promise<{ executions: ExecutionView[]; note?: string }> {
  const found: NonNullable<ListExecutionsCommandOutput["executions"]> = [];
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const listing = await context.sfn.send(
        new ListExecutionsCommand({
          stateMachineArn: context.target.stateMachineArn,
          maxResults: 1000,
          ...(nextToken && { nextToken }),
        }),
      );
      found.push(...(listing.executions ?? []).filter((e) => isExecutionOf(e.name ?? "", ingestId)));
      nextToken = listing.nextToken;
      if (!nextToken) break;
    }
  } catch (error) {
    const name = (error as Error).name;
    if (name === "StateMachineTypeNotSupported" || /not supported|EXPRESS/i.test((error as Error).message)) {
      return {
        executions: [],
        note:
          "Express executions cannot be listed through the Step Functions API. Their history is in " +
          `CloudWatch Logs${context.target.executionLogGroup ? ` (${context.target.executionLogGroup})` : ""}: ` +
          `filter on "${ingestId}".`,
      };
    }
    throw error;
  }
  const listed = new Set(found.map((execution) => execution.name));
  const missing = executionNamesUpTo(ingestId, Math.min(attempts, MAX_PROBED_ATTEMPTS)).filter(
    (name) => !listed.has(name),
  );
  if (missing.length > 0) found.push(...(await probeExecutions(context, missing)));
  found.sort((a, b) => Number(a.startDate ?? 0) - Number(b.startDate ?? 0));
  const executions = await Promise.all(
    found.map(async (summary): Promise<ExecutionView> => {
      const events: HistoryEvent[] = [];
      let token: string | undefined;
      do {
        const history = await context.sfn.send(
          new GetExecutionHistoryCommand({
            executionArn: summary.executionArn,
            maxResults: 1000,
            ...(token && { nextToken: token }),
          }),
        );
        events.push(...(history.events ?? []));
        token = history.nextToken;
      } while (token);
      const { steps, error } = stepsOf(events);
      return {
        name: summary.name ?? "",
        executionArn: summary.executionArn ?? "",
        status: summary.status ?? "UNKNOWN",
        ...(summary.startDate && { startDate: new Date(summary.startDate).toISOString() }),
        ...(summary.stopDate && { stopDate: new Date(summary.stopDate).toISOString() }),
        ...(error && { error }),
        steps,
      };
    }),
  );
  return { executions };
}

/** The ingest record of an ingestId, or undefined. */
export function findRecord(context: OpsContext, ingestId: string): Promise<IngestRecordItem | undefined> {
  return findIngestRecord(context.entities.ingestRecords, ingestId);
}

export async function loadEventStory(context: OpsContext, ingestId: string): Promise<EventStory> {
  const { entities } = context;
  const [record, quarantine, divergences] = await Promise.all([
    findRecord(context, ingestId),
    entities.quarantine.get({ ingestId }).go(),
    divergencesOfEvent(entities.divergences, ingestId),
  ]);
  if (!record && !quarantine.data) {
    throw new NotFoundError(`No event ${ingestId}: no ingest record and no quarantine entry`);
  }
  const { executions, note } = await executionsOf(context, ingestId, record?.attempts ?? 1);
  const story: EventStory = {
    ingestId,
    executions,
    divergences,
    ...(note && { executionsNote: note }),
    ...(record && { record }),
    ...(quarantine.data && { quarantine: quarantine.data }),
  };
  if (record) story.rawRef = { bucket: record.rawBucket, key: record.rawKey };
  else if (quarantine.data) story.rawRef = { bucket: quarantine.data.rawBucket, key: quarantine.data.rawKey };
  if (record?.normalizedBucket && record.normalizedKey) {
    story.normalizedRef = { bucket: record.normalizedBucket, key: record.normalizedKey };
  }
  return story;
}

/** An event's raw body, its bytes exactly as ingest stored them (write-once). */
export interface RawBody {
  ingestId: string;
  rawRef: ObjectRef;
  body: Uint8Array;
}

/**
 * Reads the raw body of an event, found through its record (or its quarantine entry when it has no
 * record): for `dvss status --raw` and the console's event page. NotFoundError when neither
 * exists, or when the object is gone (the raw bucket's retention ended).
 */
export async function readRawBody(context: OpsContext, ingestId: string): Promise<RawBody> {
  const record = await findRecord(context, ingestId);
  const entry = record ? undefined : (await context.entities.quarantine.get({ ingestId }).go()).data;
  const source = record ?? entry;
  if (!source) throw new NotFoundError(`No event ${ingestId}: no ingest record and no quarantine entry`);
  const rawRef = { bucket: source.rawBucket, key: source.rawKey };
  try {
    const object = await context.s3.send(new GetObjectCommand({ Bucket: rawRef.bucket, Key: rawRef.key }));
    const body = await (
      object.Body as { transformToByteArray(): Promise<Uint8Array> }
    ).transformToByteArray();
    return { ingestId, rawRef, body };
  } catch (error) {
    if ((error as Error).name === "NoSuchKey") {
      throw new NotFoundError(`The raw body of ${ingestId} is gone: s3://${rawRef.bucket}/${rawRef.key}`);
    }
    throw error;
  }
}
