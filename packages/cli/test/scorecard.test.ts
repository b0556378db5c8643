import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { score, scoreInputsOf } from "../../core/src/scorecard.ts";
import { tempDir } from "../../local/test/harness.ts";
import {
  type CliHarness,
  startCliHarness,
  stockEnvelope,
  vendorsWithBrokenVendorF,
  writeStockVersion,
} from "./harness.ts";

/**
 * A day of vendorF's traffic through the local runtime, and its scorecard: every figure is
 * computed here from what the test posted and from what the pipeline stored about each event
 * (records, quarantine entries, divergences), never from the counters themselves.
 */

let dvss: CliHarness;
beforeAll(async () => {
  // Refusals are held and written once per window; here each one is written at once, so the
  // counters can be compared right after the posts.
  process.env.DVSS_REFUSAL_WRITE_INTERVAL_MS = "0";
  dvss = await startCliHarness({ vendorsDir: vendorsWithBrokenVendorF() });
});
afterAll(async () => {
  delete process.env.DVSS_REFUSAL_WRITE_INTERVAL_MS;
  await dvss?.close();
});

const vendorF = { "x-api-key": "local-vendorF-key" };

/** The upper bound (seconds) of the log-spaced bucket a duration falls in: the next power of two. */
const bucketBound = (ms: number) => (ms <= 1000 ? 1 : 2 ** Math.ceil(Math.log2(ms / 1000)));
/** Nearest-rank percentile. */
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.ceil((p / 100) * values.length) - 1];

interface Posted {
  externalEventId: string;
  item: string;
  occurredAt: string;
  ingestId: string;
}

/** A stock level `secondsAgo` before now; 10 units and more are quarantined by vendorF's broken mapping. */
async function post(
  externalEventId: string,
  item: string,
  secondsAgo: number,
  units: number,
): Promise<Posted> {
  const occurredAt = new Date(Date.now() - secondsAgo * 1000).toISOString();
  const envelope = { ...stockEnvelope(externalEventId, units), occurredAt };
  envelope.payload.item = item;
  const ingestId = await dvss.postAndSettle(envelope);
  return { externalEventId, item, occurredAt, ingestId };
}

