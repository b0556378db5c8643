import { describe, expect, it } from "vitest";
import { decodeNested, displayJson, HEX_DUMP_BYTES, hexDump, rawBodyView } from "../src/console/display.ts";
import { entityHref } from "../src/console/links.ts";
import { storyPage } from "../src/console/pages.ts";
import { CHAIN_PAGE_STEPS, chainWindow } from "../src/console/state.ts";
import { inventoryEntityPage } from "../src/console/state-pages.ts";

describe("decodeNested", () => {
  it("decodes a Cause whose errorMessage is JSON again, at every level", () => {
    const failure = { code: "MAPPING_FAILED", message: "data.quantityOnHand: must be a number" };
    const cause = JSON.stringify({ errorType: "MappingError", errorMessage: JSON.stringify(failure) });

    expect(decodeNested({ error: { Error: "MappingError", Cause: cause } })).toEqual({
      error: { Error: "MappingError", Cause: { errorType: "MappingError", errorMessage: failure } },
    });
    expect(displayJson({ Cause: cause })).not.toContain("\\");
  });

  it("keeps strings that are not a JSON object or array as they are", () => {
    expect(decodeNested({ a: "12", b: "true", c: "{not json", d: "[1, 2", e: "plain" })).toEqual({
      a: "12",
      b: "true",
      c: "{not json",
      d: "[1, 2",
      e: "plain",
    });
    expect(decodeNested("Lambda timed out")).toBe("Lambda timed out");
  });

  it("stops at a depth, so a string nested deep is left as text", () => {
    let value = "[]";
    for (let i = 0; i < 20; i++) value = JSON.stringify([value]);

    expect(() => displayJson(value)).not.toThrow();
    expect(displayJson(value)).toContain("\\");
  });

  it("cuts a long value, saying so", () => {
    expect(displayJson({ text: "x".repeat(50) }, 20)).toMatch(/\n… \(truncated\)$/);
  });
});

describe("rawBodyView", () => {
  it("shows a UTF-8 body as its text, BOM and all", () => {
    const body = Buffer.from('\ufeff{"sku":"é-\u{1f4e6}"}\r\n');

    expect(rawBodyView(body)).toEqual({
      kind: "text",
      bytes: body.length,
      text: '\ufeff{"sku":"é-\u{1f4e6}"}\r\n',
    });
  });

  it("shows bytes that are not UTF-8, or hold control characters, as hex", () => {
    expect(rawBodyView(Uint8Array.from([0x7b, 0xff, 0x7d]))).toMatchObject({
      kind: "binary",
      why: "not valid UTF-8",
      hex: `00000000  ${"7b ff 7d".padEnd(47)}  {.}`,
    });
    expect(rawBodyView(Buffer.from('{"a":"\u0000"}'))).toMatchObject({
      kind: "binary",
      why: "holds control characters",
    });
  });

  it("dumps only the first bytes of a large binary body", () => {
    const view = rawBodyView(new Uint8Array(HEX_DUMP_BYTES * 2).fill(0xff));

    expect(view).toMatchObject({ kind: "binary", bytes: HEX_DUMP_BYTES * 2, shown: HEX_DUMP_BYTES });
    expect(view.kind === "binary" && view.hex.split("\n")).toHaveLength(HEX_DUMP_BYTES / 16);
  });

  it("dumps 16 bytes a line with offsets", () => {
    expect(hexDump(Buffer.from("0123456789abcdefXY")).split("\n")).toEqual([
      "00000000  30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66  0123456789abcdef",
      `00000010  ${"58 59".padEnd(47)}  XY`,
    ]);
  });
});

describe("the event page's raw body", () => {
  const story = { ingestId: "01ARZ3NDEKTSV4RRFFQ69G5FAV", executions: [], divergences: [] };
  const rawRef = { bucket: "raw", key: `raw/vendorA/"><img src=x onerror=alert(1)>.json` };

  it("escapes a hostile body and key", () => {
    const body = Buffer.from(`{"sku":"<script>alert(1)</script>","w":"\\"><img src=x onerror=alert(1)>"}`);

    const page = storyPage(story, undefined, { ingestId: story.ingestId, rawRef, body });

    expect(page).toContain(`<pre class="raw" id="raw-body">\n{&quot;sku&quot;:&quot;&lt;script&gt;`);
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(page).not.toMatch(/<script|<img/);
  });

  it("renders a binary body as an escaped hex dump, and a missing one as a note", () => {
    const body = Buffer.concat([Buffer.from("<script>"), Buffer.from([0xff])]);

    const page = storyPage(story, undefined, { ingestId: story.ingestId, rawRef, body });

    expect(page).toContain('<pre class="hex" id="raw-body">00000000  3c 73 63 72 69 70 74 3e ff');
    expect(page).toContain("&lt;script&gt;.");
    expect(page).toContain("9 bytes at");
    expect(page).not.toMatch(/<script|<img/);
    expect(storyPage(story, undefined, { missing: "The raw body is gone" })).toContain(
      '<p class="muted">The raw body is gone</p>',
    );
  });
});

