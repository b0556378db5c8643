import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Entities } from "./entities/index.ts";
import { ForbiddenError, UnauthorizedError } from "./errors.ts";
import { sha256Hex } from "./hash.ts";

export type KeyRole = "vendor" | "consumer";

export interface Principal {
  vendorId: string;
  role: KeyRole;
  /** The vendor's own limit (vendor keys only). */
  rateLimitPerSecond?: number;
}

/** Only this hash of a key is ever stored. */
export function hashApiKey(apiKey: string): string {
  return sha256Hex(apiKey);
}

/** A new random API key, shown once to whoever created it. */
export function generateApiKey(vendorId: string): string {
  return `dvss_${vendorId}_${randomBytes(24).toString("base64url")}`;
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

const CACHE_TTL_MS = 30_000;
const cache = new Map<string, { principal: Principal | undefined; expiresAt: number }>();

/**
 * Resolves a key to its vendor and role. The lookup is by hash, and the stored hash is compared
 * in constant time, so neither the store nor the comparison leaks how much of a guess was right.
 * Answers (known and unknown keys alike) are cached briefly: a key rotated or revoked takes at most
 * CACHE_TTL_MS to take effect in a warm container.
 */
export async function authenticate(entities: Entities, apiKey: string, now = Date.now()): Promise<Principal> {
  const keyHash = hashApiKey(apiKey);
  let cached = cache.get(keyHash);
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
        const vendor = await entities.vendors.get({ vendorId: data.vendorId }).go();
        // A key whose vendor was removed is no key at all.
        principal = vendor.data
          ? { ...principal, rateLimitPerSecond: vendor.data.rateLimitPerSecond }
          : undefined;
      }
    }
    cached = { principal, expiresAt: now + CACHE_TTL_MS };
    if (cache.size > 10_000) cache.clear();
    cache.set(keyHash, cached);
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

/** For tests and key rotation: forget cached answers. */
export function clearAuthCache(): void {
  cache.clear();
}

/** Stores a key's hash for a vendor (or a consumer). Returns nothing that could leak the key. */
export async function registerApiKey(
  entities: Entities,
  input: { apiKey: string; vendorId: string; role: KeyRole; expiresAt?: string },
): Promise<void> {
  await entities.apiKeys
    .upsert({
      keyHash: hashApiKey(input.apiKey),
      vendorId: input.vendorId,
      role: input.role,
      createdAt: new Date().toISOString(),
      ...(input.expiresAt && { expiresAt: input.expiresAt }),
    })
    .go();
}
