import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCallCounts } from "../src/call-counts.ts";
import { localClients } from "../src/clients.ts";
import { lambdaContext, loadHandler } from "../src/lambda.ts";
import { type Harness, seedEnvelope, startHarness } from "./harness.ts";

let dvss: Harness;
let sfn: SFNClient;
beforeAll(async () => {
  dvss = await startHarness();
  sfn = localClients(dvss.endpoints).sfn;
});
afterAll(async () => {
  sfn?.destroy();
  await dvss?.close();
});

describe("the local Step Functions endpoint", () => {
  it("answers DescribeExecution, ListExecutions and GetExecutionHistory through the AWS SDK", async () => {
    const { body } = await dvss.post({ ...seedEnvelope, externalEventId: "sfn-api-1" });
    await dvss.runtime.stepFunctions.drain();
    const executionArn = `arn:aws:states:us-east-1:000000000000:execution:dvss-local-Normalize:${body.ingestId}`;

    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const listed = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: dvss.endpoints.stateMachineArn }),
    );
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));

    expect(described).toMatchObject({ name: body.ingestId, status: "SUCCEEDED" });
    expect(JSON.parse(described.input ?? "{}")).toEqual({
      ingestId: body.ingestId,
      vendorId: "vendorA",
      externalEventId: "sfn-api-1",
      rawRef: { bucket: dvss.endpoints.buckets.RawBucket, key: expect.stringContaining(body.ingestId) },
    });
    expect(described.startDate).toBeInstanceOf(Date);
    expect(listed.executions?.map((execution) => execution.name)).toContain(body.ingestId);
    const entered = (history.events ?? [])
      .filter((event) => event.type === "TaskStateEntered")
      .map((event) => event.stateEnteredEventDetails?.name);
    expect(entered).toEqual(["Map", "ApplyState"]);
    expect(history.events?.at(-1)?.type).toBe("ExecutionSucceeded");
  });

  it("reports a failed task's error and cause in the history", async () => {
    const { body } = await dvss.post({ ...seedEnvelope, externalEventId: "sfn-api-3", schemaVersion: "99" });
    await dvss.runtime.stepFunctions.drain();

    const history = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: `arn:aws:states:us-east-1:000000000000:execution:dvss-local-Normalize:${body.ingestId}`,
      }),
    );

    const failed = history.events?.find((event) => event.type === "TaskFailed");
    expect(failed?.taskFailedEventDetails?.error).toBe("UnknownSchemaVersionError");
    expect(failed?.taskFailedEventDetails?.cause).toContain("UNKNOWN_SCHEMA_VERSION");
  });

  it("writes executions in batches: under load fewer writes than executions, each ended one in the table", async () => {
    const writes = async () =>
      (await readCallCounts(dvss.endpoints.dynamodb))[`BatchWriteItem ${dvss.endpoints.executionsTable}`] ??
      0;
    const before = await writes();

    const posted = await Promise.all(
      Array.from({ length: 24 }, (_, n) => dvss.post({ ...seedEnvelope, externalEventId: `sfn-batch-${n}` })),
    );
    // As under load, nobody drains (a drain sends what waits at once): the events end on their own.
    const ended = async () =>
      (await dvss.records()).filter(
        (record) => record.externalEventId.startsWith("sfn-batch-") && record.status === "NORMALIZED",
      ).length;
    for (let waited = 0; (await ended()) < posted.length && waited < 20_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    await dvss.runtime.stepFunctions.drain();

    // Unbatched, each execution was written twice (RUNNING, then ended).
    expect((await writes()) - before).toBeLessThan(posted.length);
    const executions = await dvss.runtime.stepFunctions.listExecutions(dvss.endpoints.stateMachineArn, {
      limit: 1000,
    });
    const ours = new Set(posted.map((response) => response.body.ingestId));
    const stored = executions.filter((execution) => ours.has(execution.name));
    expect(stored.map((execution) => execution.status)).toEqual(posted.map(() => "SUCCEEDED"));
    const history = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: stored[0]?.executionArn as string }),
    );
    expect(history.events?.at(-1)?.type).toBe("ExecutionSucceeded");
  });

  it("refuses a second execution of the same name with a different input", async () => {
    const { body } = await dvss.post({ ...seedEnvelope, externalEventId: "sfn-api-2" });
    await dvss.runtime.stepFunctions.drain();

    await expect(
      dvss.runtime.stepFunctions.startExecution(
        dvss.endpoints.stateMachineArn,
        body.ingestId,
        '{"other":true}',
      ),
    ).rejects.toThrow(/already exists/);
  });
});

