import type { IngestStatus, QuarantineItem } from "@dvss/core/entities/index";
import type { EventOverview } from "@dvss/core/ops/events";
import type { QuarantineListing } from "@dvss/core/ops/quarantine";
import type { EventStory, ExecutionStep, ExecutionView, RawBody } from "@dvss/core/ops/story";
import { type AslDefinition, buildNormalizeDefinition } from "@dvss/core/workflow";
import { displayJson, rawBodyView } from "./display.ts";
import { encode, html, SafeHtml } from "./html.ts";
import { entityHref } from "./links.ts";
import type { EventChange } from "./state.ts";

/** Server-rendered pages of the local console: no script at all, every value escaped by `html`. */

const STYLE = `
:root { --ink:#1d2330; --muted:#5d6677; --line:#dde1e8; --bg:#f5f6f8; --card:#fff;
  --ok:#137a3f; --ok-bg:#e3f4ea; --warn:#8a5a00; --warn-bg:#fff3d6; --bad:#b42318; --bad-bg:#fde8e6;
  --accent:#2753c9; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--ink); background:var(--bg); }
header { background:#1d2330; color:#fff; padding:10px 24px; display:flex; gap:8px 24px; align-items:center; flex-wrap:wrap; }
header .brand { font-weight:700; letter-spacing:.02em; }
header nav a { color:#c9d3ea; text-decoration:none; margin-right:16px; }
header nav a.active, header nav a:hover { color:#fff; }
main { padding:20px 24px 48px; max-width:1400px; }
h1 { font-size:20px; margin:0 0 14px; display:flex; gap:10px; align-items:center; flex-wrap:wrap; }
h2 { font-size:15px; margin:26px 0 10px; }
a { color:var(--accent); }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:14px 16px; margin-bottom:14px; }
table { border-collapse:collapse; width:100%; font-size:13px; background:var(--card); border:1px solid var(--line); }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#eef0f4; font-weight:600; font-size:12px; text-transform:uppercase; letter-spacing:.03em; color:var(--muted); }
tr:last-child td { border-bottom:none; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
code, .mono { font-family:ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:12.5px; }
.badge { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px; font-weight:600; border:1px solid transparent; white-space:nowrap; }
.b-ok { color:var(--ok); background:var(--ok-bg); } .b-warn { color:var(--warn); background:var(--warn-bg); }
.b-bad { color:var(--bad); background:var(--bad-bg); } .b-none { color:var(--muted); background:#eef0f4; }
form.filters { display:flex; gap:10px; align-items:end; margin-bottom:12px; flex-wrap:wrap; }
label { font-size:12px; color:var(--muted); display:flex; flex-direction:column; gap:3px; }
select, input[type=text] { font:inherit; padding:5px 8px; border:1px solid var(--line); border-radius:6px; background:#fff; min-width:150px; }
button { font:inherit; padding:6px 14px; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; }
button.secondary { background:#fff; color:var(--accent); }
dl { display:grid; grid-template-columns:max-content 1fr; gap:4px 18px; margin:0; }
dt { color:var(--muted); } dd { margin:0; word-break:break-all; }
.muted { color:var(--muted); }
.flash { padding:10px 14px; border-radius:8px; margin-bottom:14px; border:1px solid var(--line); background:#fff; }
.flash.ok { border-color:#a6dcbc; background:var(--ok-bg); } .flash.bad { border-color:#f3b4ad; background:var(--bad-bg); }
.graph { overflow-x:auto; padding:6px 0 4px; }
.lane { display:flex; align-items:center; gap:0; margin:8px 0; min-width:max-content; }
.lane-label { width:80px; flex:none; font-size:11px; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
.node { display:block; text-decoration:none; color:inherit; border:2px solid var(--line); border-radius:8px; padding:5px 9px; min-width:96px; background:#fff; font-size:13px; }
.node .t { font-size:11px; color:var(--muted); }
.node.succeeded { border-color:#62b987; background:var(--ok-bg); }
.node.caught, .node.failed { border-color:#e0675b; background:var(--bad-bg); }
.node.running { border-color:#e2b04a; background:var(--warn-bg); }
.node.notrun { opacity:.45; border-style:dashed; }
.arrow { color:#9aa3b2; padding:0 4px; font-size:15px; }
details.step { border:1px solid var(--line); border-radius:8px; margin:6px 0; background:#fff; }
details.step summary { padding:7px 10px; cursor:pointer; display:flex; gap:10px; align-items:center; }
details.step .body { padding:0 12px 10px; }
pre { background:#f7f8fa; border:1px solid var(--line); border-radius:6px; padding:8px 10px; overflow:auto; max-height:320px; margin:4px 0 10px; font-size:12px; }
.counts { display:flex; gap:8px; flex-wrap:wrap; margin-bottom:12px; }
.chip { background:#fff; border:1px solid var(--line); border-radius:999px; padding:3px 10px; font-size:12.5px; }
.chip b { margin-left:4px; }
.table-wrap { overflow-x:auto; border-radius:8px; margin-bottom:6px; }
p .mono, p code { overflow-wrap:anywhere; }
h1 .mono { font-size:inherit; overflow-wrap:anywhere; }
td.nowrap { white-space:nowrap; }
pre.raw { max-height:480px; white-space:pre-wrap; overflow-wrap:anywhere; }
pre.hex { max-height:480px; white-space:pre; }
.pager { display:flex; gap:16px; margin:8px 0; }
.warn-box { border-color:#e2b04a; background:var(--warn-bg); }
@media (max-width: 600px) { header { padding:8px 12px; } main { padding:14px 12px 36px; } }
td.when, td.mono { white-space:nowrap; }
td.message { min-width:220px; max-width:320px; }
td.external { white-space:normal; word-break:break-all; max-width:240px; }
#vendor-counts { width:auto; min-width:min(640px, 100%); }
`;

