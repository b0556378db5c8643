/**
 * `dvss consumer` and a vendor's lifecycle (`dvss vendor pause | resume | set | signing`) against a
 * running local DVSS, through the real API. The auth cache is cleared after each change, as its
 * 30 s would pass on its own.
 */
import { clearAuthCache, hashApiKey } from "@dvss/core/auth";
import { signedHeaders } from "@dvss/core/signature";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedEnvelope } from "../../local/test/harness.ts";
import { type CliHarness, startCliHarness } from "./harness.ts";

let dvss: CliHarness;

beforeAll(async () => {
  dvss = await startCliHarness();
});

afterAll(async () => {
  await dvss?.close();
});

const feed = (key: string) =>
  dvss.request("GET", "/v1/feed?limit=1", { headers: { authorization: `Bearer ${key}` } });

describe("dvss consumer", () => {
  let firstKey = "";

  it("add prints an opaque key once, stores only its hash, and the key reads the feed", async () => {
    const result = await dvss.cli("consumer", "add", "analytics", "--json");
    const added = result.json();
    firstKey = added.apiKey;
    const { data: keys } = await dvss.entities.apiKeys.query.byVendor({ vendorId: "analytics" }).go();
    const read = await feed(firstKey);

    expect(result.code).toBe(0);
    expect(added).toMatchObject({
      name: "analytics",
      apiKey: expect.stringMatching(/^dvss_[A-Za-z0-9_-]{43}$/),
    });
    expect(firstKey).not.toContain("analytics");
    expect(keys.map((key) => key.keyHash)).toEqual([hashApiKey(firstKey)]);
    expect(JSON.stringify(keys)).not.toContain(firstKey);
    expect(read.status).toBe(200);
    expect(read.body).toHaveProperty("items");
  });

  it("the human output shows the key once with the warning; a consumer key cannot post events", async () => {
    const result = await dvss.cli("consumer", "add", "billing");
    const key = /dvss_[A-Za-z0-9_-]{43}/.exec(result.stdout)?.[0] ?? "";
    const post = await dvss.post({ ...seedEnvelope, externalEventId: "by-consumer" }, { "x-api-key": key });

    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Consumer billing added.");
    expect(result.stdout).toContain("shown once");
    expect(post.status).toBe(403);
  });

  it("rotate-key --grace 0: the new key reads, the old one gets 401", async () => {
    const rotated = (await dvss.cli("consumer", "rotate-key", "analytics", "--grace", "0", "--json")).json();
    clearAuthCache();
    const [withOld, withNew] = await Promise.all([feed(firstKey), feed(rotated.apiKey)]);

    expect(rotated.previousKeys).toHaveLength(1);
    expect(withOld.status).toBe(401);
    expect(withNew.status).toBe(200);
  });

  it("list names each consumer with its valid keys, never a key", async () => {
    const result = await dvss.cli("consumer", "list", "--json");
    const { consumers } = result.json();
    const human = await dvss.cli("consumer", "list");

    expect(consumers.map((consumer: { name: string }) => consumer.name).sort()).toEqual([
      "analytics",
      "billing",
    ]);
    expect(consumers.every((consumer: { keys: unknown[] }) => consumer.keys.length === 1)).toBe(true);
    expect(result.stdout).not.toMatch(/dvss_/);
    expect(human.stdout).toMatch(/analytics\s+\S+\s+1/);
  });

  it("refuses a second add (exit 1), a bad name (exit 2) and rotating an unknown consumer (exit 3)", async () => {
    const twice = await dvss.cli("consumer", "add", "analytics");
    const bad = await dvss.cli("consumer", "add", "no spaces");
    const unknown = await dvss.cli("consumer", "rotate-key", "nobody");

    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("exists already");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("1-64 characters");
    expect(unknown.code).toBe(3);
  });
});

