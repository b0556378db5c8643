import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { CALLS_PER_EVENT, DYNAMODB_READS } from "@dvss/core/cost";
import { CALL_COUNTS_IGNORE_HEADER, type CallCounts, readCallCounts } from "@dvss/local/call-counts";
import { countsUnits } from "@dvss/local/capacity-units";
import { localClients } from "@dvss/local/clients";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, seedEnvelope, startHarness } from "./harness.ts";

/**
 * The cost model's store calls per event (core/cost.ts CALLS_PER_EVENT) are what the code does:
 * events run through the local runtime, and the calls the stores counted (call-counts.ts) must be
 * exactly the model's, and so must the DynamoDB capacity units their items cost (capacity-units.ts:
 * item sizes and index entries as DynamoDB bills them). A change of the calls or of an item's size
 * without the model, or of the model without the code, fails here.
 */

const EVENTS = 6;

/**
 * Calls that are not per event: vendor data, read per cache period (pinned below with a period
 * longer than the test), the reconciler's sweeps, and the local Step Functions endpoint's own
 * table (not a store DVSS pays for on AWS).
 */
const NOT_PER_EVENT = [
  / Vendors$/,
  /^DynamoDB Query IngestRecords$/,
  / LocalExecutions$/,
  /^StepFunctions ListExecutions$/,
];

let dvss: Harness;
const definitionsCacheMs = process.env.DVSS_DEFINITIONS_CACHE_MS;
beforeAll(async () => {
  // Read by the task thread when it starts: published definitions are kept for the whole test.
  process.env.DVSS_DEFINITIONS_CACHE_MS = "120000";
  dvss = await startHarness();
});
afterAll(async () => {
  if (definitionsCacheMs === undefined) delete process.env.DVSS_DEFINITIONS_CACHE_MS;
  else process.env.DVSS_DEFINITIONS_CACHE_MS = definitionsCacheMs;
  await dvss?.close();
});

/** Every endpoint's counts, keyed as CALLS_PER_EVENT keys them. */
async function snapshot(): Promise<CallCounts> {
  const { endpoints } = dvss;
  const names = new Map<string, string>([
    ...Object.entries(endpoints.tables).map(([name, physical]): [string, string] => [physical, name]),
    ...Object.entries(endpoints.buckets).map(([name, physical]): [string, string] => [physical, name]),
    [endpoints.executionsTable, "LocalExecutions"],
  ]);
  const counts: CallCounts = {};
  for (const [service, endpoint] of [
    ["DynamoDB", endpoints.dynamodb],
    ["S3", endpoints.s3],
    ["StepFunctions", endpoints.sfn],
  ] as const) {
    for (const [kind, count] of Object.entries(await readCallCounts(endpoint))) {
      const [operation, resource] = kind.split(" ");
      const key = [service, operation, resource && (names.get(resource) ?? resource)]
        .filter(Boolean)
        .join(" ");
      counts[key] = (counts[key] ?? 0) + count;
    }
  }
  return counts;
}

/** The model's DynamoDB capacity units per event, keyed as the stores count them: `DynamoDB WriteUnits <table>`. */
function modelledUnits(): Record<string, number> {
  const units: Record<string, number> = {};
  for (const [kind, call] of Object.entries(CALLS_PER_EVENT)) {
    const [service, operation = "", table] = kind.split(" ");
    if (service !== "DynamoDB" || call.units === undefined) continue;
    const key = `DynamoDB ${DYNAMODB_READS.has(operation) ? "ReadUnits" : "WriteUnits"} ${table}`;
    units[key] = (units[key] ?? 0) + call.calls * call.units;
  }
  return units;
}

/** Posts one inventory update of the one entity, later than the one before, and waits for its outcome. */
async function normalize(n: number) {
  const response = await dvss.post({
    ...seedEnvelope,
    externalEventId: `calls-${n}`,
    occurredAt: new Date(Date.UTC(2026, 0, 30, 20, 0, n)).toISOString().replace(".000", ""),
    payload: { sku: "CALLS-1", qty: n, warehouse: "ROA" },
  });
  expect(response.body?.status).toBe("ACCEPTED");
  await dvss.runtime.stepFunctions.drain();
}

