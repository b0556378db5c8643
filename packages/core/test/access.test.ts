import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  addConsumer,
  enableSigning,
  listConsumers,
  pauseVendor,
  resumeVendor,
  rotateConsumerKey,
  rotateSigningSecret,
  setVendor,
} from "../src/access.ts";
import { AUTH_CACHE_TTL_MS, authenticate, clearAuthCache, hashApiKey, registerApiKey } from "../src/auth.ts";
import type { Entities } from "../src/entities/index.ts";
import type { OpsContext } from "../src/ops/context.ts";
import { addVendor } from "../src/ops/vendors.ts";
import { startTestStores } from "./stores.ts";

const T0 = Date.parse("2026-11-30T08:00:00Z");
const HOUR = 3_600_000;
let stores: Awaited<ReturnType<typeof startTestStores>>;
let entities: Entities;

/** A vendor with one API key; returns the key. */
async function vendorWithKey(vendorId: string): Promise<string> {
  await entities.vendors.create({ vendorId, name: vendorId, priority: 10, rateLimitPerSecond: 50 }).go();
  const apiKey = `key-of-${vendorId}`;
  await registerApiKey(entities, { apiKey, vendorId, role: "vendor" });
  return apiKey;
}

/** What an operation threw, as code and details paths. */
async function refusal(operation: Promise<unknown>) {
  try {
    await operation;
    return undefined;
  } catch (error) {
    const { code, details } = error as { code: string; details: { path: string }[] };
    return { code, paths: details.map((detail) => detail.path) };
  }
}

beforeAll(async () => {
  stores = await startTestStores("access");
  entities = stores.entities;
});

afterAll(async () => {
  await stores?.close();
});

beforeEach(() => clearAuthCache());

describe("a vendor's pause and settings, as the API sees them", () => {
  it("a pause applies once the auth cache's answer is AUTH_CACHE_TTL_MS old, not before", async () => {
    const key = await vendorWithKey("pausing");
    const before = await authenticate(entities, key, T0);
    await pauseVendor(entities, "pausing", T0);
    const cached = await authenticate(entities, key, T0 + AUTH_CACHE_TTL_MS - 1);
    const after = await authenticate(entities, key, T0 + AUTH_CACHE_TTL_MS);

    expect(before.paused).toBe(false);
    expect(cached.paused).toBe(false);
    expect(after.paused).toBe(true);
  });

  it("pausing twice keeps the first time; resuming clears it; both say whether they changed anything", async () => {
    await vendorWithKey("twice");
    const first = await pauseVendor(entities, "twice", T0);
    const second = await pauseVendor(entities, "twice", T0 + 1_000);
    const resumed = await resumeVendor(entities, "twice", T0 + 2_000);
    const again = await resumeVendor(entities, "twice", T0 + 3_000);
    const { data } = await entities.vendors.get({ vendorId: "twice" }).go();

    expect(first).toEqual({
      vendorId: "twice",
      paused: true,
      pausedAt: new Date(T0).toISOString(),
      changed: true,
    });
    expect(second).toMatchObject({ pausedAt: first.pausedAt, changed: false });
    expect(resumed).toEqual({ vendorId: "twice", paused: false, changed: true });
    expect(again.changed).toBe(false);
    expect(data?.pausedAt).toBeUndefined();
  });

  it("sets priority and rate limit, the API's rate applying like a pause", async () => {
    const key = await vendorWithKey("tuned");
    const set = await setVendor(entities, "tuned", { priority: 5, rateLimitPerSecond: 7 }, T0);
    const onlyRate = await setVendor(entities, "tuned", { rateLimitPerSecond: 9 }, T0);
    const principal = await authenticate(entities, key, T0);

    expect(set).toEqual({ vendorId: "tuned", priority: 5, rateLimitPerSecond: 7 });
    expect(onlyRate).toEqual({ vendorId: "tuned", priority: 5, rateLimitPerSecond: 9 });
    expect(principal.rateLimitPerSecond).toBe(9);
  });

  it("refuses to add a vendor whose rate limit would admit nothing, naming the field, and stores nothing", async () => {
    const context = { entities, now: () => T0 } as unknown as OpsContext;
    const zero = { vendorId: "zero-rate", name: "Zero", priority: 1, rateLimitPerSecond: 0 };

    expect(await refusal(addVendor(context, zero))).toEqual({ code: "USAGE", paths: ["rateLimitPerSecond"] });
    expect((await entities.vendors.get({ vendorId: "zero-rate" }).go()).data).toBeNull();
  });

  it("refuses bad settings naming every field, before looking the vendor up", async () => {
    const { data: before } = await entities.vendors.get({ vendorId: "tuned" }).go();

    expect(await refusal(setVendor(entities, "tuned", {}, T0))).toEqual({
      code: "USAGE",
      paths: ["settings"],
    });
    expect(await refusal(setVendor(entities, "tuned", { priority: -1, rateLimitPerSecond: 0 }, T0))).toEqual({
      code: "USAGE",
      paths: ["priority", "rateLimitPerSecond"],
    });
    expect(await refusal(setVendor(entities, "tuned", { priority: 1.5 }, T0))).toMatchObject({
      code: "USAGE",
    });
    expect(await refusal(setVendor(entities, "tuned", { rateLimitPerSecond: Number.NaN }, T0))).toMatchObject(
      {
        code: "USAGE",
      },
    );
    expect((await entities.vendors.get({ vendorId: "tuned" }).go()).data).toEqual(before);
  });

  it("answers NOT_FOUND for an unknown vendor", async () => {
    expect((await refusal(pauseVendor(entities, "nobody", T0)))?.code).toBe("NOT_FOUND");
    expect((await refusal(resumeVendor(entities, "nobody", T0)))?.code).toBe("NOT_FOUND");
    expect((await refusal(setVendor(entities, "nobody", { priority: 1 }, T0)))?.code).toBe("NOT_FOUND");
    expect((await refusal(enableSigning(entities, "nobody", T0)))?.code).toBe("NOT_FOUND");
  });
});

