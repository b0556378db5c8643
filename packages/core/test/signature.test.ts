import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { admitVendorPost } from "../src/auth.ts";
import { InvalidSignatureError } from "../src/errors.ts";
import { VendorRateLimiter } from "../src/rate-limit.ts";
import {
  generateSigningSecret,
  SIGNATURE_TOLERANCE_SECONDS,
  signedHeaders,
  signRequest,
  verifySignature,
} from "../src/signature.ts";

const NOW_MS = Date.parse("2026-11-30T08:00:00Z");
const NOW_S = NOW_MS / 1000;
const body = Buffer.from('{"vendorId":"vendorA","externalEventId":"e-1","payload":{"qty":1}}');
const secret = generateSigningSecret();
const otherSecret = generateSigningSecret();

/** The check's failure, or undefined when it passes. */
function failure(
  secrets: string[],
  headers: Record<string, string | undefined>,
  payload = body,
): InvalidSignatureError | undefined {
  try {
    verifySignature(secrets, headers, payload, NOW_MS);
    return undefined;
  } catch (error) {
    if (error instanceof InvalidSignatureError) return error;
    throw error;
  }
}

describe("signed requests (Standard Webhooks)", () => {
  it("issues whsec_ secrets of 32 random bytes, a new one each time", () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(otherSecret).not.toBe(secret);
  });

  it("signs as the scheme says: v1, base64 HMAC-SHA256 over id.timestamp.body keyed with the decoded secret", () => {
    const key = Buffer.from(secret.slice("whsec_".length), "base64");
    const expected = createHmac("sha256", key).update(`msg_1.${NOW_S}.${body.toString()}`).digest("base64");

    expect(signRequest(secret, "msg_1", String(NOW_S), body)).toBe(`v1,${expected}`);
  });

  it("signs as the Standard Webhooks reference library (standardwebhooks 1.1.1) does, for a fixed vector", () => {
    const body = '{"vendorId":"vendorA","externalEventId":"inv-12345","payload":{"sku":"ABC-001","qty":12}}';
    const signature = "v1,azw5tswYzi47Q7NGwQd3m83EtF7FrJ+cXYtpR45zDes=";
    const headers = { "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1674087231" };

    expect(
      signRequest(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        headers["webhook-id"],
        headers["webhook-timestamp"],
        Buffer.from(body),
      ),
    ).toBe(signature);
    expect(() =>
      verifySignature(
        ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        { ...headers, "webhook-signature": signature },
        Buffer.from(body),
        1674087231 * 1000,
      ),
    ).not.toThrow();
  });

  it("passes a request signed with the secret", () => {
    expect(failure([secret], signedHeaders(secret, body, { timestampSeconds: NOW_S }))).toBeUndefined();
  });

  it("refuses a signature made with another secret", () => {
    const error = failure([secret], signedHeaders(otherSecret, body, { timestampSeconds: NOW_S }));

    expect(error?.code).toBe("INVALID_SIGNATURE");
    expect(error?.message).toContain("No signature in webhook-signature matches");
    expect(error?.details).toEqual([{ path: "webhook-signature", message: error?.message }]);
  });

  it("refuses a body changed after signing, even by one byte or by re-encoding the same JSON", () => {
    const headers = signedHeaders(secret, body, { timestampSeconds: NOW_S });
    const tampered = Buffer.from(body.toString().replace('"qty":1', '"qty":9'));
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1));

    expect(failure([secret], headers, tampered)?.message).toContain("No signature");
    expect(failure([secret], headers, reformatted)?.message).toContain("No signature");
  });

  it("refuses a changed id or timestamp: both are signed", () => {
    const headers = signedHeaders(secret, body, { id: "msg_1", timestampSeconds: NOW_S });

    expect(failure([secret], { ...headers, "webhook-id": "msg_2" })?.message).toContain("No signature");
    expect(failure([secret], { ...headers, "webhook-timestamp": String(NOW_S - 1) })?.message).toContain(
      "No signature",
    );
  });

  it.each([
    ["old", -SIGNATURE_TOLERANCE_SECONDS - 1, "301 s behind"],
    ["future", SIGNATURE_TOLERANCE_SECONDS + 1, "301 s ahead of"],
  ])("refuses a %s timestamp beyond 5 minutes, though correctly signed", (_, offset, says) => {
    const error = failure([secret], signedHeaders(secret, body, { timestampSeconds: NOW_S + offset }));

    expect(error?.message).toContain(`webhook-timestamp is ${says} the server's clock`);
    expect(error?.details[0]?.path).toBe("webhook-timestamp");
  });

  it("passes a timestamp exactly 5 minutes off either way", () => {
    for (const offset of [-SIGNATURE_TOLERANCE_SECONDS, SIGNATURE_TOLERANCE_SECONDS]) {
      expect(
        failure([secret], signedHeaders(secret, body, { timestampSeconds: NOW_S + offset })),
      ).toBeUndefined();
    }
  });

  it.each(["webhook-id", "webhook-timestamp", "webhook-signature"])(
    "refuses a request without %s, naming it",
    (header) => {
      const headers: Record<string, string | undefined> = signedHeaders(secret, body, {
        timestampSeconds: NOW_S,
      });
      headers[header] = undefined;
      const error = failure([secret], headers);

      expect(error?.message).toContain(`the ${header} header is missing`);
      expect(error?.details[0]?.path).toBe(header);
    },
  );

  it.each([
    ["1.7e9", "Unix seconds"],
    ["2026-11-30T08:00:00Z", "Unix seconds"],
    ["-1", "Unix seconds"],
    [String(NOW_MS), "Unix seconds"], // milliseconds, a common slip
  ])("refuses webhook-timestamp %j", (timestamp, says) => {
    const headers = {
      ...signedHeaders(secret, body, { timestampSeconds: NOW_S }),
      "webhook-timestamp": timestamp,
    };

    expect(failure([secret], headers)?.message).toContain(says);
  });

  it("refuses a signature header with no v1 entry, or one that is not base64 of the HMAC", () => {
    const headers = signedHeaders(secret, body, { timestampSeconds: NOW_S });
    const signature = headers["webhook-signature"] ?? "";

    expect(
      failure([secret], { ...headers, "webhook-signature": signature.replace("v1,", "v2,") })?.message,
    ).toContain("no v1 signature");
    expect(failure([secret], { ...headers, "webhook-signature": "v1,abc" })?.message).toContain(
      "No signature",
    );
    expect(failure([secret], { ...headers, "webhook-signature": signature.slice(3) })?.message).toContain(
      "no v1 signature",
    );
  });

  it("passes when one of several space-separated signatures matches, whatever its place", () => {
    const headers = signedHeaders(secret, body, { id: "msg_1", timestampSeconds: NOW_S });
    const good = headers["webhook-signature"];
    const bad = signRequest(otherSecret, "msg_1", String(NOW_S), body);

    for (const list of [`${bad} ${good}`, `${good} ${bad}`, `v1a,xyz ${good}`]) {
      expect(failure([secret], { ...headers, "webhook-signature": list })).toBeUndefined();
    }
    expect(
      failure([secret], { ...headers, "webhook-signature": `${bad} v1,${"A".repeat(44)}` }),
    ).toBeDefined();
  });

  it("during a rotation accepts a request signed with either secret, and no other", () => {
    const rotating = [otherSecret, secret];
    const third = generateSigningSecret();

    expect(failure(rotating, signedHeaders(secret, body, { timestampSeconds: NOW_S }))).toBeUndefined();
    expect(failure(rotating, signedHeaders(otherSecret, body, { timestampSeconds: NOW_S }))).toBeUndefined();
    expect(failure(rotating, signedHeaders(third, body, { timestampSeconds: NOW_S }))).toBeDefined();
  });

  it("refuses oversized headers unread", () => {
    const headers = signedHeaders(secret, body, { timestampSeconds: NOW_S });

    expect(failure([secret], { ...headers, "webhook-id": "x".repeat(257) })?.message).toContain("over 256");
    expect(
      failure([secret], { ...headers, "webhook-signature": `${"v1,AAAA ".repeat(600)}` })?.message,
    ).toContain("over 4096");
  });
});

