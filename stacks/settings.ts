/**
 * Every per-stage setting, in one typed place. Plain data: sst.config.ts reads it in app() (removal,
 * protection) and the stacks in run(). Stages named here are production-like; any other stage
 * (a developer's own, a pull request's) gets the development settings.
 */

/** CloudWatch Logs retention periods SST accepts. */
export type LogRetention = "1 week" | "2 weeks" | "1 month" | "3 months" | "6 months" | "1 year" | "2 years";

export interface AlarmThresholds {
  /** Percentage of normalize outcomes that are quarantines, over 5 minutes. */
  quarantineRatePercent: number;
  /** Below this many outcomes in 5 minutes the rate is not judged (one failure of two is noise). */
  quarantineMinimumOutcomes: number;
  /** Records still RECEIVED past the reconciler's cut-off (the reconciler's own gauge). */
  reconcilerBacklog: number;
  /** Executions that failed or timed out in 5 minutes: an outcome could not be recorded. */
  failedExecutions: number;
  /** Ingest responses 5xx in 5 minutes. */
  ingest5xx: number;
  /** Throttled ingest invocations in 5 minutes. */
  ingestThrottles: number;
  /** Batches in the outbox pipe's dead-letter queue. */
  outboxDeadLetters: number;
  /** Changes applied in 5 minutes above which the feed's partitions near their limit (see FEED_PARTITION). */
  feedChangesPerFiveMinutes: number;
  /** Writes to the Outbox table that DynamoDB throttled in 5 minutes: the feed's partition at its limit. */
  outboxWriteThrottles: number;
}

/**
 * Each feed shard is one DynamoDB partition: every feed entry has its shard as partition key
 * (packages/core/src/entities/outbox.ts), and DynamoDB gives one partition at most 1,000 write
 * units per second, on-demand or provisioned alike. What one accepted event writes there:
 *
 *   its change entry   the normalized document plus the entry's keys: under 1 KB for an ordinary
 *                      event; counted as 2 units (an entry of up to 2 KB)
 *   one gap            a lost compare-and-swap closes its position, and a feed reader closes a
 *                      position left empty past its grace period: 1 unit, counted once per event
 *
 * So 3 write units per event, and a shard sustains 1,000 / 3 = 333 events per second. (Each shard's
 * counter has a partition of its own: 1 unit per position taken.) The API throttle of a stage lets
 * no more in than its shards sustain, and the feed alarm fires at 80% of it.
 */
export const FEED_PARTITION = { writeUnitsPerSecond: 1000, writeUnitsPerEvent: 3 } as const;
/** Events per second one feed shard sustains: 333. */
export const FEED_EVENTS_PER_SECOND = Math.floor(
  FEED_PARTITION.writeUnitsPerSecond / FEED_PARTITION.writeUnitsPerEvent,
);

export interface StageSettings {
  /** Kept on `sst remove` and protected against it; resources are retained rather than deleted. */
  productionLike: boolean;
  /** `sst remove` refuses to run. */
  protect: boolean;
  /** EXPRESS (default: cheap, at-least-once, history in CloudWatch Logs) or STANDARD (console history and redrive). */
  workflowType: "EXPRESS" | "STANDARD";
  /**
   * The state machine's logging configuration. ALL with execution data logs every history event of
   * every execution with its input and output (~26 records, ~26 KB per event: docs/performance.md,
   * "Cost on AWS"); ERROR without execution data logs failures only, so an Express execution that
   * succeeds leaves no history (its outcome is the ingest record's status).
   */
  workflowLogging: { level: "ALL" | "ERROR" | "OFF"; includeExecutionData: boolean };
  /**
   * Lambda's system log level for every function (advanced logging controls, with the functions'
   * JSON log format: infra/function.ts). INFO logs START, END and REPORT for every invocation, ~450
   * bytes each, ~2,250 per event over its 5 invocations (docs/performance.md, "Cost on AWS"); WARN
   * logs none of them, only Lambda's own warnings. The functions' application lines are not
   * affected. What REPORT told and where to read it instead: docs/operations/observability.md.
   */
  functionSystemLogLevel: "INFO" | "WARN";
  /**
   * The functions' application log level: their logger's (POWERTOOLS_LOG_LEVEL) and the one Lambda
   * filters their lines at (infra/function.ts). INFO writes two lines per event, its acceptance and
   * its outcome, with failures and the EMF metric lines (~2.4 KB per event, docs/performance.md);
   * DEBUG adds each task's input and state (~6 KB more). Never above INFO: Lambda counts the EMF
   * lines, which have no level, as INFO, and would drop them and the metrics the alarms watch.
   */
  functionApplicationLogLevel: "TRACE" | "DEBUG" | "INFO";
  /** API stage throttling: steady requests per second and burst. */
  apiThrottling: { rateLimit: number; burstLimit: number };
  /** Retention of function, API access and state machine logs. */
  logRetention: LogRetention;
  /** False: no alarms on this stage. */
  alarms: AlarmThresholds | false;
  /** Table deletion protection (and the normalized bucket keeps its objects on replacement). */
  deletionProtection: boolean;
  /** Point-in-time recovery of every table. */
  pointInTimeRecovery: boolean;
  /**
   * Raw bucket Object Lock (GOVERNANCE mode, default retention in days). Can be turned on for a
   * stage that already has its bucket (the same bucket is kept), never off again: turning it off
   * only removes the default retention, and objects keep the retention they were written with.
   */
  rawObjectLock: { enabled: false } | { enabled: true; retentionDays: number };
  /** Days a raw object's overwritten or deleted versions are kept. */
  rawNoncurrentVersionDays: number;
  /** How often the reconciler looks for records stuck in RECEIVED. */
  reconcilerSchedule: `rate(${string})`;
  /**
   * Feed shards (docs/spec/canonical-state.md, "Shards"): each sustains FEED_EVENTS_PER_SECOND.
   * Passed to every function as DVSS_FEED_SHARDS. Raise it, never lower it: a reader without a
   * cursor reads the shards this says, so changes in a shard above it would be out of its reach.
   */
  feedShards: number;
}

