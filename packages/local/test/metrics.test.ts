/**
 * The metrics vocabulary (packages/core/src/metrics.ts) as the running pipeline writes it: the
 * CloudWatch EMF lines the handlers print, read from the local runtime's output, one scenario per
 * metric, each checked with its dimension sets and values; and the log lines that go with them.
 */
import { METRICS, type MetricKey } from "@dvss/core/metrics";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Harness, seedEnvelope, startHarness } from "./harness.ts";

// At INFO the local runtime writes the handlers' log lines and, with them, their metrics (read
// when the handlers' logger is built, at import).
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = "INFO";
});

interface EmfLine {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [field: string]: unknown;
}

/** One published data point: the metric, its unit, its dimension names and their values, its value. */
interface DataPoint {
  name: string;
  unit: string;
  namespace: string;
  dimensions: Record<string, string>;
  value: unknown;
}

const output: string[] = [];
const errors: string[] = [];

/** Every JSON line printed so far (to stdout; `errors` for stderr). */
function jsonLines(printed: string[] = output): Record<string, unknown>[] {
  return printed
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Every EMF data point printed so far, as CloudWatch reads them (one per metric and dimension set). */
function dataPoints(): DataPoint[] {
  return jsonLines()
    .filter((line) => "_aws" in line)
    .flatMap((line) => {
      const emf = line as EmfLine;
      return emf._aws.CloudWatchMetrics.flatMap((directive) =>
        directive.Metrics.flatMap((metric) =>
          directive.Dimensions.map((set) => ({
            name: metric.Name,
            unit: metric.Unit,
            namespace: directive.Namespace,
            dimensions: Object.fromEntries(set.map((name) => [name, String(emf[name])])),
            value: emf[metric.Name],
          })),
        ),
      );
    });
}

/** The data points of one metric of the vocabulary, each as its dimensions without `service`. */
function pointsOf(key: MetricKey): { dimensions: Record<string, string>; value: unknown }[] {
  const { name, unit } = METRICS[key];
  return dataPoints()
    .filter((point) => point.name === name)
    .map((point) => {
      expect(point).toMatchObject({ namespace: "dvss", unit, dimensions: { service: "dvss" } });
      const { service: _service, ...dimensions } = point.dimensions;
      return { dimensions, value: point.value };
    });
}

const T0 = Date.parse("2026-02-01T10:00:00Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const vendorB = { "x-api-key": "local-vendorB-key" };

let dvss: Harness;

beforeAll(async () => {
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: unknown) => {
    output.push(String(chunk));
    return true;
  });
  // The quarantined events' "task failed" lines (ERROR, on stderr): read, not shown.
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: unknown) => {
    errors.push(String(chunk));
    return true;
  });
  dvss = await startHarness();
});

afterAll(async () => {
  await dvss?.close();
  vi.restoreAllMocks();
});

/** Posts and lets every started execution finish. */
async function post(body: unknown, headers?: Record<string, string>) {
  const response = await dvss.post(body, headers);
  await dvss.runtime.stepFunctions.drain();
  return response;
}

// The tasks run on the runtime's task thread, whose stdout reaches this one through a pipe, a
// little after the execution ends: what they print is polled for.

