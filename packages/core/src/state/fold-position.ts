import { EnvelopeError } from "../errors.ts";

/**
 * Where an event sits in its entity's fold (docs/spec/canonical-state.md): occurredAt as an instant; among events at
 * the same instant the preferred one applies last, so it is the one that wins: the lower priority
 * number, then the smaller externalEventId, then the smaller vendorId (so two vendors' events with
 * the same id still have one order). Stored with the event, so the priority is the one the vendor
 * had when the event was applied.
 */
export interface FoldPosition {
  /** occurredAt as a UTC instant with nine fraction digits: compares as a string across offsets. */
  at: string;
  priority: number;
  externalEventId: string;
  vendorId: string;
}

// RFC 3339 date-time with a mandatory offset or Z, as the envelope accepts it.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * occurredAt as a sortable UTC instant, `YYYY-MM-DDTHH:MM:SS.fffffffffZ`: "2026-01-30T21:15:12+01:00"
 * and "2026-01-30T20:15:12Z" give the same string, and sub-millisecond digits are kept (to the
 * nanosecond) so they still order events.
 */
export function instantOf(occurredAt: string): string {
  const m = RFC3339.exec(occurredAt);
  if (!m) {
    throw new EnvelopeError(`occurredAt ${JSON.stringify(occurredAt)} is not an RFC 3339 date-time`, {
      details: [{ path: "occurredAt", message: "must be an RFC 3339 date-time with an offset or Z" }],
    });
  }
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const sign = m[8] === "-" ? -1 : 1;
  const offsetMinutes = m[8] === undefined ? 0 : sign * (Number(m[9]) * 60 + Number(m[10]));
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offsetMinutes, second, 0);
  const fraction = (m[7] ?? "").padEnd(9, "0").slice(0, 9);
  return `${date.toISOString().slice(0, 19)}.${fraction}Z`;
}

/** Milliseconds since the epoch of an instant from instantOf (sub-millisecond digits dropped). */
export function instantMillis(at: string): number {
  return Date.parse(`${at.slice(0, 23)}Z`);
}

export function foldPositionOf(
  event: { occurredAt: string; externalEventId: string; vendorId: string },
  priority: number,
): FoldPosition {
  return {
    at: instantOf(event.occurredAt),
    priority,
    externalEventId: event.externalEventId,
    vendorId: event.vendorId,
  };
}

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Total order of the fold: negative when `a` comes first. The last event applied wins, so at the
 * same instant the order is descending: a higher priority number, a larger externalEventId, a
 * larger vendorId first, and the preferred event last.
 */
export function compareFoldPositions(a: FoldPosition, b: FoldPosition): number {
  return (
    compareStrings(a.at, b.at) ||
    Math.sign(b.priority - a.priority) ||
    compareStrings(b.externalEventId, a.externalEventId) ||
    compareStrings(b.vendorId, a.vendorId)
  );
}

/**
 * Inserts into a list sorted by (key, ingestId), keeping it sorted; returns the new list and the
 * index. The ingestId only separates what should not exist: one vendor event under two ingestIds.
 * The list is sorted again first (linear when it already is): an item stored under an earlier tie
 * order takes the current one at its next event.
 */
export function insertSorted<T extends { key: FoldPosition; ingestId: string }>(
  list: readonly T[],
  entry: T,
): { list: T[]; index: number } {
  const compare = (a: T, b: T) =>
    compareFoldPositions(a.key, b.key) || compareStrings(a.ingestId, b.ingestId);
  const sorted = [...list].sort(compare);
  let index = sorted.length;
  while (index > 0 && compare(sorted[index - 1] as T, entry) > 0) index--;
  sorted.splice(index, 0, entry);
  return { list: sorted, index };
}
