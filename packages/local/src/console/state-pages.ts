import type { InventoryStateItem, OrderStateItem } from "@dvss/core/entities/index";
import type { OrderLine } from "@dvss/core/standard-events";
import type { ExplainedDivergence, ExplainStep } from "@dvss/core/state/history";
import type { InventoryView } from "@dvss/core/state/inventory";
import { CANONICAL_ORDER_STATUSES, type OrderView } from "@dvss/core/state/orders";
import { encode, html, type SafeHtml } from "./html.ts";
import { eventHref, inventoryHref, orderHref } from "./links.ts";
import { badge, type Flash, layout, options, when } from "./pages.ts";
import {
  type EntityHistory,
  type InventoryFilter,
  type ListPage,
  type OrderFilter,
  SCAN_BUDGET,
} from "./state.ts";

/** The console's canonical state pages: inventory and orders, listed and one by one with their history. */

function query(path: string, params: Record<string, string | undefined>): string {
  const defined = Object.entries(params).filter((entry): entry is [string, string] => Boolean(entry[1]));
  return defined.length ? `${path}?${new URLSearchParams(defined).toString()}` : path;
}

/** Next page / first page links, and what a page of a bounded scan is. */
function pager(path: string, params: Record<string, string | undefined>, page: ListPage<unknown>) {
  return html`<div class="pager">${params.after ? html`<a href="${query(path, { ...params, after: undefined })}">First page</a>` : ""}${
    page.next
      ? html`<a id="next-page" href="${query(path, { ...params, after: page.next })}">Next page →</a>`
      : ""
  }</div>
<p class="muted">${page.items.length} shown, sorted within this page. The state table has no index to list by, so
each page scans on from where the last one stopped, reading at most ${SCAN_BUDGET.toLocaleString("en")} items${page.next ? "; more may follow" : ", and it reached the end"}.</p>`;
}

function lines(value: readonly OrderLine[]): string {
  return value.map((line) => `${line.sku} × ${line.quantity}`).join(", ");
}

export function inventoryListPage(
  page: ListPage<InventoryStateItem>,
  filter: InventoryFilter,
  flash?: Flash,
): string {
  const params = { warehouse: filter.warehouseId, sku: filter.skuPrefix, after: filter.after };
  const rows = page.items.map(
    (item) => html`<tr><td>${item.warehouseId}</td>
<td><a class="mono" href="${inventoryHref(item.warehouseId, item.sku)}">${item.sku}</a></td>
<td class="num">${item.quantityOnHand}</td><td class="num">${item.version}</td><td class="when">${item.asOf}</td>
<td><a class="mono" href="${eventHref(item.lastIngestId)}">${item.lastIngestId}</a></td><td>${item.sourceVendorId}</td></tr>`,
  );
  return layout(
    "Inventory",
    "inventory",
    html`<h1>Inventory</h1>
<form class="filters" method="get" action="/console/inventory">
<label>warehouse <input type="text" name="warehouse" value="${filter.warehouseId ?? ""}" placeholder="exact, e.g. ROA"></label>
<label>sku <input type="text" name="sku" value="${filter.skuPrefix ?? ""}" placeholder="starts with"></label>
<button type="submit">Filter</button>${filter.warehouseId || filter.skuPrefix ? html` <a href="/console/inventory">clear</a>` : ""}
</form>
<div class="table-wrap"><table id="inventory"><thead><tr><th>warehouse</th><th>sku</th><th>on hand</th><th>version</th><th>as of</th><th>last event</th><th>vendor</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="7" class="muted">No inventory here.</td></tr>`}</tbody></table></div>
${pager("/console/inventory", params, page)}`,
    flash,
  );
}

export function orderListPage(page: ListPage<OrderStateItem>, filter: OrderFilter, flash?: Flash): string {
  const params = { order: filter.orderIdPrefix, status: filter.status, after: filter.after };
  const rows = page.items.map(
    (item) => html`<tr><td><a class="mono" href="${orderHref(item.orderId)}">${item.orderId}</a></td>
<td>${badge(item.status)}</td><td class="message">${lines(item.lines)}</td><td>${item.warehouseId ?? ""}</td>
<td class="num">${item.version}</td><td class="when">${item.asOf}</td>
<td><a class="mono" href="${eventHref(item.lastIngestId)}">${item.lastIngestId}</a></td><td>${item.sourceVendorId}</td></tr>`,
  );
  return layout(
    "Orders",
    "orders",
    html`<h1>Orders</h1>
<form class="filters" method="get" action="/console/orders">
<label>order <input type="text" name="order" value="${filter.orderIdPrefix ?? ""}" placeholder="orderId starts with"></label>
<label>status <select name="status">${options(CANONICAL_ORDER_STATUSES, filter.status, "any status")}</select></label>
<button type="submit">Filter</button>${filter.orderIdPrefix || filter.status ? html` <a href="/console/orders">clear</a>` : ""}
</form>
<div class="table-wrap"><table id="orders"><thead><tr><th>orderId</th><th>status</th><th>lines</th><th>warehouse</th><th>version</th><th>as of</th><th>last event</th><th>vendor</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="8" class="muted">No orders here.</td></tr>`}</tbody></table></div>
${pager("/console/orders", params, page)}`,
    flash,
  );
}

