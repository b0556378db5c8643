import { RateLimitedError } from "./errors.ts";

/**
 * A token bucket per vendor, per container: `ratePerSecond` tokens refill each second, a burst of
 * one second's worth. Across many Lambda containers the effective limit is the sum of theirs; the
 * API stage throttle bounds the total.
 */
export class VendorRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; updatedAt: number }>();

  take(vendorId: string, ratePerSecond: number, now = Date.now()): void {
    const bucket = this.#buckets.get(vendorId) ?? { tokens: ratePerSecond, updatedAt: now };
    bucket.tokens = Math.min(
      ratePerSecond,
      bucket.tokens + ((now - bucket.updatedAt) / 1000) * ratePerSecond,
    );
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