describe("store calls per accepted event", () => {
  it("are the cost model's, kind by kind, once the entity exists", async () => {
    await normalize(0);
    const before = await snapshot();
    for (let n = 1; n <= EVENTS; n++) await normalize(n);
    const after = await snapshot();

    const perEvent: Record<string, number> = {};
    const unitsPerEvent: Record<string, number> = {};
    for (const [kind, count] of Object.entries(after)) {
      const calls = (count - (before[kind] ?? 0)) / EVENTS;
      if (calls <= 0 || NOT_PER_EVENT.some((pattern) => pattern.test(kind))) continue;
      // DynamoDB's capacity units, counted beside the calls (capacity-units.ts).
      if (countsUnits(kind)) unitsPerEvent[kind] = calls;
      else perEvent[kind] = calls;
    }

    const modelled = Object.fromEntries(
      Object.entries(CALLS_PER_EVENT).map(([kind, call]) => [kind, call.calls]),
    );

    expect(perEvent).toEqual(modelled);
    // The capacity units the model prices are what these events' items cost, table by table.
    expect(unitsPerEvent).toEqual(modelledUnits());
    // Vendor record, API key and mapping definitions: read once, then from the caches.
    const vendorCalls = Object.keys(after).filter((kind) => kind.endsWith(" Vendors"));
    expect(vendorCalls.map((kind) => [kind, (after[kind] ?? 0) - (before[kind] ?? 0)])).toEqual(
      vendorCalls.map((kind) => [kind, 0]),
    );
    const records = await dvss.records();
    expect(
      records.filter((record) => record.externalEventId.startsWith("calls-")).map((r) => r.status),
    ).toEqual(Array(EVENTS + 1).fill("NORMALIZED"));
  });

  it("leave out a request marked as not to be counted, its capacity units too", async () => {
    const read = async (counted: boolean) => {
      const { dynamodb } = localClients(dvss.endpoints);
      if (!counted)
        dynamodb.middlewareStack.add(
          (next) => (args) => {
            const { request } = args as { request?: { headers?: Record<string, string> } };
            if (request?.headers) request.headers[CALL_COUNTS_IGNORE_HEADER] = "1";
            return next(args);
          },
          { step: "build" },
        );
      const before = await snapshot();
      await dynamodb.send(
        new GetItemCommand({
          TableName: dvss.endpoints.tables.Scorecards,
          Key: { pk: { S: "x" }, sk: { S: "y" } },
        }),
      );
      dynamodb.destroy();
      const after = await snapshot();
      return Object.fromEntries(
        Object.entries(after)
          .filter(([kind, count]) => kind.endsWith(" Scorecards") && count !== (before[kind] ?? 0))
          .map(([kind, count]) => [kind, count - (before[kind] ?? 0)]),
      );
    };
    expect(await read(true)).toEqual({
      "DynamoDB GetItem Scorecards": 1,
      "DynamoDB ReadUnits Scorecards": 0.5,
    });
    expect(await read(false)).toEqual({});
  });

  it("write a divergence as its item, its names in the by-ingestId index and itself in the by-kind one", async () => {
    await normalize(20);
    const before = await snapshot();
    // Older than the entity's latest snapshot: applied as a STALE_EVENT divergence.
    const response = await dvss.post({
      ...seedEnvelope,
      externalEventId: "calls-stale",
      occurredAt: "2026-01-30T19:00:00Z",
      payload: { sku: "CALLS-1", qty: 99, warehouse: "ROA" },
    });
    expect(response.body?.status).toBe("ACCEPTED");
    await dvss.runtime.stepFunctions.drain();
    const after = await snapshot();

    const { data } = await dvss.entities.divergences.query
      .byIngestId({ ingestId: response.body.ingestId })
      .go();
    expect(data.map((divergence) => divergence.kind)).toEqual(["STALE_EVENT"]);
    const delta = (kind: string) => (after[kind] ?? 0) - (before[kind] ?? 0);
    expect(delta("DynamoDB PutItem Divergence")).toBe(1);
    // The item itself, ~1.4 KB (2 units), its entry in gsi1 (its names only: 1 unit) and in gsi2
    // (the whole item, which drift listings read from it: 2 units).
    expect(delta("DynamoDB WriteUnits Divergence")).toBe(2 + 1 + 2);
  });
});
