import { ERROR_CODES } from "./errors.ts";

/**
 * The observability vocabulary: every metric DVSS emits, its unit and the dimension sets it is
 * published under (docs/operations/observability.md). Handlers emit through this table only
 * (packages/functions/src/lib/metrics.ts), and the alarms (infra/monitoring.ts) read the same
 * names, so neither side can misspell one.
 *
 * Metrics go out as CloudWatch Embedded Metric Format lines in namespace "dvss", each with the
 * `service: dvss` dimension Powertools adds to every set. Every dimension value comes from a
 * bounded set: vendorId (the vendor registry), eventType (a vendor's registered event types),
 * reason (REASONS), stage (LATENCY_STAGES), kind (divergence kinds), severity (drift severities). Never an ingestId or an
 * externalEventId: one series per event would cost a custom metric each.
 */

export const METRICS_NAMESPACE = "dvss";
/** The dimension Powertools adds to every set (its serviceName). */
export const METRICS_SERVICE_DIMENSION = { service: "dvss" } as const;

export type MetricDimension = "vendorId" | "eventType" | "reason" | "stage" | "kind" | "severity";

export interface MetricDefinition {
  name: string;
  unit: "Count" | "Milliseconds";
  /**
   * The sets of dimensions the metric is published under, besides `service`. An empty set is the
   * total (what a stage-wide alarm reads); a longer one breaks it down.
   */
  dimensionSets: readonly (readonly MetricDimension[])[];
}

/** The two latencies DVSS measures, never summed into one series. */
export const LATENCY_STAGES = {
  /** POST /v1/events received → its answer sent (accepted or duplicate). */
  ingest: "ingest",
  /** Record received (accepted) → marked NORMALIZED. */
  normalize: "normalize",
} as const;

export const METRICS = {
  /** A new event stored and its workflow started (202 ACCEPTED). */
  ingestAccepted: { name: "dvss.ingest.accepted", unit: "Count", dimensionSets: [[], ["vendorId"]] },
  /** A post of an event already recorded with the same content (202 DUPLICATE). */
  ingestDuplicate: { name: "dvss.ingest.duplicate", unit: "Count", dimensionSets: [[], ["vendorId"]] },
  /** An authenticated vendor's post refused for its body: what the vendor must fix in its payloads. */
  ingestFailedValidation: {
    name: "dvss.ingest.failed_validation",
    unit: "Count",
    dimensionSets: [[], ["vendorId", "reason"]],
  },
  /** Any other refused post (authentication, pause, rate limit, conflict, a store down). */
  ingestRejected: { name: "dvss.ingest.rejected", unit: "Count", dimensionSets: [["reason"]] },
  /** An event marked NORMALIZED. */
  normalizeSuccess: {
    name: "dvss.normalize.success",
    unit: "Count",
    dimensionSets: [[], ["vendorId"], ["vendorId", "eventType"]],
  },
  /** An event marked FAILED_NORMALIZE (it is in the quarantine). */
  normalizeFailed: {
    name: "dvss.normalize.failed",
    unit: "Count",
    dimensionSets: [[], ["vendorId"], ["vendorId", "eventType", "reason"]],
  },
  /** Milliseconds of one stage (LATENCY_STAGES), one series per stage. */
  pipelineLatency: { name: "dvss.pipeline.latency_ms", unit: "Milliseconds", dimensionSets: [["stage"]] },
  /** A quarantine entry written (by the workflow; the reconciler counts its own as dvss.reconciler.quarantined). */
  quarantineCount: { name: "dvss.quarantine.count", unit: "Count", dimensionSets: [["reason"]] },
  /** A divergence detected (docs/spec/canonical-state.md), by kind. */
  divergenceCount: { name: "dvss.divergence.count", unit: "Count", dimensionSets: [["kind"]] },
  /**
   * Reserved for the Match stage, which does not exist yet: an event that matched no entity. Named
   * here so that stage uses this name; nothing emits it today.
   */
  matchFailed: { name: "dvss.match.failed", unit: "Count", dimensionSets: [["vendorId", "kind"]] },
  /**
   * A drift finding created, or turned breaking (docs/spec/drift.md): one per change in a vendor's
   * payloads, not one per event that shows it. severity: breaking or non_breaking.
   */
  driftDetected: {
    name: "dvss.drift.detected",
    unit: "Count",
    dimensionSets: [["severity"], ["vendorId", "severity"]],
  },
  /** Records the reconciler found stuck in RECEIVED on a run. */
  reconcilerBacklog: { name: "dvss.reconciler.backlog", unit: "Count", dimensionSets: [[]] },
  /** Records the reconciler quarantined (STUCK) on a run. */
  reconcilerQuarantined: { name: "dvss.reconciler.quarantined", unit: "Count", dimensionSets: [[]] },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;

/** The dimensions a metric must be given: every name in any of its sets. */
export type DimensionsOf<Key extends MetricKey> = {
  [Name in (typeof METRICS)[Key]["dimensionSets"][number][number]]: string;
};

/**
 * The reasons a metric may name: the error codes, and the codes a failure outside them gets
 * (STUCK from the reconciler, TIMEOUT from a Step Functions timeout, INTERNAL for an unexpected
 * error). Anything else is OTHER.
 */
export const REASONS: readonly string[] = [...ERROR_CODES, "STUCK", "TIMEOUT", "INTERNAL", "OTHER"];

export function reasonDimension(code: string): string {
  return REASONS.includes(code) ? code : "OTHER";
}

/**
 * The eventType dimension of a normalize outcome: the vendor's event type as the record holds it.
 * An event whose type or version the vendor's registry does not know (UNKNOWN_SCHEMA_VERSION) is
 * counted as "unregistered", so a vendor sending new names cannot open new series.
 */
export function eventTypeDimension(eventType: string, reason?: string): string {
  return reason === "UNKNOWN_SCHEMA_VERSION" ? "unregistered" : eventType;
}
