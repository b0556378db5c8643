import type { ActivityBucket, ActivitySeries } from "@dvss/core/ops/vendor-activity";
import { html, type SafeHtml } from "./html.ts";

/**
 * Inline SVG charts of a vendor's activity, drawn on the server: no script. Each has a <title> and
 * a <desc> (its accessible name and summary), labelled axes, a <title> per bar or point (shown on
 * hover), and its numbers in a table below it. The drawing scales to its box (viewBox, width 100%),
 * so it fits a 390 px window. Every text goes through `html`, escaped.
 */

// About the width of a phone's window, so its text is read at about its size there.
const WIDTH = 400;
const HEIGHT = 190;
const PLOT = { left: 54, right: 14, top: 12, bottom: 44 };
const PLOT_WIDTH = WIDTH - PLOT.left - PLOT.right;
const PLOT_HEIGHT = HEIGHT - PLOT.top - PLOT.bottom;

export const OUTCOME_COLORS = { normalized: "#3a9e63", quarantined: "#d64535", inFlight: "#e2b04a" } as const;
const LAG_COLORS = { p50: "#2753c9", p95: "#b0421f" } as const;

/** 1, 2 or 5 times a power of ten, at least `value` (and at least 1). */
export function niceCeiling(value: number): number {
  if (!(value > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** A duration for an axis or a cell: 850 ms, 2.4 s, 3.1 min, 1.5 h. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${trim(ms / 1000)} s`;
  if (ms < 3_600_000) return `${trim(ms / 60_000)} min`;
  return `${trim(ms / 3_600_000)} h`;
}
const trim = (n: number) => (n >= 10 ? String(Math.round(n)) : n.toFixed(1).replace(/\.0$/, ""));

/** HH:MM, UTC. */
export const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);

const round = (n: number) => Math.round(n * 10) / 10;

export interface ChartText {
  /** Unique in the page: the ids of the title and description. */
  id: string;
  title: string;
  /** The bucket, in words: "minute", "15 minutes". */
  bucketLabel: string;
  /** Where a time tick goes, ms (a multiple of it). */
  tickMs: number;
}

function xOf(series: ActivitySeries, at: number): number {
  return PLOT.left + ((at - series.from) / (series.to - series.from)) * PLOT_WIDTH;
}

/** Time ticks and the x axis label, the y ticks given, and the grey band over what was not read. */
function frame(
  series: ActivitySeries,
  text: ChartText,
  yTicks: { value: number; label: string }[],
  yLabel: string,
  yMax: number,
) {
  const yOf = (value: number) => PLOT.top + PLOT_HEIGHT - (value / yMax) * PLOT_HEIGHT;
  const ticks: number[] = [];
  for (let at = Math.ceil(series.from / text.tickMs) * text.tickMs; at <= series.to; at += text.tickMs)
    ticks.push(at);
  const unreadTo = Math.min(series.to, series.completeFrom);
  const bottom = PLOT.top + PLOT_HEIGHT;
  return html`${
    unreadTo > series.from
      ? html`<g class="unread"><rect x="${round(PLOT.left)}" y="${PLOT.top}" width="${round(xOf(series, unreadTo) - PLOT.left)}" height="${PLOT_HEIGHT}" fill="#eef0f4"><title>Before ${clock(unreadTo)}: not read (the newest events filled the page's budget)</title></rect>
<text x="${round((PLOT.left + xOf(series, unreadTo)) / 2)}" y="${PLOT.top + 14}" text-anchor="middle" font-size="10" fill="#5d6677">not read</text></g>`
      : ""
  }
${yTicks.map(
  (tick) =>
    html`<line x1="${PLOT.left}" x2="${WIDTH - PLOT.right}" y1="${round(yOf(tick.value))}" y2="${round(yOf(tick.value))}" stroke="#dde1e8"/><text x="${PLOT.left - 5}" y="${round(yOf(tick.value) + 4)}" text-anchor="end" font-size="11" fill="#5d6677">${tick.label}</text>`,
)}
<line x1="${PLOT.left}" x2="${WIDTH - PLOT.right}" y1="${bottom}" y2="${bottom}" stroke="#9aa3b2"/>
${ticks.map(
  (at) =>
    html`<line x1="${round(xOf(series, at))}" x2="${round(xOf(series, at))}" y1="${bottom}" y2="${bottom + 4}" stroke="#9aa3b2"/><text x="${round(xOf(series, at))}" y="${bottom + 16}" text-anchor="middle" font-size="11" fill="#5d6677">${clock(at)}</text>`,
)}
<text x="${PLOT.left + PLOT_WIDTH / 2}" y="${HEIGHT - 6}" text-anchor="middle" font-size="11" fill="#1d2330">arrival time (UTC), one bar per ${text.bucketLabel}</text>
<text transform="translate(11 ${PLOT.top + PLOT_HEIGHT / 2}) rotate(-90)" text-anchor="middle" font-size="11" fill="#1d2330">${yLabel}</text>`;
}

function svg(text: ChartText, description: string, body: SafeHtml): SafeHtml {
  return html`<svg class="chart" id="${text.id}" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-labelledby="${text.id}-title ${text.id}-desc" xmlns="http://www.w3.org/2000/svg">
<title id="${text.id}-title">${text.title}</title><desc id="${text.id}-desc">${description}</desc>
${body}</svg>`;
}

function bucketWords(bucket: ActivityBucket): string {
  return `${bucket.accepted} accepted: ${bucket.normalized} normalized, ${bucket.quarantined} quarantined, ${bucket.inFlight} in flight`;
}

/** Stacked bars of the events accepted per bucket: normalized, quarantined, in flight. */
export function outcomeChart(series: ActivitySeries, text: ChartText): SafeHtml {
  const max = niceCeiling(Math.max(0, ...series.buckets.map((bucket) => bucket.accepted)));
  const yOf = (value: number) => PLOT.top + PLOT_HEIGHT - (value / max) * PLOT_HEIGHT;
  const slot = PLOT_WIDTH / series.buckets.length;
  const barWidth = Math.max(1, slot * 0.8);
  const bars = series.buckets
    .filter((bucket) => bucket.accepted > 0)
    .map((bucket) => {
      const x = round(xOf(series, bucket.start) + (slot - barWidth) / 2);
      let base = 0;
      const parts = (["normalized", "quarantined", "inFlight"] as const)
        .filter((part) => bucket[part] > 0)
        .map((part) => {
          const top = base + bucket[part];
          const rect = html`<rect x="${x}" y="${round(yOf(top))}" width="${round(barWidth)}" height="${round(yOf(base) - yOf(top))}" fill="${OUTCOME_COLORS[part]}"/>`;
          base = top;
          return rect;
        });
      return html`<g class="bar"><title>${clock(bucket.start)}: ${bucketWords(bucket)}</title>${parts}</g>`;
    });
  const { totals } = series;
  const description = `${totals.accepted} events accepted from ${clock(series.from)} to ${clock(series.to)} UTC: ${totals.normalized} normalized, ${totals.quarantined} quarantined, ${totals.inFlight} in flight; at most ${max} in one ${text.bucketLabel}.`;
  const ticks = [0, max / 2, max]
    .filter((value) => Number.isInteger(value))
    .map((value) => ({ value, label: String(value) }));
  return svg(
    text,
    description,
    html`${frame(series, text, ticks, `events per ${text.bucketLabel}`, max)}${bars}`,
  );
}

/** Accept → NORMALIZED lag per bucket: p50 and p95, as points joined where buckets follow each other. */
export function lagChart(series: ActivitySeries, text: ChartText): SafeHtml {
  const timed = series.buckets.filter((bucket) => bucket.lagP95Ms !== undefined);
  const max = niceCeiling(Math.max(1, ...timed.map((bucket) => bucket.lagP95Ms ?? 0)));
  const yOf = (value: number) => PLOT.top + PLOT_HEIGHT - (Math.min(value, max) / max) * PLOT_HEIGHT;
  const slot = PLOT_WIDTH / series.buckets.length;
  const centre = (bucket: ActivityBucket) => round(xOf(series, bucket.start) + slot / 2);
  const line = (key: "lagP50Ms" | "lagP95Ms", color: string) => {
    const segments: string[][] = [];
    let previous = -2;
    series.buckets.forEach((bucket, index) => {
      const value = bucket[key];
      if (value === undefined) return;
      if (index !== previous + 1) segments.push([]);
      segments.at(-1)?.push(`${centre(bucket)},${round(yOf(value))}`);
      previous = index;
    });
    return segments.map((points) =>
      points.length > 1
        ? html`<polyline points="${points.join(" ")}" fill="none" stroke="${color}" stroke-width="1.5"/>`
        : "",
    );
  };
  const points = timed.map(
    (bucket) =>
      html`<g class="point"><title>${clock(bucket.start)}: p50 ${formatDuration(bucket.lagP50Ms ?? 0)}, p95 ${formatDuration(bucket.lagP95Ms ?? 0)}</title><circle cx="${centre(bucket)}" cy="${round(yOf(bucket.lagP50Ms ?? 0))}" r="2.5" fill="${LAG_COLORS.p50}"/><circle cx="${centre(bucket)}" cy="${round(yOf(bucket.lagP95Ms ?? 0))}" r="2.5" fill="${LAG_COLORS.p95}"/></g>`,
  );
  const worst = timed.reduce<ActivityBucket | undefined>(
    (found, bucket) => (found && (found.lagP95Ms ?? 0) >= (bucket.lagP95Ms ?? 0) ? found : bucket),
    undefined,
  );
  const description = worst
    ? `Lag from acceptance to NORMALIZED, per ${text.bucketLabel}, from ${clock(series.from)} to ${clock(series.to)} UTC; the highest p95 is ${formatDuration(worst.lagP95Ms ?? 0)} at ${clock(worst.start)}.`
    : `No event normalized by its first execution from ${clock(series.from)} to ${clock(series.to)} UTC.`;
  const ticks = [0, max / 2, max].map((value) => ({ value, label: formatDuration(value) }));
  return svg(
    text,
    description,
    html`${frame(series, text, ticks, "lag", max)}${line("lagP50Ms", LAG_COLORS.p50)}${line("lagP95Ms", LAG_COLORS.p95)}${points}`,
  );
}

const REASON_ROW = 24;

/** Horizontal bars: quarantined events of the window by reason. */
export function reasonChart(
  series: ActivitySeries,
  text: Omit<ChartText, "bucketLabel" | "tickMs">,
): SafeHtml {
  const reasons = series.quarantineByReason;
  if (reasons.length === 0) return html`<p class="muted" id="${text.id}">Nothing quarantined.</p>`;
  const height = reasons.length * REASON_ROW + 8;
  const max = Math.max(...reasons.map((entry) => entry.count));
  const labelWidth = 170;
  const barSpace = WIDTH - labelWidth - 50;
  return html`<svg class="chart reasons" id="${text.id}" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-labelledby="${text.id}-title ${text.id}-desc" xmlns="http://www.w3.org/2000/svg">
<title id="${text.id}-title">${text.title}</title><desc id="${text.id}-desc">${reasons.map((entry) => `${entry.reason}: ${entry.count}`).join("; ")}</desc>
${reasons.map((entry, index) => {
  const y = 4 + index * REASON_ROW;
  const width = Math.max(2, (entry.count / max) * barSpace);
  return html`<g class="reason"><title>${entry.reason}: ${entry.count}</title><text x="${labelWidth - 6}" y="${y + 15}" text-anchor="end" font-size="11" fill="#1d2330">${entry.reason.length > 26 ? `${entry.reason.slice(0, 25)}…` : entry.reason}</text><rect x="${labelWidth}" y="${y + 3}" width="${round(width)}" height="${REASON_ROW - 8}" fill="${OUTCOME_COLORS.quarantined}"/><text x="${round(labelWidth + width + 5)}" y="${y + 15}" font-size="11" fill="#1d2330">${entry.count}</text></g>`;
})}</svg>`;
}

/** The buckets that hold events, as a table: the charts' numbers for a reader without them. */
export function seriesTable(series: ActivitySeries, id: string): SafeHtml {
  const rows = series.buckets.filter((bucket) => bucket.accepted > 0);
  return html`<details class="numbers"><summary>Numbers (${rows.length} ${rows.length === 1 ? "bar" : "bars"} with events)</summary>
<div class="table-wrap"><table id="${id}"><thead><tr><th>from (UTC)</th><th>accepted</th><th>normalized</th><th>quarantined</th><th>in flight</th><th>lag p50</th><th>lag p95</th></tr></thead><tbody>
${
  rows.length
    ? rows.map(
        (bucket) =>
          html`<tr><td class="when">${clock(bucket.start)}</td><td class="num">${bucket.accepted}</td><td class="num">${bucket.normalized}</td><td class="num">${bucket.quarantined}</td><td class="num">${bucket.inFlight}</td><td class="num">${bucket.lagP50Ms === undefined ? "–" : formatDuration(bucket.lagP50Ms)}</td><td class="num">${bucket.lagP95Ms === undefined ? "–" : formatDuration(bucket.lagP95Ms)}</td></tr>`,
      )
    : html`<tr><td colspan="7" class="muted">No events.</td></tr>`
}
</tbody></table></div></details>`;
}
