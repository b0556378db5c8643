import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliHarness, startCliHarness } from "../../cli/test/harness.ts";
import { seedEnvelope, tempDir } from "./harness.ts";

/*
 * The console's raw body, canonical state pages and narrow windows, in headless Chromium.
 * Screenshots go to /tmp/dvss-console/ for a person to look at.
 */

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = "/tmp/dvss-console";
const SCRIPT_SKU = `<script>document.title='pwned'</script>`;
const IMG_WAREHOUSE = `"><img src=x onerror="document.title='pwned'">`;

let dvss: CliHarness;
let browser: BrowserContext;
let page: Page;
const ids = { first: "", negative: "", large: "", hostile: "", created: "", shipped: "", regressed: "" };

const inventory = (externalEventId: string, payload: Record<string, unknown>, occurredAt: string) => ({
  ...seedEnvelope,
  externalEventId,
  occurredAt,
  payload,
});

const HOSTILE_BODY = `\n${JSON.stringify(
  inventory("st-xss", { sku: SCRIPT_SKU, qty: 3, warehouse: IMG_WAREHOUSE }, "2026-01-30T20:07:00Z"),
  null,
  2,
)}\n`;

beforeAll(async () => {
  dvss = await startCliHarness({ console: true });
  ids.first = await dvss.postAndSettle(
    inventory("st-1", { sku: "ABC-001", qty: 12, warehouse: "ROA" }, "2026-01-30T20:00:00Z"),
  );
  ids.negative = await dvss.postAndSettle({
    ...inventory("st-2", { sku: "ABC-001", qtyChange: -20, warehouse: "ROA" }, "2026-01-30T20:05:00Z"),
    eventType: "inventory_adjust",
  });
  // Refused by vendorA's schema (no such field), so quarantined: its raw body is what to look at.
  ids.large = await dvss.postAndSettle(
    inventory(
      "st-large",
      { sku: "ABC-009", qty: 1, warehouse: "ROA", note: `${"x".repeat(200 * 1024)}END-OF-NOTE` },
      "2026-01-30T20:06:00Z",
    ),
  );
  // Posted as text, so the page can be checked against the body byte for byte (a leading newline too).
  const hostile = await dvss.post(HOSTILE_BODY);
  ids.hostile = hostile.body.ingestId;
  const order = { ...seedEnvelope, schemaVersion: "1" };
  ids.created = await dvss.postAndSettle({
    ...order,
    externalEventId: "st-ord-1",
    eventType: "order_created",
    occurredAt: "2026-01-30T19:00:00Z",
    payload: { orderId: "SO-1001", warehouse: "ROA", lines: [{ sku: "ABC-001", qty: 2 }] },
  });
  ids.shipped = await dvss.postAndSettle({
    ...order,
    externalEventId: "st-ord-2",
    eventType: "order_status",
    occurredAt: "2026-01-30T22:00:00Z",
    payload: { orderId: "SO-1001", status: "shipped" },
  });
  ids.regressed = await dvss.postAndSettle({
    ...order,
    externalEventId: "st-ord-3",
    eventType: "order_status",
    occurredAt: "2026-01-30T23:00:00Z",
    payload: { orderId: "SO-1001", status: "acked" },
  });
  // One page and a bit of one warehouse.
  for (let batch = 0; batch < 6; batch++) {
    await Promise.all(
      Array.from({ length: 9 }, (_, i) => {
        const n = String(batch * 9 + i).padStart(2, "0");
        return dvss.post(
          inventory(`st-page-${n}`, { sku: `P-${n}`, qty: 1, warehouse: "PAGE" }, "2026-01-30T20:00:00Z"),
        );
      }),
    );
  }
  await dvss.runtime.stepFunctions.drain();
  browser = await chromium.launchPersistentContext(tempDir("dvss-chromium-"), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    viewport: { width: 1280, height: 900 },
  });
  page = browser.pages()[0] ?? (await browser.newPage());
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await dvss?.close();
});

