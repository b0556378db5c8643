import { RateLimitedError } from "./errors.ts";

/**
 * What a vendor whose rate admits nothing (0, or not a number: refused by every way to set it, but
 * possibly stored before) is told to wait: a finite Retry-After, since an HTTP client cannot wait
 * forever and `Infinity` is no valid header value.
 */
export const NO_RATE_RETRY_AFTER_SECONDS = 60;

/**
 * A token bucket per vendor, per container: `ratePerSecond` tokens refill each second, a burst of
 * one second's worth (at least one event). Across many Lambda containers the effective limit is the
 * sum of theirs; the API stage throttle bounds the total.
 */
export class VendorRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; updatedAt: number }>();

  take(vendorId: string, ratePerSecond: number, now = Date.now()): void {
    if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) {
      throw new RateLimitedError(
        `Vendor ${vendorId} has a rate limit of ${ratePerSecond} events per second, which admits none; DVSS operators must set one of at least 1`,
        NO_RATE_RETRY_AFTER_SECONDS,
      );
    }
    const burst = Math.max(1, ratePerSecond);
    const bucket = this.#buckets.get(vendorId) ?? { tokens: burst, updatedAt: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * ratePerSecond);
    bucket.updatedAt = now;
    if (bucket.tokens < 1) {
      this.#buckets.set(vendorId, bucket);
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSecond));
      throw new RateLimitedError(
        `Vendor ${vendorId} is over its limit of ${ratePerSecond} events per second`,
        retryAfterSeconds,
      );
    }
    bucket.tokens -= 1;
    this.#buckets.set(vendorId, bucket);
  }
}
