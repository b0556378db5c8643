import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { isConditionalCheckFailed } from "@dvss/core/entities/conditions";
import { PENDING_SHARDS } from "@dvss/core/entities/index";
import { markFailed, recordQuarantine } from "@dvss/core/outcomes";
import middy from "@middy/core";
import { getEntities, logger, metrics, sfnClient, stateMachineArn } from "./lib/runtime.ts";

/** A record still RECEIVED this long after it arrived has lost its execution. */
const stuckAfterMs = () => Number(process.env.DVSS_RECONCILE_AFTER_SECONDS ?? 120) * 1000;
/** Executions started for one event before it is quarantined as STUCK. */
const maxAttempts = () => Number(process.env.DVSS_RECONCILE_MAX_ATTEMPTS ?? 3);
/** Records handled per shard per run, so one run stays short whatever the backlog. */
const BATCH_PER_SHARD = 25;

export interface ReconcileReport {
  restarted: string[];
  quarantined: string[];
  backlog: number;
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
    const cutoff = new Date(Date.now() - stuckAfterMs()).toISOString();
    const report: ReconcileReport = { restarted: [], quarantined: [], backlog: 0 };
    for (let shard = 0; shard < PENDING_SHARDS; shard++) {
      const { data: stuck } = await entities.ingestRecords.query
        .pending({ pendingShard: String(shard) })
        .lt({ receivedAt: cutoff })
        .go({ limit: BATCH_PER_SHARD });
      report.backlog += stuck.length;
      for (const record of stuck) {
        const key = { vendorId: record.vendorId, externalEventId: record.externalEventId };
        const rawRef = { bucket: record.rawBucket, key: record.rawKey };
        const attempts = record.attempts ?? 0;
        if (attempts >= maxAttempts()) {
          const message = `Still RECEIVED after ${attempts} executions; the last started before ${cutoff}`;
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
          continue;
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
          if (isConditionalCheckFailed(error)) continue;
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
      }
    }
    // The backlog alarm watches this: records found stuck in this run, restarted or quarantined.
    metrics.addMetric("dvss.reconciler.backlog", MetricUnit.Count, report.backlog);
    metrics.addMetric("dvss.reconciler.quarantined", MetricUnit.Count, report.quarantined.length);
    if (report.backlog > 0) logger.info("reconciled", { ...report });
    return report;
  });