// The stylesheet is this module's constant, not data: the one string inserted unescaped.
const STYLESHEET = new SafeHtml(STYLE);

const BADGE: Record<string, string> = {
  NORMALIZED: "b-ok",
  SUCCEEDED: "b-ok",
  succeeded: "b-ok",
  resolved: "b-ok",
  RECEIVED: "b-warn",
  RUNNING: "b-warn",
  running: "b-warn",
  redriven: "b-warn",
  FAILED_NORMALIZE: "b-bad",
  FAILED: "b-bad",
  TIMED_OUT: "b-bad",
  ABORTED: "b-bad",
  failed: "b-bad",
  caught: "b-bad",
  open: "b-bad",
  DELIVERED: "b-ok",
  SHIPPED: "b-ok",
  CANCELED: "b-bad",
};

/** An ISO time shown short (seconds, UTC), the full value on hover. */
export function when(iso: string | undefined): SafeHtml {
  if (!iso) return html``;
  return html`<time datetime="${iso}" title="${iso}">${iso.replace("T", " ").replace(/\.\d+Z$/, "Z")}</time>`;
}

export function badge(value: string): SafeHtml {
  return html`<span class="badge ${BADGE[value] ?? "b-none"}">${value}</span>`;
}

export interface Flash {
  ok: boolean;
  text: string;
}

export function layout(
  title: string,
  active: "events" | "quarantine" | "inventory" | "orders" | "vendors",
  body: SafeHtml,
  flash?: Flash,
  /** More of the stylesheet, for a page's own elements: a module constant, never data. */
  extraStyle?: SafeHtml,
): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · DVSS local console</title><style>${STYLESHEET}${extraStyle ?? ""}</style></head>
<body><header><span class="brand">DVSS local console</span><nav>
<a href="/console" class="${active === "events" ? "active" : ""}">Events</a>
<a href="/console/quarantine" class="${active === "quarantine" ? "active" : ""}">Quarantine</a>
<a href="/console/inventory" class="${active === "inventory" ? "active" : ""}">Inventory</a>
<a href="/console/orders" class="${active === "orders" ? "active" : ""}">Orders</a>
<a href="/console/vendors" class="${active === "vendors" ? "active" : ""}">Vendors</a></nav></header>
<main>${flash ? html`<div class="flash ${flash.ok ? "ok" : "bad"}" role="status">${flash.text}</div>` : ""}${body}</main></body></html>`
    .value;
}

export function options(values: readonly string[], selected: string | undefined, anyLabel: string): SafeHtml {
  return html`<option value="">${anyLabel}</option>${values.map(
    (value) => html`<option value="${value}" ${value === selected ? html`selected` : ""}>${value}</option>`,
  )}`;
}

const STATUSES: IngestStatus[] = ["RECEIVED", "NORMALIZED", "FAILED_NORMALIZE"];

export function overviewPage(
  overview: EventOverview,
  filter: { vendorId?: string; status?: string },
  flash?: Flash,
) {
  const countsRows = overview.vendors.map((vendorId) => {
    const counts = overview.countsByVendor[vendorId] ?? { RECEIVED: 0, NORMALIZED: 0, FAILED_NORMALIZE: 0 };
    const total = counts.RECEIVED + counts.NORMALIZED + counts.FAILED_NORMALIZE;
    return html`<tr><td><a href="/console?vendor=${encode(vendorId)}">${vendorId}</a></td>
