import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Entities } from "./entities/index.ts";
import { ForbiddenError, UnauthorizedError, VendorPausedError } from "./errors.ts";
import { sha256Hex } from "./hash.ts";
import type { VendorRateLimiter } from "./rate-limit.ts";
import { verifySignature } from "./signature.ts";

/** The rate of a vendor whose profile names none. */
const DEFAULT_RATE_PER_SECOND = 100;

export type KeyRole = "vendor" | "consumer";

export interface Principal {
  /** The key's owner: a vendor's id, or a consumer's name. */
  vendorId: string;
  role: KeyRole;
  /** The vendor's own limit (vendor keys only). */
  rateLimitPerSecond?: number;
  /** Paused by an operator: its posts are refused (vendor keys only). */
  paused?: boolean;
  /** The vendor signs its requests with one of these (vendor keys only; absent = not signing). */
  signingSecrets?: string[];
}

/** Only this hash of a key is ever stored. */
export function hashApiKey(apiKey: string): string {
  return sha256Hex(apiKey);
}

/**
 * A new random API key, shown once to whoever created it. Opaque: nothing in it names its owner,
 * so a leaked key tells nothing about whose it is (the store maps its hash to the owner).
 */
export function generateApiKey(): string {
  return `dvss_${randomBytes(32).toString("base64url")}`;
}

/** The key from `X-Api-Key` or `Authorization: Bearer`; both may be sent, then they must agree. */
export function apiKeyFromHeaders(headers: Record<string, string | undefined>): string {
  const headerKey = headers["x-api-key"]?.trim();
  const authorization = headers.authorization?.trim();
  let bearerKey: string | undefined;
  if (authorization) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match?.[1]) throw new UnauthorizedError("The Authorization header must be `Bearer <API key>`");
    bearerKey = match[1];
  }
  if (headerKey && bearerKey && headerKey !== bearerKey) {
    throw new UnauthorizedError("X-Api-Key and Authorization carry different keys");
  }
  const key = headerKey || bearerKey;
  if (!key) throw new UnauthorizedError("An API key is required (X-Api-Key or Authorization: Bearer)");
  return key;
}

/**
 * How long a warm container trusts what it read about a key and its vendor: a rotated or revoked
 * key, a pause, a resume, a new rate limit or signing secret takes at most this long to apply
 * (docs/operations/runbook.md, "Vendors").
 */
export const AUTH_CACHE_TTL_MS = 30_000;
const cache = new Map<string, { principal: Principal | undefined; expiresAt: number }>();

export interface AuthenticateOptions {
  /**
   * Read the vendor's signing secrets too (default true). Only the ingest function may read them
   * (infra/access.ts denies the `signing#` partitions to every other role), so a function that
   * does not check signatures passes false and gets a principal without `signingSecrets`.
   */
  signingSecrets?: boolean;
}

/**
 * Resolves a key to its vendor and role. The lookup is by hash, and the stored hash is compared
 * in constant time, so neither the store nor the comparison leaks how much of a guess was right.
 * Answers (known and unknown keys alike, with the vendor's pause and, if asked, signing secrets)
 * are cached for AUTH_CACHE_TTL_MS in a warm container; an answer read without the secrets is
 * never given to a caller that asked for them.
 */
export async function authenticate(
  entities: Entities,
  apiKey: string,
  now = Date.now(),
  options: AuthenticateOptions = {},
): Promise<Principal> {
  const withSecrets = options.signingSecrets ?? true;
  const keyHash = hashApiKey(apiKey);
  const cacheKey = withSecrets ? keyHash : `${keyHash}#profile`;
  let cached = cache.get(cacheKey);
  if (!cached || cached.expiresAt <= now) {
    const { data } = await entities.apiKeys.get({ keyHash }).go();
    const valid =
      data &&
      timingSafeEqual(Buffer.from(data.keyHash), Buffer.from(keyHash)) &&
      (!data.expiresAt || Date.parse(data.expiresAt) > now);
    let principal: Principal | undefined;
    if (valid) {
      principal = { vendorId: data.vendorId, role: data.role };
      if (data.role === "vendor") {
        const [vendor, signing] = await Promise.all([
          entities.vendors.get({ vendorId: data.vendorId }).go(),
          withSecrets ? entities.vendorSigning.get({ vendorId: data.vendorId }).go() : { data: null },
        ]);
        const secrets = signing.data?.secrets
          .filter((entry) => !entry.expiresAt || Date.parse(entry.expiresAt) > now)
          .map((entry) => entry.secret);
        // A key whose vendor was removed is no key at all.
        principal = vendor.data
          ? {
              ...principal,
              rateLimitPerSecond: vendor.data.rateLimitPerSecond,
              paused: vendor.data.pausedAt !== undefined,
              ...(secrets?.length && { signingSecrets: secrets }),
            }
          : undefined;
      }
    }
    cached = { principal, expiresAt: now + AUTH_CACHE_TTL_MS };
    if (cache.size > 10_000) cache.clear();
    cache.set(cacheKey, cached);
  }
  if (!cached.principal) throw new UnauthorizedError("The API key is not valid");
  return cached.principal;
}

export function requireRole(principal: Principal, role: KeyRole): void {
  if (principal.role !== role) {
    throw new ForbiddenError(
      role === "consumer"
        ? "This endpoint takes a consumer key, not a vendor key"
        : "This endpoint takes a vendor key",
    );
  }
}

/**
 * What a vendor's post must pass after its key, in this order: a vendor key, a vendor not paused,
 * its rate (every request counts, so one without the signing secret cannot make DVSS compute
 * HMACs without limit), and, for a signing vendor, a valid signature over the body's exact bytes,
 * checked before anything parses them.
 */
export function admitVendorPost(
  principal: Principal,
  request: { headers: Record<string, string | undefined>; body: Buffer },
  rateLimiter: VendorRateLimiter,
  now = Date.now(),
): void {
  requireRole(principal, "vendor");
  if (principal.paused) {
    throw new VendorPausedError(
      `Vendor ${principal.vendorId} is paused by DVSS operators: nothing was accepted; retry once it is resumed`,
    );
  }
  rateLimiter.take(principal.vendorId, principal.rateLimitPerSecond ?? DEFAULT_RATE_PER_SECOND, now);
  if (principal.signingSecrets) verifySignature(principal.signingSecrets, request.headers, request.body, now);
}

/** For tests and key rotation: forget cached answers. */
export function clearAuthCache(): void {
  cache.clear();
}

/** Stores a key's hash for a vendor (or a consumer). Returns nothing that could leak the key. */
export async function registerApiKey(
  entities: Entities,
  input: { apiKey: string; vendorId: string; role: KeyRole; expiresAt?: string; createdAt?: string },
): Promise<void> {
  await entities.apiKeys
    .upsert({
      keyHash: hashApiKey(input.apiKey),
      vendorId: input.vendorId,
      role: input.role,
      createdAt: input.createdAt ?? new Date().toISOString(),
      ...(input.expiresAt && { expiresAt: input.expiresAt }),
    })
    .go();
}
