import * as v from "valibot";
import { EnvelopeError, type FieldIssue, InvalidJsonError, PayloadTooLargeError } from "./errors.ts";

/** The whole request body, in bytes (the envelope contract, docs/contract). */
export const MAX_BODY_BYTES = 262_144;
/** How far in the future occurredAt may be: vendors' clocks drift, but not by days. */
export const MAX_FUTURE_SKEW_MS = 24 * 60 * 60 * 1000;
/**
 * How deep objects and arrays may nest in the payload (the payload object is level 1) or in any
 * other field: what hashes, validates and maps a body recurses, and must never run out of stack.
 */
export const MAX_NESTING_DEPTH = 64;

/**
 * The longest occurredAt: an RFC 3339 date-time with nanoseconds and an offset is 35 characters
 * (`2026-01-30T20:15:12.123456789+01:00`); digits beyond the nanosecond do not order events anyway.
 */
export const MAX_OCCURRED_AT_LENGTH = 64;

/** What a vendorId may be: also what keeps `#` out of every key that starts with one. */
export const VENDOR_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

// RFC 3339 date-time with a mandatory offset or Z; fractional seconds allowed.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

export function isRfc3339(value: string): boolean {
  const m = RFC3339.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  const offsetHour = m[9] === undefined ? 0 : Number(m[9]);
  const offsetMinute = m[10] === undefined ? 0 : Number(m[10]);
  const daysInMonth = new Date(Date.UTC(year ?? 0, month ?? 0, 0)).getUTCDate();
  return (
    (month ?? 0) >= 1 &&
    (month ?? 0) <= 12 &&
    (day ?? 0) >= 1 &&
    (day ?? 0) <= daysInMonth &&
    (hour ?? 0) <= 23 &&
    (minute ?? 0) <= 59 &&
    // 60 is RFC 3339's leap second: a date-time, refused by its own rule (isNotLeapSecond).
    (second ?? 0) <= 60 &&
    offsetHour <= 23 &&
    offsetMinute <= 59
  );
}

/**
 * Leap seconds are refused: JavaScript dates (and so every consumer's parser) have no second 60,
 * and no leap second is scheduled. The vendor sends 23:59:59 or the next minute's 00.
 */
const isNotLeapSecond = (value: string) => RFC3339.exec(value)?.[6] !== "60";

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const WELL_FORMED = "well-formed Unicode (no lone surrogates)";

export const EnvelopeSchema = v.strictObject(
  {
    vendorId: v.pipe(
      v.string("vendorId must be a string"),
      v.regex(VENDOR_ID_PATTERN, "vendorId must be 1-64 characters of A-Z a-z 0-9 . _ -"),
    ),
    externalEventId: v.pipe(
      v.string("externalEventId must be a string"),
      v.minLength(1, "externalEventId must not be empty"),
      v.maxLength(256, "externalEventId must be at most 256 characters"),
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the rule is precisely about control characters
      v.regex(/^[^\u0000-\u001f\u007f-\u009f]+$/, "externalEventId must not contain control characters"),
      // A lone surrogate has no UTF-8 form: stored, "\ud800-x" and "\udc00-x" would be one id.
      v.check((value) => value.isWellFormed(), `externalEventId must be ${WELL_FORMED}`),
    ),
    eventType: v.pipe(
      v.string("eventType must be a string"),
      v.regex(/^[a-z0-9._-]{1,64}$/, "eventType must be 1-64 characters of a-z 0-9 . _ -"),
    ),
    occurredAt: v.pipe(
      v.string("occurredAt must be a string"),
      // Kept as sent on the entity's state item (once per remembered event) and in the feed.
      v.maxLength(MAX_OCCURRED_AT_LENGTH, `occurredAt must be at most ${MAX_OCCURRED_AT_LENGTH} characters`),
      v.check(isRfc3339, "occurredAt must be an RFC 3339 date-time with an offset or Z"),
      v.check(
        isNotLeapSecond,
        "occurredAt must not be a leap second (second 60): send 23:59:59 or the next minute's 00",
      ),
      v.check((value) => !Number.isNaN(Date.parse(value)), "occurredAt must be a date-time that exists"),
      v.check(
        (value) => Date.parse(value) - Date.now() <= MAX_FUTURE_SKEW_MS,
        "occurredAt must not be more than 24 hours in the future",
      ),
    ),
    schemaVersion: v.optional(
      v.pipe(
        v.string("schemaVersion must be a string"),
        v.regex(/^[A-Za-z0-9._-]{1,32}$/, "schemaVersion must be 1-32 characters of A-Z a-z 0-9 . _ -"),
      ),
    ),
    payload: v.custom<Record<string, unknown>>(isPlainObject, "payload must be a JSON object"),
  },
  (issue) =>
    issue.expected === "never" ? "unknown field" : `${issue.expected.replaceAll('"', "")} is required`,
);

