import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpsContext } from "../src/ops/context.ts";
import { redriveEvents } from "../src/ops/redrive.ts";
import { recordQuarantine } from "../src/outcomes.ts";
import { startTestStores } from "./stores.ts";

const INGEST_ID = "01KREDRIVE00000000000000001";
const NOW = Date.parse("2026-01-30T12:00:00Z");
const key = { vendorId: "vendorA", externalEventId: "inv-redrive-1" };
const rawRef = { bucket: "dvss-test-raw", key: `raw/vendorA/2026/01/30/${INGEST_ID}.json` };

describe("a redrive whose start Step Functions refuses", () => {
  let stores: Awaited<ReturnType<typeof startTestStores>>;
  beforeAll(async () => {
    stores = await startTestStores("ops-redrive-test");
  });
  afterAll(() => stores?.close());

  it("leaves the quarantine entry open and the attempt unused, so `redrive --all` finds it again", async () => {
    await stores.entities.ingestRecords
      .put({
        ...key,
        ingestId: INGEST_ID,
        attempts: 1,
        eventType: "inventory_update",
        occurredAt: "2026-01-30T11:59:00Z",
        receivedAt: "2026-01-30T11:59:01Z",
        rawBucket: rawRef.bucket,
        rawKey: rawRef.key,
        payloadSha256: "0".repeat(64),
        status: "FAILED_NORMALIZE",
      })
      .go();
    await recordQuarantine(stores.entities, {
      ...key,
      ingestId: INGEST_ID,
      stage: "Map",
      reason: "MAPPING_FAILED",
      errorName: "MappingFailedError",
      message: "quantityOnHand must be a number",
      details: [],
      rawRef,
      attempts: 1,
    });
    // The local runtime past its waiting executions, or Step Functions throttling: no run starts.
    const context = {
      entities: stores.entities,
      sfn: {
        send: async () => {
          throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
        },
      },
      target: { stateMachineArn: "arn:aws:states:us-east-1:000000000000:stateMachine:dvss-test-Normalize" },
      now: () => NOW,
    } as unknown as OpsContext;

    const [item] = await redriveEvents(context, [INGEST_ID]);

    expect(item).toMatchObject({ ingestId: INGEST_ID, result: "failed", message: "Rate exceeded" });
    const { data: entry } = await stores.entities.quarantine.get({ ingestId: INGEST_ID }).go();
    expect(entry?.status).toBe("open");
    const { data: record } = await stores.entities.ingestRecords.get(key).go();
    expect(record?.attempts).toBe(1);
  });
});
