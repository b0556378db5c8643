import { existsSync } from "node:fs";
import { type OpsContext, openContext } from "@dvss/core/ops/context";
import { listDrift } from "@dvss/core/ops/drift";
import { activitySeries, MINUTE_MS, vendorActivity } from "@dvss/core/ops/vendor-activity";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliHarness, startCliHarness } from "../../cli/test/harness.ts";
import { lagChart, outcomeChart, reasonChart } from "../src/console/charts.ts";
import { windows } from "../src/console/vendors.ts";
import { targetOfLocalEndpoints } from "../src/target.ts";
import { driftedEnvelope, vendorsWithVendorD } from "./drift-vendor.ts";
import { seedEnvelope, tempDir } from "./harness.ts";

const CHROMIUM = "/usr/bin/chromium";
// A payload field a vendor named as markup: drift detection records it as the path of a finding.
const HOSTILE_FIELD = `<script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">`;

let dvss: CliHarness;
let context: OpsContext;
let browser: BrowserContext;
let page: Page;
const ids = { accepted: [] as string[], quarantined: "", hostile: "" };

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: \`apt-get install -y chromium\` (.ci/run does)`);
  dvss = await startCliHarness({ vendorsDir: vendorsWithVendorD(), console: true });
  // vendorD: three events with a new field and a count as text (non-breaking findings), one with a
  // status word its mapping does not know (quarantined, a breaking finding), one with a hostile field.
  for (const i of [1, 2, 3]) ids.accepted.push(await dvss.postAndSettle(driftedEnvelope(i)));
  ids.quarantined = await dvss.postAndSettle(driftedEnvelope(11));
  const hostile = driftedEnvelope(4);
  ids.hostile = await dvss.postAndSettle({
    ...hostile,
    payload: { ...hostile.payload, [HOSTILE_FIELD]: "x" },
  });
  await dvss.postAndSettle({ ...seedEnvelope, externalEventId: "vendors-page-a-1" });
  context = openContext(targetOfLocalEndpoints(dvss.endpoints, "test", dvss.endpoints.vendorsDir));
  // One finding acknowledged: the line-count one (shown muted, after the open ones).
  const { findings } = await listDrift(context, { vendorId: "vendorD" });
  const lineCount = findings.find((finding) => finding.path === "line_count");
  expect(lineCount).toBeDefined();
  expect((await dvss.cli("drift", "ack", lineCount?.findingId ?? "")).code).toBe(0);
  browser = await chromium.launchPersistentContext(tempDir("dvss-chromium-"), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  page = browser.pages()[0] ?? (await browser.newPage());
}, 90_000);
afterAll(async () => {
  await browser?.close();
  context?.close();
  await dvss?.close();
});

const url = (path: string) => `${dvss.endpoints.api}${path}`;
// Strings, evaluated in the page: the test's TypeScript has no DOM types.
const noHorizontalOverflow = () =>
  page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth");

describe("the console's vendors index", () => {
  it("lists every vendor with today's score and open drift, each linked to its page", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(url("/console/vendors"));

    expect(await page.title()).toBe("Vendors · DVSS local console");
    expect(await page.locator("header nav a.active").textContent()).toBe("Vendors");
    const vendorD = page.locator("#vendors tbody tr", { hasText: "vendorD" });
    const cells = await vendorD.locator("td").allTextContents();
    expect(cells[3]).toBe("5"); // accepted today
    expect(cells[5]).toBe("1"); // quarantined today
    expect(cells[6]).toContain("1 breaking");
    expect(
      await page.locator("#vendors tbody tr", { hasText: "vendorA" }).locator("td").nth(3).textContent(),
    ).toBe("1");
    await page.screenshot({ path: "/tmp/console-vendors-1280.png", fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await noHorizontalOverflow()).toBe(true);
    await page.screenshot({ path: "/tmp/console-vendors-390.png", fullPage: true });

    await Promise.all([
      page.waitForURL(/\/console\/vendors\/vendorD$/),
      vendorD.locator("a").first().click(),
    ]);
    expect(await page.locator("h1").textContent()).toContain("vendorD");
  });
});