const url = (path: string) => `${dvss.endpoints.api}${path}`;
/** Each change's position in the feed (one shard: its cursor), by ingestId, as GET /v1/feed gives it. */
async function feedPositions(): Promise<Map<string, string>> {
  const positions = new Map<string, string>();
  let after = "";
  for (;;) {
    const response = await dvss.request("GET", `/v1/feed?limit=500${after && `&after=${after}`}`, {
      headers: { authorization: "Bearer local-consumer-key" },
    });
    const { items, next } = response.body as {
      items: { cursor: string; event: { ingestId: string } }[];
      next: string;
    };
    for (const item of items) positions.set(item.event.ingestId, item.cursor);
    if (items.length === 0) return positions;
    after = next;
  }
}
const shot = (name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
const rows = (selector: string) =>
  page
    .locator(`${selector} tbody tr`)
    .evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent?.trim() ?? "")),
    );

describe("an event's raw body", () => {
  it("is shown exactly as stored, a 200 KiB body in a block that scrolls", async () => {
    await page.goto(url(`/console/events/${ids.large}`));

    const raw = page.locator("#raw-body");
    const text = (await raw.textContent()) ?? "";
    expect(text.length).toBeGreaterThan(200 * 1024);
    expect(text.endsWith('END-OF-NOTE"}}')).toBe(true);
    expect(JSON.parse(text).externalEventId).toBe("st-large");
    const box = await raw.evaluate((pre) => ({ client: pre.clientHeight, scroll: pre.scrollHeight }));
    expect(box.client).toBeLessThanOrEqual(480);
    expect(box.scroll).toBeGreaterThan(box.client);
    expect(await page.locator("#raw").textContent()).toContain(`npx dvss status ${ids.large} --raw`);
    await shot("event-raw-large");
  });

  it("renders a hostile payload as inert text, every character of it", async () => {
    await page.goto(url(`/console/events/${ids.hostile}`));

    expect(await page.locator("#raw-body").textContent()).toBe(HOSTILE_BODY);
    expect(await page.locator("main script, main img").count()).toBe(0);
    expect(await page.title()).not.toBe("pwned");
    await shot("event-raw-hostile");
  });

  it("shows a step's caught Cause decoded, not as an escaped JSON string", async () => {
    await page.goto(url(`/console/events/${ids.large}`));

    const output = (await page.locator("details.step").first().locator("pre.output").textContent()) ?? "";
    expect(output).toContain('"code": "SCHEMA_VALIDATION_FAILED"');
    expect(output).not.toContain('\\"');
  });
});

