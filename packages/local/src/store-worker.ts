import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import crypto, { createHash } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import { parentPort, threadId, workerData } from "node:worker_threads";
import dynalite from "dynalite";
import S3rver from "s3rver";
import { createCallCounter, s3Operation } from "./call-counts.ts";
import { countDynaliteCapacity } from "./capacity-units.ts";
import { closeDynaliteIterators } from "./dynalite-iterators.ts";
import { cacheDynaliteTables } from "./dynalite-tables.ts";
import { readLevelDbThroughIterators } from "./leveldb-reads.ts";

/**
 * One embedded store (dynalite or s3rver) on its own thread. The stores parse, checksum and
 * persist every request: on the API's event loop they took most of its time, so each runs on its
 * own event loop and the API, the workflow and the stores use every core. startStores talks to it,
 * and starts it again on the same port if the thread dies (stores.ts).
 */

export interface StoreWorkerData {
  kind: "dynamodb" | "s3";
  /** dynalite's LevelDB directory (absent = in memory), or s3rver's directory. */
  directory?: string;
  /** Buckets s3rver creates at start. */
  buckets?: string[];
  /** Buckets under Object Lock with a default retention: a PutObject must carry a checksum. */
  lockedBuckets?: string[];
  /** The port to listen on: 0 the first time, the same one when the store is started again. */
  port?: number;
}

export type StoreWorkerMessage =
  | { type: "ready"; endpoint: string }
  | { type: "failed"; message: string; code?: string }
  | { type: "closed" };

const data = workerData as StoreWorkerData;
const port = parentPort;
if (!port) throw new Error("store-worker.ts runs as a worker thread of startStores");
const post = (message: StoreWorkerMessage) => port.postMessage(message);

interface StoredObject {
  bucket: string;
  key: string;
  content: Buffer | AsyncIterable<Buffer>;
  metadata: Record<string, string>;
}

interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
}

let partials = 0;

/**
 * s3rver's putObject, all or nothing. s3rver writes the object file in place from an unguarded
 * stream: a write that fails (disk full, read-only) leaves a zero-byte or partial object behind
 * and throws an error nothing catches, which ends the store's thread. Here the body, its md5 and
 * its metadata are written to temporary files beside the object and renamed over it only once all
 * three are on disk (the object last, so a reader never finds it without them); on any failure the
 * temporary files are removed and s3rver answers 500, which the SDK retries and ingest answers 503.
 */
async function putObjectAtomically(
  store: FilesystemStore,
  object: StoredObject,
): Promise<{ size: number; md5: string }> {
  const chunks: Buffer[] = [];
  if (Buffer.isBuffer(object.content)) chunks.push(object.content);
  else for await (const chunk of object.content) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const md5 = createHash("md5").update(body).digest("hex");
  // What s3rver's putMetadata keeps: everything but what is derived from the file itself.
  const { "last-modified": _modified, etag: _etag, "content-length": _length, ...stored } = object.metadata;

  const objectPath = store.getResourcePath(object.bucket, object.key, "object");
  const suffix = `.${process.pid}-${threadId}-${++partials}.partial`;
  const files = [
    { path: store.getResourcePath(object.bucket, object.key, "object.md5"), content: md5 },
    {
      path: store.getResourcePath(object.bucket, object.key, "metadata.json"),
      content: JSON.stringify(stored, null, 2),
    },
    { path: objectPath, content: body },
  ];
  try {
    await mkdir(dirname(objectPath), { recursive: true });
    for (const file of files) await writeFile(`${file.path}${suffix}`, file.content);
    for (const file of files) await rename(`${file.path}${suffix}`, file.path);
  } catch (error) {
    await Promise.all(
      files.map((file) => rm(`${file.path}${suffix}`, { force: true }).catch(() => undefined)),
    );
    throw error;
  }
  return { size: body.length, md5 };
}

interface KoaContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** false: the middleware answered on `res` itself. */
  respond?: boolean;
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}

const CHECKSUM_REQUIRED =
  "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters";

/**
 * S3's rule for a bucket with Object Lock and a default retention: a PutObject without Content-MD5
 * and without an x-amz-checksum-* header (or trailer) is refused with 400 InvalidRequest.
 */
function objectLockChecksums(lockedBuckets: Set<string>) {
  return async (ctx: KoaContext, next: () => Promise<void>) => {
    if (ctx.method === "PUT" && lockedBuckets.size > 0) {
      const [bucket = "", ...key] = ctx.path.slice(1).split("/");
      // PutObject: a key, no sub-resource (the SDK adds x-id=PutObject), not a copy.
      const isPutObject =
        lockedBuckets.has(bucket) &&
        key.join("/") !== "" &&
        Object.keys(ctx.query).every((name) => name === "x-id") &&
        ctx.headers["x-amz-copy-source"] === undefined;
      const names = Object.keys(ctx.headers);
      const trailer = String(ctx.headers["x-amz-trailer"] ?? "");
      const hasChecksum =
        names.includes("content-md5") ||
        names.some((name) => name.startsWith("x-amz-checksum-")) ||
        trailer.startsWith("x-amz-checksum-");
      if (isPutObject && !hasChecksum) {
        ctx.status = 400;
        ctx.type = "application/xml";
        ctx.body =
          '<?xml version="1.0" encoding="UTF-8"?>\n' +
          `<Error><Code>InvalidRequest</Code><Message>${CHECKSUM_REQUIRED}</Message>` +
          `<Resource>${ctx.path}</Resource></Error>`;
        return;
      }
    }
    await next();
  };
}

