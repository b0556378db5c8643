import type { DriftFinding } from "@dvss/core/ops/drift";
import type { ScorecardRow } from "@dvss/core/ops/scorecard";
import { ACTIVITY_MAX_EVENTS, HOUR_MS, MINUTE_MS } from "@dvss/core/ops/vendor-activity";
import { type ScorePenalties, scorePenalties } from "@dvss/core/scorecard";
import {
  clock,
  formatDuration,
  lagChart,
  OUTCOME_COLORS,
  outcomeChart,
  reasonChart,
  seriesTable,
} from "./charts.ts";
import { encode, html, SafeHtml } from "./html.ts";
import { eventHref } from "./links.ts";
import { type Flash, layout, when } from "./pages.ts";
import { SCORECARD_DAYS, type VendorSummary, type VendorView } from "./vendors.ts";

/** The console's vendor pages: every vendor with today's score, and one vendor's health. */

export const vendorHref = (vendorId: string) => `/console/vendors/${encode(vendorId)}`;

// This module's constant, not data.
const VENDOR_STYLE = new SafeHtml(`
svg.chart { display:block; width:100%; max-width:560px; height:auto; background:#fff; border:1px solid var(--line); border-radius:8px; }
.charts { display:grid; grid-template-columns:repeat(auto-fit, minmax(min(100%, 460px), 1fr)); gap:14px; }
.charts figure { margin:0; min-width:0; }
.charts figcaption { font-weight:600; margin-bottom:6px; }
ul.legend { list-style:none; padding:0; margin:6px 0; display:flex; flex-wrap:wrap; gap:4px 14px; font-size:12.5px; color:var(--muted); }
ul.legend li { display:flex; align-items:center; gap:5px; }
.swatch { display:inline-block; width:11px; height:11px; border-radius:2px; }
.sw-normalized { background:${OUTCOME_COLORS.normalized}; } .sw-quarantined { background:${OUTCOME_COLORS.quarantined}; }
.sw-inflight { background:${OUTCOME_COLORS.inFlight}; } .sw-p50 { background:#2753c9; } .sw-p95 { background:#b0421f; }
details.numbers { margin:6px 0 0; } details.numbers summary { cursor:pointer; color:var(--accent); font-size:13px; }
.score { font-size:28px; font-weight:700; font-variant-numeric:tabular-nums; }
.score-good { color:var(--ok); } .score-fair { color:var(--warn); } .score-poor { color:var(--bad); }
.today { display:flex; flex-wrap:wrap; gap:8px 28px; align-items:baseline; }
tr.acked td { color:var(--muted); } tr.acked td a { color:var(--muted); }
td.value { white-space:normal; min-width:160px; max-width:280px; overflow-wrap:anywhere; }
td.path { white-space:normal; overflow-wrap:anywhere; min-width:120px; max-width:220px; }
td.parts { min-width:150px; }
.part { margin-right:12px; white-space:nowrap; }
.finding-id { font-size:11px; white-space:nowrap; }
`);

const PAUSED = html` <span class="badge b-warn">paused</span>`;

function scoreClass(score: number | null): string {
  if (score === null) return "muted";
  return score >= 90 ? "score-good" : score >= 70 ? "score-fair" : "score-poor";
}

const scoreText = (score: number | null) => (score === null ? "–" : String(score));

export function vendorsIndexPage(vendors: VendorSummary[], flash?: Flash): string {
  const rows = vendors.map((vendor) => {
    const today = vendor.today;
    return html`<tr><td><a href="${vendorHref(vendor.vendorId)}">${vendor.vendorId}</a></td><td>${vendor.name}${vendor.paused ? PAUSED : ""}</td>
<td class="num"><span class="${scoreClass(today?.score ?? null)}">${scoreText(today?.score ?? null)}</span></td>
<td class="num">${today?.accepted ?? 0}</td><td class="num">${today?.rejectedTotal ?? 0}</td><td class="num">${today?.quarantinedTotal ?? 0}</td>
<td class="num">${vendor.openDrift.breaking ? html`<span class="badge b-bad">${vendor.openDrift.breaking} breaking</span> ` : ""}${vendor.openDrift.nonBreaking ? html`<span class="badge b-warn">${vendor.openDrift.nonBreaking} non-breaking</span>` : ""}${vendor.openDrift.breaking + vendor.openDrift.nonBreaking === 0 ? "0" : ""}</td></tr>`;
  });
  return layout(
    "Vendors",
    "vendors",
    html`<h1>Vendors</h1>
<div class="table-wrap"><table id="vendors"><thead><tr><th>vendor</th><th>name</th><th>score today</th><th>accepted today</th><th>refused today</th><th>quarantined today</th><th>open drift</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="7" class="muted">No vendors registered.</td></tr>`}</tbody></table></div>
<p class="muted">Today is the UTC day (the scorecard's, as <code>npx dvss vendor scorecard</code> shows it). Open drift: findings not acknowledged.</p>`,
    flash,
    VENDOR_STYLE,
  );
}

