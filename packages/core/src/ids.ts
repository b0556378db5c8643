import { decodeTime, isValid, monotonicFactory } from "ulid";

// Monotonic so ids minted in the same millisecond by one container still sort in arrival order.
const nextUlid = monotonicFactory();

/** A new ingestId: a ULID, so it sorts by arrival time and carries its own date. */
export function newIngestId(now: number = Date.now()): string {
  return nextUlid(now);
}

export function isIngestId(value: string): boolean {
  return isValid(value);
}

/**
 * When the event was received: the time in its ingestId, which ingest mints from the same clock
 * reading as the record's receivedAt. Undefined for a string that is not an ingestId.
 */
export function receivedAtOf(ingestId: string): string | undefined {
  return isValid(ingestId) ? new Date(decodeTime(ingestId)).toISOString() : undefined;
}

/** The UTC day of an ingestId's ULID time, as YYYY/MM/DD: replays of an event land on the same keys. */
export function ingestDatePath(ingestId: string): string {
  return new Date(decodeTime(ingestId)).toISOString().slice(0, 10).replaceAll("-", "/");
}
