import { CALL_COUNTS_IGNORE_HEADER, type CallCounts, readCallCounts } from "@dvss/local/call-counts";
import { countsUnits } from "@dvss/local/capacity-units";
import type { LocalEndpoints } from "@dvss/local/runtime";
import { round } from "./stats.ts";

/**
 * Store calls per event, counted where they arrive: dynalite, s3rver and the local Step Functions
 * endpoint each count the requests they answer by operation and table or bucket
 * (packages/local/src/call-counts.ts). The bench's own reads are marked so they are not counted.
 */

/** Calls counted so far, keyed `<service> <operation> <table or bucket>`. */
export type CallSnapshot = Record<string, number>;

/** Calls per event: each kind, each service's operation, and the total; DynamoDB's capacity units apart. */
export interface CallsPerEvent {
  total: number;
  /** `DynamoDB GetItem`, `S3 GetObject`, `StepFunctions StartExecution`, ... */
  byOperation: Record<string, number>;
  /** `DynamoDB GetItem IngestRecords`, `S3 PutObject RawBucket`, ... */
  byKind: Record<string, number>;
  /**
   * What DynamoDB would bill for those calls (packages/local/src/capacity-units.ts), per event:
   * `DynamoDB WriteUnits CanonicalState`, `DynamoDB ReadUnits IngestRecords`, ..., and the totals
   * `DynamoDB WriteUnits` and `DynamoDB ReadUnits`.
   */
  capacityUnits: Record<string, number>;
}

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (next: (args: never) => Promise<unknown>) => (args: never) => Promise<unknown>,
      options: { step: "build"; name: string },
    ): void;
  };
}

/** Marks every request of an SDK client as the bench's own: the stores do not count it. */
export function uncounted<Client extends MiddlewareClient>(client: Client): Client {
  client.middlewareStack.add(
    (next) => (args) => {
      const request = (args as { request?: { headers?: Record<string, string> } }).request;
      if (request?.headers) request.headers[CALL_COUNTS_IGNORE_HEADER] = "1";
      return next(args);
    },
    { step: "build", name: "dvssBenchUncounted" },
  );
  return client;
}

/** The runtime's physical table and bucket names → their names in the code (IngestRecords, RawBucket, ...). */
function logicalNames(endpoints: LocalEndpoints): Map<string, string> {
  return new Map([
    ...Object.entries(endpoints.tables).map(([name, physical]): [string, string] => [physical, name]),
    ...Object.entries(endpoints.buckets).map(([name, physical]): [string, string] => [physical, name]),
    [endpoints.executionsTable, "LocalExecutions"],
  ]);
}

/** Every endpoint's counts now. */
export async function callSnapshot(endpoints: LocalEndpoints): Promise<CallSnapshot> {
  const names = logicalNames(endpoints);
  const snapshot: CallSnapshot = {};
  const services: [string, string][] = [
    ["DynamoDB", endpoints.dynamodb],
    ["S3", endpoints.s3],
    ["StepFunctions", endpoints.sfn],
  ];
  for (const [service, endpoint] of services) {
    const counts: CallCounts = await readCallCounts(endpoint);
    for (const [kind, count] of Object.entries(counts)) {
      const [operation, resource] = kind.split(" ");
      const name = resource === undefined ? "" : ` ${names.get(resource) ?? resource}`;
      const key = `${service} ${operation}${name}`;
      snapshot[key] = (snapshot[key] ?? 0) + count;
    }
  }
  return snapshot;
}

/** The calls made between two snapshots, per event. */
export function callsPerEvent(before: CallSnapshot, after: CallSnapshot, events: number): CallsPerEvent {
  const byKind: Record<string, number> = {};
  const byOperation: Record<string, number> = {};
  const capacityUnits: Record<string, number> = {};
  let total = 0;
  for (const [kind, count] of Object.entries(after).sort(([a], [b]) => a.localeCompare(b))) {
    const calls = count - (before[kind] ?? 0);
    if (calls <= 0) continue;
    const perEvent = calls / Math.max(1, events);
    const operation = kind.split(" ").slice(0, 2).join(" ");
    if (countsUnits(kind)) {
      capacityUnits[kind] = round(perEvent, 3);
      capacityUnits[operation] = round((capacityUnits[operation] ?? 0) + perEvent, 3);
      continue;
    }
    byKind[kind] = round(perEvent, 3);
    byOperation[operation] = round((byOperation[operation] ?? 0) + perEvent, 3);
    total += perEvent;
  }
  return { total: round(total, 2), byOperation, byKind, capacityUnits };
}
