/**
 * A vendor's lifecycle through the real HTTP API: paused (403 VENDOR_PAUSED, nothing stored),
 * resumed, and signed requests (docs/contract/README.md, "Signed requests"). The operations are the
 * ones `dvss vendor pause | resume | signing` run; the auth cache is cleared after each, as its
 * 30 s would pass on its own.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  disableSigning,
  enableSigning,
  pauseVendor,
  resumeVendor,
  rotateSigningSecret,
} from "@dvss/core/access";
import { clearAuthCache } from "@dvss/core/auth";
import { signedHeaders } from "@dvss/core/signature";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../src/lambda.ts";
import { type Harness, seedEnvelope, startHarness } from "./harness.ts";

let dvss: Harness;

beforeAll(async () => {
  dvss = await startHarness();
});

afterAll(async () => {
  await dvss?.close();
});

/** What a refused request must not have left: records, raw objects, executions. */
async function stored() {
  await dvss.runtime.stepFunctions.drain();
  const executions = await dvss.runtime.stepFunctions.listExecutions(dvss.endpoints.stateMachineArn, {
    limit: 1000,
  });
  return {
    records: (await dvss.records()).length,
    raw: (await dvss.rawKeys()).length,
    executions: executions.length,
  };
}

describe("a paused vendor", () => {
  const envelope = { ...seedEnvelope, externalEventId: "paused-1" };

  it("gets 403 VENDOR_PAUSED and nothing is stored", async () => {
    const before = await stored();
    const paused = await pauseVendor(dvss.entities, "vendorA", Date.now());
    clearAuthCache();
    const refused = await dvss.post(envelope);

    expect(paused).toMatchObject({ paused: true, changed: true });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("VENDOR_PAUSED");
    expect(refused.body.error.message).toContain("paused");
    expect(await stored()).toEqual(before);
  });

  it("still reads its accepted events, and other vendors post as before", async () => {
    const other = await dvss.post(
      { ...seedEnvelope, vendorId: "vendorB", externalEventId: "while-A-paused" },
      { "x-api-key": "local-vendorB-key" },
    );
    const read = await dvss.request("GET", `/v1/events/${other.body.ingestId}`, {
      headers: { "x-api-key": "local-vendorB-key" },
    });

    expect(other.status).toBe(202);
    expect(read.status).toBe(200);
  });

  it("once resumed, is accepted: the same event is new (the refused post recorded nothing)", async () => {
    const resumed = await resumeVendor(dvss.entities, "vendorA", Date.now());
    clearAuthCache();
    const accepted = await dvss.post(envelope);

    expect(resumed).toMatchObject({ paused: false, changed: true });
    expect(accepted.status).toBe(202);
    expect(accepted.body.status).toBe("ACCEPTED");
  });
});

describe("a vendor that signs its requests", () => {
  const envelopeB = JSON.parse(
    readFileSync(
      join(REPO_ROOT, "schemas/vendors/vendorB/order_placed/1/examples/placed.input.json"),
      "utf8",
    ),
  ) as Record<string, unknown>;
  const body = (externalEventId: string) => Buffer.from(JSON.stringify({ ...envelopeB, externalEventId }));
  const post = (payload: Buffer, headers: Record<string, string> = {}) =>
    dvss.post(payload.toString(), { "x-api-key": "local-vendorB-key", ...headers });
  let secret = "";

  it("once signing is enabled, gets 401 INVALID_SIGNATURE unsigned, and nothing is stored", async () => {
    secret = (await enableSigning(dvss.entities, "vendorB", Date.now())).secret;
    clearAuthCache();
    const before = await stored();
    const unsigned = await post(body("signed-1"));

    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error).toMatchObject({
      code: "INVALID_SIGNATURE",
      details: [{ path: "webhook-id" }],
    });
    expect(unsigned.body.error.message).toContain("webhook-id header is missing");
    expect(await stored()).toEqual(before);
  });

  it("is accepted signed, over the exact bytes sent", async () => {
    const payload = body("signed-1");
    const signed = await post(payload, signedHeaders(secret, payload));

    expect(signed.status).toBe(202);
    expect(signed.body.status).toBe("ACCEPTED");
  });

  it("is refused with a signature of other bytes, or a timestamp over 5 minutes old, nothing stored", async () => {
    const before = await stored();
    const payload = body("signed-2");
    const spaced = Buffer.from(JSON.stringify(JSON.parse(payload.toString()), null, 2));
    const reformatted = await post(spaced, signedHeaders(secret, payload));
    const stale = await post(
      payload,
      signedHeaders(secret, payload, { timestampSeconds: Math.floor(Date.now() / 1000) - 301 }),
    );

    expect(reformatted.status).toBe(401);
    expect(reformatted.body.error.message).toContain("No signature in webhook-signature matches");
    expect(stale.status).toBe(401);
    expect(stale.body.error.message).toContain("behind the server's clock");
    expect(await stored()).toEqual(before);
  });

  it("during a secret rotation accepts both secrets; with --grace 0 only the new one", async () => {
    const next = (await rotateSigningSecret(dvss.entities, "vendorB", 3_600_000, Date.now())).secret;
    clearAuthCache();
    const [withOld, withNew] = await Promise.all(
      [secret, next].map((key, index) => {
        const payload = body(`rotating-${index}`);
        return post(payload, signedHeaders(key, payload));
      }),
    );
    const last = (await rotateSigningSecret(dvss.entities, "vendorB", 0, Date.now())).secret;
    clearAuthCache();
    const replaced = await post(body("rotated-1"), signedHeaders(next, body("rotated-1")));
    const newest = await post(body("rotated-2"), signedHeaders(last, body("rotated-2")));

    expect([withOld?.status, withNew?.status]).toEqual([202, 202]);
    expect(replaced.status).toBe(401);
    expect(newest.status).toBe(202);
  });

  it("once signing is disabled, posts unsigned again", async () => {
    const disabled = await disableSigning(dvss.entities, "vendorB");
    clearAuthCache();
    const unsigned = await post(body("unsigned-again"));
    const { data: secrets } = await dvss.entities.vendorSigning.get({ vendorId: "vendorB" }).go();

    expect(disabled.changed).toBe(true);
    expect(unsigned.status).toBe(202);
    expect(secrets).toBeNull();
  });
});
