import * as v from "valibot";
import { EnvelopeError, type FieldIssue, InvalidJsonError, PayloadTooLargeError } from "./errors.ts";

/** The whole request body, in bytes (CONTRACT §1). */
export const MAX_BODY_BYTES = 262_144;
/** How far in the future occurredAt may be: vendors' clocks drift, but not by days. */
export const MAX_FUTURE_SKEW_MS = 24 * 60 * 60 * 1000;

// RFC 3339 date-time with a mandatory offset or Z; fractional seconds allowed.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

function isRfc3339(value: string): boolean {
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
    (second ?? 0) <= 60 &&
    offsetHour <= 23 &&
    offsetMinute <= 59
  );
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export const EnvelopeSchema = v.strictObject(
  {
    vendorId: v.pipe(
      v.string("vendorId must be a string"),
      v.regex(/^[A-Za-z0-9._-]{1,64}$/, "vendorId must be 1-64 characters of A-Z a-z 0-9 . _ -"),
    ),
    externalEventId: v.pipe(
      v.string("externalEventId must be a string"),
      v.minLength(1, "externalEventId must not be empty"),
      v.maxLength(256, "externalEventId must be at most 256 characters"),
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the rule is precisely about control characters
      v.regex(/^[^\u0000-\u001f\u007f-\u009f]+$/, "externalEventId must not contain control characters"),
    ),
    eventType: v.pipe(
      v.string("eventType must be a string"),
      v.regex(/^[a-z0-9._-]{1,64}$/, "eventType must be 1-64 characters of a-z 0-9 . _ -"),
    ),
    occurredAt: v.pipe(
      v.string("occurredAt must be a string"),
      v.check(isRfc3339, "occurredAt must be an RFC 3339 date-time with an offset or Z"),
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

/** Validates a parsed body against the envelope rules; throws EnvelopeError with one detail per field. */
export function validateEnvelope(body: unknown): Envelope {
  if (!isPlainObject(body)) {
    throw new EnvelopeError("The request body must be a JSON object", {
      details: [{ path: "$", message: "expected a JSON object" }],
    });
  }
  // valibot stops at the first unknown key; a vendor fixing a body wants all of them at once.
  const unknownFields: FieldIssue[] = Object.keys(body)
    .filter((key) => !(key in EnvelopeSchema.entries))
    .map((key) => ({ path: key, message: `unknown field "${key}"` }));
  const result = v.safeParse(EnvelopeSchema, body, { abortPipeEarly: true });
  if (result.success) return result.output;
  const details: FieldIssue[] = [
    ...result.issues
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

/** Size check, then JSON parse, then envelope rules: the order a vendor's mistakes are most useful in. */
export function parseEnvelope(rawBody: string | Buffer): Envelope {
  const bytes = typeof rawBody === "string" ? Buffer.byteLength(rawBody) : rawBody.length;
  if (bytes > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`The request body is ${bytes} bytes; the limit is ${MAX_BODY_BYTES}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString());
  } catch (cause) {
    throw new InvalidJsonError(`The request body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return validateEnvelope(body);
}