/** A percentile bound (seconds, a histogram bucket's upper bound) as the CLI prints it: ≤2 min; the last bucket has none. */
export const formatSeconds = (seconds: number | null) =>
  seconds === null ? "–" : Number.isFinite(seconds) ? `≤${formatDuration(seconds * 1000)}` : ">12 days";

const points = (n: number) => (n === 0 ? "0" : n.toFixed(1));

const PART_NAMES: [keyof ScorePenalties, string][] = [
  ["rejection", "rejection"],
  ["quarantine", "quarantine"],
  ["divergence", "divergence"],
  ["outOfOrder", "out of order"],
  ["lateness", "lateness"],
];

/** The penalties a day's score took, the others left out: "quarantine 30.0, lateness 15.0". */
function partsText(parts: ScorePenalties): string {
  const taken = PART_NAMES.filter(([key]) => parts[key] > 0).map(
    ([key, name]) => `${name} ${points(parts[key])}`,
  );
  return taken.length ? taken.join(", ") : "none";
}

function scorecardSection(days: ScorecardRow[]): SafeHtml {
  const today = days.at(-1);
  const parts = today ? scorePenalties(today.inputs) : undefined;
  const rows = [...days].reverse().map((day) => {
    const posts = day.accepted + day.duplicates + day.rejectedTotal;
    return html`<tr><td class="when">${day.day}</td><td class="num"><b class="${scoreClass(day.score)}">${scoreText(day.score)}</b></td>
<td class="parts">${day.score === null ? "–" : partsText(scorePenalties(day.inputs))}</td>
<td class="num">${posts}</td><td class="num">${day.accepted}</td><td class="num">${day.duplicates}</td><td class="num">${day.rejectedTotal}</td><td class="num">${day.quarantinedTotal}</td>
<td class="num">${day.divergencesTotal}</td><td class="num">${day.outOfOrder}</td><td class="num">${formatSeconds(day.latenessP95Seconds)}</td><td class="num">${formatSeconds(day.redriveP95Seconds)}</td><td class="num">${day.driftFindings}</td></tr>`;
  });
  return html`<div class="card today" id="score-today"><div><div class="muted">score today</div><div class="score ${scoreClass(today?.score ?? null)}">${scoreText(today?.score ?? null)}</div></div>
${
  today && today.score !== null && parts
    ? html`<div><div class="muted">100 minus the points each penalty takes</div><div>${PART_NAMES.map(([key, name]) => html`<span class="part">${name} <b>${points(parts[key])}</b></span> `)}</div></div>`
    : html`<div class="muted">No post today.</div>`
}</div>
<div class="table-wrap"><table id="scorecard"><thead><tr><th>day (UTC)</th><th>score</th><th title="100 minus these">points taken</th><th>posts</th><th>accepted</th><th>duplicates</th><th>refused</th><th>quarantined</th><th>divergences</th><th>out of order</th><th>lateness p95</th><th>redrive p95</th><th>new drift</th></tr></thead>
<tbody>${rows}</tbody></table></div>
<p class="muted">The last ${SCORECARD_DAYS} UTC days, today first, from the scorecard's counters (as <code>npx dvss vendor scorecard</code>). The score is 100 minus the points its penalties take (rejection, quarantine, divergence, out of order, lateness: docs/spec/scorecard.md); a day without a post has none. Percentiles are the upper bound of their histogram bucket.</p>`;
}