const calls = createCallCounter();
/** Set while dynalite handles a request that is not counted, so its capacity units are not either. */
const uncounted = new AsyncLocalStorage<true>();

/**
 * Has dynalite handle a request in the uncounted context: its body listeners are bound to it, as
 * an emitter's listeners otherwise run in the context of the request's socket.
 */
function handleUncounted(
  req: IncomingMessage,
  res: ServerResponse,
  handlers: ((req: IncomingMessage, res: ServerResponse) => void)[],
): void {
  const on = req.on;
  req.on = function bound(this: IncomingMessage, event: string, listener: (...args: unknown[]) => void) {
    return on.call(this, event, AsyncResource.bind(listener));
  } as typeof req.on;
  try {
    for (const handler of handlers) handler(req, res);
  } finally {
    req.on = on;
  }
}

/**
 * Counts dynalite's requests as `<operation> <table>` (the table from the body's first
 * TableName, or a batch's first RequestItems key) before dynalite handles them, and the capacity
 * units of the counted ones (capacity-units.ts).
 */
function countDynamoRequests(server: Server): void {
  const handlers = server.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (calls.answer(req, res)) return;
    if (calls.counts(req)) {
      const operation = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "unknown";
      let head = "";
      const counted = (table: string) => {
        req.off("data", collect);
        req.off("end", unnamed);
        calls.count(`${operation} ${table}`);
      };
      const collect = (chunk: Buffer) => {
        head += chunk.toString("latin1");
        const table = /"(?:TableName|RequestItems)"\s*:\s*\{?\s*"([^"]+)"/.exec(head)?.[1];
        if (table || head.length > 65_536) counted(table ?? "?");
      };
      const unnamed = () => counted("?");
      req.on("data", collect);
      req.on("end", unnamed);
    }
    if (calls.counts(req)) for (const handler of handlers) handler(req, res);
    else uncounted.run(true, () => handleUncounted(req, res, handlers));
  });
  countDynaliteCapacity((kind, units) => {
    if (!uncounted.getStore()) calls.count(kind, units);
  });
}

/** Counts s3rver's requests as `<operation> <bucket>`, and answers the request for the counts. */
async function countS3Requests(ctx: KoaContext, next: () => Promise<void>) {
  if (calls.answer(ctx.req, ctx.res)) {
    ctx.respond = false;
    return;
  }
  if (calls.counts(ctx.req)) {
    const bucket = ctx.path.slice(1).split("/")[0] ?? "";
    calls.count(
      `${s3Operation(ctx.method, ctx.path, ctx.headers["x-amz-copy-source"] !== undefined)} ${bucket}`,
    );
  }
  await next();
}

/**
 * s3rver mints ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node 17 on) no longer
 * offers: every truncated listing (more keys than MaxKeys) answered 500 InternalError. A token only
 * has to come back as it went out, so in this thread (s3rver's alone) DES keeps the bytes as they are.
 */
function plainS3rverTokens(): void {
  const plain = () => ({
    update: (input: string | Buffer) => Buffer.from(input),
    final: () => Buffer.alloc(0),
  });
  const { createCipheriv, createDecipheriv } = crypto;
  Object.assign(crypto, {
    createCipheriv: (algorithm: string, ...rest: unknown[]) =>
      algorithm === "des" ? plain() : (createCipheriv as (...args: unknown[]) => unknown)(algorithm, ...rest),
    createDecipheriv: (algorithm: string, ...rest: unknown[]) =>
      algorithm === "des"
        ? plain()
        : (createDecipheriv as (...args: unknown[]) => unknown)(algorithm, ...rest),
  });
}

async function start(): Promise<() => Promise<void>> {
  if (data.kind === "dynamodb") {
    // On disk: LevelDB 1.20's point reads can answer with an older version (leveldb-reads.ts).
    if (data.directory) readLevelDbThroughIterators();
    // Without it every Query and Scan leaves a LevelDB iterator open (dynalite-iterators.ts).
    closeDynaliteIterators();
    // A table's description from memory, not LevelDB, at the start of every request (dynalite-tables.ts).
    cacheDynaliteTables();
    const server = dynalite({ path: data.directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    countDynamoRequests(server);
    const endpoint = await new Promise<string>((resolve, reject) => {
      server.once("error", reject);
      server.listen(data.port ?? 0, "127.0.0.1", () => {
        resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      });
    });
    post({ type: "ready", endpoint });
    return () => new Promise<void>((resolve) => server.close(() => resolve()));
  }
  plainS3rverTokens();
  const s3 = new S3rver({
    address: "127.0.0.1",
    port: data.port ?? 0,
    directory: data.directory ?? "",
    silent: true,
    configureBuckets: (data.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  const store = (s3 as unknown as { store: FilesystemStore }).store;
  store.putObject = (object) => putObjectAtomically(store, object);
  // First in line, before s3rver reads the body.
  (s3 as unknown as { middleware: unknown[] }).middleware.unshift(
    countS3Requests,
    objectLockChecksums(new Set(data.lockedBuckets ?? [])),
  );
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
