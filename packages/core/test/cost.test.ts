import { describe, expect, it } from "vitest";
import {
  type CostModel,
  costModel,
  FLOOR_REQUESTS,
  formatCost,
  LOCAL_DURATIONS_MS,
  normalizeWorkflowCounts,
  PRICES,
  PRODUCTION_EXPRESS_LOG_LEVEL,
  PRODUCTION_LAMBDA_SYSTEM_LOG_LEVEL,
  SECONDS_PER_MONTH,
  tiered,
  workflowCounts,
} from "../src/cost.ts";
import type { AslDefinition } from "../src/workflow.ts";

const line = (model: CostModel, service: string, item: string) => {
  const found = model.lines.find((l) => l.service === service && l.item.startsWith(item));
  if (!found) throw new Error(`no line ${service} ${item}`);
  return found;
};

describe("workflow counts", () => {
  it("counts one invocation per Task state on the Normalize happy path, from the definition", () => {
    const counts = normalizeWorkflowCounts();

    // NeedsMatch skips Match on the common path (a vendor without a crosswalk); ApplyState marks
    // the record NORMALIZED itself.
    expect(counts.taskInvocations).toEqual(["Map", "ApplyState"]);
    // Two tasks, the Choice and the Succeed state.
    expect(counts.stateTransitions).toBe(4);
    // 2 for the execution, 5 per Task state, 2 per other state.
    expect(counts.historyEvents).toBe(2 + 2 * 5 + 2 + 2);
    // Map's result carries the normalized document: its TaskSucceeded and Exited, both records of
    // the Choice, Entered, Scheduled and Exited of ApplyState, both records of the Succeed state,
    // and ExecutionSucceeded.
    expect(counts.historyEventsWithDocument).toBe(2 + 2 + 3 + 2 + 1);
  });

  it("follows Next from StartAt to Succeed in any definition", () => {
    const definition: AslDefinition = {
      Comment: "",
      QueryLanguage: "JSONPath",
      StartAt: "Only",
      States: {
        Only: {
          Type: "Task",
          Comment: "",
          Resource: "cost:Map",
          TimeoutSeconds: 1,
          ResultPath: "$.v",
          Retry: [],
          Next: "Name",
        },
        Name: { Type: "Pass", Comment: "", Result: 1, ResultPath: "$.p", Next: "Done" },
        Done: { Type: "Succeed", Comment: "" },
      },
    };

    const counts = workflowCounts(definition);

    expect(counts).toEqual({
      taskInvocations: ["Map"],
      stateTransitions: 3,
      historyEvents: 11,
      historyEventsWithDocument: 2 + 2 + 2 + 1,
    });
  });
});

