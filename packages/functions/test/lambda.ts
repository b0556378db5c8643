import type { NormalizeInput } from "@dvss/core/workflow";
import type { Context } from "aws-lambda";
import { vi } from "vitest";

/** The state object Map receives: an execution's input. */
export const taskState = (ingestId: string): NormalizeInput => ({
  ingestId,
  vendorId: "vendorA",
  externalEventId: "inv-1",
  rawRef: { bucket: "dvss-test-raw", key: `raw/vendorA/2026/01/30/${ingestId}.json` },
});

/** A Lambda context as the runtime passes it. */
export const lambdaContext = (awsRequestId: string) =>
  ({
    functionName: "dvss-test-Task",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:dvss-test-Task",
    memoryLimitInMB: "128",
    awsRequestId,
    getRemainingTimeInMillis: () => 30_000,
  }) as Context;

/** Every JSON line the logger writes while `run` runs (Powertools writes one JSON object per line). */
export async function logsOf(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, "write").mockImplementation(capture);
  const err = vi.spyOn(process.stderr, "write").mockImplementation(capture);
  try {
    await run().catch(() => undefined);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split("\n"))
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
