import { describe, expect, it } from "vitest";
import { classify, comparePayload, MAX_OBSERVATIONS_PER_EVENT } from "../src/drift/compare.ts";
import { buildDriftProfile, mappingReads } from "../src/drift/profile.ts";

const STATUS_MAPPING = `(
  $words := {"open": "ACKED", "sent": "SHIPPED", "done": "DELIVERED"};
  {"eventType": "OrderStatusChanged", "data": {"orderId": payload.ref, "status": $lookup($words, payload.state)}}
)`;

/** A status event whose schema lets anything through: only the profile can see what changed. */
const profile = buildDriftProfile({
  id: "vendorZ/order_state/1",
  payloadSchema: {
    type: "object",
    properties: {
      ref: { type: "string" },
      state: { type: "string" },
      lines: { type: ["integer", "string"] },
      note: { type: "string" },
    },
    required: ["ref", "state"],
  },
  mapping: STATUS_MAPPING,
  examples: [
    { ref: "Z-1", state: "open", lines: 2, note: "gift" },
    { ref: "Z-2", state: "sent", lines: 3, note: "" },
  ],
});

const kinds = (payload: unknown) =>
  comparePayload(profile, payload).map(({ kind, path }) => `${kind} ${path}`);

describe("mappingReads: the payload paths a JSONata mapping reads, from its AST", () => {
  it("follows payload paths, relative names inside a step, and the words a field is translated with", () => {
    const reads = mappingReads(
      `{"data": {"lines": payload.items.{"sku": code, "qty": $number(n)}, "kind": payload.k = "x" ? 1 : 2, "s": $lookup({"a": 1, "b": 2}, payload.s)}, "v": vendorId}`,
    );
    expect(reads.map((read) => [read.path.join("."), read.output ?? "", read.words ?? []])).toEqual([
      ["items.code", "data.lines.sku", []],
      ["items.n", "data.lines.qty", []],
      ["items", "data.lines", []],
      ["k", "data.kind", ["x"]],
      ["s", "data.s", ["a", "b"]],
    ]);
  });

  it("reads a $lookup table bound to a variable", () => {
    const state = mappingReads(STATUS_MAPPING).find((read) => read.path.join(".") === "state");
    expect(state).toMatchObject({ output: "data.status", words: ["open", "sent", "done"] });
  });
});

