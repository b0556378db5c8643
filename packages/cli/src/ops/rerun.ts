import { DescribeExecutionCommand, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { isConditionalCheckFailed } from "@dvss/core/entities/conditions";
import type { IngestRecordItem } from "@dvss/core/entities/index";
import { definitionsCacheMs, lastActivationAt } from "@dvss/core/mapping/store-source";
import { resolveQuarantine as resolveQuarantineEntry } from "@dvss/core/outcomes";
import type { NormalizeInput } from "@dvss/core/workflow";
import type { OpsContext } from "../context.ts";
import { sleep } from "../format.ts";

/**
 * Starting the workflow again for an event that already has a record: the common part of redrive
 * and replay. Each run is claimed with a conditional increment of the record's `attempts` (as the
 * reconciler does), so the execution name `<ingestId>-<kind>-<attempt>` is unique and two
 * operators cannot start the same run twice. The workflow is idempotent: a rerun writes the same
 * normalized bytes and does not count state twice.
 */

export type RunKind = "redrive" | "replay";

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

const CLAIM_TRIES = 5;

/** Takes the next attempt number of a record; re-reads and retries when another run took it first. */
async function claimAttempt(
  context: OpsContext,
  record: IngestRecordItem,
): Promise<{ attempt: number; claimedAt: string }> {
  const key = { vendorId: record.vendorId, externalEventId: record.externalEventId };
  let attempts = record.attempts ?? 0;
  for (let tries = 0; tries < CLAIM_TRIES; tries++) {
    const claimedAt = new Date(context.now()).toISOString();
    try {
      await context.entities.ingestRecords
        .patch(key)
        .set({ attempts: attempts + 1, updatedAt: claimedAt })
        .where(({ attempts: current }, { eq }) => eq(current, attempts))
        .go();
      return { attempt: attempts + 1, claimedAt };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const { data } = await context.entities.ingestRecords.get(key).go();
      attempts = data?.attempts ?? 0;
    }
  }
  throw new Error(`Could not claim a new attempt of ${record.ingestId}: other runs keep claiming it`);
}

export async function startRun(
  context: OpsContext,
  record: IngestRecordItem,
  kind: RunKind,
): Promise<StartedRun> {
  const { attempt, claimedAt } = await claimAttempt(context, record);
  const input: NormalizeInput = {
    ingestId: record.ingestId,
    vendorId: record.vendorId,
    externalEventId: record.externalEventId,
    rawRef: { bucket: record.rawBucket, key: record.rawKey },
  };
  const executionName = `${record.ingestId}-${kind}-${attempt}`;
  const started = await context.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: context.target.stateMachineArn,
      name: executionName,
      input: JSON.stringify(input),
    }),
  );
  return {
    ingestId: record.ingestId,
    executionName,
    executionArn: started.executionArn ?? "",
    attempt,
    claimedAt,
  };
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
export function resolveQuarantine(context: OpsContext, ingestId: string): Promise<boolean> {
  return resolveQuarantineEntry(context.entities, ingestId, new Date(context.now()));
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