describe("inventory pages", () => {
  it("lists inventory a page at a time, by warehouse", async () => {
    await page.goto(url("/console/inventory?warehouse=PAGE"));

    const first = await rows("#inventory");
    expect(first).toHaveLength(50);
    expect(first.every((cells) => cells[0] === "PAGE")).toBe(true);
    await Promise.all([page.waitForURL(/after=/), page.click("#next-page")]);
    const second = await rows("#inventory");
    expect(second).toHaveLength(4);
    expect(await page.locator("#next-page").count()).toBe(0);
    const skus = [...first, ...second].map((cells) => cells[1]).sort();
    expect(skus).toEqual(Array.from({ length: 54 }, (_, i) => `P-${String(i).padStart(2, "0")}`));
  });

  it("filters by SKU prefix, and shows hostile ids as text", async () => {
    await page.goto(url("/console/inventory"));
    expect((await rows("#inventory")).length).toBe(50);
    await shot("inventory-list");

    await page.fill("input[name=sku]", "ABC");
    await Promise.all([page.waitForURL(/sku=ABC/), page.click("form.filters button[type=submit]")]);
    expect((await rows("#inventory")).map((cells) => cells.slice(0, 3))).toEqual([["ROA", "ABC-001", "-8"]]);

    await page.goto(url(`/console/inventory?sku=${encodeURIComponent("<script>")}`));
    expect((await rows("#inventory")).map((cells) => cells.slice(0, 2))).toEqual([
      [IMG_WAREHOUSE, SCRIPT_SKU],
    ]);
    expect(await page.locator("main script, main img").count()).toBe(0);
    expect(await page.locator("input[name=sku]").inputValue()).toBe("<script>");
  });

  it("refuses a cursor it did not give", async () => {
    const response = await page.goto(url("/console/inventory?after=bm90LWEtY3Vyc29y"));

    expect(response?.status()).toBe(400);
    expect(await page.locator("main").textContent()).toContain("after must be the cursor");
  });

  it("opens an entity: its value, the chain behind it, its feed changes and divergences", async () => {
    await page.goto(url("/console/inventory?sku=ABC"));
    await Promise.all([
      page.waitForURL(/\/console\/inventory\/ROA\/ABC-001$/),
      page.click("#inventory a:text('ABC-001')"),
    ]);

    expect(await page.locator("#quantity").textContent()).toBe("-8");
    const chain = await rows("#chain");
    expect(chain.map((cells) => [cells[2]?.split(" ")[0], cells[5], cells[6]])).toEqual([
      [ids.first, "set 12", "12"],
      [ids.negative, "add -20", "-8"],
    ]);
    expect(chain[1]?.[9]).toBe("NEGATIVE_QUANTITY_RESULT");
    const feed = await rows("#feed");
    expect(feed.map((cells) => [cells[1], cells[2], cells[4]])).toEqual([
      ["1", ids.first, "12"],
      ["2", ids.negative, "-8"],
    ]);
    // Each change at the position the feed gives it, in the chain and in the feed changes alike.
    const positions = await feedPositions();
    expect(feed.map((cells) => cells[0])).toEqual([positions.get(ids.first), positions.get(ids.negative)]);
    expect(feed[0]?.[0]).toMatch(/^\d{16}$/);
    expect(chain.map((cells) => cells[8])).toEqual(feed.map((cells) => cells[0]));
    expect((await rows("#entity-divergences")).map((cells) => cells[0])).toEqual([
      "NEGATIVE_QUANTITY_RESULT",
    ]);
    await shot("inventory-entity");
  });

  it("opens an entity whose ids are hostile, by its encoded path", async () => {
    await page.goto(
      url(`/console/inventory/${encodeURIComponent(IMG_WAREHOUSE)}/${encodeURIComponent(SCRIPT_SKU)}`),
    );

    expect(await page.locator("h1").textContent()).toContain(SCRIPT_SKU);
    expect(await page.locator("#quantity").textContent()).toBe("3");
    expect(await page.locator("main script, main img").count()).toBe(0);
    expect(await page.title()).toBe(`${IMG_WAREHOUSE} / ${SCRIPT_SKU} · DVSS local console`);
  });

  it("is linked from the events that changed it, and from their divergences", async () => {
    await page.goto(url(`/console/events/${ids.negative}`));

    expect(await page.locator("#changed").textContent()).toBe(
      `inventory ROA#ABC-001 to version 2 (-8), feed position ${(await feedPositions()).get(ids.negative)}`,
    );
    await Promise.all([page.waitForURL(/\/console\/inventory\/ROA\/ABC-001$/), page.click("#changed a")]);
    await page.goto(url(`/console/events/${ids.negative}`));
    await Promise.all([page.waitForURL(/\/console\/inventory\/ROA\/ABC-001$/), page.click("#divergences a")]);
    expect(await page.locator("#quantity").textContent()).toBe("-8");
  });

  it("says the feed position is not known for events logged before the log recorded positions", async () => {
    const older = [
      await dvss.postAndSettle(
        inventory("st-old-1", { sku: "OLD-1", qty: 4, warehouse: "ROA" }, "2026-01-30T20:00:00Z"),
      ),
      await dvss.postAndSettle({
        ...inventory("st-old-2", { sku: "OLD-1", qtyChange: 1, warehouse: "ROA" }, "2026-01-30T20:01:00Z"),
        eventType: "inventory_adjust",
      }),
    ];
    // Their log items as written before positions were recorded: without one.
    const { data: logged } = await dvss.entities.entityEvents.query
      .byEntity({ entityType: "inventory", entityKey: "ROA#OLD-1" })
      .go();
    const positions = await feedPositions();
    expect(logged.map((item) => item.feedPosition)).toEqual(older.map((ingestId) => positions.get(ingestId)));
    for (const { feedPosition: _position, ...item } of logged)
      await dvss.entities.entityEvents.put(item).go();

    await page.goto(url(`/console/events/${older[0]}`));
    expect(await page.locator("#changed").textContent()).toBe(
      "inventory ROA#OLD-1 to version 1, feed position not known (logged before the log recorded feed positions)",
    );
    await page.goto(url("/console/inventory/ROA/OLD-1"));
    expect(await page.locator("#quantity").textContent()).toBe("5");
    expect((await rows("#chain")).map((cells) => [cells[2]?.split(" ")[0], cells[8]])).toEqual([
      [older[0], "not known"],
      [older[1], "not known"],
    ]);
    expect(await rows("#feed")).toEqual([["None."]]);
    expect(await page.locator("#unknown-positions").textContent()).toBe("2");
  });

  it("answers 404 for an entity never seen", async () => {
    const response = await page.goto(url("/console/inventory/ROA/NOPE-1"));

    expect(response?.status()).toBe(404);
  });
});

