import { DescribeExecutionCommand, type SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { isConditionalCheckFailed } from "../entities/conditions.ts";
import type { Entities, IngestRecordItem } from "../entities/index.ts";
import { definitionsCacheMs, lastActivationAt } from "../mapping/store-source.ts";
import { resolveQuarantine as resolveQuarantineEntry } from "../outcomes.ts";
import type { NormalizeInput } from "../workflow.ts";
import { sleep } from "./concurrency.ts";
import type { OpsContext } from "./context.ts";
import { executionName, type RunKind } from "./execution-names.ts";

/**
 * Starting the workflow again for an event that already has a record: what the reconciler, a
 * redrive and a replay share. Each run is claimed with a conditional increment of the record's
 * `attempts`, so its execution name (execution-names.ts) is unique and no run starts twice. The
 * workflow is idempotent: a rerun writes the same normalized bytes and does not count state twice.
 */

type RecordKey = Pick<IngestRecordItem, "vendorId" | "externalEventId">;
/** What a run is started from. */
export type RunnableRecord = RecordKey &
  Pick<IngestRecordItem, "ingestId" | "rawBucket" | "rawKey" | "attempts">;

/** The record's side of a claim. */
export interface AttemptStore {
  /**
   * Sets the record's `attempts` to `attempt` and its `updatedAt` to `at`, if it still has
   * `attempt - 1` (and, with `whileReceived`, is still RECEIVED); false when it has not.
   */
  claim(key: RecordKey, attempt: number, at: string, whileReceived: boolean): Promise<boolean>;
  /**
   * Gives back an attempt whose start failed: sets `attempts` to `attempt - 1` if it still has
   * `attempt` (no other run claimed after it). `updatedAt` stays the claim's, so the reconciler
   * waits its threshold before trying again.
   */
  release(key: RecordKey, attempt: number): Promise<void>;
  /** The record's `attempts` now (0 when it has none or is gone). */
  attempts(key: RecordKey): Promise<number>;
}

/**
 * Whether a failed StartExecution was a refusal (throttled, unavailable, invalid), after which no
 * execution of that name exists, rather than ExecutionAlreadyExists: an execution of the name ran
 * (a STANDARD workflow refuses a name again once its execution ended), so its attempt is used.
 */
export function startWasRefused(error: unknown): boolean {
  return (error as { name?: unknown }).name !== "ExecutionAlreadyExists";
}

/**
 * Gives back `attempt` of a record whose start was refused: sets `attempts` to `attempt - 1` if it
 * still has `attempt` (no run claimed after it); `updatedAt` stays, so the reconciler waits its
 * threshold before trying again. A refused start is no execution, so it must not bring the event
 * closer to STUCK.
 */
export async function releaseAttempt(
  ingestRecords: Entities["ingestRecords"],
  key: RecordKey,
  attempt: number,
): Promise<void> {
  try {
    await ingestRecords
      .patch(key)
      .set({ attempts: attempt - 1 })
      .where(({ attempts }, { eq }) => eq(attempts, attempt))
      .go();
  } catch (error) {
    // Another run claimed after this one: the count is its now.
    if (!isConditionalCheckFailed(error)) throw error;
  }
}

/** What starting a run needs: the records, the workflow and a clock. */
export interface RunPorts {
  records: AttemptStore;
  /** Starts the normalize workflow; returns the execution's ARN. */
  startExecution(name: string, input: NormalizeInput): Promise<string>;
  now(): number;
}

/** The ports over the stores themselves: ingest records through the entities, Step Functions through its client. */
export function storeRunPorts(stores: {
  entities: Pick<Entities, "ingestRecords">;
  sfn: Pick<SFNClient, "send">;
  stateMachineArn: string;
  now(): number;
}): RunPorts {
  const { ingestRecords } = stores.entities;
  return {
    records: {
      async claim(key, attempt, at, whileReceived) {
        try {
          await ingestRecords
            .patch(key)
            .set({ attempts: attempt, updatedAt: at })
            .where(({ attempts, status }, { eq }) =>
              whileReceived
                ? `${eq(attempts, attempt - 1)} AND ${eq(status, "RECEIVED")}`
                : eq(attempts, attempt - 1),
            )
            .go();
          return true;
        } catch (error) {
          if (isConditionalCheckFailed(error)) return false;
          throw error;
        }
      },
      release: (key, attempt) => releaseAttempt(ingestRecords, key, attempt),
      async attempts(key) {
        const { data } = await ingestRecords.get(key).go();
        return data?.attempts ?? 0;
      },
    },
    async startExecution(name, input) {
      const started = await stores.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: stores.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      return started.executionArn ?? "";
    },
    now: stores.now,
  };
}

/** The run ports of an operation's context. */
export function runPortsOf(context: OpsContext): RunPorts {
  return storeRunPorts({ ...context, stateMachineArn: context.target.stateMachineArn });
}

export interface StartedRun {
  ingestId: string;
  executionName: string;
  executionArn: string;
  attempt: number;
  /** When the run was claimed (the record's updatedAt then): outcomes written after it are this run's. */
  claimedAt: string;
}

export type RunStatus = "NORMALIZED" | "QUARANTINED" | "EXECUTION_FAILED" | "TIMED_OUT";

export interface RunOutcome {
  status: RunStatus;
  reason?: string;
  message?: string;
}

/** Claims an operator's run gets: another run taking the attempt first makes it take the next. */
const CLAIM_TRIES = 5;

/**
 * Claims the record's next attempt and starts the workflow under its name. A reconcile restarts
 * an event only while it is RECEIVED and no other run took that attempt: otherwise it starts
 * nothing (undefined), since another run is already on it. A redrive or replay is an operator's
 * ask: when another run took the attempt first, it re-reads the count and takes the next one.
 * A failed start gives the attempt back and throws: a StartExecution refused (throttled, the
 * service unavailable) is not an execution, so it never counts toward the reconciler's STUCK.
 * Except ExecutionAlreadyExists: the name was used, so giving its attempt back would have every
 * later run claim that name again and be refused for ever.
 */
export async function claimAndStart(
  ports: RunPorts,
  record: RunnableRecord,
  kind: "reconcile",
): Promise<StartedRun | undefined>;
export async function claimAndStart(
  ports: RunPorts,
  record: RunnableRecord,
  kind: "redrive" | "replay",
): Promise<StartedRun>;
export async function claimAndStart(
  ports: RunPorts,
  record: RunnableRecord,
  kind: RunKind,
): Promise<StartedRun | undefined> {
  const key = { vendorId: record.vendorId, externalEventId: record.externalEventId };
  const restart = kind === "reconcile";
  let attempts = record.attempts ?? 0;
  for (let tries = 0; tries < (restart ? 1 : CLAIM_TRIES); tries++) {
    const claimedAt = new Date(ports.now()).toISOString();
    const attempt = attempts + 1;
    if (await ports.records.claim(key, attempt, claimedAt, restart)) {
      const name = executionName(record.ingestId, { kind, attempt });
      const input: NormalizeInput = {
        ingestId: record.ingestId,
        ...key,
        rawRef: { bucket: record.rawBucket, key: record.rawKey },
      };
      let executionArn: string;
      try {
        executionArn = await ports.startExecution(name, input);
      } catch (error) {
        // Even if it was started after all (an answer lost), the run is idempotent: at worst the
        // event gets one execution more before STUCK. A release that fails leaves the claim.
        // After ExecutionAlreadyExists the attempt stays used, and the next run claims the one
        // after it, under a name not taken yet.
        if (startWasRefused(error)) await ports.records.release(key, attempt).catch(() => undefined);
        throw error;
      }
      return { ingestId: record.ingestId, executionName: name, executionArn, attempt, claimedAt };
    }
    if (restart) return undefined;
    attempts = await ports.records.attempts(key);
  }
  throw new Error(`Could not claim a new attempt of ${record.ingestId}: other runs keep claiming it`);
}

/**
 * Waits for a run's outcome: the execution's end where Step Functions can describe it (local,
 * STANDARD), the record's or quarantine entry's next write otherwise (EXPRESS). Then reads what
 * the run recorded: a quarantine entry written after the claim means QUARANTINED (even when the
 * record stays NORMALIZED from an earlier run), else the record's status.
 */
export async function awaitOutcome(
  context: OpsContext,
  run: StartedRun,
  record: Pick<IngestRecordItem, "vendorId" | "externalEventId">,
  options: { timeoutMs: number; pollMs?: number },
): Promise<RunOutcome> {
  const deadline = context.now() + options.timeoutMs;
  const pollMs = options.pollMs ?? 100;
  const key = { vendorId: record.vendorId, externalEventId: record.externalEventId };
  const describable = !run.executionArn.includes(":express:");
  for (;;) {
    if (describable) {
      const execution = await context.sfn.send(
        new DescribeExecutionCommand({ executionArn: run.executionArn }),
      );
      if (execution.status && execution.status !== "RUNNING" && execution.status !== "PENDING_REDRIVE") {
        if (execution.status !== "SUCCEEDED") {
          return {
            status: "EXECUTION_FAILED",
            reason: execution.error ?? execution.status,
            ...(execution.cause && { message: execution.cause }),
          };
        }
        break;
      }
    } else {
      const [{ data: current }, { data: entry }] = await Promise.all([
        context.entities.ingestRecords.get(key).go(),
        context.entities.quarantine.get({ ingestId: run.ingestId }).go(),
      ]);
      const written =
        (current?.updatedAt ?? "") > run.claimedAt || (entry?.quarantinedAt ?? "") >= run.claimedAt;
      if (written) break;
    }
    if (context.now() > deadline)
      return { status: "TIMED_OUT", message: `No outcome within ${options.timeoutMs} ms` };
    await sleep(pollMs);
  }
  const [{ data: current }, { data: entry }] = await Promise.all([
    context.entities.ingestRecords.get(key).go(),
    context.entities.quarantine.get({ ingestId: run.ingestId }).go(),
  ]);
  if (entry && entry.status === "open" && entry.quarantinedAt >= run.claimedAt) {
    return { status: "QUARANTINED", reason: entry.reason, message: entry.message };
  }
  if (current?.status === "NORMALIZED") return { status: "NORMALIZED" };
  return {
    status: "QUARANTINED",
    ...(current?.lastError?.code && { reason: current.lastError.code }),
    ...(current?.lastError?.message && { message: current.lastError.message }),
  };
}

/** A quarantine entry whose event a rerun normalized is resolved. */
export async function resolveQuarantine(context: OpsContext, ingestId: string): Promise<boolean> {
  return (await resolveQuarantineEntry(context.entities, ingestId, new Date(context.now()))) !== undefined;
}

/**
 * Another process's published mapping reaches running workers within the definitions cache time
 * (store-source.ts). Before rerunning events of these vendors, wait out what is left of it since
 * their last publish, so the rerun uses what was just published. Returns the time waited.
 */
export async function awaitPublishedDefinitions(
  context: OpsContext,
  vendorIds: Iterable<string>,
  onWait?: (ms: number) => void,
): Promise<number> {
  const times = await Promise.all(
    [...new Set(vendorIds)].map((vendorId) => lastActivationAt(context.entities, vendorId)),
  );
  const latest = Math.max(0, ...times.filter((time) => time !== undefined));
  const waitMs = latest + definitionsCacheMs() - context.now();
  if (waitMs <= 0) return 0;
  onWait?.(waitMs);
  await sleep(waitMs + 50);
  return waitMs;
}