const development: StageSettings = {
  productionLike: false,
  protect: false,
  workflowType: "EXPRESS",
  workflowLogging: { level: "ALL", includeExecutionData: true },
  functionSystemLogLevel: "INFO",
  functionApplicationLogLevel: "DEBUG",
  apiThrottling: { rateLimit: 50, burstLimit: 100 },
  logRetention: "1 week",
  alarms: false,
  deletionProtection: false,
  pointInTimeRecovery: false,
  rawObjectLock: { enabled: false },
  rawNoncurrentVersionDays: 7,
  reconcilerSchedule: "rate(5 minutes)",
  feedShards: 1,
};

const productionAlarms: AlarmThresholds = {
  quarantineRatePercent: 5,
  quarantineMinimumOutcomes: 20,
  reconcilerBacklog: 100,
  failedExecutions: 1,
  ingest5xx: 10,
  ingestThrottles: 1,
  outboxDeadLetters: 1,
  // 80% of what one shard sustains over 5 minutes: 0.8 × 333 × 300 = 79,920 changes. With more
  // shards, multiply by their number (entities spread evenly over them), and the API throttle too.
  feedChangesPerFiveMinutes: Math.floor(0.8 * FEED_EVENTS_PER_SECOND * 300),
  outboxWriteThrottles: 1,
};

export const STAGES = {
  production: {
    productionLike: true,
    protect: true,
    workflowType: "EXPRESS",
    workflowLogging: { level: "ERROR", includeExecutionData: false },
    functionSystemLogLevel: "WARN",
    functionApplicationLogLevel: "INFO",
    // What the feed's one shard sustains (FEED_PARTITION: 333 events/s), rounded down. A burst
    // of 600 is spread over the seconds an event takes through the workflow before it reaches the
    // feed, and a write DynamoDB throttles meanwhile is retried by the task.
    apiThrottling: { rateLimit: 300, burstLimit: 600 },
    logRetention: "1 year",
    alarms: productionAlarms,
    deletionProtection: true,
    pointInTimeRecovery: true,
    rawObjectLock: { enabled: true, retentionDays: 365 },
    rawNoncurrentVersionDays: 90,
    reconcilerSchedule: "rate(5 minutes)",
    feedShards: 1,
  },
  staging: {
    productionLike: true,
    protect: false,
    workflowType: "EXPRESS",
    workflowLogging: { level: "ERROR", includeExecutionData: false },
    functionSystemLogLevel: "WARN",
    functionApplicationLogLevel: "INFO",
    apiThrottling: { rateLimit: 200, burstLimit: 400 },
    logRetention: "1 month",
    alarms: { ...productionAlarms, failedExecutions: 5 },
    deletionProtection: true,
    pointInTimeRecovery: true,
    rawObjectLock: { enabled: false },
    rawNoncurrentVersionDays: 30,
    reconcilerSchedule: "rate(5 minutes)",
    feedShards: 1,
  },
} as const satisfies Record<string, StageSettings>;

/** The settings of a stage: its own if it is named in STAGES, the development ones otherwise. */
export function stageSettings(stage: string): StageSettings {
  return Object.hasOwn(STAGES, stage) ? STAGES[stage as keyof typeof STAGES] : development;
}

/** The same retentions in days, for resources SST does not create (log groups, metric filters). */
export const LOG_RETENTION_DAYS: Record<LogRetention, number> = {
  "1 week": 7,
  "2 weeks": 14,
  "1 month": 30,
  "3 months": 90,
  "6 months": 180,
  "1 year": 365,
  "2 years": 731,
};