describe("order pages", () => {
  it("lists orders with their status and lines, filtered by status", async () => {
    await page.goto(url("/console/orders"));

    expect((await rows("#orders")).map((cells) => cells.slice(0, 3))).toEqual([
      ["SO-1001", "SHIPPED", "ABC-001 × 2"],
    ]);
    await shot("order-list");
    await page.goto(url("/console/orders?status=DELIVERED"));
    expect(await page.locator("#orders tbody").textContent()).toContain("No orders here.");
  });

  it("opens an order: the chain with the regression skipped, its feed changes and divergence", async () => {
    await page.goto(url("/console/orders"));
    await Promise.all([
      page.waitForURL(/\/console\/orders\/SO-1001$/),
      page.click("#orders a:text('SO-1001')"),
    ]);

    expect(await page.locator("#order-status").textContent()).toBe("SHIPPED");
    const chain = await rows("#chain");
    expect(chain.map((cells) => [cells[2]?.split(" ")[0], cells[5], cells[6]])).toEqual([
      [ids.created, "lines ABC-001 × 2", "CREATED"],
      [ids.shipped, "status SHIPPED", "SHIPPED"],
      [ids.regressed, "skipped ACKED", "SHIPPED"],
    ]);
    expect((await rows("#entity-divergences")).map((cells) => [cells[0], cells[1]])).toEqual([
      ["STATUS_REGRESSION", ids.regressed],
    ]);
    const feed = await rows("#feed");
    expect(feed.map((cells) => cells[2])).toEqual([ids.created, ids.shipped, ids.regressed]);
    await shot("order-entity");
  });
});

describe("every page", () => {
  it("keeps the console's headers: a CSP that allows no script, and no script in the page", async () => {
    const paths = [
      `/console/events/${ids.hostile}`,
      "/console/inventory",
      `/console/inventory/${encodeURIComponent(IMG_WAREHOUSE)}/${encodeURIComponent(SCRIPT_SKU)}`,
      "/console/orders",
      "/console/orders/SO-1001",
    ];
    for (const path of paths) {
      const response = await fetch(url(path));
      expect(response.status).toBe(200);
      expect(response.headers.get("content-security-policy")).toBe(
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await response.text()).not.toMatch(/<script|<img/i);
    }
  });
});

describe("a narrow window (390 px)", () => {
  it("scrolls wide tables inside their box: no page overflows the window", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const paths = [
      "/console",
      "/console/quarantine",
      `/console/events/${ids.large}`,
      `/console/events/${ids.negative}`,
      "/console/inventory",
      "/console/inventory/ROA/ABC-001",
      "/console/orders",
      "/console/orders/SO-1001",
    ];
    for (const path of paths) {
      await page.goto(url(path));
      const width = await page.locator("html").evaluate((root) => root.scrollWidth);
      expect({ path, width }).toEqual({ path, width: 390 });
    }
    // A table wider than the window scrolls in its wrapper.
    await page.goto(url("/console/inventory/ROA/ABC-001"));
    const chain = await page.locator("#chain").evaluate((table) => ({
      table: table.scrollWidth,
      box: table.parentElement?.clientWidth ?? 0,
    }));
    expect(chain.table).toBeGreaterThan(chain.box);
    await shot("narrow-inventory-entity");
    await page.goto(url(`/console/events/${ids.large}`));
    await shot("narrow-event");
    await page.goto(url("/console"));
    await shot("narrow-events");
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});
