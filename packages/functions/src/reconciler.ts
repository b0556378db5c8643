import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { ListExecutionsCommand } from "@aws-sdk/client-sfn";
import { type IngestRecordItem, PENDING_SHARDS } from "@dvss/core/entities/index";
import { mapBounded } from "@dvss/core/ops/concurrency";
import { ingestIdOfExecution } from "@dvss/core/ops/execution-names";
import { claimAndStart, type RunPorts, storeRunPorts } from "@dvss/core/ops/runs";
import { markFailed, recordQuarantine } from "@dvss/core/outcomes";
import { DEFAULT_RECONCILE_AFTER_SECONDS } from "@dvss/core/workflow";
import middy from "@middy/core";
import { getEntities, logger, sfnClient, stateMachineArn } from "./lib/aws.ts";
import { emitMetric } from "./lib/metrics.ts";

/** How the reconciler decides; the handler reads them from the environment. */
export interface ReconcileSettings {
  /**
   * A record still RECEIVED this long after its last execution started has lost that execution.
   * The stack sets it from the deployed workflow (reconcileAfterSeconds: its longest execution
   * plus a margin); by default, that of an Express Normalize.
   */
  stuckAfterMs: number;
  /** Executions started for one event before it is quarantined as STUCK. */
  maxAttempts: number;
  /** Executions lost with a stopped local runtime (lostExecutions) that do not count toward that maximum. */
  maxLost: number;
  /** Records handled per shard per run, so one run stays short whatever the backlog. */
  batchPerShard: number;
  /** Records claimed and restarted at once. */
  concurrency: number;
  /**
   * Every execution started before this moment (ISO) is known to be gone, whatever the threshold:
   * the local runtime sets its own start time, since an earlier process's executions died with it.
   */
  executionsLostBefore?: string | undefined;
  /**
   * Ask Step Functions which executions still run and leave their events alone, however long ago
   * they started: the local runtime sets it, whose executions can wait in its queue longer than the
   * threshold. (Express executions, as deployed, cannot be listed.)
   */
  skipRunning: boolean;
}

export function settingsFromEnvironment(env: Record<string, string | undefined>): ReconcileSettings {
  return {
    stuckAfterMs: Number(env.DVSS_RECONCILE_AFTER_SECONDS ?? DEFAULT_RECONCILE_AFTER_SECONDS) * 1000,
    maxAttempts: Number(env.DVSS_RECONCILE_MAX_ATTEMPTS ?? 3),
    maxLost: Number(env.DVSS_RECONCILE_MAX_LOST ?? 5),
    batchPerShard: Number(env.DVSS_RECONCILE_BATCH_PER_SHARD ?? 25),
    concurrency: Math.max(1, Number(env.DVSS_RECONCILE_CONCURRENCY ?? 8)),
    executionsLostBefore: env.DVSS_EXECUTIONS_LOST_BEFORE,
    skipRunning: env.DVSS_RECONCILE_SKIP_RUNNING === "true",
  };
}

/** What the reconciler reads and writes, besides starting runs. */
export interface ReconcilerPorts {
  /** Claims and starts runs (packages/core/src/ops/runs.ts). */
  runs: RunPorts;
  /**
   * RECEIVED records that arrived, and whose last execution started, before `cutoff`: at most
   * `perShard` from each shard of the sparse pending index.
   */
  pendingBefore(cutoff: string, perShard: number): Promise<IngestRecordItem[]>;
  /** The ingestIds with a RUNNING execution. */
  runningIngestIds(): Promise<Set<string>>;
  /** Quarantines the record as STUCK and marks it FAILED_NORMALIZE. */
  quarantineStuck(record: IngestRecordItem, message: string): Promise<void>;
  warn(message: string, details: Record<string, unknown>): void;
}

/** Records older than this are stuck: the threshold, or the moment executions were lost if later. */
function stuckCutoff(settings: ReconcileSettings, now: number): string {
  const threshold = new Date(now - settings.stuckAfterMs).toISOString();
  const lost = settings.executionsLostBefore;
  return lost && lost > threshold && lost <= new Date(now).toISOString() ? lost : threshold;
}

export interface ReconcileReport {
  restarted: string[];
  quarantined: string[];
  backlog: number;
  /** Past the cut-off but with an execution still RUNNING (only with skipRunning): left alone. */
  running: number;
}

/**
 * Restarts records stuck in RECEIVED (a StartExecution that failed, an execution that died), and
 * quarantines them as STUCK once they have had the maximum number of executions. Each restart is
 * a reconcile run claimed on the record's `attempts` while it is RECEIVED, so two overlapping runs
 * cannot both restart one event, and an event that finished meanwhile is left alone.
 */