${STATUSES.map((status) => html`<td class="num">${counts[status] ? html`<a href="/console?vendor=${encode(vendorId)}&status=${status}">${counts[status]}</a>` : "0"}</td>`)}
<td class="num">${total}</td></tr>`;
  });
  const eventRows = overview.events.map(
    (record) => html`<tr>
<td><a class="mono" href="/console/events/${encode(record.ingestId)}">${record.ingestId}</a></td>
<td>${record.vendorId}</td><td class="mono external">${record.externalEventId}</td>
<td>${record.eventType}${record.standardEventType ? html` <span class="muted">→ ${record.standardEventType}</span>` : ""}</td>
<td>${badge(record.status)}${record.lastError ? html` <span class="muted">${record.lastError.code}</span>` : ""}</td>
<td class="when">${when(record.receivedAt)}</td><td class="num">${record.attempts ?? 0}</td></tr>`,
  );
  return layout(
    "Events",
    "events",
    html`<h1>Events</h1>
<h2>Counts per vendor</h2>
${
  overview.vendors.length === 0
    ? html`<p class="muted">No events yet.</p>`
    : html`<div class="table-wrap"><table id="vendor-counts"><thead><tr><th>vendor</th>${STATUSES.map((s) => html`<th>${s}</th>`)}<th>total</th></tr></thead>
<tbody>${countsRows}</tbody></table></div>`
}
<h2>Recent events</h2>
<form class="filters" method="get" action="/console">
<label>vendor <select name="vendor">${options(overview.vendors, filter.vendorId, "any vendor")}</select></label>
<label>status <select name="status">${options(STATUSES, filter.status, "any status")}</select></label>
<button type="submit">Filter</button>${filter.vendorId || filter.status ? html` <a href="/console">clear</a>` : ""}
</form>
<div class="table-wrap"><table id="events"><thead><tr><th>ingestId</th><th>vendor</th><th>externalEventId</th><th>event type</th><th>status</th><th>received</th><th>attempts</th></tr></thead>
<tbody>${eventRows.length ? eventRows : html`<tr><td colspan="7" class="muted">No matching events.</td></tr>`}</tbody></table></div>
<p class="muted">Showing ${overview.events.length} of ${overview.matching} matching event(s), newest first.</p>`,
    flash,
  );
}

/** The state machine's two lanes: the happy path from StartAt, and the failure path the Catches lead to. */
function lanes(definition: AslDefinition): { main: string[]; catchTargets: string[]; failure: string[] } {
  const walk = (start: string | undefined) => {
    const path: string[] = [];
    for (let name = start; name && !path.includes(name); ) {
      path.push(name);
      const state = definition.States[name];
      name = state && "Next" in state ? state.Next : undefined;
    }
    return path;
  };
  const main = walk(definition.StartAt);
  const catchTargets = main.flatMap((name) => {
    const state = definition.States[name];
    return state && "Catch" in state ? (state.Catch ?? []).map((c) => c.Next) : [];
  });
  const firstTarget = definition.States[catchTargets[0] ?? ""];
  const failure = walk(firstTarget && "Next" in firstTarget ? firstTarget.Next : undefined);
  return { main, catchTargets, failure };
}

const DEFINITION = buildNormalizeDefinition((task) => task);

function graph(execution: ExecutionView, index: number): SafeHtml {
  const { main, catchTargets, failure } = lanes(DEFINITION);
  const lastStep = new Map<string, { step: ExecutionStep; position: number }>();
  execution.steps.forEach((step, position) => {
    lastStep.set(step.state, { step, position });
  });
  const node = (name: string) => {
    const found = lastStep.get(name);
    const type = DEFINITION.States[name]?.Type ?? "";
    const cls = found ? found.step.status : "notrun";
    const inner = html`<div><b>${name}</b></div><div class="t">${type}${found?.step.retries ? ` · ${found.step.retries} retr${found.step.retries === 1 ? "y" : "ies"}` : ""}${found ? ` · ${found.step.status}` : ""}</div>`;
    return found
      ? html`<a class="node ${cls}" href="#x${index}-s${found.position}" title="${name}: ${found.step.status}">${inner}</a>`
      : html`<div class="node ${cls}" title="${name}: not run">${inner}</div>`;
  };
  const row = (label: string, names: string[]) =>
    html`<div class="lane"><span class="lane-label">${label}</span>${names.map(
      (name, i) => html`${i > 0 ? html`<span class="arrow">→</span>` : ""}${node(name)}`,
    )}</div>`;
  const caught = catchTargets.filter((name) => lastStep.has(name));
  return html`<div class="graph">${row("flow", main)}${row("on failure", [...(caught.length ? caught : []), ...failure])}</div>`;
}

function stepDetails(step: ExecutionStep, index: number, position: number, latest: boolean): SafeHtml {
  const took =
    step.enteredAt && step.exitedAt ? `${Date.parse(step.exitedAt) - Date.parse(step.enteredAt)} ms` : "";
  return html`<details class="step" id="x${index}-s${position}" ${latest && (step.status === "caught" || step.status === "failed") ? html`open` : ""}>