describe("a vendor's page", () => {
  it("shows the scorecard of the last 7 days, today first, with the score and its parts", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(url("/console/vendors/vendorD"));

    const rows = page.locator("#scorecard tbody tr");
    expect(await rows.count()).toBe(7);
    const today = await rows.first().locator("td").allTextContents();
    // day, score, points taken, posts, accepted, duplicates, refused, quarantined
    expect(today.slice(3, 8)).toEqual(["5", "5", "0", "0", "1"]);
    // One quarantine in 5 accepted is past the 5 % at which its 30 points are taken whole; the
    // examples' occurredAt is months back, past the hour at which lateness takes its 15.
    expect(today[2]).toBe("quarantine 30.0, lateness 15.0");
    expect(today[1]).toBe("55");
    expect(await page.locator("#score-today .score").textContent()).toBe(today[1]);
  });

  it("lists drift findings open first, acknowledged ones muted, each with its example event linked", async () => {
    await page.goto(url("/console/vendors/vendorD"));

    const classes = await page
      .locator("#drift tbody tr")
      .evaluateAll((rows) => rows.map((row) => row.className));
    expect(classes.at(-1)).toBe("acked");
    expect(classes.filter((name) => name === "acked")).toHaveLength(1);
    expect(classes.indexOf("acked")).toBe(classes.length - 1);
    const first = await page.locator("#drift tbody tr").first().textContent();
    expect(first).toContain("breaking");
    expect(first).toContain("new_value");
    const acked = page.locator("#drift tbody tr.acked");
    expect(await acked.textContent()).toContain("line_count");
    expect(await acked.textContent()).toContain("acknowledged");
    expect(
      await acked
        .locator("td")
        .first()
        .evaluate((cell) => cell.ownerDocument.defaultView?.getComputedStyle(cell).color),
    ).toBe("rgb(93, 102, 119)");
    // The hostile field name is a path shown as text: nothing of it became an element or ran.
    expect(await page.locator("#drift").textContent()).toContain(HOSTILE_FIELD);
    expect(await page.locator("#drift script, #drift img").count()).toBe(0);
    expect(await page.title()).not.toContain("pwned");

    const example = page
      .locator("#drift tbody tr", { hasText: "new_value" })
      .locator(`a[href^="/console/events/"]`);
    await Promise.all([page.waitForURL(new RegExp(`/console/events/${ids.quarantined}$`)), example.click()]);
    expect(await page.locator("h1").textContent()).toContain("FAILED_NORMALIZE");
  });

  it("charts the last hour and day as inline SVG: events by outcome, lag, quarantine by reason", async () => {
    await page.goto(url("/console/vendors/vendorD"));

    for (const which of ["hour", "day"]) {
      const events = page.locator(`svg#${which}-events`);
      expect(await events.getAttribute("role")).toBe("img");
      expect(await events.locator("title").first().textContent()).toMatch(/^Events per .* by outcome/);
      expect(await events.locator("desc").textContent()).toContain("5 events accepted");
      expect(await events.locator("desc").textContent()).toContain("4 normalized, 1 quarantined");
      // Axis labels.
      expect(await events.textContent()).toContain("arrival time (UTC)");
      expect(await page.locator(`svg#${which}-lag`).textContent()).toContain("lag");
      expect(await page.locator(`svg#${which}-reasons desc`).textContent()).toBe("MAPPING_FAILED: 1");
      expect(await page.locator(`#${which}-totals`).textContent()).toContain(
        "5 accepted, 4 normalized, 1 quarantined, 0 in flight",
      );
      // The numbers behind the bars, in a table.
      const accepted = await page.locator(`#${which}-numbers tbody tr td:nth-child(2)`).allTextContents();
      const sum = accepted.reduce((total, cell) => total + Number(cell), 0);
      expect(sum).toBe(5);
    }
    expect(await page.locator("#coverage").count()).toBe(0);
    expect(await page.locator("script").count()).toBe(0);
    await page.screenshot({ path: "/tmp/console-vendor-1280.png", fullPage: true });
  });

  it("fits a 390 px window: nothing wider than the page but tables scrolling in their box", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(url("/console/vendors/vendorD"));

    const wide = await page.evaluate(
      "[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 391 && !e.closest('.table-wrap')).map((e) => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right).slice(0, 8)",
    );
    expect(wide).toEqual([]);
    expect(await noHorizontalOverflow()).toBe(true);
    const chartWidths = await page
      .locator("svg.chart")
      .evaluateAll((charts) => charts.map((chart) => chart.getBoundingClientRect().right));
    expect(chartWidths.length).toBe(6);
    for (const right of chartWidths) expect(right).toBeLessThanOrEqual(390);
    await page.screenshot({ path: "/tmp/console-vendor-390.png", fullPage: true });
  });

  it("answers 404 for a vendor that does not exist, with the console's headers", async () => {
    const response = await fetch(url(`/console/vendors/${encodeURIComponent("<nobody>")}`));

    expect(response.status).toBe(404);
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(await response.text()).toContain("No vendor &lt;nobody&gt;");
  });
});