function said(step: ExplainStep): string {
  if (Array.isArray(step.value)) return lines(step.value);
  return step.effect === "add" && typeof step.value === "number" && step.value >= 0
    ? `+${step.value}`
    : String(step.value);
}

/** The chain behind the current value, its feed entries and its divergences. */
function historySections<V>(history: EntityHistory<V>, selfHref: string): SafeHtml {
  const { explanation, from, to, feed, unknownPositions } = history;
  const total = explanation.steps.length;
  const shown = explanation.steps.slice(from, to);
  const chainRows = shown.map((step, offset) => {
    const entry = feed.get(step.ingestId);
    return html`<tr><td class="num">${from + offset + 1}</td><td class="when">${step.occurredAt}</td>
<td><a class="mono" href="${eventHref(step.ingestId)}">${step.ingestId}</a> <a href="${eventHref(step.ingestId)}#raw" class="muted">raw</a></td>
<td class="nowrap">${step.vendorId} <span class="mono">${step.externalEventId}</span></td><td>${step.eventType}</td>
<td class="nowrap">${step.effect} <b>${said(step)}</b></td><td class="num"><b>${step.running}</b></td><td class="num">${step.version}</td>
<td class="mono">${entry?.position ?? (unknownPositions.has(step.ingestId) ? html`<span class="muted">not known</span>` : "")}</td>
<td>${step.divergences.map((d) => badge(d.kind))}</td></tr>`;
  });
  const published = shown
    .flatMap((step) => {
      const entry = feed.get(step.ingestId);
      return entry ? [{ step, entry }] : [];
    })
    .sort((a, b) => (a.entry.position < b.entry.position ? -1 : 1));
  // A step logged before the log recorded feed positions is in the feed, at a position not known.
  const unknown = shown.filter(
    (step) => !feed.has(step.ingestId) && unknownPositions.has(step.ingestId),
  ).length;
  const unpublished = shown.length - published.length - unknown;
  const divergences: ExplainedDivergence[] = [
    ...explanation.steps.flatMap((step) => step.divergences),
    ...explanation.otherDivergences,
  ];
  const chainPager =
    from > 0 || to < total
      ? html`<div class="pager">${from > 0 ? html`<a id="earlier" href="${selfHref}?before=${from}">← earlier steps</a>` : ""}${
          to < total ? html`<a href="${selfHref}">latest steps</a>` : ""
        }</div>`
      : "";
  return html`${
    explanation.consistent
      ? ""
      : html`<div class="card warn-box" role="status">The chain does not end at the stored value: the entity's event log lacks events the state was folded from.</div>`
  }