<summary><b>${position + 1}. ${step.state}</b> ${badge(step.status)} <span class="muted">${step.type}${took ? ` · ${took}` : ""}${step.retries ? ` · retried ${step.retries}×` : ""}</span></summary>
<div class="body">
${step.error ? html`<div><b>Error</b></div><pre class="error">${step.error.code ?? step.error.error}: ${step.error.message ?? displayJson(step.error.cause)}</pre>` : ""}
<div><b>Input</b></div><pre>${displayJson(step.input ?? null)}</pre>
${step.output !== undefined ? html`<div><b>Output</b></div><pre class="output">${displayJson(step.output)}</pre>` : ""}
</div></details>`;
}

function quarantineCard(entry: QuarantineItem, redrivable: string | undefined, back: string): SafeHtml {
  return html`<div class="card" id="quarantine">
<dl>
<dt>status</dt><dd>${badge(entry.status)}</dd>
<dt>reason</dt><dd><b>${entry.reason}</b> <span class="muted">(${entry.errorName}, stage ${entry.stage})</span></dd>
<dt>message</dt><dd>${entry.message}</dd>
${(entry.details ?? []).length ? html`<dt>details</dt><dd>${(entry.details ?? []).map((d) => html`<div><code>${d.path ?? ""}</code>: ${d.message ?? ""}</div>`)}</dd>` : ""}
<dt>attempts</dt><dd>${entry.attempts}</dd>
<dt>quarantined</dt><dd>${when(entry.quarantinedAt)}</dd>
</dl>
${
  redrivable === undefined
    ? html`<form method="post" action="/console/redrive" style="margin-top:12px">
<input type="hidden" name="ingestId" value="${entry.ingestId}"><input type="hidden" name="back" value="${back}">
<button type="submit" id="redrive">Redrive</button> <span class="muted">starts a new execution and waits for its outcome</span></form>`
    : html`<p class="muted">Not redrivable: ${redrivable}</p>`
}
</div>`;
}

/** An entity as the feed names it, linked to its page when it has one. */
function entityLink(type: string, key: string): SafeHtml {
  const href = entityHref(type, key);
  const label = html`${type} <span class="mono">${key}</span>`;
  return href ? html`<a href="${href}">${label}</a>` : label;
}

/**
 * The raw body as stored: text in a scrolling block, or a hex dump when it does not read as text.
 * The newline after <pre> is the one HTML drops there, so a body's own first newline stays.
 */
function rawBodySection(ingestId: string, raw: RawBody | { missing: string }): SafeHtml {
  if ("missing" in raw) return html`<div class="card" id="raw"><p class="muted">${raw.missing}</p></div>`;
  const view = rawBodyView(raw.body);
  const where = html`<span class="mono">s3://${raw.rawRef.bucket}/${raw.rawRef.key}</span>`;
  const cli = html`<code>npx dvss status ${ingestId} --raw</code>`;
  return view.kind === "text"
    ? html`<div class="card" id="raw"><p class="muted">${view.bytes} bytes, exactly as stored at ${where}; ${cli} prints them.</p>
<pre class="raw" id="raw-body">
${view.text}</pre></div>`
    : html`<div class="card" id="raw"><p class="muted">${view.bytes} bytes at ${where}, ${view.why}: shown as hex${view.shown < view.bytes ? `, the first ${view.shown} bytes` : ""}; ${cli} prints them all.</p>
<pre class="hex" id="raw-body">${view.hex}</pre></div>`;
}

