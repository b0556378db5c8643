import type { DriftFindingItem } from "../entities/index.ts";
import { NotFoundError, UsageError } from "../errors.ts";
import type { OpsContext } from "./context.ts";

export interface DriftFilter {
  vendorId?: string | undefined;
  /** Findings seen (lastSeen) at or after this instant. */
  since?: Date | undefined;
  /** Acknowledged findings too. */
  all?: boolean | undefined;
}

export interface DriftFinding extends DriftFindingItem {
  /** Acknowledged at its current severity (a finding that turned breaking since is not). */
  acked: boolean;
}

export interface DriftListing {
  findings: DriftFinding[];
  total: number;
  /** Acknowledged findings left out (none with `all`). */
  hiddenAcked: number;
}

export const isAcked = (finding: Pick<DriftFindingItem, "severity" | "ackedSeverity">) =>
  finding.ackedSeverity !== undefined && finding.ackedSeverity === finding.severity;

async function readFindings(
  context: Pick<OpsContext, "entities">,
  vendorId: string | undefined,
): Promise<DriftFindingItem[]> {
  const { driftFindings } = context.entities;
  const query = vendorId ? driftFindings.query.byVendor({ vendorId }) : driftFindings.query.all({});
  return (await query.go({ pages: "all" })).data;
}

/**
 * Drift findings (docs/spec/drift.md), breaking first, then the most recently seen: one vendor's
 * (its partition) or every vendor's (the `all` index). Acknowledged ones are left out unless `all`.
 */
export async function listDrift(context: OpsContext, filter: DriftFilter = {}): Promise<DriftListing> {
  const since = filter.since?.toISOString();
  const matching = (await readFindings(context, filter.vendorId))
    .filter((finding) => since === undefined || finding.lastSeen >= since)
    .map((finding) => ({ ...finding, acked: isAcked(finding) }));
  const findings = matching
    .filter((finding) => filter.all || !finding.acked)
    .sort(
      (a, b) =>
        (a.severity === "breaking" ? 0 : 1) - (b.severity === "breaking" ? 0 : 1) ||
        b.lastSeen.localeCompare(a.lastSeen) ||
        a.findingId.localeCompare(b.findingId),
    );
  return { findings, total: findings.length, hiddenAcked: matching.length - findings.length };
}

/**
 * Acknowledges a finding at its current severity: it leaves the listing until it turns breaking.
 * Acknowledging again is a no-op that says when it was.
 */
export async function ackDrift(
  context: OpsContext,
  findingId: string,
  at = new Date(),
): Promise<DriftFinding> {
  const separator = findingId.lastIndexOf(":");
  if (separator <= 0)
    throw new UsageError(`"${findingId}" is not a finding id (<vendorId>:<12 hex>, from dvss drift list)`);
  const vendorId = findingId.slice(0, separator);
  const finding = (await readFindings(context, vendorId)).find((item) => item.findingId === findingId);
  if (!finding) throw new NotFoundError(`No drift finding ${findingId}`);
  if (isAcked(finding)) return { ...finding, acked: true };
  const { vendorId: _, eventType, version, kind, path } = finding;
  const ackedAt = at.toISOString();
  await context.entities.driftFindings
    .patch({ vendorId, eventType, version, kind, path })
    .set({ ackedSeverity: finding.severity, ackedAt })
    .go({ response: "none" });
  return { ...finding, ackedSeverity: finding.severity, ackedAt, acked: true };
}

/**
 * A vendor's findings first seen in [from, to), by severity: what a daily scorecard counts. One
 * query of the vendor's partition (a few hundred items at most).
 */
export async function countNewDriftFindings(
  context: Pick<OpsContext, "entities">,
  vendorId: string,
  from: Date,
  to: Date,
): Promise<{ breaking: number; nonBreaking: number }> {
  const [start, end] = [from.toISOString(), to.toISOString()];
  const counts = { breaking: 0, nonBreaking: 0 };
  for (const finding of await readFindings(context, vendorId)) {
    if (finding.firstSeen < start || finding.firstSeen >= end) continue;
    if (finding.severity === "breaking") counts.breaking += 1;
    else counts.nonBreaking += 1;
  }
  return counts;
}