describe("signing secrets", () => {
  it("keeps the replaced secret for the grace period only, and never more than two", async () => {
    const key = await vendorWithKey("signer");
    const first = await enableSigning(entities, "signer", T0);
    const second = await rotateSigningSecret(entities, "signer", HOUR, T0);
    const both = await authenticate(entities, key, T0 + 1);
    clearAuthCache();
    const afterGrace = await authenticate(entities, key, T0 + HOUR + 1);
    clearAuthCache();
    const third = await rotateSigningSecret(entities, "signer", HOUR, T0 + 2);
    const latest = await authenticate(entities, key, T0 + 3);

    expect(second.previousExpiresAt).toBe(new Date(T0 + HOUR).toISOString());
    expect(both.signingSecrets?.sort()).toEqual([first.secret, second.secret].sort());
    expect(afterGrace.signingSecrets).toEqual([second.secret]);
    expect(latest.signingSecrets?.sort()).toEqual([second.secret, third.secret].sort());
  });

  it("reads no secret for a caller that checks no signature, and never hands that answer to one that does", async () => {
    const key = await vendorWithKey("quiet-signer");
    const enabled = await enableSigning(entities, "quiet-signer", T0);
    // What a role denied the `signing#` partitions (infra/access.ts) would get from DynamoDB.
    const denied = {
      ...entities,
      vendorSigning: {
        get: () => ({
          go: () => Promise.reject(new Error("AccessDeniedException")),
        }),
      },
    } as unknown as Entities;

    const withoutSecrets = await authenticate(denied, key, T0 + 1, { signingSecrets: false });
    const forIngest = await authenticate(entities, key, T0 + 2);

    expect(withoutSecrets).toMatchObject({ vendorId: "quiet-signer", role: "vendor" });
    expect(withoutSecrets.signingSecrets).toBeUndefined();
    expect(forIngest.signingSecrets).toEqual([enabled.secret]);
  });

  it("refuses enabling twice (REFUSED), rotating when not enabled (NOT_FOUND) and a grace over 7 days (USAGE)", async () => {
    await vendorWithKey("unsigned");

    expect((await refusal(enableSigning(entities, "signer", T0)))?.code).toBe("REFUSED");
    expect((await refusal(rotateSigningSecret(entities, "unsigned", HOUR, T0)))?.code).toBe("NOT_FOUND");
    expect(await refusal(rotateSigningSecret(entities, "signer", 7 * 24 * HOUR + 1, T0))).toEqual({
      code: "USAGE",
      paths: ["grace"],
    });
  });
});

describe("consumers", () => {
  it("add issues an opaque key stored only as a hash; the key reads as a consumer", async () => {
    const added = await addConsumer(entities, "analytics", T0);
    const { data: keys } = await entities.apiKeys.query.byVendor({ vendorId: "analytics" }).go();
    const principal = await authenticate(entities, added.apiKey, T0);

    expect(added.apiKey).toMatch(/^dvss_[A-Za-z0-9_-]{43}$/);
    expect(added.apiKey).not.toContain("analytics");
    expect(keys.map((key) => key.keyHash)).toEqual([hashApiKey(added.apiKey)]);
    expect(JSON.stringify(keys)).not.toContain(added.apiKey);
    expect(principal).toEqual({ vendorId: "analytics", role: "consumer" });
  });

  it("refuses a name twice (REFUSED) and a bad name (USAGE)", async () => {
    expect((await refusal(addConsumer(entities, "analytics", T0)))?.code).toBe("REFUSED");
    expect(await refusal(addConsumer(entities, "bad name", T0))).toEqual({ code: "USAGE", paths: ["name"] });
    expect((await refusal(rotateConsumerKey(entities, "nobody", 0, T0)))?.code).toBe("NOT_FOUND");
  });

  it("rotate-key keeps the old key for the grace period; list shows valid keys, never the keys", async () => {
    const rotated = await rotateConsumerKey(entities, "analytics", HOUR, T0);
    const listed = await listConsumers(entities, T0 + 1);
    const later = await listConsumers(entities, T0 + HOUR + 1);

    expect(rotated.previousKeys).toEqual([
      { createdAt: new Date(T0).toISOString(), expiresAt: new Date(T0 + HOUR).toISOString() },
    ]);
    expect(listed).toEqual([
      {
        name: "analytics",
        createdAt: new Date(T0).toISOString(),
        keys: expect.arrayContaining([
          { createdAt: expect.any(String) },
          expect.objectContaining({ expiresAt: new Date(T0 + HOUR).toISOString() }),
        ]),
      },
    ]);
    expect(listed[0]?.keys).toHaveLength(2);
    expect(later[0]?.keys).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(rotated.apiKey);
  });
});
