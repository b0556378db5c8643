import { describe, expect, it } from "vitest";
import { apiKeyFromHeaders, hashApiKey } from "../src/auth.ts";
import { RateLimitedError, UnauthorizedError } from "../src/errors.ts";
import { NO_RATE_RETRY_AFTER_SECONDS, VendorRateLimiter } from "../src/rate-limit.ts";
import { matchRoute } from "../src/routes.ts";

describe("reading the API key", () => {
  it("takes X-Api-Key or a Bearer token, and both when they agree", () => {
    expect(apiKeyFromHeaders({ "x-api-key": "k1" })).toBe("k1");
    expect(apiKeyFromHeaders({ authorization: "Bearer k1" })).toBe("k1");
    expect(apiKeyFromHeaders({ "x-api-key": "k1", authorization: "bearer k1" })).toBe("k1");
  });

  it("refuses a missing key, a malformed Authorization and two different keys", () => {
    expect(() => apiKeyFromHeaders({})).toThrow(UnauthorizedError);
    expect(() => apiKeyFromHeaders({ authorization: "Basic abc" })).toThrow(UnauthorizedError);
    expect(() => apiKeyFromHeaders({ "x-api-key": "k1", authorization: "Bearer k2" })).toThrow(
      /different keys/,
    );
  });

  it("stores keys only as a SHA-256 hash", () => {
    expect(hashApiKey("local-vendorA-key")).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey("local-vendorA-key")).not.toContain("vendorA");
  });
});

describe("the vendor rate limiter", () => {
  it("allows a second's worth of events, then answers with a Retry-After", () => {
    const limiter = new VendorRateLimiter();
    const now = 1_000_000;
    for (let i = 0; i < 5; i++) limiter.take("vendorA", 5, now);
    const error = (() => {
      try {
        limiter.take("vendorA", 5, now);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterSeconds).toBe(1);
    limiter.take("vendorB", 5, now);
    limiter.take("vendorA", 5, now + 1000);
  });

  it.each([0, -1, Number.NaN])(
    "refuses a vendor whose stored rate is %s with a finite Retry-After, never Infinity",
    (rate) => {
      const limiter = new VendorRateLimiter();
      const error = (() => {
        try {
          limiter.take("vendorZ", rate, 1_000_000);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).retryAfterSeconds).toBe(NO_RATE_RETRY_AFTER_SECONDS);
      expect(Number.isFinite((error as RateLimitedError).retryAfterSeconds)).toBe(true);
    },
  );

  it("lets a rate below 1 per second through once a whole token has refilled", () => {
    const limiter = new VendorRateLimiter();
    const now = 1_000_000;
    limiter.take("slow", 0.5, now);
    expect(() => limiter.take("slow", 0.5, now + 1000)).toThrow(RateLimitedError);
    limiter.take("slow", 0.5, now + 2000);
  });
});

describe("routes", () => {
  it("matches templates and extracts decoded path parameters", () => {
    const match = matchRoute("GET", "/v1/state/inventory/ROA/ABC%2F001");
    expect(match && "route" in match && match.pathParameters).toEqual({ warehouseId: "ROA", sku: "ABC/001" });
  });

  it("tells an unknown path from a wrong method, and names the methods the path takes", () => {
    expect(matchRoute("GET", "/nope")).toBeUndefined();
    expect(matchRoute("DELETE", "/v1/events")).toEqual({ methodNotAllowed: true, allow: ["POST"] });
  });

  it.each(["/v1/events/%", "/v1/state/orders/%ZZ", "/v1/state/inventory/W/%C0%80", "/v1/events/%E2%82"])(
    "answers a path parameter that is not valid percent-encoded UTF-8 (%s) as a bad path, without throwing",
    (path) => {
      expect(matchRoute("GET", path)).toEqual({
        badPath: expect.stringMatching(/^The path is not valid percent-encoded UTF-8: /),
      });
    },
  );
});