export type Envelope = v.InferOutput<typeof EnvelopeSchema>;

function issuePath(issue: v.BaseIssue<unknown>): string {
  return (issue.path ?? []).map((item) => String(item.key)).join(".") || "$";
}

/**
 * What no field of a body may hold, found without recursion (so before anything that recurses):
 * objects and arrays nested deeper than MAX_NESTING_DEPTH, and strings or keys that are not
 * well-formed Unicode. At most one issue per top-level field, the first found.
 */
function structureIssues(body: Record<string, unknown>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const [field, value] of Object.entries(body)) {
    // Depth-first with an explicit stack; `depth` is the nesting level of `value` itself.
    const stack: { value: unknown; depth: number; path: string }[] = [{ value, depth: 0, path: field }];
    let issue: FieldIssue | undefined;
    while (!issue && stack.length > 0) {
      const item = stack.pop() as { value: unknown; depth: number; path: string };
      if (typeof item.value === "string") {
        // The envelope's own fields say it in their rules' words (EnvelopeSchema).
        if (
          !item.value.isWellFormed() &&
          !(item.path === field && Object.hasOwn(EnvelopeSchema.entries, field))
        ) {
          issue = { path: item.path, message: `must be ${WELL_FORMED}` };
        }
        continue;
      }
      if (typeof item.value !== "object" || item.value === null) continue;
      const depth = item.depth + 1;
      if (depth > MAX_NESTING_DEPTH) {
        issue = {
          path: field,
          message: `${field} must not nest objects and arrays more than ${MAX_NESTING_DEPTH} levels deep`,
        };
        continue;
      }
      const entries = Object.entries(item.value);
      if (entries.some(([key]) => !key.isWellFormed())) {
        issue = { path: item.path, message: `a key must be ${WELL_FORMED}` };
        continue;
      }
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i] as [string, unknown];
        stack.push({ value: child, depth, path: `${item.path}.${key}` });
      }
    }
    if (issue) issues.push(issue);
  }
  return issues;
}

/** Validates a parsed body against the envelope rules; throws EnvelopeError with one detail per field. */
export function validateEnvelope(body: unknown): Envelope {
  if (!isPlainObject(body)) {
    throw new EnvelopeError("The request body must be a JSON object", {
      details: [{ path: "$", message: "expected a JSON object" }],
    });
  }
  const structure = structureIssues(body);
  // valibot stops at the first unknown key; a vendor fixing a body wants all of them at once.
  const unknownFields: FieldIssue[] = Object.keys(body)
    // Own keys only: "constructor" or "__proto__" is an unknown field like any other.
    .filter((key) => !Object.hasOwn(EnvelopeSchema.entries, key))
    .filter((key) => !structure.some((issue) => issue.path.split(".")[0] === key))
    .map((key) => ({ path: key, message: `unknown field "${key}"` }));
  const result = v.safeParse(EnvelopeSchema, body, { abortPipeEarly: true });
  if (result.success && structure.length === 0) return result.output;
  const details: FieldIssue[] = [
    ...structure,
    ...(result.issues ?? [])
      .filter((issue) => !(issue.type === "strict_object" && issue.expected === "never"))
      .map((issue) => ({ path: issuePath(issue), message: issue.message })),
    ...unknownFields,
  ];
  throw new EnvelopeError(
    `The envelope breaks ${details.length} rule(s): ${details.map((d) => d.path).join(", ")}`,
    {
      details,
    },
  );
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Size check, then JSON parse, then envelope rules: the order a vendor's mistakes are most useful in. */
export function parseEnvelope(rawBody: string | Buffer): Envelope {
  const bytes = typeof rawBody === "string" ? Buffer.byteLength(rawBody) : rawBody.length;
  if (bytes > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`The request body is ${bytes} bytes; the limit is ${MAX_BODY_BYTES}`);
  }
  let text: string;
  try {
    // JSON is UTF-8 (RFC 8259): decoding leniently would turn different bytes into one U+FFFD.
    text = typeof rawBody === "string" ? rawBody : utf8.decode(rawBody);
  } catch (cause) {
    throw new InvalidJsonError("The request body is not valid UTF-8", { cause });
  }
  let body: unknown;
  try {
    // JSON.parse does not recurse: any depth parses, and validateEnvelope bounds it.
    body = JSON.parse(text);
  } catch (cause) {
    throw new InvalidJsonError(`The request body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return validateEnvelope(body);
}