<h2>Chain (${total} event${total === 1 ? "" : "s"}${total > shown.length ? `, ${from + 1} to ${to} shown` : ""})</h2>
<p class="muted">Every event folded into this entity, in fold order (occurredAt, then vendor priority), with what it did and the value after it.</p>
${chainPager}
<div class="table-wrap"><table id="chain"><thead><tr><th>#</th><th>occurred</th><th>event</th><th>vendor / external id</th><th>type</th><th>effect</th><th>after</th><th>version</th><th>feed position</th><th>divergences</th></tr></thead>
<tbody>${chainRows.length ? chainRows : html`<tr><td colspan="10" class="muted">No events.</td></tr>`}</tbody></table></div>
<h2>Feed changes (${published.length})</h2>
<p class="muted">The changes consumers read from <code>GET /v1/feed</code>, in feed order: each applied event once, with the state it left${unpublished ? html`; <b>${unpublished}</b> of the events shown are not in the feed yet` : ""}${unknown ? html`; <b id="unknown-positions">${unknown}</b> of the events shown were logged before the log recorded feed positions: their changes are not listed here` : ""}.</p>
<div class="table-wrap"><table id="feed"><thead><tr><th>position</th><th>version</th><th>event</th><th>type</th><th>state after</th><th>applied</th></tr></thead>
<tbody>${
    published.length
      ? published.map(
          ({
            step,
            entry,
          }) => html`<tr><td class="mono">${entry.position}</td><td class="num">${entry.version ?? ""}</td>
<td><a class="mono" href="${eventHref(step.ingestId)}">${step.ingestId}</a></td><td>${step.eventType}</td>
<td><b>${entry.stateAfter ?? ""}</b></td><td class="when">${when(entry.appliedAt)}</td></tr>`,
        )
      : html`<tr><td colspan="6" class="muted">None.</td></tr>`
  }</tbody></table></div>
<h2>Divergences (${divergences.length})</h2>
${
  divergences.length
    ? html`<div class="table-wrap"><table id="entity-divergences"><thead><tr><th>kind</th><th>event</th><th>reason</th><th>other event</th></tr></thead><tbody>
${divergences.map(
  (
    d,
  ) => html`<tr><td>${badge(d.kind)}</td><td><a class="mono" href="${eventHref(d.ingestId)}">${d.ingestId}</a></td>
<td class="message">${d.reason}</td><td>${d.relatedIngestId ? html`<a class="mono" href="${eventHref(d.relatedIngestId)}">${d.relatedIngestId}</a>` : ""}</td></tr>`,
)}</tbody></table></div>`
    : html`<p class="muted">None.</p>`
}`;
}

function stateCard(view: InventoryView | OrderView, extra: SafeHtml): SafeHtml {
  return html`<div class="card" id="state"><dl>${extra}
<dt>version</dt><dd>${view.version}</dd>
<dt>as of</dt><dd>${view.asOf}</dd>
<dt>last event</dt><dd><a class="mono" href="${eventHref(view.lastIngestId)}">${view.lastIngestId}</a></dd>
<dt>source vendor</dt><dd>${view.sourceVendorId}</dd>
</dl></div>`;
}

export function inventoryEntityPage(history: EntityHistory<InventoryView>): string {
  const { state } = history.explanation;
  const self = inventoryHref(state.warehouseId, state.sku);
  return layout(
    `${state.warehouseId} / ${state.sku}`,
    "inventory",
    html`<h1><span class="muted">Inventory</span> <a href="/console/inventory?warehouse=${encode(state.warehouseId)}">${state.warehouseId}</a> / <span class="mono">${state.sku}</span></h1>
${stateCard(state, html`<dt>on hand</dt><dd><b id="quantity">${state.quantityOnHand}</b></dd>`)}
${historySections(history, self)}
<p class="muted">The same chain as JSON: <code>npx dvss explain inventory ${state.warehouseId} ${state.sku} --json</code></p>`,
  );
}

export function orderEntityPage(history: EntityHistory<OrderView>): string {
  const { state } = history.explanation;
  const self = orderHref(state.orderId);
  return layout(
    state.orderId,
    "orders",
    html`<h1><span class="muted">Order</span> <span class="mono">${state.orderId}</span> ${badge(state.status)}</h1>
${stateCard(
  state,
  html`<dt>status</dt><dd id="order-status">${state.status}</dd>
<dt>lines</dt><dd>${lines(state.lines)}</dd>
${state.warehouseId ? html`<dt>warehouse</dt><dd>${state.warehouseId}</dd>` : ""}`,
)}
${historySections(history, self)}
<p class="muted">The same chain as JSON: <code>npx dvss explain order ${state.orderId} --json</code></p>`,
  );
}
