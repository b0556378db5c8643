import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { QueryCommand } from "@aws-sdk/client-dynamodb";
import { GetExecutionHistoryCommand } from "@aws-sdk/client-sfn";
import { describe, expect, it } from "vitest";
import { localClients } from "../src/clients.ts";
import { lambdaContext, loadHandler, REPO_ROOT } from "../src/lambda.ts";
import type { LocalEndpoints } from "../src/runtime.ts";
import { RUNTIME_STOPPED } from "../src/step-functions.ts";
import { seedEnvelope, startHarness, tempDir } from "./harness.ts";

// Its own file: each runtime re-points the process's handlers at its stores.
const envelope = (externalEventId: string) => ({ ...seedEnvelope, externalEventId });

describe("restarting the local runtime", () => {
  it("keeps the data: the same event after a restart is a DUPLICATE of the first", async () => {
    const dataDir = tempDir("dvss-restart-");
    const first = await startHarness({ dataDir });
    const accepted = await first.post(envelope("restart-1"));
    await first.close();

    const second = await startHarness({ dataDir });
    try {
      const again = await second.post(envelope("restart-1"));

      expect(accepted.body.status).toBe("ACCEPTED");
      expect(again.body).toEqual({ status: "DUPLICATE", ingestId: accepted.body.ingestId });
    } finally {
      await second.close();
    }
  });
});

/** `npm start` in its own process on `dataDir`, as a developer runs it; resolves once it is ready. */
async function startProcess(dataDir: string): Promise<{ child: ChildProcess; endpoints: LocalEndpoints }> {
  const child = spawn(process.execPath, ["packages/local/src/main.ts"], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      DVSS_DATA_DIR: dataDir,
      PORT: "0",
      DVSS_RECONCILE_INTERVAL_MS: "0",
      POWERTOOLS_LOG_LEVEL: "CRITICAL",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk;
      if (output.includes("DVSS local ready")) resolve();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    child.once("exit", (code) => reject(new Error(`npm start exited ${code}: ${output}`)));
  });
  const endpoints = JSON.parse(readFileSync(join(dataDir, "endpoints.json"), "utf8")) as LocalEndpoints;
  return { child, endpoints };
}

describe("a runtime killed while executions run", () => {
  it("ends them ABORTED on restart, with the cause in their history, and the reconciler finishes their events", async () => {
    const dataDir = tempDir("dvss-killed-");
    const { child, endpoints } = await startProcess(dataDir);
    const { dynamodb } = localClients(endpoints);
    // What a restart finds: executions written RUNNING (they go out in batches, 100 ms at most
    // after their start), not only what the endpoint lists from memory.
    const running = async () =>
      (
        await dynamodb.send(
          new QueryCommand({
            TableName: endpoints.executionsTable,
            IndexName: "gsi1",
            KeyConditionExpression: "gsi1pk = :running",
            ExpressionAttributeValues: { ":running": { S: `${endpoints.stateMachineArn}#RUNNING` } },
          }),
        )
      ).Items ?? [];
    let seenRunning = 0;
    for (let round = 0; round < 20 && seenRunning < 3; round++) {
      await Promise.all(
        Array.from({ length: 16 }, (_, n) =>
          fetch(`${endpoints.api}/v1/events`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-api-key": "local-vendorA-key" },
            body: JSON.stringify(envelope(`killed-${round}-${n}`)),
          }),
        ),
      );
      seenRunning = (await running()).length;
    }
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    dynamodb.destroy();

    const dvss = await startHarness({ dataDir });
    const after = localClients(dvss.endpoints);
    try {
      const executions = await dvss.runtime.stepFunctions.listExecutions(dvss.endpoints.stateMachineArn, {
        limit: 1000,
      });
      const aborted = executions.filter((execution) => execution.status === "ABORTED");

      expect(seenRunning).toBeGreaterThan(0);
      expect(executions.filter((execution) => execution.status === "RUNNING")).toEqual([]);
      expect(aborted.length).toBeGreaterThan(0);
      expect(aborted[0]).toMatchObject(RUNTIME_STOPPED);
      // What `dvss status` reads: the history ends with the abort and its cause.
      const history = await after.sfn.send(
        new GetExecutionHistoryCommand({ executionArn: aborted[0]?.executionArn }),
      );
      expect(history.events?.map((event) => event.type)).toEqual(["ExecutionStarted", "ExecutionAborted"]);
      expect(history.events?.[1]?.executionAbortedEventDetails).toEqual(RUNTIME_STOPPED);

      // Every event the killed runtime left unfinished is restarted at the reconciler's first run.
      const reconcile = await loadHandler("packages/functions/src/reconciler.handler");
      const report = await reconcile({}, lambdaContext("Reconciler"));
      await dvss.runtime.stepFunctions.drain();
      const records = await dvss.records();
      expect(report.restarted.length).toBeGreaterThan(0);
      expect(records.filter((record) => record.status !== "NORMALIZED")).toEqual([]);
      expect(records.filter((record) => record.lostExecutions === 1).length).toBeGreaterThan(0);
    } finally {
      after.sfn.destroy();
      await dvss.close();
    }
  });
});

