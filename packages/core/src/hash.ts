import { createHash } from "node:crypto";
import type { Envelope } from "./envelope.ts";

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Canonical JSON: object keys sorted at every depth, no whitespace. Two payloads that differ only
 * in key order or formatting are the same content.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The hash that tells a duplicate from a conflict: the fields the contract names as "content"
 * (eventType, occurredAt, schemaVersion, payload), not the formatting of the body.
 */
export function contentHash(envelope: Envelope): string {
  return sha256Hex(
    canonicalJson({
      eventType: envelope.eventType,
      occurredAt: envelope.occurredAt,
      schemaVersion: envelope.schemaVersion ?? null,
      payload: envelope.payload,
    }),
  );
}

export type IdempotencyDecision =
  | { outcome: "DUPLICATE"; ingestId: string }
  | { outcome: "CONFLICT"; ingestId: string };

/** What an existing record means for an incoming event with the same (vendorId, externalEventId). */
export function decideIdempotency(
  existing: { ingestId: string; payloadSha256: string },
  incomingHash: string,
): IdempotencyDecision {
  return existing.payloadSha256 === incomingHash
    ? { outcome: "DUPLICATE", ingestId: existing.ingestId }
    : { outcome: "CONFLICT", ingestId: existing.ingestId };
}
