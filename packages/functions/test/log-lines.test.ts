import { afterEach, describe, expect, it, vi } from "vitest";
import { logger } from "../src/lib/aws.ts";
import { DvssLogFormatter } from "../src/lib/log-format.ts";
import { taskHandler } from "../src/lib/task.ts";
import { lambdaContext, logsOf, taskState } from "./lambda.ts";

// The logger reads its level once, when lib/aws.ts is imported: INFO, as production runs.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = "INFO";
});

const state = taskState("01JTASKTEST000000000000000");
const TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("a task's log lines", () => {
  it("writes no line for a task that succeeds at INFO, but a container's cold start", async () => {
    vi.resetModules();
    const fresh = await import("../src/lib/task.ts");
    const handler = fresh.taskHandler("Map", async () => ({}) as never);

    const first = await logsOf(() => handler(state, lambdaContext("request-0")));
    const logs = await logsOf(() => handler(state, lambdaContext("request-1")));

    expect(first).toEqual([
      expect.objectContaining({
        level: "INFO",
        message: "cold start",
        task: "Map",
        ingestId: state.ingestId,
      }),
    ]);
    expect(logs).toEqual([]);
  });

  it("writes which task started with which input, and the whole state, at DEBUG", async () => {
    // A container started at DEBUG (a development stage): the logger takes its level at import.
    vi.stubEnv("POWERTOOLS_LOG_LEVEL", "DEBUG");
    vi.resetModules();
    const atDebug = await import("../src/lib/task.ts");
    const handler = atDebug.taskHandler("Map", async () => ({}) as never);

    const logs = await logsOf(() => handler(state, lambdaContext("request-2")));

    expect(logs).toEqual([
      expect.objectContaining({ level: "INFO", message: "cold start" }),
      expect.objectContaining({
        level: "DEBUG",
        message: "task input",
        task: "Map",
        rawKey: state.rawRef.key,
        ingestId: state.ingestId,
        receivedAt: "2025-05-03T10:03:34.233Z",
      }),
      expect.objectContaining({ level: "DEBUG", message: "task state", input: state }),
    ]);
  });
});

describe("the log line's own keys", () => {
  const lineOf = async (context = lambdaContext("request-3")) => {
    const handler = taskHandler("Map", async () => {
      logger.info("probe", { extra: 1 });
      return {} as never;
    });
    const [line] = await logsOf(() => handler(state, context));
    return line;
  };

  it("are the level, message, time, service, function name and request id, then the line's keys", async () => {
    vi.stubEnv("_X_AMZN_TRACE_ID", `${TRACE_HEADER};Sampled=0`);
    await lineOf(); // the container's first invocation is its cold start

    const line = await lineOf();

    // No function_arn or function_memory_size (constant per function: its log group names it), no
    // sampling_rate (0), no cold_start when false, no trace id of a request X-Ray does not sample.
    expect(line).toEqual({
      level: "INFO",
      message: "probe",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      service: "dvss",
      function_name: "dvss-test-Task",
      function_request_id: "request-3",
      ingestId: state.ingestId,
      vendorId: state.vendorId,
      externalEventId: state.externalEventId,
      receivedAt: "2025-05-03T10:03:34.233Z",
      extra: 1,
    });
    expect(Object.keys(line ?? {}).slice(0, 4)).toEqual(["level", "message", "timestamp", "service"]);
  });

  it("name the X-Ray trace of a sampled request", async () => {
    vi.stubEnv("_X_AMZN_TRACE_ID", `${TRACE_HEADER};Sampled=1`);

    const line = await lineOf();

    expect(line).toMatchObject({ xray_trace_id: "1-5759e988-bd862e3fe1be46a994272793" });
  });

  it("say cold_start only on a container's first invocation", () => {
    const attributes = {
      logLevel: "INFO" as const,
      message: "probe",
      timestamp: new Date("2026-11-30T12:00:00.000Z"),
      serviceName: "dvss",
      sampleRateValue: 0,
      awsRegion: "us-east-1",
      lambdaContext: {
        coldStart: true,
        functionName: "dvss-test-Task",
        functionVersion: "$LATEST",
        invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:dvss-test-Task",
        memoryLimitInMB: "128",
        awsRequestId: "request-4",
      },
    };
    const formatted = new DvssLogFormatter().formatAttributes(attributes, {}).getAttributes();

    expect(formatted).toEqual({
      level: "INFO",
      message: "probe",
      timestamp: "2026-11-30T12:00:00.000Z",
      service: "dvss",
      cold_start: true,
      function_name: "dvss-test-Task",
      function_request_id: "request-4",
    });
  });
});