/** The entity an event changed, its version, and its feed position: known, not known (logged before the log recorded it), or none yet. */
function changed({ entity, version, entry, positionUnknown }: EventChange): SafeHtml {
  const link = entityLink(entity.type, entity.key);
  if (entry) {
    return html`${link} to version ${version} (${entry.stateAfter ?? ""}), feed position <span class="mono">${entry.position}</span>`;
  }
  return positionUnknown
    ? html`${link} to version ${version}, feed position not known (logged before the log recorded feed positions)`
    : html`${link} to version ${version}, not in the feed yet`;
}

export function storyPage(
  story: EventStory,
  redriveRefusal: string | undefined,
  raw: RawBody | { missing: string },
  change?: EventChange,
  flash?: Flash,
): string {
  const { record } = story;
  const back = `/console/events/${encode(story.ingestId)}`;
  const body = html`<h1><span class="mono">${story.ingestId}</span> ${record ? badge(record.status) : badge("no record")}</h1>
<div class="card"><dl>
${
  record
    ? html`<dt>vendor</dt><dd><a href="/console?vendor=${encode(record.vendorId)}">${record.vendorId}</a></dd>
<dt>externalEventId</dt><dd class="mono">${record.externalEventId}</dd>
<dt>event type</dt><dd>${record.eventType}${record.schemaVersion ? ` (schemaVersion ${record.schemaVersion})` : ""}${record.standardEventType ? ` → ${record.standardEventType}` : ""}</dd>
${record.mappingVersion ? html`<dt>mapping version</dt><dd>${record.mappingVersion}</dd>` : ""}
<dt>occurred</dt><dd>${record.occurredAt}</dd>
<dt>received</dt><dd>${when(record.receivedAt)}</dd>
<dt>attempts</dt><dd>${record.attempts ?? 0}</dd>
${record.lastError ? html`<dt>last error</dt><dd><b>${record.lastError.code ?? ""}</b> ${record.lastError.message ?? ""}</dd>` : ""}`
    : html`<dt>record</dt><dd>none: quarantined without an ingest record</dd>`
}
${story.rawRef ? html`<dt>raw</dt><dd class="mono">s3://${story.rawRef.bucket}/${story.rawRef.key}</dd>` : ""}
${change ? html`<dt>changed</dt><dd id="changed">${changed(change)}</dd>` : ""}
${story.normalizedRef ? html`<dt>normalized</dt><dd class="mono">s3://${story.normalizedRef.bucket}/${story.normalizedRef.key}</dd>` : ""}
</dl></div>
<h2>Quarantine</h2>
${story.quarantine ? quarantineCard(story.quarantine, redriveRefusal, back) : html`<p class="muted">Not quarantined.</p>`}
<h2>Raw body</h2>
${rawBodySection(story.ingestId, raw)}
<h2>Executions (${story.executions.length})</h2>
${story.executionsNote ? html`<p class="muted">${story.executionsNote}</p>` : ""}
${story.executions.map(
  (execution, index) => html`<div class="card execution">
<div><b class="mono">${execution.name}</b> ${badge(execution.status)} <span class="muted">${when(execution.startDate)}${execution.startDate && execution.stopDate ? ` · ${Date.parse(execution.stopDate) - Date.parse(execution.startDate)} ms` : ""}</span></div>
${execution.error ? html`<pre class="error">${execution.error.error}: ${execution.error.message ?? displayJson(execution.error.cause)}</pre>` : ""}
${graph(execution, index)}
${execution.steps.map((step, position) => stepDetails(step, index, position, index === story.executions.length - 1))}
</div>`,
)}
<h2>Divergences (${story.divergences.length})</h2>
${
  story.divergences.length
    ? html`<div class="table-wrap"><table id="divergences"><thead><tr><th>kind</th><th>entity</th><th>reason</th><th>detected</th></tr></thead><tbody>
${story.divergences.map((d) => html`<tr><td>${d.kind}</td><td>${entityLink(d.entityType, d.entityKey)}</td><td class="message">${d.reason}</td><td class="when">${when(d.detectedAt)}</td></tr>`)}
</tbody></table></div>`
    : html`<p class="muted">None.</p>`
}`;
  return layout(story.ingestId, "events", body, flash);
}

export function quarantinePage(
  listing: QuarantineListing,
  filter: { vendorId?: string; reason?: string; status: string },
  vendors: string[],
  flash?: Flash,
): string {
  const back = `/console/quarantine?${new URLSearchParams({
    ...(filter.vendorId && { vendor: filter.vendorId }),
    ...(filter.reason && { reason: filter.reason }),
    status: filter.status,
  }).toString()}`;
  const reasons = Object.keys(listing.countsByReason).sort();
  const rows = listing.entries.map(
    (entry) => html`<tr>
<td><a class="mono" href="/console/events/${encode(entry.ingestId)}">${entry.ingestId}</a></td>
<td>${entry.vendorId}</td><td>${entry.eventType ?? ""}</td><td><b>${entry.reason}</b><div class="muted">${entry.stage}</div></td>
<td class="message">${entry.message}</td><td>${badge(entry.status)}</td><td class="num">${entry.attempts}</td><td class="when">${when(entry.quarantinedAt)}</td>
<td>${
      entry.status === "resolved"
        ? ""
        : html`<form method="post" action="/console/redrive"><input type="hidden" name="ingestId" value="${entry.ingestId}">
<input type="hidden" name="back" value="${back}"><button type="submit" class="secondary">Redrive</button></form>`
    }</td></tr>`,
  );
  const open = listing.entries.filter((entry) => entry.status !== "resolved");
  return layout(
    "Quarantine",
    "quarantine",
    html`<h1>Quarantine</h1>
<div class="counts">${
      reasons.length
        ? reasons.map(
            (reason) =>
              html`<a class="chip" href="/console/quarantine?reason=${encode(reason)}&status=${encode(filter.status)}">${reason}<b>${listing.countsByReason[reason] ?? 0}</b></a>`,
          )
        : html`<span class="muted">Nothing quarantined${filter.status === "open" ? " and open" : ""}.</span>`
    }</div>
<form class="filters" method="get" action="/console/quarantine">
<label>vendor <select name="vendor">${options(vendors, filter.vendorId, "any vendor")}</select></label>
<label>reason <input type="text" name="reason" value="${filter.reason ?? ""}" placeholder="e.g. MAPPING_FAILED"></label>
<label>status <select name="status">${["open", "redriven", "resolved", "all"].map((s) => html`<option value="${s}" ${s === filter.status ? html`selected` : ""}>${s}</option>`)}</select></label>
<button type="submit">Filter</button></form>
<div class="table-wrap"><table id="quarantine"><thead><tr><th>ingestId</th><th>vendor</th><th>event type</th><th>reason</th><th>message</th><th>status</th><th>attempts</th><th>quarantined</th><th></th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="9" class="muted">No entries.</td></tr>`}</tbody></table></div>
${
  open.length > 1
    ? html`<form method="post" action="/console/redrive" style="margin-top:12px">${open.map((entry) => html`<input type="hidden" name="ingestId" value="${entry.ingestId}">`)}
<input type="hidden" name="back" value="${back}"><button type="submit">Redrive all ${open.length} shown</button></form>`
    : ""
}`,
    flash,
  );
}

export function errorPage(status: number, message: string): string {
  return layout(
    String(status),
    "events",
    html`<h1>${status}</h1><p>${message}</p><p><a href="/console">Back to the events</a></p>`,
  );
}