describe("the cost model", () => {
  it("counts per accepted event the calls the code paths make", () => {
    const { perEvent } = costModel({ eventsPerSecond: 1 });

    // Ingest, Map and ApplyState.
    expect(perEvent.lambdaInvocations).toBe(3);
    expect(perEvent.apiRequests).toBe(1);
    expect(perEvent.expressRequests).toBe(1);
    expect(perEvent.dynamodbReadUnits).toBe(1.5);
    expect(perEvent.dynamodbWriteUnits).toBe(11);
    expect(perEvent.s3Puts).toBe(2);
    // The raw body, by Map; the normalized document travels in the state.
    expect(perEvent.s3Gets).toBe(1);
  });

  it("bills Express per request and per GB-second of 64 MB rounded up to 100 ms, not per transition", () => {
    const durationsMs = { Map: 30, ApplyState: 50 };

    const model = costModel({ eventsPerSecond: 1, durationsMs, stateOverheadMs: 15 });

    // 30 + 50 + 2 × 15 = 110 ms → 200 ms billed, at 64 MB.
    expect(model.perEvent.expressBilledMs).toBe(200);
    expect(model.perEvent.expressGbSeconds).toBeCloseTo(0.2 * (64 / 1024), 10);
    const events = SECONDS_PER_MONTH;
    expect(line(model, "Step Functions Express", "requests").monthlyUsd).toBeCloseTo(events / 1e6, 6);
    expect(line(model, "Step Functions Express", "duration").monthlyUsd).toBeCloseTo(
      events * 0.2 * 0.0625 * 0.00001667,
      6,
    );
  });

  it("prices 50 events/s as pinned here", () => {
    const model = costModel({ eventsPerSecond: 50 });
    const events = 50 * SECONDS_PER_MONTH;

    expect(model.eventsPerMonth).toBe(129_600_000);
    expect(line(model, "API Gateway", "HTTP API").monthlyUsd).toBeCloseTo(129.6, 6);
    expect(line(model, "Lambda", "requests").monthlyUsd).toBeCloseTo((events * 3 * 0.2) / 1e6, 6);
    const lambdaMs = LOCAL_DURATIONS_MS.Ingest + LOCAL_DURATIONS_MS.Map + LOCAL_DURATIONS_MS.ApplyState;
    expect(line(model, "Lambda", "duration").monthlyUsd).toBeCloseTo(
      events * (lambdaMs / 1000) * 0.5 * PRICES.lambda.perGbSecondArm64,
      6,
    );
    expect(line(model, "DynamoDB", "write").monthlyUsd).toBeCloseTo((events * 11 * 0.625) / 1e6, 6);
    expect(line(model, "DynamoDB", "read").monthlyUsd).toBeCloseTo((events * 1.5 * 0.125) / 1e6, 6);
    expect(line(model, "S3", "PUT").monthlyUsd).toBeCloseTo((events * 2 * 0.005) / 1000, 6);
    expect(line(model, "S3", "GET").monthlyUsd).toBeCloseTo((events * 1 * 0.0004) / 1000, 6);
    expect(model.totalMonthlyUsd).toBeCloseTo(
      model.lines.reduce((total, l) => total + l.monthlyUsd, 0),
      6,
    );
  });

  it("applies volume tiers at 2,000 events/s (API Gateway past 300 M requests)", () => {
    const model = costModel({ eventsPerSecond: 2_000 });

    // 5,184 M requests: 300 M at $1.00 per million, the rest at $0.90.
    expect(line(model, "API Gateway", "HTTP API").monthlyUsd).toBeCloseTo(300 + 4_884 * 0.9, 6);
  });

  it("prices a quantity across tiers", () => {
    const tiers = [
      { upTo: 10, price: 1 },
      { upTo: 30, price: 0.5 },
      { upTo: Number.POSITIVE_INFINITY, price: 0.1 },
    ];

    expect(tiered(5, tiers)).toBe(5);
    expect(tiered(15, tiers)).toBe(12.5);
    expect(tiered(40, tiers)).toBe(21);
  });

  it("takes the Express logging level: production's by default, every history record with its data at ALL", () => {
    const events = 50 * SECONDS_PER_MONTH;
    // The functions' application lines: at production's system level, no START/END/REPORT.
    const lambdaLogBytes = 2_200;

    const production = costModel({ eventsPerSecond: 50 });
    const dev = costModel({ eventsPerSecond: 50, expressLogLevel: "ALL" });
    const off = costModel({ eventsPerSecond: 50, expressLogLevel: "OFF" });

    expect(PRODUCTION_EXPRESS_LOG_LEVEL).toBe("ERROR");
    expect(production.inputs.expressLogLevel).toBe("ERROR");
    // A happy-path execution logs nothing at ERROR: only the functions' lines remain.
    expect(production.perEvent.expressLogRecords).toBe(0);
    expect(production.perEvent.logBytes).toBe(lambdaLogBytes);
    expect(off.perEvent.logBytes).toBe(lambdaLogBytes);
    expect(dev.perEvent.expressLogRecords).toBe(normalizeWorkflowCounts().historyEvents);
    // Every record at ~1,000 bytes, and the document Map's result carries (~450) on 10 of them.
    expect(dev.perEvent.logBytes).toBe(16 * 1_000 + 10 * 450 + lambdaLogBytes);
    expect(line(dev, "CloudWatch Logs", "ingestion").monthlyUsd).toBeCloseTo(
      tiered((events * dev.perEvent.logBytes) / 1024 ** 3, PRICES.cloudWatchLogs.ingestionTiers),
      6,
    );
    expect(line(dev, "CloudWatch Logs", "ingestion").item).toContain("level ALL: 16 records");
    expect(line(production, "CloudWatch Logs", "ingestion").item).toContain("level ERROR: 0 records");
    // The level moves the logs line only.
    expect(dev.totalMonthlyUsd - production.totalMonthlyUsd).toBeCloseTo(
      line(dev, "CloudWatch Logs", "ingestion").monthlyUsd -
        line(production, "CloudWatch Logs", "ingestion").monthlyUsd,
      6,
    );
    expect(dev.floor.monthlyUsd).toBe(production.floor.monthlyUsd);
  });

  it("takes the functions' system log level: production's WARN by default, START/END/REPORT of every invocation at INFO", () => {
    const production = costModel({ eventsPerSecond: 50 });
    const info = costModel({ eventsPerSecond: 50, lambdaSystemLogLevel: "INFO" });

    expect(PRODUCTION_LAMBDA_SYSTEM_LOG_LEVEL).toBe("WARN");
    expect(production.inputs.lambdaSystemLogLevel).toBe("WARN");
    // The application lines only, at WARN; 450 bytes more for each of the 3 invocations at INFO.
    expect(production.perEvent.logBytes).toBe(2_200);
    expect(info.perEvent.logBytes).toBe(3 * 450 + 2_200);
    expect(line(production, "CloudWatch Logs", "ingestion").item).toContain("Lambda system level WARN");
    expect(line(info, "CloudWatch Logs", "ingestion").item).toContain("Lambda system level INFO");
    // The level moves the logs line only.
    expect(info.totalMonthlyUsd - production.totalMonthlyUsd).toBeCloseTo(
      line(info, "CloudWatch Logs", "ingestion").monthlyUsd -
        line(production, "CloudWatch Logs", "ingestion").monthlyUsd,
      6,
    );
    expect(info.totalMonthlyUsd).toBeGreaterThan(production.totalMonthlyUsd);
  });

  it("prices the floor: the eight requests an accepted event cannot avoid, from the same prices", () => {
    const model = costModel({ eventsPerSecond: 50 });
    const events = 50 * SECONDS_PER_MONTH;

    expect(FLOOR_REQUESTS.map((request) => request.what)).toEqual([
      "API request",
      "ingest invocation",
      "Express execution request",
      "raw PUT",
      "normalized PUT",
      "idempotency write",
      "state write",
      "feed write",
    ]);
    expect(model.floor.perEvent).toMatchObject({
      apiRequests: 1,
      lambdaInvocations: 1,
      lambdaGbSeconds: 0,
      expressRequests: 1,
      expressGbSeconds: 0,
      dynamodbWriteUnits: 3,
      dynamodbReadUnits: 0,
      s3Puts: 2,
      s3Gets: 0,
      logBytes: 0,
      pipeRequests: 0,
      busEvents: 0,
    });
    const perEvent = 1 / 1e6 + 0.2 / 1e6 + 1 / 1e6 + (2 * 0.005) / 1000 + (3 * 0.625) / 1e6;
    expect(model.floor.monthlyUsd).toBeCloseTo(events * perEvent, 6);
    expect(model.floor.usdPerMillionEvents).toBeCloseTo(perEvent * 1e6, 9);
    expect(line(model, "S3", "PUT").floorMonthlyUsd).toBe(line(model, "S3", "PUT").monthlyUsd);
    expect(line(model, "Lambda", "requests").floorMonthlyUsd).toBeCloseTo((events * 0.2) / 1e6, 6);
    expect(line(model, "DynamoDB", "read").floorMonthlyUsd).toBe(0);
    expect(model.floor.monthlyUsd).toBeCloseTo(
      model.lines.reduce((total, l) => total + l.floorMonthlyUsd, 0),
      6,
    );
    expect(model.ratioToFloor).toBe(model.totalMonthlyUsd / model.floor.monthlyUsd);
  });

  it("prices the floor's API requests in the same tiers as the line (2,000 events/s)", () => {
    const model = costModel({ eventsPerSecond: 2_000 });

    expect(line(model, "API Gateway", "HTTP API").floorMonthlyUsd).toBeCloseTo(300 + 4_884 * 0.9, 6);
  });

  it("says where its prices come from when printed", () => {
    const text = formatCost(costModel({ eventsPerSecond: 200 }));

    expect(text).toContain(`as of ${PRICES.asOf}`);
    expect(text).toContain("check them");
    expect(text).toMatch(/total \$[\d,]+ per month/);
    expect(text).toMatch(
      /floor \$[\d,]+ per month, \$14\.\d\d per million events \(API request, .*feed write\)/,
    );
    expect(text).toContain(
      `the total is ${costModel({ eventsPerSecond: 200 }).ratioToFloor.toFixed(2)}× the floor`,
    );
  });
});