describe("a vendor's activity", () => {
  it("reads the newest events within a budget and says from when it is complete", async () => {
    const now = Date.now();
    const { day } = windows(now);

    const whole = await vendorActivity(context, "vendorD", { from: day.from, to: now + 1 });
    const cut = await vendorActivity(context, "vendorD", { from: day.from, to: now + 1 }, { maxEvents: 2 });
    // One key per listing: the hour is more than the budget's listings, so it is listed again as 5-minute
    // and then 1-minute slices, newest first.
    const narrowed = await vendorActivity(
      context,
      "vendorD",
      { from: day.from, to: now + 1 },
      { maxEvents: 2, pageKeys: 1 },
    );

    expect(whole.events.map((event) => event.ingestId)).toEqual(
      [...ids.accepted, ids.quarantined, ids.hostile].sort().reverse(),
    );
    expect(whole.completeFrom).toBe(day.from);
    expect(whole.events.find((event) => event.ingestId === ids.quarantined)?.reason).toBe("MAPPING_FAILED");
    expect(whole.events.filter((event) => event.lagMs !== undefined)).toHaveLength(4);
    expect(cut.events.map((event) => event.ingestId)).toEqual(
      whole.events.slice(0, 2).map((e) => e.ingestId),
    );
    expect(cut.completeFrom).toBeGreaterThan(day.from);
    expect(cut.recordQueries).toBe(2);
    expect(narrowed.events).toEqual(cut.events);
    expect(narrowed.completeFrom).toBe(cut.completeFrom);
    expect(narrowed.listCalls).toBeGreaterThan(cut.listCalls);
  });

  it("puts each event in the bar of its arrival, with exact lag percentiles per bar", () => {
    const from = Date.UTC(2026, 0, 30, 10, 0);
    const at = (minute: number, second = 0) => from + minute * MINUTE_MS + second * 1000;
    const events = [
      { ingestId: "a", receivedAt: at(0, 5), status: "NORMALIZED" as const, lagMs: 100 },
      { ingestId: "b", receivedAt: at(0, 50), status: "NORMALIZED" as const, lagMs: 300 },
      { ingestId: "c", receivedAt: at(0, 59), status: "NORMALIZED" as const, lagMs: 200 },
      { ingestId: "d", receivedAt: at(2), status: "FAILED_NORMALIZE" as const, reason: "MAPPING_FAILED" },
      { ingestId: "e", receivedAt: at(2, 1), status: "RECEIVED" as const },
      { ingestId: "f", receivedAt: at(3), status: "NORMALIZED" as const },
    ];

    const series = activitySeries({ events, completeFrom: at(1) }, { from, to: at(3), bucketMs: MINUTE_MS });

    expect(series.buckets.map((b) => [b.accepted, b.normalized, b.quarantined, b.inFlight])).toEqual([
      [3, 3, 0, 0],
      [0, 0, 0, 0],
      [2, 0, 1, 1],
    ]);
    expect([series.buckets[0]?.lagP50Ms, series.buckets[0]?.lagP95Ms]).toEqual([200, 300]);
    expect(series.buckets[2]?.lagP50Ms).toBeUndefined();
    expect(series.buckets.map((b) => b.partial)).toEqual([true, false, false]);
    expect(series.quarantineByReason).toEqual([{ reason: "MAPPING_FAILED", count: 1 }]);
    expect(series.totals).toEqual({ accepted: 5, normalized: 3, quarantined: 1, inFlight: 1 });
  });

  it("greys out the part of a chart before the activity is complete, saying it was not read", () => {
    const from = Date.UTC(2026, 0, 30, 10, 0);
    const window = { from, to: from + 60 * MINUTE_MS, bucketMs: MINUTE_MS };
    const text = { id: "c", title: "t", bucketLabel: "minute", tickMs: 15 * MINUTE_MS };
    const event = {
      ingestId: "x",
      receivedAt: from + 30 * MINUTE_MS,
      status: "NORMALIZED" as const,
      lagMs: 5,
    };

    const cut = outcomeChart(
      activitySeries({ events: [event], completeFrom: from + 20 * MINUTE_MS }, window),
      text,
    );
    const whole = outcomeChart(activitySeries({ events: [event], completeFrom: from }, window), text);

    expect(cut.value).toContain(`<g class="unread">`);
    expect(cut.value).toContain("Before 10:20: not read");
    expect(whole.value).not.toContain("not read");
  });

  it("draws charts whose every text is escaped", () => {
    const from = Date.UTC(2026, 0, 30, 10, 0);
    const hostile = `</title><script>alert(1)</script>`;
    const series = activitySeries(
      {
        events: [{ ingestId: "x", receivedAt: from, status: "FAILED_NORMALIZE", reason: hostile }],
        completeFrom: from,
      },
      { from, to: from + 60 * MINUTE_MS, bucketMs: MINUTE_MS },
    );
    const text = { id: "c", title: hostile, bucketLabel: hostile, tickMs: 15 * MINUTE_MS };

    const drawn = [outcomeChart(series, text), lagChart(series, text), reasonChart(series, text)].join("");

    expect(drawn).not.toContain("<script>");
    expect(drawn).not.toContain("</title><script>");
    expect(drawn).toContain("&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
  });
});
