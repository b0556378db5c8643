/**
 * Who may use DVSS and how: consumer keys for downstream teams, and a vendor's lifecycle (pause,
 * limits, signed requests). The operator CLI calls these against the local runtime's stores or a
 * stage's alike; every change reaches the API within AUTH_CACHE_TTL_MS (auth.ts).
 */
import { generateApiKey, type KeyRole, registerApiKey } from "./auth.ts";
import { isConditionalCheckFailed } from "./entities/conditions.ts";
import type { Entities, VendorItem } from "./entities/index.ts";
import { type FieldIssue, NotFoundError, OperationRefusedError, UsageError } from "./errors.ts";
import { generateSigningSecret } from "./signature.ts";

/** Same rule as the envelope's vendorId; consumer names follow it too. */
const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** The longest a replaced signing secret may stay valid: a rotation's overlap is bounded. */
export const MAX_SIGNING_GRACE_MS = 7 * 24 * 3_600_000;

function invalid(path: string, message: string): never {
  throw new UsageError(message, { details: [{ path, message }] });
}

function refused(message: string): never {
  throw new OperationRefusedError(message);
}

export interface IssuedKey {
  /** Shown once: only its hash is stored. */
  apiKey: string;
  createdAt: string;
}

export interface RotatedKey extends IssuedKey {
  /** The owner's earlier keys still valid, and when each stops working. */
  previousKeys: { createdAt: string; expiresAt: string }[];
}

/**
 * Issues a new key for a vendor or a consumer and lets its current keys work for `graceMs` more
 * (their `expiresAt`; authentication honours it), so the owner can switch without an outage. A
 * key already due to expire sooner keeps its earlier time; 0 revokes the current keys.
 */
export async function rotateApiKey(
  entities: Entities,
  owner: { id: string; role: KeyRole },
  graceMs: number,
  now: number,
): Promise<RotatedKey> {
  const expiresAt = new Date(now + graceMs).toISOString();
  const { data: keys } = await entities.apiKeys.query.byVendor({ vendorId: owner.id }).go({ pages: "all" });
  const previousKeys: RotatedKey["previousKeys"] = [];
  for (const key of keys) {
    if (key.role !== owner.role) continue;
    if (key.expiresAt && Date.parse(key.expiresAt) <= now) continue;
    const keyExpiresAt = key.expiresAt && key.expiresAt < expiresAt ? key.expiresAt : expiresAt;
    if (keyExpiresAt !== key.expiresAt) {
      await entities.apiKeys.patch({ keyHash: key.keyHash }).set({ expiresAt: keyExpiresAt }).go();
    }
    previousKeys.push({ createdAt: key.createdAt, expiresAt: keyExpiresAt });
  }
  const apiKey = generateApiKey();
  const createdAt = new Date(now).toISOString();
  await registerApiKey(entities, { apiKey, vendorId: owner.id, role: owner.role, createdAt });
  return { apiKey, createdAt, previousKeys };
}

// ---------------------------------------------------------------------------------------------
// Consumers: downstream teams reading canonical state and the feed

export async function addConsumer(
  entities: Entities,
  name: string,
  now: number,
): Promise<IssuedKey & { name: string }> {
  if (!NAME_PATTERN.test(name))
    invalid("name", `Consumer name "${name}" must be 1-64 characters of A-Z a-z 0-9 . _ -`);
  const createdAt = new Date(now).toISOString();
  try {
    await entities.consumers.create({ name, createdAt }).go();
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    refused(`Consumer ${name} exists already; to issue a new key use \`dvss consumer rotate-key ${name}\``);
  }
  const apiKey = generateApiKey();
  await registerApiKey(entities, { apiKey, vendorId: name, role: "consumer", createdAt });
  return { name, apiKey, createdAt };
}

export async function rotateConsumerKey(
  entities: Entities,
  name: string,
  graceMs: number,
  now: number,
): Promise<RotatedKey & { name: string }> {
  const { data } = await entities.consumers.get({ name }).go();
  if (!data) throw new NotFoundError(`No consumer ${name}; add it with \`dvss consumer add ${name}\``);
  return { name, ...(await rotateApiKey(entities, { id: name, role: "consumer" }, graceMs, now)) };
}