describe("admitVendorPost", () => {
  const headers = signedHeaders(secret, body, { timestampSeconds: NOW_S });
  const admit = (
    principal: Parameters<typeof admitVendorPost>[0],
    sent: Record<string, string | undefined>,
    limiter = new VendorRateLimiter(),
  ) => {
    try {
      admitVendorPost(principal, { headers: sent, body }, limiter, NOW_MS);
      return "admitted";
    } catch (error) {
      return (error as { code: string }).code;
    }
  };

  it("admits a vendor that does not sign with or without signature headers, and refuses a consumer key", () => {
    expect(admit({ vendorId: "vendorA", role: "vendor" }, {})).toBe("admitted");
    expect(admit({ vendorId: "vendorA", role: "vendor" }, { ...headers, "webhook-signature": "v1,x" })).toBe(
      "admitted",
    );
    expect(admit({ vendorId: "team", role: "consumer" }, headers)).toBe("FORBIDDEN");
  });

  it("refuses a paused vendor before looking at its signature", () => {
    expect(admit({ vendorId: "vendorA", role: "vendor", paused: true }, {})).toBe("VENDOR_PAUSED");
    expect(
      admit({ vendorId: "vendorA", role: "vendor", paused: true, signingSecrets: [secret] }, headers),
    ).toBe("VENDOR_PAUSED");
  });

  it("checks a signing vendor's signature", () => {
    const signing = { vendorId: "vendorA", role: "vendor" as const, signingSecrets: [secret] };

    expect(admit(signing, headers)).toBe("admitted");
    expect(admit(signing, {})).toBe("INVALID_SIGNATURE");
  });

  it("counts every post toward the vendor's rate before the signature is computed, but not a paused vendor's", () => {
    const limiter = new VendorRateLimiter();
    const signing = {
      vendorId: "vendorS",
      role: "vendor" as const,
      rateLimitPerSecond: 1,
      signingSecrets: [secret],
    };

    expect(admit({ ...signing, paused: true }, headers, limiter)).toBe("VENDOR_PAUSED");
    expect(admit(signing, {}, limiter)).toBe("INVALID_SIGNATURE");
    expect(admit(signing, headers, limiter)).toBe("RATE_LIMITED");
  });
});
