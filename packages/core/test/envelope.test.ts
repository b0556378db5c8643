import { describe, expect, it } from "vitest";
import { parseEnvelope, validateEnvelope } from "../src/envelope.ts";
import { EnvelopeError, InvalidJsonError, PayloadTooLargeError } from "../src/errors.ts";
import { seedEnvelope } from "./fixtures.ts";

const seed = seedEnvelope;

function rejection(body: unknown): EnvelopeError {
  try {
    validateEnvelope(body);
  } catch (error) {
    if (error instanceof EnvelopeError) return error;
    throw error;
  }
  throw new Error("expected the envelope to be rejected");
}

describe("envelope rules", () => {
  it("accepts the seed envelope as is", () => {
    expect(validateEnvelope(seed)).toEqual(seed);
  });

  it("accepts an envelope without schemaVersion", () => {
    const { schemaVersion: _omitted, ...withoutVersion } = seed;
    expect(validateEnvelope(withoutVersion).schemaVersion).toBeUndefined();
  });

  it.each(["vendorId", "externalEventId", "eventType", "occurredAt", "payload"])(
    "rejects a missing %s",
    (field) => {
      const body: Record<string, unknown> = { ...seed };
      delete body[field];
      expect(rejection(body).details.map((d) => d.path)).toEqual([field]);
    },
  );

  it.each([
    ["vendorId", ""],
    ["vendorId", "a".repeat(65)],
    ["vendorId", "vendor A"],
    ["vendorId", "vendor/A"],
    ["externalEventId", ""],
    ["externalEventId", "x".repeat(257)],
    ["externalEventId", "inv\n1"],
    ["externalEventId", "inv\u00001"],
    ["eventType", "Inventory_Update"],
    ["eventType", ""],
    ["eventType", "a".repeat(65)],
    ["occurredAt", "2026-01-30 20:15:12Z"],
    ["occurredAt", "2026-01-30T20:15:12"],
    ["occurredAt", "2026-02-30T20:15:12Z"],
    ["occurredAt", "2026-01-30T25:15:12Z"],
    ["occurredAt", "yesterday"],
    ["schemaVersion", 1],
    ["schemaVersion", ""],
    ["payload", [1, 2]],
    ["payload", "text"],
    ["payload", null],
  ])("rejects %s = %j, naming the field", (field, value) => {
    const error = rejection({ ...seed, [field]: value });
    expect(error.code).toBe("INVALID_ENVELOPE");
    expect(error.details).toHaveLength(1);
    expect(error.details[0]?.path).toBe(field);
    expect(error.details[0]?.message.length).toBeGreaterThan(5);
  });

  it.each([
    ["vendorId", "a".repeat(64)],
    ["vendorId", "Vendor_A.b-1"],
    ["externalEventId", "x".repeat(256)],
    ["externalEventId", "ordre n° 12 — été"],
    ["eventType", "order.status_v2-x"],
    ["occurredAt", "2026-01-30T20:15:12.123+02:00"],
    ["occurredAt", "2026-01-30t20:15:12z"],
  ])("accepts %s = %j at the edge of its rule", (field, value) => {
    expect(validateEnvelope({ ...seed, [field]: value })).toMatchObject({ [field]: value });
  });

  it("rejects occurredAt more than 24 hours in the future and accepts it just under", () => {
    const tooLate = new Date(Date.now() + 25 * 3600_000).toISOString();
    const fine = new Date(Date.now() + 23 * 3600_000).toISOString();
    expect(rejection({ ...seed, occurredAt: tooLate }).details[0]?.message).toMatch(/24 hours/);
    expect(validateEnvelope({ ...seed, occurredAt: fine }).occurredAt).toBe(fine);
  });

  it("rejects unknown top-level fields, naming each", () => {
    const error = rejection({ ...seed, extra: 1, other: true });
    expect(error.details.map((d) => d.path).sort()).toEqual(["extra", "other"]);
    expect(error.details[0]?.message).toMatch(/unknown field/);
  });

  it("reports every broken field at once", () => {
    const error = rejection({ ...seed, vendorId: "", eventType: "BAD", payload: 3 });
    expect(error.details.map((d) => d.path).sort()).toEqual(["eventType", "payload", "vendorId"]);
  });

  it("rejects a body that is not an object", () => {
    expect(rejection([seed]).details).toEqual([{ path: "$", message: "expected a JSON object" }]);
  });
});

describe("parsing a request body", () => {
  it("rejects a body that is not JSON", () => {
    expect(() => parseEnvelope("{not json")).toThrow(InvalidJsonError);
  });

  it("rejects a body over 262,144 bytes before parsing it", () => {
    const body = JSON.stringify({ ...seed, payload: { blob: "x".repeat(262_144) } });
    expect(() => parseEnvelope(body)).toThrow(PayloadTooLargeError);
  });

  it("accepts a body of exactly 262,144 bytes", () => {
    const base = JSON.stringify({ ...seed, payload: { blob: "" } });
    const body = JSON.stringify({
      ...seed,
      payload: { blob: "x".repeat(262_144 - Buffer.byteLength(base)) },
    });
    expect(Buffer.byteLength(body)).toBe(262_144);
    expect(parseEnvelope(Buffer.from(body)).vendorId).toBe("vendorA");
  });
});
