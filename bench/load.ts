import autocannon from "autocannon";
import { type Percentiles, percentiles } from "./stats.ts";

/** What one autocannon run against POST /v1/events measured. */
export interface LoadResult {
  connections: number;
  /** autocannon's overallRate when the run was paced, else undefined (as fast as it answers). */
  targetRate: number | undefined;
  startedAt: number;
  endedAt: number;
  seconds: number;
  responses: number;
  accepted: number;
  duplicate: number;
  /** Every other answer (4xx, 5xx), by status. */
  otherStatuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** ACCEPTED (or DUPLICATE for a duplicate run) answers per second. */
  ratePerSecond: number;
  latencyMs: Percentiles;
  /** The event numbers that were ACCEPTED, so a duplicate run can send them again. */
  acceptedNumbers: number[];
}

export interface LoadOptions {
  url: string;
  apiKey: string;
  connections: number;
  seconds: number;
  overallRate?: number | undefined;
  /** The body of the n-th request (n counts from 0 within the run). */
  body(n: number): string;
}

/**
 * A vendorA inventory_update with its own externalEventId. The sku varies so that canonical
 * state is not one hot item; the content is a function of (prefix, n) only, so a duplicate run
 * can send exactly the same bytes again.
 */
export function eventBody(prefix: string, n: number, occurredAt: string): string {
  return JSON.stringify({
    vendorId: "vendorA",
    externalEventId: `${prefix}-${n}`,
    eventType: "inventory_update",
    occurredAt,
    schemaVersion: "1",
    payload: { sku: `BENCH-${n % 1000}`, qty: n % 97, warehouse: "ROA" },
  });
}

/** Drives POST /v1/events for a fixed time with a fixed number of connections (one request in flight each). */
export function drive(options: LoadOptions): Promise<LoadResult> {
  let next = 0;
  let accepted = 0;
  let duplicate = 0;
  const acceptedNumbers: number[] = [];
  const otherStatuses: Record<string, number> = {};
  const latencies: number[] = [];
  const startedAt = Date.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        duration: options.seconds,
        timeout: 30,
        ...(options.overallRate !== undefined && { overallRate: options.overallRate }),
        requests: [
          {
            method: "POST",
            path: "/v1/events",
            headers: { "content-type": "application/json", authorization: `Bearer ${options.apiKey}` },
            setupRequest: (request, context) => {
              const n = next++;
              (context as { n?: number }).n = n;
              return { ...request, body: options.body(n) };
            },
            onResponse: (status, body, context) => {
              if (status === 202 && body.includes('"ACCEPTED"')) {
                accepted += 1;
                acceptedNumbers.push((context as { n: number }).n);
              } else if (status === 202 && body.includes('"DUPLICATE"')) {
                duplicate += 1;
              } else {
                otherStatuses[status] = (otherStatuses[status] ?? 0) + 1;
              }
            },
          },
        ],
      },
      (error, result) => {
        if (error) {
          reject(error);
          return;
        }
        const endedAt = Date.now();
        const seconds = (endedAt - startedAt) / 1000;
        resolve({
          connections: options.connections,
          targetRate: options.overallRate,
          startedAt,
          endedAt,
          seconds,
          responses: latencies.length,
          accepted,
          duplicate,
          otherStatuses,
          errors: result.errors,
          timeouts: result.timeouts,
          ratePerSecond: Math.max(accepted, duplicate) / seconds,
          latencyMs: percentiles(latencies),
          acceptedNumbers,
        });
      },
    );
    instance.on("response", (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
    });
  });
}
