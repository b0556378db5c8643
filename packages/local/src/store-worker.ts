import type { AddressInfo } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import dynalite from "dynalite";
import S3rver from "s3rver";

/**
 * One embedded store (dynalite or s3rver) on its own thread. The stores parse, checksum and
 * persist every request: on the API's event loop they took most of its time, so each runs on its
 * own event loop and the API, the workflow and the stores use every core. startStores talks to it.
 */

export interface StoreWorkerData {
  kind: "dynamodb" | "s3";
  /** dynalite's LevelDB directory (absent = in memory), or s3rver's directory. */
  directory?: string;
  /** Buckets s3rver creates at start. */
  buckets?: string[];
}

export type StoreWorkerMessage =
  | { type: "ready"; endpoint: string }
  | { type: "failed"; message: string; code?: string }
  | { type: "closed" };

const data = workerData as StoreWorkerData;
const port = parentPort;
if (!port) throw new Error("store-worker.ts runs as a worker thread of startStores");
const post = (message: StoreWorkerMessage) => port.postMessage(message);

async function start(): Promise<() => Promise<void>> {
  if (data.kind === "dynamodb") {
    const server = dynalite({ path: data.directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const endpoint = await new Promise<string>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      });
    });
    post({ type: "ready", endpoint });
    return () => new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const s3 = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory: data.directory ?? "",
    silent: true,
    configureBuckets: (data.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  const address = (await s3.run()) as AddressInfo;
  post({ type: "ready", endpoint: `http://127.0.0.1:${address.port}` });
  return () => s3.close();
}

try {
  const close = await start();
  port.on("message", (message: unknown) => {
    if (message !== "close") return;
    void close()
      .catch(() => undefined)
      .then(() => {
        post({ type: "closed" });
        port.close();
      });
  });
} catch (error) {
  post({
    type: "failed",
    message: (error as Error).message ?? String(error),
    ...((error as NodeJS.ErrnoException).code && { code: (error as NodeJS.ErrnoException).code }),
  });
  port.close();
}
