import { NotFoundError } from "@dvss/core/errors";
import type { OpsContext } from "@dvss/core/ops/context";
import { type DriftFinding, listDrift } from "@dvss/core/ops/drift";
import { type ScorecardRow, vendorScorecard } from "@dvss/core/ops/scorecard";
import {
  type ActivitySeries,
  activitySeries,
  HOUR_MS,
  MINUTE_MS,
  type VendorActivity,
  vendorActivity,
} from "@dvss/core/ops/vendor-activity";

/*
 * What the console's vendor pages read. The index: the vendor profiles (one Query of the Vendors
 * table's `all` index), each vendor's scorecard of today (one Query each) and every open drift
 * finding (one Query of their `all` index). A vendor's page: its profile, its scorecard of the last
 * SCORECARD_DAYS days (one Query), its drift findings (one Query of its partition) and its activity
 * of the last day (core/ops/vendor-activity.ts: S3 listings of its raw archive and at most
 * ACTIVITY_MAX_EVENTS record queries, newest first). Nothing is scanned.
 */

export const SCORECARD_DAYS = 7;
const DAY_MS = 24 * HOUR_MS;
/** The day chart's bar. */
export const DAY_BUCKET_MS = 15 * MINUTE_MS;

export interface VendorSummary {
  vendorId: string;
  name: string;
  paused: boolean;
  today: ScorecardRow | undefined;
  openDrift: { breaking: number; nonBreaking: number };
}

export async function vendorIndex(context: OpsContext): Promise<VendorSummary[]> {
  const [{ data: vendors }, drift] = await Promise.all([
    context.entities.vendors.query.all({}).go({ pages: "all" }),
    listDrift(context, {}),
  ]);
  const sorted = [...vendors].sort((a, b) => a.vendorId.localeCompare(b.vendorId));
  const scorecards = await Promise.all(sorted.map((vendor) => vendorScorecard(context, vendor.vendorId, 1)));
  return sorted.map((vendor, index) => {
    const open = drift.findings.filter((finding) => finding.vendorId === vendor.vendorId);
    return {
      vendorId: vendor.vendorId,
      name: vendor.name,
      paused: vendor.pausedAt !== undefined,
      today: scorecards[index]?.days[0],
      openDrift: {
        breaking: open.filter((finding) => finding.severity === "breaking").length,
        nonBreaking: open.filter((finding) => finding.severity !== "breaking").length,
      },
    };
  });
}

export interface VendorView {
  vendorId: string;
  name: string;
  pausedAt: string | undefined;
  now: number;
  /** Oldest first, today last. */
  scorecard: ScorecardRow[];
  /** Open (not acknowledged) first, then acknowledged; each breaking first, then the latest seen. */
  drift: DriftFinding[];
  activity: VendorActivity;
  hour: ActivitySeries;
  day: ActivitySeries;
}

/** The last hour in one-minute bars and the last day in 15-minute bars, each ending with the bar of `now`. */
export function windows(now: number) {
  const hourTo = Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const dayTo = Math.floor(now / DAY_BUCKET_MS) * DAY_BUCKET_MS + DAY_BUCKET_MS;
  return {
    hour: { from: hourTo - HOUR_MS, to: hourTo, bucketMs: MINUTE_MS },
    day: { from: dayTo - DAY_MS, to: dayTo, bucketMs: DAY_BUCKET_MS },
  };
}

export async function vendorView(context: OpsContext, vendorId: string): Promise<VendorView> {
  const now = context.now();
  const { hour, day } = windows(now);
  const [{ data: vendor }, scorecard, drift, activity] = await Promise.all([
    context.entities.vendors.get({ vendorId }).go(),
    vendorScorecard(context, vendorId, SCORECARD_DAYS),
    listDrift(context, { vendorId, all: true }),
    vendorActivity(context, vendorId, { from: day.from, to: Math.min(day.to, now + 1) }),
  ]);
  if (!vendor) throw new NotFoundError(`No vendor ${vendorId}`);
  return {
    vendorId,
    name: vendor.name,
    pausedAt: vendor.pausedAt,
    now,
    scorecard: scorecard.days,
    drift: [...drift.findings.filter((f) => !f.acked), ...drift.findings.filter((f) => f.acked)],
    activity,
    hour: activitySeries(activity, hour),
    day: activitySeries(activity, day),
  };
}
