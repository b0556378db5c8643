import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { InvalidSignatureError } from "./errors.ts";

/**
 * Signed requests, the Standard Webhooks scheme (docs/contract/README.md, "Signed requests"): the
 * vendor sends `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, a
 * space-separated list of `v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<body>">`, keyed with the
 * bytes of its secret `whsec_<base64>`.
 */

/** How far a request's timestamp may be from the server's clock, either way. */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;
/** Longest id and signature list read; real ones are far shorter, anything longer is refused unread. */
const MAX_ID_LENGTH = 256;
const MAX_SIGNATURE_HEADER_LENGTH = 4096;

/** A new signing secret, shown once to whoever created it. */
export function generateSigningSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString("base64")}`;
}

/** The HMAC key of a secret: the bytes its base64 part encodes. */
function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error("A signing secret starts with whsec_");
  return Buffer.from(secret.slice(SECRET_PREFIX.length), "base64");
}

function hmac(secret: string, id: string, timestamp: string, body: Buffer): Buffer {
  return createHmac("sha256", secretKey(secret)).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The `webhook-signature` value a vendor sends: what its client libraries compute. */
export function signRequest(secret: string, id: string, timestamp: string, body: Buffer): string {
  return `v1,${hmac(secret, id, timestamp, body).toString("base64")}`;
}

/** The headers of a signed request, for vendors' examples and tests. */
export function signedHeaders(
  secret: string,
  body: Buffer,
  options: { id?: string; timestampSeconds?: number } = {},
): Record<string, string> {
  const id = options.id ?? `msg_${randomBytes(12).toString("hex")}`;
  const timestamp = String(options.timestampSeconds ?? Math.floor(Date.now() / 1000));
  return {
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": signRequest(secret, id, timestamp, body),
  };
}

function refuse(header: string, message: string): never {
  throw new InvalidSignatureError(message, { details: [{ path: header, message }] });
}

/**
 * Checks a signed request over the body's exact bytes, before anything parses it. Passes when one
 * `v1` signature of the header matches the HMAC of one of `secrets` (two during a rotation);
 * otherwise throws InvalidSignatureError saying which check failed. Signatures are compared in
 * constant time.
 */
export function verifySignature(
  secrets: readonly string[],
  headers: Record<string, string | undefined>,
  body: Buffer,
  nowMs = Date.now(),
): void {
  const id = headers["webhook-id"]?.trim();
  const timestamp = headers["webhook-timestamp"]?.trim();
  const signatures = headers["webhook-signature"]?.trim();
  if (!id) refuse("webhook-id", "This vendor signs its requests: the webhook-id header is missing");
  if (id.length > MAX_ID_LENGTH) refuse("webhook-id", `webhook-id is over ${MAX_ID_LENGTH} characters`);
  if (!timestamp) {
    refuse("webhook-timestamp", "This vendor signs its requests: the webhook-timestamp header is missing");
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    refuse("webhook-timestamp", "webhook-timestamp must be the time of signing in Unix seconds");
  }
  const skew = Number(timestamp) - Math.floor(nowMs / 1000);
  if (Math.abs(skew) > SIGNATURE_TOLERANCE_SECONDS) {
    refuse(
      "webhook-timestamp",
      `webhook-timestamp is ${Math.abs(skew)} s ${skew < 0 ? "behind" : "ahead of"} the server's clock; ` +
        `at most ${SIGNATURE_TOLERANCE_SECONDS} s either way is accepted (sign each request when sending it)`,
    );
  }
  if (!signatures) {
    refuse("webhook-signature", "This vendor signs its requests: the webhook-signature header is missing");
  }
  if (signatures.length > MAX_SIGNATURE_HEADER_LENGTH) {
    refuse("webhook-signature", `webhook-signature is over ${MAX_SIGNATURE_HEADER_LENGTH} characters`);
  }
  const offered = signatures
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .map((entry) => Buffer.from(entry.slice(3), "base64"));
  if (offered.length === 0) {
    refuse("webhook-signature", "webhook-signature holds no v1 signature (`v1,<base64 HMAC-SHA256>`)");
  }
  const expected = secrets.map((secret) => hmac(secret, id, timestamp, body));
  // Every pair is compared, so the time taken does not tell which secret or which entry came close.
  let matched = false;
  for (const candidate of offered) {
    for (const digest of expected) {
      if (candidate.length === digest.length && timingSafeEqual(candidate, digest)) matched = true;
    }
  }
  if (!matched) {
    refuse(
      "webhook-signature",
      "No signature in webhook-signature matches: sign `<webhook-id>.<webhook-timestamp>.<body as sent>` " +
        "with HMAC-SHA256, keyed with the base64-decoded part of the vendor's whsec_ secret",
    );
  }
}