export interface ConsumerSummary {
  name: string;
  createdAt: string;
  /** Its keys that work now (never the keys themselves), oldest first. */
  keys: { createdAt: string; expiresAt?: string }[];
}

export async function listConsumers(entities: Entities, now: number): Promise<ConsumerSummary[]> {
  const { data: consumers } = await entities.consumers.query.all({}).go({ pages: "all" });
  return Promise.all(
    consumers.map(async (consumer) => {
      const { data: keys } = await entities.apiKeys.query
        .byVendor({ vendorId: consumer.name })
        .go({ pages: "all" });
      return {
        name: consumer.name,
        createdAt: consumer.createdAt,
        keys: keys
          .filter((key) => key.role === "consumer" && (!key.expiresAt || Date.parse(key.expiresAt) > now))
          .map((key) => ({ createdAt: key.createdAt, ...(key.expiresAt && { expiresAt: key.expiresAt }) })),
      };
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// A vendor's lifecycle

async function existingVendor(entities: Entities, vendorId: string): Promise<VendorItem> {
  const { data } = await entities.vendors.get({ vendorId }).go();
  if (!data) throw new NotFoundError(`No vendor ${vendorId}; add it with \`dvss vendor add ${vendorId}\``);
  return data;
}

export interface VendorPause {
  vendorId: string;
  paused: boolean;
  /** When it was paused (while paused). */
  pausedAt?: string;
  /** False when the vendor was already in that state. */
  changed: boolean;
}

/** Refuses the vendor's posts (403 VENDOR_PAUSED) until resumed; events already accepted go on. */
export async function pauseVendor(entities: Entities, vendorId: string, now: number): Promise<VendorPause> {
  const vendor = await existingVendor(entities, vendorId);
  if (vendor.pausedAt) return { vendorId, paused: true, pausedAt: vendor.pausedAt, changed: false };
  const pausedAt = new Date(now).toISOString();
  await entities.vendors.patch({ vendorId }).set({ pausedAt, updatedAt: pausedAt }).go();
  return { vendorId, paused: true, pausedAt, changed: true };
}

export async function resumeVendor(entities: Entities, vendorId: string, now: number): Promise<VendorPause> {
  const vendor = await existingVendor(entities, vendorId);
  if (!vendor.pausedAt) return { vendorId, paused: false, changed: false };
  await entities.vendors
    .patch({ vendorId })
    .set({ updatedAt: new Date(now).toISOString() })
    .remove(["pausedAt"])
    .go();
  return { vendorId, paused: false, changed: true };
}

export interface VendorSettings {
  priority?: number;
  rateLimitPerSecond?: number;
}

/** Checks settings before anything is written: every problem at once, each naming its field. */
export function checkVendorSettings(settings: VendorSettings): void {
  const issues: FieldIssue[] = [];
  const { priority, rateLimitPerSecond } = settings;
  if (priority === undefined && rateLimitPerSecond === undefined) {
    issues.push({ path: "settings", message: "Nothing to set: give a priority, a rate limit or both" });
  }
  if (priority !== undefined && !(Number.isSafeInteger(priority) && priority >= 0)) {
    issues.push({
      path: "priority",
      message: `priority ${priority} must be a whole number, 0 or more (the lower wins ties at the same occurredAt)`,
    });
  }
  if (
    rateLimitPerSecond !== undefined &&
    !(Number.isSafeInteger(rateLimitPerSecond) && rateLimitPerSecond >= 1)
  ) {
    issues.push({
      path: "rateLimitPerSecond",
      message: `rate limit ${rateLimitPerSecond} must be a whole number of requests per second, at least 1 (to stop a vendor, pause it)`,
    });
  }
  if (issues.length > 0) {
    throw new UsageError(issues.map((issue) => issue.message).join("; "), { details: issues });
  }
}

/**
 * Changes a vendor's tie-break priority and rate limit. The API applies the rate within
 * AUTH_CACHE_TTL_MS; the workflow reads the priority through its own short cache. Locally, a
 * bundled vendor's vendor.json is loaded again at each start and wins.
 */
export async function setVendor(
  entities: Entities,
  vendorId: string,
  settings: VendorSettings,
  now: number,
): Promise<{ vendorId: string; priority: number; rateLimitPerSecond: number }> {
  checkVendorSettings(settings);
  await existingVendor(entities, vendorId);
  const { data } = await entities.vendors
    .patch({ vendorId })
    .set({
      ...(settings.priority !== undefined && { priority: settings.priority }),
      ...(settings.rateLimitPerSecond !== undefined && { rateLimitPerSecond: settings.rateLimitPerSecond }),
      updatedAt: new Date(now).toISOString(),
    })
    .go({ response: "all_new" });
  return { vendorId, priority: data.priority, rateLimitPerSecond: data.rateLimitPerSecond };
}

// ---------------------------------------------------------------------------------------------
// Signed requests (docs/contract/README.md, "Signed requests")

export interface IssuedSecret {
  vendorId: string;
  /** Shown once: `whsec_<base64>`. */
  secret: string;
  createdAt: string;
}

export async function enableSigning(
  entities: Entities,
  vendorId: string,
  now: number,
): Promise<IssuedSecret> {
  await existingVendor(entities, vendorId);
  const secret = generateSigningSecret();
  const createdAt = new Date(now).toISOString();
  try {
    await entities.vendorSigning
      .create({ vendorId, secrets: [{ secret, createdAt }], updatedAt: createdAt })
      .go();
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    refused(
      `Vendor ${vendorId} signs its requests already; for a new secret use \`dvss vendor signing rotate-secret ${vendorId}\``,
    );
  }
  return { vendorId, secret, createdAt };
}

/**
 * A new secret; the one it replaces stays valid for `graceMs` (at most MAX_SIGNING_GRACE_MS) so the
 * vendor can switch without a refused request. Never more than these two: a secret replaced
 * earlier stops at once.
 */
export async function rotateSigningSecret(
  entities: Entities,
  vendorId: string,
  graceMs: number,
  now: number,
): Promise<IssuedSecret & { previousExpiresAt?: string }> {
  if (graceMs < 0 || graceMs > MAX_SIGNING_GRACE_MS) {
    invalid("grace", "The grace period of a replaced secret is at most 7 days");
  }
  await existingVendor(entities, vendorId);
  const { data: signing } = await entities.vendorSigning.get({ vendorId }).go();
  if (!signing) {
    throw new NotFoundError(
      `Vendor ${vendorId} does not sign its requests; enable it with \`dvss vendor signing enable ${vendorId}\``,
    );
  }
  const current = signing.secrets.find((entry) => !entry.expiresAt);
  const createdAt = new Date(now).toISOString();
  const secret = generateSigningSecret();
  const previousExpiresAt = graceMs > 0 && current ? new Date(now + graceMs).toISOString() : undefined;
  const secrets = [
    { secret, createdAt },
    ...(current && previousExpiresAt ? [{ ...current, expiresAt: previousExpiresAt }] : []),
  ];
  try {
    await entities.vendorSigning
      .patch({ vendorId })
      .set({ secrets, updatedAt: createdAt })
      .where((attribute, { eq }) => eq(attribute.updatedAt, signing.updatedAt))
      .go();
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    refused(
      `The signing secrets of ${vendorId} changed meanwhile (signing disabled or rotated); look, then run again`,
    );
  }
  return { vendorId, secret, createdAt, ...(previousExpiresAt && { previousExpiresAt }) };
}

/** Stops checking signatures and deletes the vendor's secrets. */
export async function disableSigning(
  entities: Entities,
  vendorId: string,
): Promise<{ vendorId: string; changed: boolean }> {
  await existingVendor(entities, vendorId);
  const { data } = await entities.vendorSigning.delete({ vendorId }).go({ response: "all_old" });
  return { vendorId, changed: data !== null };
}
