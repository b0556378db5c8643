import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { QUARANTINE_STATUSES, type QuarantineStatus } from "@dvss/core/entities/index";
import { BadRequestError, NotFoundError } from "@dvss/core/errors";
import { type OpsContext, openContext } from "@dvss/core/ops/context";
import { eventOverview } from "@dvss/core/ops/events";
import { listQuarantine } from "@dvss/core/ops/quarantine";
import { redriveEvents, redriveRefusal } from "@dvss/core/ops/redrive";
import { loadEventStory, readRawBody } from "@dvss/core/ops/story";
import { CANONICAL_ORDER_STATUSES, type CanonicalOrderStatus } from "@dvss/core/state/orders";
import type { ExtraRoute } from "../http-server.ts";
import { type LocalEndpointsFile, targetOfLocalEndpoints } from "../target.ts";
import { errorPage, type Flash, overviewPage, quarantinePage, storyPage } from "./pages.ts";
import { changeOf, inventoryHistory, listInventory, listOrders, orderHistory } from "./state.ts";
import { inventoryEntityPage, inventoryListPage, orderEntityPage, orderListPage } from "./state-pages.ts";
import { vendorPage, vendorsIndexPage } from "./vendor-pages.ts";
import { vendorIndex, vendorView } from "./vendors.ts";

/**
 * The local console at /console: recent events and counts per vendor, one event's story (the
 * same loader as `dvss status`) with its raw body, its execution graph with each state's input,
 * output and error, the quarantine with redrive buttons that run the same redrive as
 * `dvss redrive --wait`, canonical inventory and orders, each with its chain (as `dvss explain`), and
 * each vendor's health: its scorecard, drift findings and charts of its last hour and day.
 *
 * Local only, on 127.0.0.1: requests must name a loopback host (no DNS rebinding) and a POST
 * must come from the console's own origin (no cross-site form posts). Pages carry no script and a
 * CSP that allows none.
 */

const SECURITY_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on form posts.
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i;

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, SECURITY_HEADERS);
  res.end(body);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, "cache-control": "no-store" });
  res.end();
}