describe("the reconciler", () => {
  it("quarantines an event as STUCK once it has had its maximum number of executions, never for starts Step Functions refused", async () => {
    // A Step Functions that accepts every start and runs nothing: executions that are lost.
    const lost = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        response.setHeader("content-type", "application/x-amz-json-1.0");
        response.end(
          JSON.stringify({
            executionArn: "arn:aws:states:us-east-1:000000000000:express:dvss-local-Normalize:lost:1",
            startDate: Date.now() / 1000,
          }),
        );
      });
    });
    await new Promise<void>((resolve) => lost.listen(0, "127.0.0.1", resolve));
    const { resetAwsClients } = await import("@dvss/functions/lib/aws");
    const sfnEndpoint = process.env.AWS_ENDPOINT_URL_SFN;
    const useStepFunctions = (endpoint: string | undefined) => {
      if (endpoint === undefined) delete process.env.AWS_ENDPOINT_URL_SFN;
      else process.env.AWS_ENDPOINT_URL_SFN = endpoint;
      resetAwsClients();
    };
    process.env.DVSS_RECONCILE_AFTER_SECONDS = "0";
    process.env.DVSS_RECONCILE_MAX_ATTEMPTS = "2";
    const reconcile = await loadHandler("packages/functions/src/reconciler.handler");
    try {
      useStepFunctions(`http://127.0.0.1:${(lost.address() as AddressInfo).port}`);
      const { body } = await dvss.post({ ...seedEnvelope, externalEventId: "stuck-forever-1" });
      const key = { vendorId: seedEnvelope.vendorId, externalEventId: "stuck-forever-1" };

      // Step Functions refuses every restart (nothing listens): no execution, so no step to STUCK.
      useStepFunctions("http://127.0.0.1:9");
      for (let pass = 0; pass < 3; pass++) {
        const refused = await reconcile({}, lambdaContext("Reconciler"));
        expect(refused).toMatchObject({ restarted: [], quarantined: [] });
      }
      expect((await dvss.entities.ingestRecords.get(key).go()).data).toMatchObject({
        status: "RECEIVED",
        attempts: 1,
      });

      useStepFunctions(`http://127.0.0.1:${(lost.address() as AddressInfo).port}`);
      const first = await reconcile({}, lambdaContext("Reconciler"));
      const second = await reconcile({}, lambdaContext("Reconciler"));

      expect(first.restarted).toEqual([body.ingestId]); // started, and lost like the first
      expect(second.quarantined).toContain(body.ingestId);
      const { data: entry } = await dvss.entities.quarantine.get({ ingestId: body.ingestId }).go();
      expect(entry).toMatchObject({ stage: "Reconciler", reason: "STUCK", attempts: 2, status: "open" });
      const event = await dvss.request("GET", `/v1/events/${body.ingestId}`, {
        headers: { "x-api-key": "local-vendorA-key" },
      });
      expect(event.body).toMatchObject({ status: "FAILED_NORMALIZE", error: { code: "STUCK" } });
      const third = await reconcile({}, lambdaContext("Reconciler"));
      expect(third.backlog).toBe(0);
    } finally {
      useStepFunctions(sfnEndpoint);
      delete process.env.DVSS_RECONCILE_AFTER_SECONDS;
      delete process.env.DVSS_RECONCILE_MAX_ATTEMPTS;
      lost.close();
    }
  });
});