describe("an entity page's chain", () => {
  const state = {
    warehouseId: "ROA",
    sku: "A/1",
    quantityOnHand: 150,
    asOf: "2026-01-30T20:00:00Z",
    version: 150,
    lastIngestId: "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    sourceVendorId: "vendorA",
  };
  const steps = Array.from({ length: 150 }, (_, i) => ({
    ingestId: `01ARZ3NDEKTSV4RRFFQ69G${String(i).padStart(4, "0")}`,
    vendorId: "vendorA",
    externalEventId: `e-${i}`,
    eventType: "InventoryAdjusted",
    occurredAt: "2026-01-30T20:00:00Z",
    mappingVersion: "1",
    rawKey: "raw/k.json",
    version: i + 1,
    effect: "add" as const,
    value: 1,
    running: i + 1,
    divergences: [],
  }));
  const explanation = {
    entity: { type: "inventory" as const, key: "ROA#A/1" },
    state,
    steps,
    otherDivergences: [],
    consistent: true,
  };

  it("shows the latest CHAIN_PAGE_STEPS steps, then earlier ones from a step number", () => {
    expect(chainWindow(150, undefined)).toEqual({ from: 150 - CHAIN_PAGE_STEPS, to: 150 });
    expect(chainWindow(150, 50)).toEqual({ from: 0, to: 50 });
    expect(chainWindow(150, 999)).toEqual({ from: 50, to: 150 });
    expect(chainWindow(3, undefined)).toEqual({ from: 0, to: 3 });
  });

  it("links to the earlier steps and back, by the entity's encoded path", () => {
    const latest = inventoryEntityPage({
      explanation,
      from: 50,
      to: 150,
      feed: new Map(),
      unknownPositions: new Set<string>(),
    });
    const earlier = inventoryEntityPage({
      explanation,
      from: 0,
      to: 50,
      feed: new Map(),
      unknownPositions: new Set<string>(),
    });

    expect(latest).toContain('<a id="earlier" href="/console/inventory/ROA/A%2F1?before=50">');
    expect(latest).toContain("Chain (150 events, 51 to 150 shown)");
    expect(latest.match(/<tr><td class="num">/g)).toHaveLength(100);
    expect(latest).toContain("<b>100</b> of the events shown are not in the feed yet");
    expect(earlier).not.toContain('id="earlier"');
    expect(earlier).toContain('<a href="/console/inventory/ROA/A%2F1">latest steps</a>');
  });

  it("says a step's feed position is not known when its log item records none (logged before positions were)", () => {
    const older = new Set(steps.slice(0, 2).map((step) => step.ingestId));
    const page = inventoryEntityPage({
      explanation: { ...explanation, steps: steps.slice(0, 3) },
      from: 0,
      to: 3,
      feed: new Map(),
      unknownPositions: older,
    });

    expect(page.match(/<td class="mono"><span class="muted">not known<\/span><\/td>/g)).toHaveLength(2);
    expect(page).toContain("<b>1</b> of the events shown are not in the feed yet");
    expect(page).toContain(
      '<b id="unknown-positions">2</b> of the events shown were logged before the log recorded feed positions',
    );
  });

  it("warns when the chain does not end at the stored value", () => {
    const page = inventoryEntityPage({
      explanation: { ...explanation, steps: steps.slice(0, 3), consistent: false },
      from: 0,
      to: 3,
      feed: new Map(),
      unknownPositions: new Set<string>(),
    });

    expect(page).toContain("The chain does not end at the stored value");
  });
});

describe("entityHref", () => {
  it("links an inventory key to its page, undoing the key's escapes", () => {
    expect(entityHref("inventory", "ROA#ABC-001")).toBe("/console/inventory/ROA/ABC-001");
    expect(entityHref("inventory", "W%23x#y%2523/z")).toBe("/console/inventory/W%23x/y%2523%2Fz");
    expect(entityHref("order", "SO/1?")).toBe("/console/orders/SO%2F1%3F");
  });

  it("gives no link for a key that names no page", () => {
    expect(entityHref("inventory", "no-separator")).toBeUndefined();
    expect(entityHref("ingest", "vendorA#e-1")).toBeUndefined();
  });
});
