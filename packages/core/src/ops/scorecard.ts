import { UsageError } from "../errors.ts";
import {
  percentileSeconds,
  type ScorecardDay,
  type ScoreInputs,
  score,
  scorecardDayOf,
  scoreInputsOf,
  sumParts,
  totalOf,
  utcDay,
} from "../scorecard.ts";
import type { OpsContext } from "./context.ts";

/** At most this many days in one scorecard: one Query reads them all. */
export const MAX_SCORECARD_DAYS = 366;

/** One day of a vendor's scorecard: its counters, the figures read from them, and the score. */
export interface ScorecardRow extends ScorecardDay {
  rejectedTotal: number;
  quarantinedTotal: number;
  divergencesTotal: number;
  /** Percentiles in seconds, each its bucket's upper bound (core/scorecard.ts); null without events. */
  latenessP50Seconds: number | null;
  latenessP95Seconds: number | null;
  redriveP50Seconds: number | null;
  redriveP95Seconds: number | null;
  inputs: ScoreInputs;
  /** 0–100; null for a day without a single post from the vendor. */
  score: number | null;
}

export function scorecardRow(day: ScorecardDay): ScorecardRow {
  const rejectedTotal = totalOf(day.rejected);
  const inputs = scoreInputsOf(day);
  const posts = day.accepted + day.duplicates + rejectedTotal;
  return {
    ...day,
    rejectedTotal,
    quarantinedTotal: totalOf(day.quarantined),
    divergencesTotal: totalOf(day.divergences),
    latenessP50Seconds: percentileSeconds(day.lateness, 50) ?? null,
    latenessP95Seconds: percentileSeconds(day.lateness, 95) ?? null,
    redriveP50Seconds: percentileSeconds(day.redrive, 50) ?? null,
    redriveP95Seconds: percentileSeconds(day.redrive, 95) ?? null,
    inputs,
    score: posts === 0 ? null : score(inputs),
  };
}

/**
 * The vendor's last `days` UTC days, today last: one Query of its items, each day's parts summed
 * (core/entities/scorecard.ts), a day without one shown as zeros. Reads counters only; no event,
 * record or divergence is scanned.
 */
export async function vendorScorecard(
  context: OpsContext,
  vendorId: string,
  days: number,
): Promise<{ vendorId: string; days: ScorecardRow[] }> {
  if (!Number.isInteger(days) || days < 1 || days > MAX_SCORECARD_DAYS) {
    throw new UsageError(`days must be a whole number from 1 to ${MAX_SCORECARD_DAYS}`);
  }
  const now = context.now();
  const dayList = Array.from({ length: days }, (_, index) =>
    utcDay(new Date(now - (days - 1 - index) * 24 * 3600 * 1000)),
  );
  // From the first day on: a day's parts sort after the day itself, so an upper bound of the last
  // day would leave out its parts. Nothing is written after today.
  const { data } = await context.entities.scorecards.query
    .byVendor({ vendorId })
    .gte({ day: dayList[0] as string })
    .go({ pages: "all" });
  const partsByDay = Map.groupBy(data as Record<string, unknown>[], (item) => item.day as string);
  return {
    vendorId,
    days: dayList.map((day) =>
      scorecardRow(scorecardDayOf(vendorId, day, sumParts(partsByDay.get(day) ?? []))),
    ),
  };
}