describe("dvss vendor pause | resume | set", () => {
  it("pause: the vendor's post gets 403 VENDOR_PAUSED; resume: 202", async () => {
    const paused = await dvss.cli("vendor", "pause", "vendorA");
    clearAuthCache();
    const refused = await dvss.post({ ...seedEnvelope, externalEventId: "cli-paused" });
    const resumed = await dvss.cli("vendor", "resume", "vendorA", "--json");
    clearAuthCache();
    const accepted = await dvss.post({ ...seedEnvelope, externalEventId: "cli-paused" });

    expect(paused.code).toBe(0);
    expect(paused.stdout).toContain("Vendor vendorA paused.");
    expect(paused.stdout).toContain("within 30 s");
    expect(refused.body.error.code).toBe("VENDOR_PAUSED");
    expect(resumed.json()).toMatchObject({ paused: false, changed: true });
    expect(accepted.status).toBe(202);
  });

  it("set changes priority and rate limit; the API then limits the vendor to its new rate", async () => {
    const set = await dvss.cli("vendor", "set", "vendorB", "--priority", "7", "--rate-limit", "1", "--json");
    clearAuthCache();
    const post = (id: string) =>
      dvss.post(
        { ...seedEnvelope, vendorId: "vendorB", externalEventId: id },
        { "x-api-key": "local-vendorB-key" },
      );
    const first = await post("limited-1");
    const second = await post("limited-2");
    const { data: vendor } = await dvss.entities.vendors.get({ vendorId: "vendorB" }).go();

    expect(set.code).toBe(0);
    expect(set.json()).toEqual({ vendorId: "vendorB", priority: 7, rateLimitPerSecond: 1 });
    expect(vendor).toMatchObject({ priority: 7, rateLimitPerSecond: 1 });
    expect(first.status).toBe(202);
    expect(second.status).toBe(429);
  });

  it.each([
    [["vendor", "set", "vendorA"], 2, "Nothing to set"],
    [["vendor", "set", "vendorA", "--priority", "1e3"], 2, '--priority "1e3" is not a whole number'],
    [["vendor", "set", "vendorA", "--rate-limit", "0"], 2, "at least 1"],
    [["vendor", "set", "vendorA", "--priority", "-1", "--rate-limit", "-5"], 2, "rateLimitPerSecond:"],
    [["vendor", "add", "vendorZ", "--rate-limit", "0"], 2, "--rate-limit must be a whole number, at least 1"],
    [["vendor", "set", "nobody", "--priority", "1"], 3, "No vendor nobody"],
    [["vendor", "pause", "nobody"], 3, "No vendor nobody"],
    [["vendor", "signing", "rotate-secret", "vendorA"], 3, "does not sign"],
    [["vendor", "signing", "rotate-secret", "vendorA", "--grace", "8d"], 2, "at most 7 days"],
  ])("dvss %j exits %i saying %j", async (argv, code, says) => {
    const result = await dvss.cli(...argv);

    expect(result.code).toBe(code);
    expect(result.stderr).toContain(says);
  });
});

describe("dvss vendor signing", () => {
  const body = (externalEventId: string) => Buffer.from(JSON.stringify({ ...seedEnvelope, externalEventId }));
  const post = (payload: Buffer, headers: Record<string, string> = {}) =>
    dvss.post(payload.toString(), { "x-api-key": "local-vendorA-key", ...headers });

  it("enable prints the secret once; unsigned posts get 401, signed ones 202; a second enable exits 1", async () => {
    const enabled = await dvss.cli("vendor", "signing", "enable", "vendorA", "--json");
    const { secret } = enabled.json();
    clearAuthCache();
    const unsigned = await post(body("cli-signed-1"));
    const signed = await post(body("cli-signed-1"), signedHeaders(secret, body("cli-signed-1")));
    const twice = await dvss.cli("vendor", "signing", "enable", "vendorA");

    expect(enabled.code).toBe(0);
    expect(secret).toMatch(/^whsec_/);
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error.code).toBe("INVALID_SIGNATURE");
    expect(signed.status).toBe(202);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("rotate-secret");
  });

  it("disable: unsigned posts are accepted again", async () => {
    const disabled = await dvss.cli("vendor", "signing", "disable", "vendorA");
    clearAuthCache();
    const unsigned = await post(body("cli-unsigned"));

    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toContain("no longer signs");
    expect(unsigned.status).toBe(202);
  });
});

it.each([
  ["consumer", "add"],
  ["consumer", "rotate-key"],
  ["consumer", "list"],
  ["vendor", "pause"],
  ["vendor", "resume"],
  ["vendor", "set"],
  ["vendor", "signing", "enable"],
  ["vendor", "signing", "rotate-secret"],
  ["vendor", "signing", "disable"],
])("dvss %s %s --help shows its usage and --stage", async (...command) => {
  const result = await dvss.cli(...command, "--help");

  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`Usage: dvss ${command.join(" ")}`);
  expect(result.stdout).toContain("--stage");
});