function driftSection(findings: DriftFinding[]): SafeHtml {
  if (findings.length === 0)
    return html`<p class="muted" id="drift-none">No drift finding: the vendor's payloads match what its versions expect.</p>`;
  const open = findings.filter((finding) => !finding.acked).length;
  const rows = findings.map(
    (finding) => html`<tr class="${finding.acked ? "acked" : "open"}">
<td>${finding.kind}<div class="mono muted finding-id">${finding.findingId}</div></td>
<td>${finding.severity === "breaking" ? html`<span class="badge b-bad">breaking</span>` : html`<span class="badge b-warn">non-breaking</span>`}${finding.acked ? html`<div class="muted">acknowledged</div>` : ""}</td>
<td class="path"><span class="mono">${finding.path}</span><div class="muted">${finding.eventType} v${finding.version}</div></td>
<td class="value">${finding.expected}</td><td class="value mono">${finding.seen}</td>
<td class="when">${when(finding.firstSeen)}<br>${when(finding.lastSeen)}</td><td class="num">${finding.count}</td>
<td><a class="mono" href="${eventHref(finding.exampleIngestId)}">${finding.exampleIngestId}</a></td></tr>`,
  );
  return html`<p class="muted">${open} open, ${findings.length - open} acknowledged (shown muted). <code>npx dvss drift ack &lt;finding&gt;</code> acknowledges one (its id is under its kind).</p>
<div class="table-wrap"><table id="drift"><thead><tr><th>kind</th><th>severity</th><th>path</th><th>expected</th><th>seen</th><th>first, last seen</th><th>count</th><th>example</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

const legendOutcomes = html`<ul class="legend"><li><span class="swatch sw-normalized"></span>normalized</li><li><span class="swatch sw-quarantined"></span>quarantined</li><li><span class="swatch sw-inflight"></span>in flight</li></ul>`;
const legendLag = html`<ul class="legend"><li><span class="swatch sw-p50"></span>p50</li><li><span class="swatch sw-p95"></span>p95</li></ul>`;

function activitySection(view: VendorView, which: "hour" | "day"): SafeHtml {
  const series = view[which];
  const bucketLabel = which === "hour" ? "minute" : "15 minutes";
  const tickMs = which === "hour" ? 15 * MINUTE_MS : 6 * HOUR_MS;
  const span = `${clock(series.from)}–${clock(series.to)} UTC`;
  const { totals } = series;
  return html`<p class="muted" id="${which}-totals">${span}: ${totals.accepted} accepted, ${totals.normalized} normalized, ${totals.quarantined} quarantined, ${totals.inFlight} in flight.</p>
<div class="charts">
<figure><figcaption>Events per ${bucketLabel}, by outcome</figcaption>${legendOutcomes}
${outcomeChart(series, { id: `${which}-events`, title: `Events per ${bucketLabel} by outcome, ${span}`, bucketLabel, tickMs })}
${seriesTable(series, `${which}-numbers`)}</figure>
<figure><figcaption>Lag, accepted → NORMALIZED</figcaption>${legendLag}
${lagChart(series, { id: `${which}-lag`, title: `Lag from acceptance to NORMALIZED, p50 and p95 per ${bucketLabel}, ${span}`, bucketLabel, tickMs })}
<p class="muted">Events normalized by their first execution; a redriven or replayed one is not timed.</p></figure>
<figure><figcaption>Quarantined, by reason</figcaption>
${reasonChart(series, { id: `${which}-reasons`, title: `Quarantined events by reason, ${span}` })}</figure>
</div>`;
}

export function vendorPage(view: VendorView, flash?: Flash): string {
  const { activity } = view;
  const coverage =
    activity.completeFrom > activity.from
      ? html`<p class="warn-box card" id="coverage">The page reads at most ${ACTIVITY_MAX_EVENTS.toLocaleString("en")} events (the newest): the charts are complete from ${when(new Date(activity.completeFrom).toISOString())} on; before that they show nothing (marked <i>not read</i>).</p>`
      : "";
  const body = html`<h1>${view.name} <span class="mono muted">${view.vendorId}</span>${view.pausedAt ? PAUSED : ""}</h1>
<p><a href="/console?vendor=${encode(view.vendorId)}">Its events</a> · <a href="/console/quarantine?vendor=${encode(view.vendorId)}">its quarantine</a></p>
<h2>Scorecard</h2>
${scorecardSection(view.scorecard)}
<h2>Drift findings (${view.drift.length})</h2>
${driftSection(view.drift)}
<h2>The last hour</h2>
${coverage}
${activitySection(view, "hour")}
<h2>The last day</h2>
${activitySection(view, "day")}
<p class="muted">Events by arrival, each counted by what it is now. Read from the raw archive's listing of the vendor's days and each event's record (${activity.listCalls} listing${activity.listCalls === 1 ? "" : "s"}, ${activity.recordQueries} record ${activity.recordQueries === 1 ? "query" : "queries"}; at most ${ACTIVITY_MAX_EVENTS.toLocaleString("en")} events, the newest).${activity.withoutRecord ? ` ${activity.withoutRecord} stored bod${activity.withoutRecord === 1 ? "y has" : "ies have"} no record (a post refused after its body was stored) and are left out.` : ""}</p>`;
  return layout(view.name, "vendors", body, flash, VENDOR_STYLE);
}