describe("comparePayload: one event against its version's profile", () => {
  it("finds nothing in a payload like the examples", () => {
    expect(kinds({ ref: "Z-9", state: "done", lines: 7, note: "x" })).toEqual([]);
  });

  it("names a new field, a number sent as a string and a status word the mapping does not translate", () => {
    const found = comparePayload(profile, {
      ref: "Z-9",
      state: "returned",
      lines: "7",
      note: "x",
      channel: "web",
    });
    expect(found).toEqual([
      {
        kind: "new_value",
        path: "state",
        expected: 'one of "open", "sent", "done" (mapping and examples)',
        seen: 'string "returned"',
      },
      { kind: "type_widened", path: "lines", expected: "integer (examples)", seen: 'string "7"' },
      {
        kind: "undeclared_field",
        path: "channel",
        expected: "not in the schema, the examples or the mapping",
        seen: 'string "web"',
      },
    ]);
  });

  it("says when a field every example carries is absent, and whether the mapping reads it", () => {
    expect(kinds({ ref: "Z-9", lines: 1 })).toEqual(["mapped_path_absent state", "field_absent note"]);
  });

  it("says when a required field is absent, even one only some examples carry", () => {
    const partly = buildDriftProfile({
      id: "v/t/1",
      payloadSchema: {
        type: "object",
        properties: { a: { type: "string" }, b: { type: "string" } },
        required: ["a", "b"],
      },
      mapping: `{"eventType": "X", "data": {"a": payload.a}}`,
      examples: [{ a: "x", b: "y" }, { a: "x" }],
    });
    expect(
      comparePayload(partly, {}).map(({ kind, path, expected }) => `${kind} ${path} ${expected}`),
    ).toEqual(["mapped_path_absent a required by the schema", "field_absent b required by the schema"]);
  });

  it("flags values far outside the examples only", () => {
    expect(kinds({ ref: "Z-9", state: "open", lines: 25, note: "x" })).toEqual([]);
    expect(kinds({ ref: "Z-9", state: "open", lines: 31, note: "x" })).toEqual(["out_of_range lines"]);
    expect(kinds({ ref: "Z-9", state: "open", lines: -1, note: "x" })).toEqual(["out_of_range lines"]);
    expect(kinds({ ref: "Z-9", state: "open", lines: 1, note: "x".repeat(17) })).toEqual([
      "out_of_range note",
    ]);
  });

  it("checks a schema enum before the examples' words", () => {
    const withEnum = buildDriftProfile({
      id: "v/t/1",
      payloadSchema: {
        type: "object",
        properties: { state: { enum: ["a", "b", "c"] } },
        additionalProperties: false,
      },
      mapping: `{"eventType": "X", "data": {"s": payload.state}}`,
      examples: [{ state: "a" }],
    });
    expect(comparePayload(withEnum, { state: "c" })).toEqual([]);
    expect(comparePayload(withEnum, { state: "d" })).toMatchObject([{ kind: "new_value", path: "state" }]);
  });

  it("stops at MAX_OBSERVATIONS_PER_EVENT however many junk fields a payload carries", () => {
    const junk = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`junk${i}`, i]));
    const found = comparePayload(profile, { ref: "Z-9", state: "open", lines: 1, note: "x", ...junk });
    expect(found).toHaveLength(MAX_OBSERVATIONS_PER_EVENT);
    expect(found.every((observation) => observation.kind === "undeclared_field")).toBe(true);
  });
});

describe("classify: breaking when the event's failure implicates the finding", () => {
  const found = comparePayload(profile, {
    ref: "Z-9",
    state: "returned",
    lines: "7",
    note: "x",
    channel: "web",
  });
  const severities = (verdict: Parameters<typeof classify>[2]) =>
    Object.fromEntries(
      found.map((observation) => [observation.kind, classify(profile, observation, verdict)]),
    );

  it("is non-breaking when the event passed", () => {
    expect(severities({ passed: true })).toEqual({
      new_value: "non_breaking",
      type_widened: "non_breaking",
      undeclared_field: "non_breaking",
    });
  });

  it("blames the payload fields a mapping failure's output field reads", () => {
    const verdict = {
      passed: false as const,
      code: "MAPPING_FAILED",
      details: [{ path: "data.status", message: "is required" }],
    };
    expect(severities(verdict)).toEqual({
      new_value: "breaking",
      type_widened: "non_breaking",
      undeclared_field: "non_breaking",
    });
  });

  it("blames the paths a validation failure names", () => {
    const verdict = {
      passed: false as const,
      code: "SCHEMA_VALIDATION_FAILED",
      details: [{ path: "payload.channel", message: "unknown field" }],
    };
    expect(severities(verdict)).toMatchObject({ undeclared_field: "breaking", new_value: "non_breaking" });
  });

  it("blames every path the mapping reads when the failure names no output field", () => {
    const verdict = {
      passed: false as const,
      code: "MAPPING_FAILED",
      details: [{ path: "mapping", message: "T2001" }],
    };
    expect(severities(verdict)).toEqual({
      new_value: "breaking",
      type_widened: "non_breaking",
      undeclared_field: "non_breaking",
    });
  });

  it("is non-breaking when the event failed for a reason other than its format", () => {
    const verdict = { passed: false as const, code: "STORAGE_UNAVAILABLE", details: [] };
    expect(Object.values(severities(verdict))).toEqual(["non_breaking", "non_breaking", "non_breaking"]);
  });
});
