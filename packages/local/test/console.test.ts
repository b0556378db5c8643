import { existsSync, mkdirSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CliHarness,
  startCliHarness,
  stockEnvelope,
  vendorsWithBrokenVendorF,
  writeStockVersion,
} from "../../cli/test/harness.ts";
import { escapeHtml, html } from "../src/console/html.ts";
import { REPO_ROOT } from "../src/lambda.ts";
import { seedEnvelope, tempDir } from "./harness.ts";

// Screenshots for a person to look at; test-results/ is git-ignored.
const SCREENSHOTS = join(REPO_ROOT, "test-results/console");
const CHROMIUM = "/usr/bin/chromium";
const XSS_ID = `<img src=x onerror="document.title='pwned'">"'&`;

let dvss: CliHarness;
let browser: BrowserContext;
let page: Page;
const ids = { normalized: "", broken: "", xss: "" };

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: \`apt-get install -y chromium\` (.ci/run does)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  dvss = await startCliHarness({ vendorsDir: vendorsWithBrokenVendorF(), console: true });
  ids.normalized = await dvss.postAndSettle({ ...seedEnvelope, externalEventId: "console-ok-1" });
  ids.broken = await dvss.postAndSettle(stockEnvelope("console-broken-1"));
  ids.xss = await dvss.postAndSettle({ ...seedEnvelope, externalEventId: XSS_ID });
  browser = await chromium.launchPersistentContext(tempDir("dvss-chromium-"), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  page = browser.pages()[0] ?? (await browser.newPage());
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await dvss?.close();
});

const url = (path: string) => `${dvss.endpoints.api}${path}`;

describe("the local console in a browser", () => {
  it("lists recent events with their status and counts per vendor, every value escaped", async () => {
    await page.goto(url("/console"));

    await expect(page.locator("h1").textContent()).resolves.toBe("Events");
    const vendorRows = await page
      .locator("#vendor-counts tbody tr")
      .evaluateAll((rows) =>
        rows.map((row) => [...row.querySelectorAll("td")].map((td) => td.textContent?.trim()).join(" ")),
      );
    expect(vendorRows).toEqual(["vendorA 0 2 0 2", "vendorF 0 0 1 1"]);
    expect(await page.locator("#events tbody tr").count()).toBe(3);
    // The hostile externalEventId is shown as text, and never became an element or ran.
    expect(await page.locator("#events").textContent()).toContain(XSS_ID);
    expect(await page.locator("#events img").count()).toBe(0);
    expect(await page.title()).toBe("Events · DVSS local console");
    await page.screenshot({ path: join(SCREENSHOTS, "events.png"), fullPage: true });
  });

  it("filters by vendor and status", async () => {
    await page.goto(url("/console"));

    await page.selectOption("select[name=vendor]", "vendorF");
    await page.selectOption("select[name=status]", "FAILED_NORMALIZE");
    await Promise.all([page.waitForURL(/vendor=vendorF/), page.click("form.filters button[type=submit]")]);

    const rows = await page.locator("#events tbody tr").allTextContents();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(ids.broken);
    expect(rows[0]).toContain("FAILED_NORMALIZE");
  });

  it("opens an event: its record, quarantine entry and execution graph with the failing state's error", async () => {
    await page.goto(url("/console?vendor=vendorF"));

    await Promise.all([
      page.waitForURL(/\/console\/events\//),
      page.click(`a[href="/console/events/${ids.broken}"]`),
    ]);
    expect(await page.locator("h1").textContent()).toContain("FAILED_NORMALIZE");
    expect(await page.locator("#quarantine").textContent()).toContain("MAPPING_FAILED");
    expect(await page.locator(".graph .node.caught").allTextContents()).toEqual([
      expect.stringContaining("Map"),
    ]);
    expect(await page.locator(".graph .node.succeeded").count()).toBeGreaterThan(3);
    // The graph's node links to its step: input, output and the error.
    const stepAnchor = await page.locator(".graph .node.caught").getAttribute("href");
    const mapStep = page.locator(stepAnchor ?? "#missing");
    expect(await mapStep.locator("summary").textContent()).toContain("Map");
    expect(await mapStep.locator("pre.error").textContent()).toContain("data.quantityOnHand");
    await page.screenshot({ path: join(SCREENSHOTS, "event-quarantined.png"), fullPage: true });
  });

  it("redrives a quarantined event from the quarantine page once its mapping is fixed, and it ends NORMALIZED", async () => {
    const published = await dvss.cli("mapping", "publish", writeStockVersion(tempDir("dvss-console-"), "2"));
    expect(published.code).toBe(0);
    await page.goto(url("/console/quarantine"));
    expect(await page.locator("#quarantine tbody").textContent()).toContain(ids.broken);
    await page.screenshot({ path: join(SCREENSHOTS, "quarantine.png"), fullPage: true });

    const row = page.locator("#quarantine tbody tr", { hasText: ids.broken });
    await Promise.all([page.waitForURL(/flash=/), row.locator("button", { hasText: "Redrive" }).click()]);

    expect(await page.locator(".flash").textContent()).toBe(`Redrive of ${ids.broken}: NORMALIZED`);
    await page.goto(url(`/console/events/${ids.broken}`));
    expect(await page.locator("h1 .badge").textContent()).toBe("NORMALIZED");
    expect(await page.locator("#quarantine").textContent()).toContain("resolved");
    expect(await page.locator(".execution").count()).toBe(2);
    expect(await page.locator(".execution").last().textContent()).toContain(`${ids.broken}-redrive-2`);
    await page.screenshot({ path: join(SCREENSHOTS, "event-redriven.png"), fullPage: true });
  });
});

function rawRequest(method: string, path: string, headers: Record<string, string>, body = "") {
  return new Promise<number>((resolve, reject) => {
    const target = new URL(url(path));
    const req = request({ host: target.hostname, port: target.port, method, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("the console's guards", () => {
  it("refuses a redrive posted from another origin, and any request naming another host", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded" };

    const crossSite = await rawRequest(
      "POST",
      "/console/redrive",
      { ...form, origin: "http://evil.example" },
      `ingestId=${ids.broken}`,
    );
    const rebound = await rawRequest("GET", "/console", { host: "evil.example" });

    expect(crossSite).toBe(403);
    expect(rebound).toBe(403);
  });

  it("answers 404 for an unknown event, with the page escaped", async () => {
    const response = await fetch(url("/console/events/01ARZ3NDEKTSV4RRFFQ69G5FAV"));

    expect(response.status).toBe(404);
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
  });

  it("escapes every interpolated value and keeps only html-built markup", () => {
    const hostile = `<script>alert("x")</script>'&\``;

    const rendered = html`<p title="${hostile}">${hostile}${[html`<b>${hostile}</b>`]}</p>`.value;

    expect(rendered).not.toContain("<script>");
    expect(rendered).toBe(
      `<p title="${escapeHtml(hostile)}">${escapeHtml(hostile)}<b>${escapeHtml(hostile)}</b></p>`,
    );
    expect(escapeHtml(hostile)).toBe("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;&#96;");
  });
});
