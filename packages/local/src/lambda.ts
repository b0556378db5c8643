import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Context } from "aws-lambda";

/** The repository root, from which SST-style handler paths are resolved. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");

// biome-ignore lint/suspicious/noExplicitAny: handlers of every shape are called through here
export type LambdaHandler = (event: any, context: Context) => Promise<any>;

const loaded = new Map<string, Promise<LambdaHandler>>();

/** Loads `packages/functions/src/http/ingest.handler` the way Lambda would: file + export name. */
export function loadHandler(handlerPath: string): Promise<LambdaHandler> {
  let handler = loaded.get(handlerPath);
  if (!handler) {
    const dot = handlerPath.lastIndexOf(".");
    const file = join(REPO_ROOT, `${handlerPath.slice(0, dot)}.ts`);
    const exportName = handlerPath.slice(dot + 1);
    handler = import(file).then((module: Record<string, unknown>) => {
      const fn = module[exportName];
      if (typeof fn !== "function") throw new Error(`${handlerPath}: no exported function ${exportName}`);
      return fn as LambdaHandler;
    });
    loaded.set(handlerPath, handler);
  }
  return handler;
}

/** A Lambda-like context, so Powertools and middy behave as they do in AWS. */
export function lambdaContext(functionName: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