describe("the metrics a running pipeline writes (EMF lines on stdout)", () => {
  it("counts an accepted event per vendor, its ingest answer time, its NORMALIZED outcome and the time to it", async () => {
    const before = Date.now();

    const response = await post(seedEnvelope);

    expect(response.body.status).toBe("ACCEPTED");
    expect(pointsOf("ingestAccepted")).toEqual([
      { dimensions: {}, value: 1 },
      { dimensions: { vendorId: "vendorA" }, value: 1 },
    ]);
    await expect
      .poll(() => pointsOf("normalizeSuccess"))
      .toEqual([
        { dimensions: {}, value: 1 },
        { dimensions: { vendorId: "vendorA" }, value: 1 },
        { dimensions: { vendorId: "vendorA", eventType: "inventory_update" }, value: 1 },
      ]);
    await expect.poll(() => pointsOf("pipelineLatency").length).toBe(2);
    const latencies = pointsOf("pipelineLatency");
    expect(latencies.map((point) => point.dimensions)).toEqual([{ stage: "ingest" }, { stage: "normalize" }]);
    for (const { value } of latencies) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(Date.now() - before);
    }
  });

  it("counts a duplicate per vendor, not as accepted", async () => {
    const response = await post(seedEnvelope);

    expect(response.body.status).toBe("DUPLICATE");
    expect(pointsOf("ingestDuplicate")).toEqual([
      { dimensions: {}, value: 1 },
      { dimensions: { vendorId: "vendorA" }, value: 1 },
    ]);
    expect(pointsOf("ingestAccepted")).toHaveLength(2);
  });

  it("counts a body a vendor must fix per vendor and reason, and any other refusal by reason only", async () => {
    const invalid = await post({ ...seedEnvelope, externalEventId: "bad-1", occurredAt: "tomorrow" });
    const unauthenticated = await post(seedEnvelope, { "x-api-key": "not-a-key" });

    expect([invalid.status, unauthenticated.status]).toEqual([400, 401]);
    expect(pointsOf("ingestFailedValidation")).toEqual([
      { dimensions: {}, value: 1 },
      { dimensions: { vendorId: "vendorA", reason: "INVALID_ENVELOPE" }, value: 1 },
    ]);
    expect(pointsOf("ingestRejected")).toEqual([{ dimensions: { reason: "UNAUTHORIZED" }, value: 1 }]);
  });

  it("counts a quarantine by reason and the failed outcome per vendor, event type and reason", async () => {
    const broken = {
      ...seedEnvelope,
      externalEventId: "broken-1",
      payload: { sku: "ABC-001", warehouse: "ROA" },
    };
    const unknown = { ...seedEnvelope, externalEventId: "unknown-1", eventType: "made_up_type" };

    await post(broken);
    await post(unknown);

    await expect
      .poll(() => pointsOf("quarantineCount"))
      .toEqual([
        { dimensions: { reason: "SCHEMA_VALIDATION_FAILED" }, value: 1 },
        { dimensions: { reason: "UNKNOWN_SCHEMA_VERSION" }, value: 1 },
      ]);
    await expect
      .poll(() => pointsOf("normalizeFailed"))
      .toEqual([
        { dimensions: {}, value: 1 },
        { dimensions: { vendorId: "vendorA" }, value: 1 },
        {
          dimensions: {
            vendorId: "vendorA",
            eventType: "inventory_update",
            reason: "SCHEMA_VALIDATION_FAILED",
          },
          value: 1,
        },
        { dimensions: {}, value: 1 },
        { dimensions: { vendorId: "vendorA" }, value: 1 },
        // A type the registry does not know opens no series of its own.
        {
          dimensions: { vendorId: "vendorA", eventType: "unregistered", reason: "UNKNOWN_SCHEMA_VERSION" },
          value: 1,
        },
      ]);
  });

  it("counts divergences by kind, from the state rules and from a reused externalEventId", async () => {
    await post({
      vendorId: "vendorA",
      externalEventId: "o-1",
      eventType: "order_created",
      occurredAt: at(0),
      payload: { orderId: "PO-1", warehouse: "ROA", lines: [{ sku: "P-1", qty: 2 }] },
    });
    const shipped = {
      vendorId: "vendorB",
      externalEventId: "o-2",
      eventType: "order_state",
      occurredAt: at(30),
      schemaVersion: "1",
      payload: { order_ref: "PO-1", state: "dispatched" },
    };
    await post(shipped, vendorB);
    await post({
      vendorId: "vendorA",
      externalEventId: "o-3",
      eventType: "order_status",
      occurredAt: at(60),
      payload: { orderId: "PO-1", status: "picked" },
    });
    const conflict = await post({ ...shipped, payload: { order_ref: "PO-1", state: "delivered" } }, vendorB);

    expect(conflict.status).toBe(409);
    await expect
      // Sorted: the task thread's line and the ingest's (this thread) may reach stdout in either order.
      .poll(() =>
        pointsOf("divergenceCount").sort((a, b) =>
          String(a.dimensions.kind).localeCompare(String(b.dimensions.kind)),
        ),
      )
      .toEqual([
        { dimensions: { kind: "IDEMPOTENCY_CONFLICT" }, value: 1 },
        { dimensions: { kind: "STATUS_REGRESSION" }, value: 1 },
      ]);
    expect(pointsOf("ingestRejected")).toContainEqual({
      dimensions: { reason: "IDEMPOTENCY_CONFLICT" },
      value: 1,
    });
  });

  it("logs the accepted event with its raw key, status and answer time; quarantines, divergences and outcomes with receivedAt", async () => {
    const lines = jsonLines();
    const record = (await dvss.records()).find(
      (item) => item.externalEventId === seedEnvelope.externalEventId,
    );

    expect(lines).toContainEqual(
      expect.objectContaining({
        message: "event accepted",
        ingestId: record?.ingestId,
        status: "ACCEPTED",
        rawS3Key: record?.rawKey,
        latencyMs: expect.any(Number),
      }),
    );
    const receivedAt = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    for (const message of ["quarantined", "divergence", "event outcome"]) {
      const logged = lines.filter((line) => line.message === message);
      expect(logged.length, message).toBeGreaterThan(0);
      for (const line of logged) expect(line, message).toMatchObject({ receivedAt });
    }
    const outcome = lines.find(
      (line) => line.message === "event outcome" && line.ingestId === record?.ingestId,
    );
    expect(outcome?.receivedAt).toBe(record?.receivedAt);
  });

  it("logs an accepted event at INFO as two lines, its acceptance and its outcome; no task's input", async () => {
    // An item of its own: no divergence line with it.
    const payload = { sku: "LOG-001", qty: 3, warehouse: "ROA" };
    const response = await post({ ...seedEnvelope, externalEventId: "logged-1", payload });
    const ofEvent = () => jsonLines().filter((line) => line.ingestId === response.body.ingestId);
    await expect.poll(() => ofEvent().length).toBe(2);
    const record = (await dvss.records()).find((item) => item.externalEventId === "logged-1");
    const lines = ofEvent();

    expect(lines).toEqual([
      expect.objectContaining({ level: "INFO", message: "event accepted" }),
      {
        level: "INFO",
        message: "event outcome",
        timestamp: expect.any(String),
        service: "dvss",
        ...(lines[1]?.cold_start === true && { cold_start: true }),
        function_name: "ApplyStateTask",
        function_request_id: expect.any(String),
        ingestId: record?.ingestId,
        vendorId: "vendorA",
        externalEventId: "logged-1",
        receivedAt: record?.receivedAt,
        status: "NORMALIZED",
        eventType: "inventory_update",
        latencyMs: expect.any(Number),
      },
    ]);
    // The tasks' input and state are DEBUG lines; Powertools' per-function constants are not written.
    const all = jsonLines();
    expect(all.filter((line) => line.message === "task input" || line.message === "task state")).toEqual([]);
    for (const line of all.filter((line) => "level" in line)) {
      expect(line).not.toHaveProperty("function_arn");
      expect(line).not.toHaveProperty("function_memory_size");
      expect(line).not.toHaveProperty("sampling_rate");
    }
  });

  it("logs a quarantined event's failure, its quarantine and its FAILED_NORMALIZE outcome with the reason", () => {
    const broken = (message: string) =>
      [...jsonLines(), ...jsonLines(errors)].filter(
        (line) => line.externalEventId === "broken-1" && line.message === message,
      );

    expect(broken("task failed")).toEqual([
      expect.objectContaining({ level: "ERROR", errorCode: "SCHEMA_VALIDATION_FAILED" }),
    ]);
    expect(broken("quarantined")).toEqual([
      expect.objectContaining({ level: "INFO", reason: "SCHEMA_VALIDATION_FAILED" }),
    ]);
    expect(broken("event outcome")).toEqual([
      expect.objectContaining({
        level: "INFO",
        function_name: "UpdateStatusTask",
        status: "FAILED_NORMALIZE",
        eventType: "inventory_update",
        reason: "SCHEMA_VALIDATION_FAILED",
        latencyMs: expect.any(Number),
      }),
    ]);
  });

  it("never names an event in a dimension, and names only metrics of the vocabulary", () => {
    const names = new Set(Object.values(METRICS).map((metric) => metric.name));
    const allowed = new Set(["service", "vendorId", "eventType", "reason", "stage", "kind", "severity"]);

    const points = dataPoints();

    expect(points.length).toBeGreaterThan(0);
    for (const point of points) {
      expect(names).toContain(point.name);
      for (const name of Object.keys(point.dimensions)) expect(allowed).toContain(name);
    }
  });
});