export async function reconcile(
  ports: ReconcilerPorts,
  settings: ReconcileSettings,
): Promise<ReconcileReport> {
  const cutoff = stuckCutoff(settings, ports.runs.now());
  const report: ReconcileReport = { restarted: [], quarantined: [], backlog: 0, running: 0 };
  // Listed before the records are read: an execution that ends in between leaves its record
  // final, or RECEIVED after a failure, which is then rightly restarted.
  const running = settings.skipRunning
    ? await ports.runningIngestIds().catch((error: unknown) => {
        // Without the list the threshold alone decides, as for Express.
        ports.warn("running executions not listed", { error: String(error) });
        return new Set<string>();
      })
    : new Set<string>();
  const pastCutoff = await ports.pendingBefore(cutoff, settings.batchPerShard);
  const stuck = pastCutoff.filter((record) => !running.has(record.ingestId));
  report.running = pastCutoff.length - stuck.length;
  report.backlog = stuck.length;
  await mapBounded(stuck, settings.concurrency, async (record) => {
    const attempts = record.attempts ?? 0;
    const lost = Math.min(record.lostExecutions ?? 0, settings.maxLost);
    if (attempts - lost >= settings.maxAttempts) {
      const message =
        `Still RECEIVED after ${attempts} executions` +
        `${lost > 0 ? ` (${lost} lost with a stopped runtime)` : ""}; the last started before ${cutoff}`;
      await ports.quarantineStuck(record, message);
      report.quarantined.push(record.ingestId);
      return;
    }
    try {
      // Undefined: another run claimed it, or it finished meanwhile.
      if (await claimAndStart(ports.runs, record, "reconcile")) report.restarted.push(record.ingestId);
    } catch (error) {
      // Left for a later run: a failed claim changed nothing; a failed start gave its attempt
      // back (it is no execution, so it does not bring the event closer to STUCK), and the
      // record is due again a threshold after the claim.
      ports.warn("restart failed", { ingestId: record.ingestId, error: String(error) });
    }
  });
  return report;
}

/** The ports over the deployed stores (or the local runtime's, through the same environment). */
function storePorts(): ReconcilerPorts {
  const entities = getEntities();
  return {
    runs: storeRunPorts({ entities, sfn: sfnClient(), stateMachineArn: stateMachineArn(), now: Date.now }),
    async pendingBefore(cutoff, perShard) {
      const shards = await Promise.all(
        Array.from({ length: PENDING_SHARDS }, (_, shard) =>
          entities.ingestRecords.query
            .pending({ pendingShard: String(shard) })
            .lt({ receivedAt: cutoff })
            // Its last execution (first start, or the last claim of a restart) started before the cutoff.
            .where(
              ({ updatedAt }, { notExists, lte }) => `${notExists(updatedAt)} OR ${lte(updatedAt, cutoff)}`,
            )
            .go({ count: perShard }),
        ),
      );
      return shards.flatMap(({ data }) => data);
    },
    async runningIngestIds() {
      const ingestIds = new Set<string>();
      let nextToken: string | undefined;
      do {
        const page = await sfnClient().send(
          new ListExecutionsCommand({
            stateMachineArn: stateMachineArn(),
            statusFilter: "RUNNING",
            maxResults: 1000,
            ...(nextToken && { nextToken }),
          }),
        );
        for (const execution of page.executions ?? [])
          ingestIds.add(ingestIdOfExecution(execution.name ?? ""));
        nextToken = page.nextToken;
      } while (nextToken);
      return ingestIds;
    },
    async quarantineStuck(record, message) {
      const key = { vendorId: record.vendorId, externalEventId: record.externalEventId };
      await recordQuarantine(entities, {
        ingestId: record.ingestId,
        ...key,
        eventType: record.eventType,
        stage: "Reconciler",
        reason: "STUCK",
        errorName: "StuckEventError",
        message,
        details: [],
        rawRef: { bucket: record.rawBucket, key: record.rawKey },
        attempts: record.attempts ?? 0,
      });
      await markFailed(entities, key, { code: "STUCK", message });
    },
    warn: (message, details) => logger.warn(message, details),
  };
}

/** Scheduled: one reconcile run over the stores, its backlog and quarantines as metrics. */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (): Promise<ReconcileReport> => {
    const report = await reconcile(storePorts(), settingsFromEnvironment(process.env));
    // The backlog alarm watches this: records found stuck in this run, restarted or quarantined.
    emitMetric("reconcilerBacklog", {}, report.backlog);
    emitMetric("reconcilerQuarantined", {}, report.quarantined.length);
    if (report.backlog > 0) logger.info("reconciled", { ...report });
    return report;
  });
