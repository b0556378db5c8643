import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { METRICS, METRICS_NAMESPACE, METRICS_SERVICE_DIMENSION } from "@dvss/core/metrics";
import type { AlarmThresholds } from "../stacks/settings.ts";

/** Powertools EMF metrics: namespace "dvss", and the `service` dimension it adds to every metric. */
export const DVSS_METRICS = { namespace: METRICS_NAMESPACE, dimensions: METRICS_SERVICE_DIMENSION };

/** Where the vendors deployed with the functions are defined (infra/workflow.ts copies the same folder). */
const VENDORS_DIR = "schemas/vendors";

/** The vendors deployed with the stage: every folder under schemas/vendors with a vendor.json. */
export function deployedVendorIds(dir = VENDORS_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, "vendor.json")))
    .map((entry) => entry.name)
    .sort();
}

const FIVE_MINUTES = 300;

export interface Monitored {
  httpApi: sst.aws.ApiGatewayV2;
  ingest: sst.aws.Function;
  stateMachine: aws.sfn.StateMachine;
  reconciler: sst.aws.Function;
  /** Batches of the outbox stream the pipe could not deliver to the bus (infra/events.ts). */
  outboxDeadLetters: aws.sqs.Queue;
  /** The table whose partitions hold the feed, one per shard (stacks/settings.ts, FEED_PARTITION). */
  outboxTable: sst.aws.Dynamo;
  /** Vendors that get a quarantine-rate alarm of their own (deployedVendorIds). */
  vendorIds: string[];
}

/**
 * Alarms an operator acts on, all to one SNS topic: quarantine rate (overall and per vendor), breaking drift, reconciler backlog, failed
 * executions (an outcome could not be recorded), ingest 5xx and throttles, outbox batches the
 * pipe dead-lettered, and the feed's one partition nearing or at its write limit. No data is no alarm.
 */