describe("the reconciler after runtime stops", () => {
  it("does not count executions lost with a stopped runtime toward its maximum, up to DVSS_RECONCILE_MAX_LOST (5)", async () => {
    const dvss = await startHarness();
    const { resetAwsClients } = await import("@dvss/functions/lib/aws");
    const reconcile = await loadHandler("packages/functions/src/reconciler.handler");
    const sfnEndpoint = process.env.AWS_ENDPOINT_URL_SFN;
    try {
      // No execution starts: the records stay RECEIVED, as a stopped runtime leaves them.
      process.env.AWS_ENDPOINT_URL_SFN = "http://127.0.0.1:9";
      resetAwsClients();
      const lostTwice = await dvss.post(envelope("lost-twice"));
      const lostTooOften = await dvss.post(envelope("lost-too-often"));
      for (const [externalEventId, attempts, lostExecutions] of [
        ["lost-twice", 3, 2],
        ["lost-too-often", 8, 8],
      ] as const) {
        await dvss.entities.ingestRecords
          .patch({ vendorId: "vendorA", externalEventId })
          .set({ attempts, lostExecutions })
          .go();
      }
      process.env.AWS_ENDPOINT_URL_SFN = sfnEndpoint;
      process.env.DVSS_RECONCILE_AFTER_SECONDS = "0";
      resetAwsClients();

      const report = await reconcile({}, lambdaContext("Reconciler"));
      await dvss.runtime.stepFunctions.drain();

      // 3 executions, 2 lost: 1 counts. 8 executions, 8 lost: 5 forgiven, 3 count, the maximum.
      expect(report.restarted).toEqual([lostTwice.body.ingestId]);
      expect(report.quarantined).toEqual([lostTooOften.body.ingestId]);
      const { data: entry } = await dvss.entities.quarantine
        .get({ ingestId: lostTooOften.body.ingestId })
        .go();
      expect(entry?.message).toMatch(/after 8 executions \(5 lost with a stopped runtime\)/);
    } finally {
      process.env.AWS_ENDPOINT_URL_SFN = sfnEndpoint;
      delete process.env.DVSS_RECONCILE_AFTER_SECONDS;
      resetAwsClients();
      await dvss.close();
    }
  });
});

describe("the reconciler and the local executions queue", () => {
  it("restarts after 120 s locally, not after the deployed workflow's longest execution", async () => {
    // prepare: AWS waits out an execution's 5 minutes; here running and queued ones are skipped
    delete process.env.DVSS_RECONCILE_AFTER_SECONDS;

    // act
    const dvss = await startHarness();
    try {
      // assess
      expect(process.env.DVSS_RECONCILE_AFTER_SECONDS).toBe("120");
      expect(process.env.DVSS_RECONCILE_SKIP_RUNNING).toBe("true");
    } finally {
      delete process.env.DVSS_RECONCILE_AFTER_SECONDS;
      await dvss.close();
    }
  });

  it("leaves an event alone while its execution waits in the queue, however long past the threshold", async () => {
    const dvss = await startHarness({ maxConcurrentExecutions: 1 });
    const reconcile = await loadHandler("packages/functions/src/reconciler.handler");
    process.env.DVSS_RECONCILE_AFTER_SECONDS = "0";
    try {
      const posted = await Promise.all(
        Array.from({ length: 6 }, (_, n) => dvss.post(envelope(`queued-${n}`))),
      );

      const report = await reconcile({}, lambdaContext("Reconciler"));
      await dvss.runtime.stepFunctions.drain();
      const records = await dvss.records();

      expect(posted.every((response) => response.status === 202)).toBe(true);
      expect(report.running).toBeGreaterThan(0);
      expect(report.restarted).toEqual([]);
      // Each event ran once: no second execution of an event that was only waiting.
      expect(records.map((record) => [record.status, record.attempts])).toEqual(
        records.map(() => ["NORMALIZED", 1]),
      );
    } finally {
      delete process.env.DVSS_RECONCILE_AFTER_SECONDS;
      await dvss.close();
    }
  });
});