function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") return false;
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${req.headers.host}`;
}

/** Messages shown once after a redirect; kept here, so a link cannot put words in the console's mouth. */
class Flashes {
  readonly #messages = new Map<string, Flash>();
  add(flash: Flash): string {
    const id = randomUUID();
    if (this.#messages.size > 100) this.#messages.clear();
    this.#messages.set(id, flash);
    return id;
  }
  take(id: string | null): Flash | undefined {
    if (!id) return undefined;
    const flash = this.#messages.get(id);
    this.#messages.delete(id);
    return flash;
  }
}

/** Path segments after a prefix, percent-decoded; undefined when the path is not `count` of them. */
function segments(pathname: string, prefix: string, count: number): string[] | undefined {
  if (!pathname.startsWith(prefix)) return undefined;
  const parts = pathname.slice(prefix.length).split("/");
  if (parts.length !== count || parts.some((part) => part === "")) return undefined;
  try {
    return parts.map(decodeURIComponent);
  } catch {
    throw new BadRequestError("The path is not valid percent-encoding.");
  }
}

/** The `before` of an entity page's chain: a step number, or absent. */
function stepNumber(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}

function withFlash(path: string, id: string): string {
  return `${path}${path.includes("?") ? "&" : "?"}flash=${id}`;
}

export interface ConsoleRoute {
  route: ExtraRoute;
  close(): void;
}

/** `endpoints`: the runtime's, once it is up (its vendorsDir is the definitions its workflow reads). */
export function consoleRoute(
  endpoints: () => (LocalEndpointsFile & { vendorsDir: string }) | undefined,
): ConsoleRoute {
  let context: OpsContext | undefined;
  const flashes = new Flashes();
  const contextOf = () => {
    const current = endpoints();
    if (!current) return undefined;
    context ??= openContext(targetOfLocalEndpoints(current, "local runtime", current.vendorsDir));
    return context;
  };

  async function redrive(ctx: OpsContext, body: Buffer): Promise<string> {
    const form = new URLSearchParams(body.toString("utf8"));
    const ingestIds = form.getAll("ingestId").filter(Boolean);
    const requested = form.get("back") ?? "";
    // Only back into the console: never an open redirect.
    const back =
      /^\/console(\/|\?|$)/.test(requested) && !requested.startsWith("//") ? requested : "/console";
    if (ingestIds.length === 0)
      return withFlash(back, flashes.add({ ok: false, text: "Nothing to redrive." }));
    const items = await redriveEvents(ctx, ingestIds, { wait: true, timeoutMs: 30_000 });
    const normalized = items.filter((item) => item.outcome?.status === "NORMALIZED").length;
    const text =
      items.length === 1 && items[0]
        ? items[0].outcome
          ? `Redrive of ${items[0].ingestId}: ${items[0].outcome.status}${items[0].outcome.reason ? ` (${items[0].outcome.reason}: ${items[0].outcome.message ?? ""})` : ""}`
          : `Redrive of ${items[0].ingestId} ${items[0].result}: ${items[0].message ?? ""}`
        : `Redrove ${items.length} event(s): ${normalized} NORMALIZED, ${items.length - normalized} not.`;
    return withFlash(back, flashes.add({ ok: normalized === items.length, text }));
  }

  const route: ExtraRoute = async (req, res, body) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== "/console" && !url.pathname.startsWith("/console/")) return false;
    if (!LOOPBACK_HOST.test(req.headers.host ?? "")) {
      send(res, 403, errorPage(403, "The console answers only on a loopback address."));
      return true;
    }
    const ctx = contextOf();
    if (!ctx) {
      send(res, 503, errorPage(503, "The local runtime is still starting."));
      return true;
    }
    const flash = flashes.take(url.searchParams.get("flash"));
    const param = (name: string) => url.searchParams.get(name) || undefined;
    try {
      if (req.method === "POST" && url.pathname === "/console/redrive") {
        if (!sameOrigin(req)) {
          send(res, 403, errorPage(403, "Redrive is accepted only from the console's own pages."));
          return true;
        }
        redirect(res, await redrive(ctx, body));
        return true;
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        send(res, 405, errorPage(405, `${req.method} is not allowed here.`));
        return true;
      }
      if (url.pathname === "/console" || url.pathname === "/console/") {
        const filter = { vendorId: param("vendor"), status: param("status") };
        const status =
          filter.status === "RECEIVED" ||
          filter.status === "NORMALIZED" ||
          filter.status === "FAILED_NORMALIZE"
            ? filter.status
            : undefined;
        const overview = await eventOverview(ctx, { vendorId: filter.vendorId, status });
        send(
          res,
          200,
          overviewPage(
            overview,
            { ...(filter.vendorId && { vendorId: filter.vendorId }), ...(status && { status }) },
            flash,
          ),
        );
        return true;
      }
      const eventPath = /^\/console\/events\/([0-9A-Za-z]{26})$/.exec(url.pathname);
      if (eventPath?.[1]) {
        const story = await loadEventStory(ctx, eventPath[1]);
        const [raw, change] = await Promise.all([
          readRawBody(ctx, eventPath[1]).catch((error: unknown) => {
            if (error instanceof NotFoundError) return { missing: error.message };
            throw error;
          }),
          changeOf(ctx, story),
        ]);
        const refusal = redriveRefusal(story.record, story.quarantine);
        send(res, 200, storyPage(story, refusal, raw, change, flash));
        return true;
      }
      if (url.pathname === "/console/inventory") {
        const filter = { warehouseId: param("warehouse"), skuPrefix: param("sku"), after: param("after") };
        send(res, 200, inventoryListPage(await listInventory(ctx, filter), filter, flash));
        return true;
      }
      const inventoryPath = segments(url.pathname, "/console/inventory/", 2);
      if (inventoryPath) {
        const [warehouseId = "", sku = ""] = inventoryPath;
        const history = await inventoryHistory(ctx, warehouseId, sku, stepNumber(param("before")));
        send(res, 200, inventoryEntityPage(history));
        return true;
      }
      if (url.pathname === "/console/orders") {
        const requested = param("status");
        const status = CANONICAL_ORDER_STATUSES.find((known) => known === requested) as
          | CanonicalOrderStatus
          | undefined;
        const filter = { orderIdPrefix: param("order"), status, after: param("after") };
        send(res, 200, orderListPage(await listOrders(ctx, filter), filter, flash));
        return true;
      }
      const orderPath = segments(url.pathname, "/console/orders/", 1);
      if (orderPath) {
        const history = await orderHistory(ctx, orderPath[0] ?? "", stepNumber(param("before")));
        send(res, 200, orderEntityPage(history));
        return true;
      }
      if (url.pathname === "/console/vendors") {
        send(res, 200, vendorsIndexPage(await vendorIndex(ctx), flash));
        return true;
      }
      const vendorPath = segments(url.pathname, "/console/vendors/", 1);
      if (vendorPath) {
        send(res, 200, vendorPage(await vendorView(ctx, vendorPath[0] ?? ""), flash));
        return true;
      }
      if (url.pathname === "/console/quarantine") {
        const requested = param("status") ?? "open";
        const status = [...QUARANTINE_STATUSES, "all"].includes(requested)
          ? (requested as QuarantineStatus | "all")
          : "open";
        const filter = { vendorId: param("vendor"), reason: param("reason"), status };
        const [listing, overview] = await Promise.all([
          listQuarantine(ctx, filter),
          eventOverview(ctx, { limit: 0 }),
        ]);
        send(
          res,
          200,
          quarantinePage(
            listing,
            {
              ...(filter.vendorId && { vendorId: filter.vendorId }),
              ...(filter.reason && { reason: filter.reason }),
              status,
            },
            overview.vendors,
            flash,
          ),
        );
        return true;
      }
      send(res, 404, errorPage(404, "No such page."));
    } catch (error) {
      if (error instanceof NotFoundError) send(res, 404, errorPage(404, error.message));
      else if (error instanceof BadRequestError) send(res, 400, errorPage(400, error.message));
      else {
        console.error("console error", error);
        send(res, 500, errorPage(500, `The console failed: ${(error as Error).message}`));
      }
    }
    return true;
  };

  return {
    route,
    close() {
      context?.close();
      context = undefined;
    },
  };
}