export function monitoring(thresholds: AlarmThresholds, monitored: Monitored) {
  const alerts = new sst.aws.SnsTopic("Alerts");
  const common = {
    alarmActions: [alerts.arn],
    okActions: [alerts.arn],
    evaluationPeriods: 1,
    treatMissingData: "notBreaching",
  };
  const dvssMetric = (metricName: string, dimensions: Record<string, string> = {}) => ({
    namespace: DVSS_METRICS.namespace,
    metricName,
    dimensions: { ...DVSS_METRICS.dimensions, ...dimensions },
    period: FIVE_MINUTES,
    stat: "Sum",
  });
  // Share of normalize outcomes that are quarantines, judged from quarantineMinimumOutcomes on.
  const quarantineRateQueries = (dimensions: Record<string, string> = {}) => [
    { id: "failed", metric: dvssMetric(METRICS.normalizeFailed.name, dimensions), returnData: false },
    { id: "normalized", metric: dvssMetric(METRICS.normalizeSuccess.name, dimensions), returnData: false },
    {
      id: "rate",
      label: "quarantined %",
      expression: `IF((FILL(failed,0)+FILL(normalized,0)) >= ${thresholds.quarantineMinimumOutcomes}, 100*FILL(failed,0)/(FILL(failed,0)+FILL(normalized,0)), 0)`,
      returnData: true,
    },
  ];

  const quarantineRate = new aws.cloudwatch.MetricAlarm("QuarantineRateAlarm", {
    ...common,
    alarmDescription: "Share of normalize outcomes that are quarantines (dvss.normalize.failed) is high",
    comparisonOperator: "GreaterThanThreshold",
    threshold: thresholds.quarantineRatePercent,
    metricQueries: quarantineRateQueries(),
  });
  // The same rate per vendor deployed with the stage: one vendor's broken feed shows even when the
  // others' volume hides it in the total. A vendor added later gets its alarm with the next deploy.
  const vendorQuarantineRates = Object.fromEntries(
    monitored.vendorIds.map((vendorId) => [
      vendorId,
      new aws.cloudwatch.MetricAlarm(`QuarantineRateAlarm-${vendorId}`, {
        ...common,
        alarmDescription: `Share of ${vendorId}'s normalize outcomes that are quarantines is high`,
        comparisonOperator: "GreaterThanThreshold",
        threshold: thresholds.quarantineRatePercent,
        metricQueries: quarantineRateQueries({ vendorId }),
      }),
    ]),
  );

  // The reconciler emits dvss.reconciler.backlog (EMF) on every run: records it found stuck.
  const reconcilerBacklog = new aws.cloudwatch.MetricAlarm("ReconcilerBacklogAlarm", {
    ...common,
    evaluationPeriods: 3,
    alarmDescription:
      "Records stuck in RECEIVED keep piling up: executions are not starting or not finishing",
    comparisonOperator: "GreaterThanThreshold",
    threshold: thresholds.reconcilerBacklog,
    namespace: DVSS_METRICS.namespace,
    metricName: METRICS.reconcilerBacklog.name,
    dimensions: DVSS_METRICS.dimensions,
    period: FIVE_MINUTES,
    statistic: "Maximum",
  });

  const executionMetric = (metricName: string) => ({
    namespace: "AWS/States",
    metricName,
    dimensions: { StateMachineArn: monitored.stateMachine.arn },
    period: FIVE_MINUTES,
    stat: "Sum",
  });
  const failedExecutions = new aws.cloudwatch.MetricAlarm("FailedExecutionsAlarm", {
    ...common,
    alarmDescription:
      "Normalize executions failed or timed out: an outcome (quarantine or final status) could not be recorded",
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    threshold: thresholds.failedExecutions,
    metricQueries: [
      { id: "failed", metric: executionMetric("ExecutionsFailed"), returnData: false },
      { id: "timedout", metric: executionMetric("ExecutionsTimedOut"), returnData: false },
      {
        id: "unrecorded",
        label: "executions failed",
        expression: "FILL(failed,0)+FILL(timedout,0)",
        returnData: true,
      },
    ],
  });

  const ingest5xx = new aws.cloudwatch.MetricAlarm("Ingest5xxAlarm", {
    ...common,
    alarmDescription:
      "The HTTP API answers 5xx (503 UNAVAILABLE: a store did not answer, or errorCode ACCESS_DENIED in the log: a missing grant)",
    comparisonOperator: "GreaterThanThreshold",
    threshold: thresholds.ingest5xx,
    namespace: "AWS/ApiGateway",
    metricName: "5xx",
    dimensions: { ApiId: monitored.httpApi.nodes.api.id, Stage: "$default" },
    period: FIVE_MINUTES,
    statistic: "Sum",
  });

  const ingestThrottles = new aws.cloudwatch.MetricAlarm("IngestThrottlesAlarm", {
    ...common,
    alarmDescription: "The ingest function is throttled (account or reserved concurrency reached)",
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    threshold: thresholds.ingestThrottles,
    namespace: "AWS/Lambda",
    metricName: "Throttles",
    dimensions: { FunctionName: monitored.ingest.name },
    period: FIVE_MINUTES,
    statistic: "Sum",
  });

  // The pipe retried a batch, split it down to the record the bus refused, and gave up on it: those
  // changes are in the feed but were never announced on the bus.
  const outboxDeadLetters = new aws.cloudwatch.MetricAlarm("OutboxDeadLettersAlarm", {
    ...common,
    alarmDescription:
      "The outbox pipe dead-lettered a batch: changes in the feed that were not announced on the bus",
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    threshold: thresholds.outboxDeadLetters,
    namespace: "AWS/SQS",
    metricName: "ApproximateNumberOfMessagesVisible",
    dimensions: { QueueName: monitored.outboxDeadLetters.name },
    period: FIVE_MINUTES,
    statistic: "Maximum",
  });

  // Each feed shard is one partition (FEED_PARTITION in stacks/settings.ts): applied changes near
  // what the shards sustain, then writes they refuse. The answer: more shards (feedShards), or slower.
  const feedCapacity = new aws.cloudwatch.MetricAlarm("FeedCapacityAlarm", {
    ...common,
    alarmDescription:
      "Changes applied per 5 minutes are above 80% of what the feed's DynamoDB partitions sustain",
    comparisonOperator: "GreaterThanThreshold",
    threshold: thresholds.feedChangesPerFiveMinutes,
    namespace: DVSS_METRICS.namespace,
    metricName: METRICS.normalizeSuccess.name,
    dimensions: DVSS_METRICS.dimensions,
    period: FIVE_MINUTES,
    statistic: "Sum",
  });
  const outboxWriteThrottles = new aws.cloudwatch.MetricAlarm("OutboxWriteThrottlesAlarm", {
    ...common,
    alarmDescription: "DynamoDB throttled writes to the Outbox table: the feed's partition is at its limit",
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    threshold: thresholds.outboxWriteThrottles,
    namespace: "AWS/DynamoDB",
    metricName: "WriteThrottleEvents",
    dimensions: { TableName: monitored.outboxTable.name },
    period: FIVE_MINUTES,
    statistic: "Sum",
  });

  // A vendor's payloads changed in a way that fails events (docs/spec/drift.md): one datapoint per
  // finding created or turned breaking, not per event, so it fires once per change.
  const driftBreaking = new aws.cloudwatch.MetricAlarm("DriftBreakingAlarm", {
    ...common,
    alarmDescription:
      "A vendor's payloads drifted in a way that fails events (breaking drift finding): npx dvss drift list",
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    threshold: 1,
    namespace: DVSS_METRICS.namespace,
    metricName: METRICS.driftDetected.name,
    dimensions: { ...DVSS_METRICS.dimensions, severity: "breaking" },
    period: FIVE_MINUTES,
    statistic: "Sum",
  });

  return {
    alerts,
    driftBreaking,
    feedCapacity,
    outboxWriteThrottles,
    quarantineRate,
    vendorQuarantineRates,
    reconcilerBacklog,
    failedExecutions,
    ingest5xx,
    ingestThrottles,
    outboxDeadLetters,
  };
}
