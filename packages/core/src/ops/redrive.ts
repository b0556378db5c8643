import { isConditionalCheckFailed } from "../entities/conditions.ts";
import type { IngestRecordItem, QuarantineItem } from "../entities/index.ts";
import { mapBounded } from "./concurrency.ts";
import type { OpsContext } from "./context.ts";
import { listQuarantine } from "./quarantine.ts";
import {
  awaitOutcome,
  awaitPublishedDefinitions,
  claimAndStart,
  type RunOutcome,
  resolveQuarantine,
  runPortsOf,
} from "./runs.ts";
import { findRecord } from "./story.ts";

/**
 * Redrive: a new execution for a quarantined event (docs/architecture: Express executions cannot be
 * redriven by Step Functions, so this is our own operation). The quarantine entry is marked
 * `redriven` before the start, so a failure of the new run reopens it, as does a start that fails
 * (no run); a run that normalizes the event resolves it (when waited for). A NORMALIZED event is refused: replay is for those.
 */

export type RedriveResult = "started" | "refused" | "not_found" | "failed";

export interface RedriveItem {
  ingestId: string;
  vendorId?: string;
  externalEventId?: string;
  reason?: string;
  result: RedriveResult;
  /** Why it was refused or failed to start. */
  message?: string;
  executionName?: string;
  attempt?: number;
  /** With `wait`: what the new run ended in. */
  outcome?: RunOutcome;
}

export interface RedriveOptions {
  wait?: boolean;
  timeoutMs?: number;
  concurrency?: number;
  /** Called when the redrive waits for a fresh publish to reach the workers. */
  onPublishWait?: (ms: number) => void;
  onProgress?: (done: number, total: number) => void;
}

/** Why an event may not be redriven, or undefined when it may. */
export function redriveRefusal(
  record: IngestRecordItem | undefined,
  entry: QuarantineItem | undefined,
): string | undefined {
  if (!record) {
    return "it has no ingest record, so there is nothing to start from (see the runbook on MISSING_RECORD)";
  }
  if (record.status === "NORMALIZED") {
    return "it is already NORMALIZED; to re-run normalized events use `dvss replay`";
  }
  if (record.status === "RECEIVED" && entry?.status !== "open") {
    return "it is still RECEIVED and not quarantined: its execution is in flight or the reconciler will restart it";
  }
  return undefined;
}

export async function redriveEvents(
  context: OpsContext,
  ingestIds: string[],
  options: RedriveOptions = {},
): Promise<RedriveItem[]> {
  const unique = [...new Set(ingestIds)];
  const found = await mapBounded(unique, 8, async (ingestId) => {
    const [record, entry] = await Promise.all([
      findRecord(context, ingestId),
      context.entities.quarantine.get({ ingestId }).go(),
    ]);
    return { ingestId, record, entry: entry.data ?? undefined };
  });
  const runnable = found.filter(({ record, entry }) => !redriveRefusal(record, entry));
  await awaitPublishedDefinitions(
    context,
    runnable.map(({ record }) => record?.vendorId ?? ""),
    options.onPublishWait,
  );
  let done = 0;
  return mapBounded(
    found,
    options.concurrency ?? 4,
    async ({ ingestId, record, entry }): Promise<RedriveItem> => {
      const item: RedriveItem = {
        ingestId,
        ...((record ?? entry) && {
          vendorId: (record ?? entry)?.vendorId,
          externalEventId: (record ?? entry)?.externalEventId,
        }),
        ...(entry && { reason: entry.reason }),
        result: "started",
      };
      try {
        if (!record && !entry) {
          return { ...item, result: "not_found", message: "no ingest record and no quarantine entry" };
        }
        const refusal = redriveRefusal(record, entry);
        if (refusal || !record) return { ...item, result: "refused", message: refusal };
        if (entry) {
          await context.entities.quarantine
            .patch({ ingestId })
            .set({ status: "redriven", updatedAt: new Date(context.now()).toISOString() })
            .go();
        }
        const run = await claimAndStart(runPortsOf(context), record, "redrive").catch(async (error) => {
          // No run started (Step Functions refused the start, or other runs kept claiming): the
          // entry is open again, so `redrive --all` and the open quarantine list still have it.
          if (entry) await reopenEntry(context, ingestId);
          throw error;
        });
        item.executionName = run.executionName;
        item.attempt = run.attempt;
        if (options.wait) {
          item.outcome = await awaitOutcome(context, run, record, { timeoutMs: options.timeoutMs ?? 60_000 });
          if (item.outcome.status === "NORMALIZED") await resolveQuarantine(context, ingestId);
        }
        return item;
      } catch (error) {
        return { ...item, result: "failed", message: (error as Error).message };
      } finally {
        options.onProgress?.(++done, found.length);
      }
    },
  );
}

/** Reopens an entry marked `redriven` for a run that did not start; one a run has since reopened or resolved stays as it is. */
async function reopenEntry(context: OpsContext, ingestId: string): Promise<void> {
  try {
    await context.entities.quarantine
      .patch({ ingestId })
      .set({ status: "open", updatedAt: new Date(context.now()).toISOString() })
      .where(({ status }, { eq }) => eq(status, "redriven"))
      .go();
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }
}

/** `redrive --all`: every open quarantine entry, optionally of one vendor or one reason. */
export async function redriveQuarantined(
  context: OpsContext,
  filter: { vendorId?: string | undefined; reason?: string | undefined },
  options: RedriveOptions = {},
): Promise<RedriveItem[]> {
  const { entries } = await listQuarantine(context, { ...filter, status: "open" });
  // Oldest first: the order they failed in.
  return redriveEvents(context, entries.map((entry) => entry.ingestId).reverse(), options);
}
