import type { IncomingMessage, ServerResponse } from "node:http";
import { getHeapStatistics, type HeapInfo } from "node:v8";
import type { Worker } from "node:worker_threads";

/**
 * What the local runtime's memory is made of, by thread: `GET MEMORY_PATH` on the API answers the
 * process's resident set and buffers and each thread's V8 heap (the API's, the workflow's tasks,
 * dynalite's, s3rver's), so `npm run bench` can say which one grows. Not an API path (the API's
 * paths start with /v1, /healthz or /console).
 */
export const MEMORY_PATH = "/_dvss/memory";

export interface ThreadHeap {
  /** What the thread's heap holds (live objects and garbage not yet collected). */
  usedBytes: number;
  /** What the heap has taken from the system. */
  totalBytes: number;
  /** The most it may take (old generation limit plus young generation). */
  limitBytes: number;
  /** Buffers and other memory outside the heap that the thread's objects hold. */
  externalBytes: number;
}

export interface MemoryReport {
  rssBytes: number;
  /** Memory of Buffers and other objects outside the API thread's heap (ArrayBuffers among them). */
  externalBytes: number;
  arrayBuffersBytes: number;
  /** api, tasks, dynalite, s3rver: a thread not running (tasks before the first event) is left out. */
  threads: Record<string, ThreadHeap>;
}

/** A thread whose heap is read: the API's own, or a worker's. */
export type HeapSource = () => Promise<HeapInfo | undefined>;

export const workerHeap =
  (worker: () => Worker | undefined): HeapSource =>
  async () => {
    try {
      return await worker()?.getHeapStatistics();
    } catch {
      return undefined; // the thread ended while we asked
    }
  };

const threadHeap = (heap: HeapInfo): ThreadHeap => ({
  usedBytes: heap.used_heap_size,
  totalBytes: heap.total_heap_size,
  limitBytes: heap.heap_size_limit,
  externalBytes: heap.external_memory,
});

export async function memoryReport(workers: Record<string, HeapSource>): Promise<MemoryReport> {
  const threads: Record<string, ThreadHeap> = { api: threadHeap(getHeapStatistics()) };
  for (const [name, source] of Object.entries(workers)) {
    const heap = await source();
    if (heap) threads[name] = threadHeap(heap);
  }
  const usage = process.memoryUsage();
  return {
    rssBytes: usage.rss,
    externalBytes: usage.external,
    arrayBuffersBytes: usage.arrayBuffers,
    threads,
  };
}

/** Answers `GET MEMORY_PATH` on the API's server (an ExtraRoute). */
export function memoryRoute(workers: Record<string, HeapSource>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (req.method !== "GET" || req.url !== MEMORY_PATH) return false;
    const report = await memoryReport(workers);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(report));
    return true;
  };
}

/**
 * Heap bounds of the runtime's threads (docs/performance.md). Measured: after a full collection
 * each heap holds 20-45 MB, but unbounded each grew to ~200-250 MB under a burst, as V8 sized it for
 * a 4 GB limit: 32 MB semi-spaces, and an old generation let grow to ~4× its live set before it
 * is collected. 8 MB semi-spaces mean more scavenges, each as cheap (their cost is what survives);
 * an old generation capped at 256 MB is collected at ~1.3× its live set (V8 grows a heap that
 * small more slowly) and stays far above it, so a thread does not run out of heap with a backlog
 * (the executions waiting to run are bounded, step-functions.ts).
 */
export const HEAP_BOUNDS = {
  /** Semi-space of the young generation, MB (V8 counts the young generation as three of them). */
  semiSpaceMb: 8,
  /** Old generation of each thread, MB. */
  oldGenerationMb: 256,
} as const;

/**
 * Node flags the runtime's process starts with (`npm start` and the bench; a test reads the start
 * script). V8 applies them to every thread's heap, the workers' too, over their resourceLimits.
 */
export const RUNTIME_NODE_FLAGS = [
  `--max-semi-space-size=${HEAP_BOUNDS.semiSpaceMb}`,
  `--max-old-space-size=${HEAP_BOUNDS.oldGenerationMb}`,
];

/** The same bounds for a worker thread (tasks, dynalite, s3rver) of a process started without the flags (tests). */
export const WORKER_RESOURCE_LIMITS = {
  maxYoungGenerationSizeMb: 3 * HEAP_BOUNDS.semiSpaceMb,
  maxOldGenerationSizeMb: HEAP_BOUNDS.oldGenerationMb,
};
