import { describe, expect, it } from "vitest";
import { decodeNested, displayJson, HEX_DUMP_BYTES, hexDump, rawBodyView } from "../src/console/display.ts";
import { storyPage } from "../src/console/pages.ts";

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
