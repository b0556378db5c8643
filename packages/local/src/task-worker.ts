import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { lambdaContext, loadHandler } from "./lambda.ts";

/**
 * The workflow's Lambda functions, on their own thread: each task call arrives as a message and
 * runs the same handler in the same way as before, with its own SDK clients. Off the API's event
 * loop, the workflow no longer delays ingest requests (in AWS each runs in its own sandbox too).
 */

export interface TaskRequest {
  id: number;
  handler: string;
  functionName: string;
  input: unknown;
}

export type TaskReply =
  | { id: number; ok: true; output: unknown }
  | { id: number; ok: false; error: { name: string; message: string } };

const port = parentPort;
if (!port) throw new Error("task-worker.ts runs as a worker thread of TaskThread");

// Below the API's priority: when the CPU is short (a burst), ingest requests are answered first and
// the workflow catches up after; when it is not, the workflow runs at full speed. On Linux a
// priority is per thread; elsewhere it would lower the whole process, so it is left alone.
if (process.platform === "linux") {
  try {
    setPriority(0, 10);
  } catch {
    // Not allowed here: same priority as the API.
  }
}

port.on("message", async (request: TaskRequest) => {
  let reply: TaskReply;
  try {
    const handler = await loadHandler(request.handler);
    reply = {
      id: request.id,
      ok: true,
      output: await handler(request.input, lambdaContext(request.functionName)),
    };
  } catch (error) {
    const failure = error as Error;
    reply = { id: request.id, ok: false, error: { name: failure.name, message: failure.message } };
  }
  port.postMessage(reply);
});