describe("dvss vendor scorecard after a seeded day of mixed traffic", () => {
  it("shows the figures the events give", async () => {
    // Accepted, in arrival order; `late` arrives after a later event of its item, `broken` is quarantined.
    const first = await post("sc-1", "SC-1", 100, 5);
    const late = await post("sc-2", "SC-1", 3000, 3);
    const early = await post("sc-3", "SC-2", 3 * 3600, 7);
    const broken = await post("sc-4", "SC-2", 7200, 12);
    const recent = await post("sc-5", "SC-2", 60, 4);
    // Two duplicates of the first, and three refusals of an authenticated vendorF.
    const firstEnvelope = { ...stockEnvelope("sc-1", 5), occurredAt: first.occurredAt };
    firstEnvelope.payload.item = "SC-1";
    const duplicates = [await dvss.post(firstEnvelope, vendorF), await dvss.post(firstEnvelope, vendorF)];
    const conflict = await dvss.post(
      { ...firstEnvelope, payload: { ...firstEnvelope.payload, units: 6 } },
      vendorF,
    );
    const notJson = await dvss.post("{not json", vendorF);
    const notJsonType = await dvss.request("POST", "/v1/events", {
      body: JSON.stringify(firstEnvelope),
      headers: { "content-type": "text/plain", ...vendorF },
    });
    // Not attributable to a vendor: an unknown key.
    const unknownKey = await dvss.post(firstEnvelope, { "x-api-key": "not-a-key" });
    // The fix, and the redrive that normalizes the quarantined event.
    const published = await dvss.cli(
      "mapping",
      "publish",
      writeStockVersion(tempDir("dvss-scorecard-"), "2"),
    );
    const redriven = await dvss.cli("redrive", broken.ingestId, "--wait", "--json");

    const card = await dvss.cli("vendor", "scorecard", "vendorF", "--days", "2", "--json");
    const text = await dvss.cli("vendor", "scorecard", "vendorF", "--days", "2");

    expect(duplicates.map((response) => response.body.status)).toEqual(["DUPLICATE", "DUPLICATE"]);
    expect([conflict.status, notJson.status, notJsonType.status, unknownKey.status]).toEqual([
      409, 400, 415, 401,
    ]);
    expect(published.code).toBe(0);
    expect(redriven.json().items[0].outcome).toEqual({ status: "NORMALIZED" });
    expect(card.code).toBe(0);

    const accepted = [first, late, early, broken, recent];
    const records = (await dvss.records()).filter((record) => record.vendorId === "vendorF");
    const recordOf = (posted: Posted) => {
      const record = records.find((r) => r.ingestId === posted.ingestId);
      if (!record) throw new Error(`no record for ${posted.externalEventId}`);
      return record;
    };
    const today = recordOf(first).receivedAt.slice(0, 10);
    expect(accepted.map((posted) => recordOf(posted).receivedAt.slice(0, 10))).toEqual(Array(5).fill(today));
    expect(accepted.map((posted) => recordOf(posted).status)).toEqual(Array(5).fill("NORMALIZED"));

    // Lateness: receivedAt − occurredAt of each accepted event, in its bucket.
    const lateness = accepted.map((posted) =>
      bucketBound(Date.parse(recordOf(posted).receivedAt) - Date.parse(posted.occurredAt)),
    );
    // Out of order: applied after an event of its item that occurred later (the broken one at its redrive).
    const appliedInOrder = [first, late, early, recent, broken];
    const outOfOrder = appliedInOrder.filter((posted, index) =>
      appliedInOrder
        .slice(0, index)
        .some((before) => before.item === posted.item && before.occurredAt > posted.occurredAt),
    ).length;
    // Divergences the state code recorded for these events (the 409 is counted as a refusal).
    const divergences: Record<string, number> = {};
    for (const posted of accepted) {
      const { data } = await dvss.entities.divergences.query.byIngestId({ ingestId: posted.ingestId }).go();
      for (const { kind } of data.filter((divergence) => divergence.kind !== "IDEMPOTENCY_CONFLICT")) {
        divergences[kind] = (divergences[kind] ?? 0) + 1;
      }
    }
    // Quarantine to NORMALIZED: from the entry's quarantinedAt to the record's last write (UpdateStatus's).
    const { data: entry } = await dvss.entities.quarantine.get({ ingestId: broken.ingestId }).go();
    const quarantinedMs =
      Date.parse(recordOf(broken).updatedAt ?? "") - Date.parse(entry?.quarantinedAt ?? "");

    const day = card.json().days.find((row: { day: string }) => row.day === today);
    expect(outOfOrder).toBe(2);
    expect(Object.values(divergences).reduce((sum, n) => sum + n, 0)).toBeGreaterThan(0);
    expect(day).toMatchObject({
      vendorId: "vendorF",
      accepted: accepted.length,
      duplicates: duplicates.length,
      rejected: { IDEMPOTENCY_CONFLICT: 1, INVALID_JSON: 1, UNSUPPORTED_MEDIA_TYPE: 1 },
      rejectedTotal: 3,
      quarantined: { MAPPING_FAILED: 1 },
      normalizedAfterQuarantine: 1,
      divergences,
      outOfOrder,
      driftFindings: 0,
      latenessP50Seconds: percentile(lateness, 50),
      latenessP95Seconds: percentile(lateness, 95),
    });
    // The redrive's own clock reads a few milliseconds after the record's write.
    expect([bucketBound(quarantinedMs), bucketBound(quarantinedMs + 1000)]).toContain(day.redriveP95Seconds);
    expect(day.score).toBe(score(scoreInputsOf(day)));
    expect(day.score).toBeLessThan(100);
    expect(text.stdout).toContain(`Scorecard of vendorF`);
    expect(text.stdout).toMatch(new RegExp(`${today}\\s+5\\s+2\\s+3\\s+1\\s+1\\s+`));
    expect(text.stdout).toMatch(
      /rejected\s+INVALID_JSON 1, IDEMPOTENCY_CONFLICT 1, UNSUPPORTED_MEDIA_TYPE 1\n/,
    );
    expect(text.stdout).toMatch(/quarantined\s+MAPPING_FAILED 1\n/);
  });
});
