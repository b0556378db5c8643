import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * How many requests of each kind a local endpoint (dynalite, s3rver, Step Functions) answered, so
 * `npm run bench` can say what one event costs in store calls, counted where they arrive, not
 * assumed. Each endpoint answers `GET CALL_COUNTS_PATH` with its counts since it started: an
 * object `{"<operation> <table or bucket>": n}`, and dynalite's capacity units as
 * `{"WriteUnits <table>": n, "ReadUnits <table>": n}` (capacity-units.ts). Not an AWS path (a bucket name cannot start
 * with `_`). Requests that carry CALL_COUNTS_IGNORE_HEADER (the bench's own reads) are not counted.
 */
export const CALL_COUNTS_PATH = "/_dvss/calls";
export const CALL_COUNTS_IGNORE_HEADER = "x-dvss-uncounted";

export type CallCounts = Record<string, number>;

export interface CallCounter {
  /** Adds `amount` (default 1: one call) to a kind's count. */
  count(kind: string, amount?: number): void;
  /** Answers a request for the counts and returns true; false for every other request. */
  answer(req: IncomingMessage, res: ServerResponse): boolean;
  /** Whether a request is to be counted. */
  counts(req: IncomingMessage): boolean;
}

export function createCallCounter(): CallCounter {
  const calls = new Map<string, number>();
  return {
    count(kind, amount = 1) {
      calls.set(kind, (calls.get(kind) ?? 0) + amount);
    },
    answer(req, res) {
      if (req.method !== "GET" || req.url !== CALL_COUNTS_PATH) return false;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(Object.fromEntries(calls)));
      return true;
    },
    counts(req) {
      return req.headers[CALL_COUNTS_IGNORE_HEADER] === undefined;
    },
  };
}

/** The counts of one endpoint (its base URL), as `GET CALL_COUNTS_PATH` answers them. */
export async function readCallCounts(endpoint: string): Promise<CallCounts> {
  const response = await fetch(new URL(CALL_COUNTS_PATH, endpoint));
  if (!response.ok) throw new Error(`${endpoint}${CALL_COUNTS_PATH} answered ${response.status}`);
  return (await response.json()) as CallCounts;
}

/** The S3 operation of a request, from its method, whether it names a key (path style) and copies. */
export function s3Operation(method: string, path: string, copies: boolean): string {
  const [, ...key] = path.slice(1).split("/");
  const hasKey = key.join("/") !== "";
  if (!hasKey) return method === "GET" ? "ListObjects" : `${method}Bucket`;
  if (method === "PUT") return copies ? "CopyObject" : "PutObject";
  const byMethod: Record<string, string> = {
    GET: "GetObject",
    HEAD: "HeadObject",
    DELETE: "DeleteObject",
    POST: "PostObject",
  };
  return byMethod[method] ?? method;
}
