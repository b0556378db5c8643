import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { ListExecutionsCommand, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { isConditionalCheckFailed } from "@dvss/core/entities/conditions";
import { PENDING_SHARDS } from "@dvss/core/entities/index";
import { markFailed, recordQuarantine } from "@dvss/core/outcomes";
import { DEFAULT_RECONCILE_AFTER_SECONDS } from "@dvss/core/workflow";
import middy from "@middy/core";
import { getEntities, logger, metrics, sfnClient, stateMachineArn } from "./lib/runtime.ts";

/**
 * A record still RECEIVED this long after its last execution started has lost that execution. The
 * stack sets it from the deployed workflow (reconcileAfterSeconds: its longest execution plus a
 * margin); by default, that of an Express Normalize.
 */
const stuckAfterMs = () =>
  Number(process.env.DVSS_RECONCILE_AFTER_SECONDS ?? DEFAULT_RECONCILE_AFTER_SECONDS) * 1000;
/** Executions started for one event before it is quarantined as STUCK. */
const maxAttempts = () => Number(process.env.DVSS_RECONCILE_MAX_ATTEMPTS ?? 3);
/** Executions lost with a stopped local runtime (lostExecutions) that do not count toward that maximum. */
const maxLost = () => Number(process.env.DVSS_RECONCILE_MAX_LOST ?? 5);
/** Records handled per shard per run, so one run stays short whatever the backlog. */
const batchPerShard = () => Number(process.env.DVSS_RECONCILE_BATCH_PER_SHARD ?? 25);
/** Records claimed and restarted at once. */
const concurrency = () => Math.max(1, Number(process.env.DVSS_RECONCILE_CONCURRENCY ?? 8));
/**
 * Every execution started before this moment (ISO) is known to be gone, whatever the threshold:
 * the local runtime sets its own start time, since an earlier process's executions died with it.
 */
const executionsLostBefore = () => process.env.DVSS_EXECUTIONS_LOST_BEFORE;

/**
 * Ask Step Functions which executions still run and leave their events alone, however long ago
 * they started: the local runtime sets it, whose executions can wait in its queue longer than the
 * threshold. (Express executions, as deployed, cannot be listed.)
 */
const skipRunning = () => process.env.DVSS_RECONCILE_SKIP_RUNNING === "true";

/** The ingestIds of the RUNNING executions (named `<ingestId>` or `<ingestId>-<kind>-<n>`). */
async function runningIngestIds(): Promise<Set<string>> {
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
    for (const execution of page.executions ?? []) ingestIds.add((execution.name ?? "").split("-")[0] ?? "");
    nextToken = page.nextToken;
  } while (nextToken);
  return ingestIds;
}

/** Records older than this are stuck: the threshold, or the moment executions were lost if later. */
function stuckCutoff(now: number): string {
  const threshold = new Date(now - stuckAfterMs()).toISOString();
  const lost = executionsLostBefore();
  return lost && lost > threshold && lost <= new Date(now).toISOString() ? lost : threshold;
}

/** Runs `work` on every item, at most `limit` at once. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

export interface ReconcileReport {
  restarted: string[];
  quarantined: string[];
  backlog: number;
  /** Past the cut-off but with an execution still RUNNING (only with DVSS_RECONCILE_SKIP_RUNNING): left alone. */
  running: number;
}

/**
 * Scheduled: restarts records stuck in RECEIVED (a StartExecution that failed, an execution that
 * died), and quarantines them as STUCK once they have had the maximum number of executions. Reads only the
 * sparse pending index; each restart is claimed with a conditional write on `attempts`, so two
 * overlapping runs cannot both restart one event.
 */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async (): Promise<ReconcileReport> => {
    const entities = getEntities();
    const cutoff = stuckCutoff(Date.now());
    const report: ReconcileReport = { restarted: [], quarantined: [], backlog: 0, running: 0 };
    // Listed before the records are read: an execution that ends in between leaves its record
    // final, or RECEIVED after a failure, which is then rightly restarted.
    const running = skipRunning()
      ? await runningIngestIds().catch((error: unknown) => {
          // Without the list the threshold alone decides, as for Express.
          logger.warn("running executions not listed", { error: String(error) });
          return new Set<string>();
        })
      : new Set<string>();
    const shards = await Promise.all(
      Array.from({ length: PENDING_SHARDS }, (_, shard) =>
        entities.ingestRecords.query
          .pending({ pendingShard: String(shard) })
          .lt({ receivedAt: cutoff })
          // Its last execution (first start, or the last claim of a restart) started before the cutoff.
          .where(
            ({ updatedAt }, { notExists, lte }) => `${notExists(updatedAt)} OR ${lte(updatedAt, cutoff)}`,
          )
          .go({ count: batchPerShard() }),
      ),
    );
    const pastCutoff = shards.flatMap(({ data }) => data);
    const stuck = pastCutoff.filter((record) => !running.has(record.ingestId));
    report.running = pastCutoff.length - stuck.length;
    report.backlog = stuck.length;
    await eachLimited(stuck, concurrency(), async (record) => {
      const key = { vendorId: record.vendorId, externalEventId: record.externalEventId };
      const rawRef = { bucket: record.rawBucket, key: record.rawKey };
      const attempts = record.attempts ?? 0;
      const lost = Math.min(record.lostExecutions ?? 0, maxLost());
      if (attempts - lost >= maxAttempts()) {
        const message =
          `Still RECEIVED after ${attempts} executions` +
          `${lost > 0 ? ` (${lost} lost with a stopped runtime)` : ""}; the last started before ${cutoff}`;
        await recordQuarantine(entities, {
          ingestId: record.ingestId,
          ...key,
          eventType: record.eventType,
          stage: "Reconciler",
          reason: "STUCK",
          errorName: "StuckEventError",
          message,
          details: [],
          rawRef,
          attempts,
        });
        await markFailed(entities, key, { code: "STUCK", message });
        report.quarantined.push(record.ingestId);
        return;
      }
      try {
        await entities.ingestRecords
          .patch(key)
          .set({ attempts: attempts + 1, updatedAt: new Date().toISOString() })
          .where(
            ({ attempts: current, status }, { eq }) =>
              `${eq(current, attempts)} AND ${eq(status, "RECEIVED")}`,
          )
          .go();
      } catch (error) {
        // Another run claimed it, or it finished meanwhile; anything else is a real failure.
        if (isConditionalCheckFailed(error)) return;
        throw error;
      }
      await sfnClient()
        .send(
          new StartExecutionCommand({
            stateMachineArn: stateMachineArn(),
            name: `${record.ingestId}-reconcile-${attempts + 1}`,
            input: JSON.stringify({ ingestId: record.ingestId, ...key, rawRef }),
          }),
        )
        .then(() => report.restarted.push(record.ingestId))
        .catch((error: unknown) =>
          logger.warn("restart failed", { ingestId: record.ingestId, error: String(error) }),
        );
    });
    // The backlog alarm watches this: records found stuck in this run, restarted or quarantined.
    metrics.addMetric("dvss.reconciler.backlog", MetricUnit.Count, report.backlog);
    metrics.addMetric("dvss.reconciler.quarantined", MetricUnit.Count, report.quarantined.length);
    if (report.backlog > 0) logger.info("reconciled", { ...report });
    return report;
  });
