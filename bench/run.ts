/**
 * `npm run bench`: where the time of the local pipeline goes, measured, not assumed.
 *
 * Starts the local runtime in its own process (as `npm start` does, fresh data directory, free
 * port), drives POST /v1/events with autocannon at several concurrency levels, reads what became
 * of every event from the IngestRecords table, measures the embedded stores' own ceiling for the
 * calls one event needs, and the CPU cost of validate + map. Method and latest figures:
 * docs/performance.md. Environment: BENCH_SECONDS (per run, default 10), BENCH_CONCURRENCY
 * (default 1,8,32), BENCH_LABEL (added to the results file name).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CallsPerEvent, callSnapshot, callsPerEvent } from "./calls.ts";
import { type CeilingResult, storeCeiling } from "./ceiling.ts";
import { type HotEntityResult, measureHotEntity } from "./hot-entity.ts";
import { drive, eventBody, type LoadResult } from "./load.ts";
import { measureMappingCost } from "./mapping.ts";
import { type EndToEnd, recordReader } from "./records.ts";
import { cpuSince, startRuntimeProcess, type ThreadCpu } from "./runtime-process.ts";
import { type Percentiles, round } from "./stats.ts";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? "1,8,32").split(",").map(Number);
const LABEL = process.env.BENCH_LABEL ?? "";
const API_KEY = "local-vendorA-key";
/** Paced runs, as shares of the rate the workflow sustains alone. */
const PACED_SHARES = [0.4, 0.7];
/** One warehouse/sku under concurrent events: how many, at what concurrency. */
const HOT_EVENTS = Number(process.env.BENCH_HOT_EVENTS ?? 1_000);
/** One entity's throughput at each of these concurrencies (BENCH_HOT_CONNECTIONS, comma-separated). */
const HOT_CONNECTIONS = (process.env.BENCH_HOT_CONNECTIONS ?? "16,64").split(",").map(Number);
/** How long the workflow may take to catch up after a run before its backlog is reported as such. */
const DRAIN_TIMEOUT_MS = Math.max(150_000, SECONDS * 15_000);

interface LevelResult {
  concurrency: number;
  ingest: Omit<LoadResult, "acceptedNumbers">;
  endToEnd: Omit<EndToEnd, "ingestIds">;
  /** Records still RECEIVED when the drain gave up (0 = the workflow caught up). */
  backlogAfterDrain: number;
  duplicate: Omit<LoadResult, "acceptedNumbers">;
  ceiling: CeilingResult;
  /** Accepted events/s over the store ceiling's events/s, same concurrency. */
  ingestVsCeiling: number;
  /** CPU of the runtime from the start of the run until the workflow drained, per accepted event, by thread. */
  cpuMsPerEvent: Record<string, number>;
  /** Store calls the runtime made from the start of the run until the workflow drained, per accepted event. */
  callsPerEvent: CallsPerEvent;
}

/** The runtime's threads as the table shows them: the API thread, the workflow's tasks, each store, the rest. */
function cpuPerEvent(used: ThreadCpu, events: number): Record<string, number> {
  const known: Record<string, string> = {
    MainThread: "api",
    tasks: "tasks",
    dynalite: "dynalite",
    s3rver: "s3rver",
  };
  const grouped: Record<string, number> = { api: 0, tasks: 0, dynalite: 0, s3rver: 0, other: 0 };
  for (const [name, seconds] of Object.entries(used)) {
    const group = known[name] ?? "other";
    grouped[group] = (grouped[group] ?? 0) + seconds;
  }
  const total = Object.values(grouped).reduce((a, b) => a + b, 0);
  return Object.fromEntries(
    Object.entries({ ...grouped, total }).map(([name, seconds]) => [
      name,
      round((seconds * 1000) / Math.max(1, events), 2),
    ]),
  );
}

const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);

const loadAverage = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);

const log = (message: string) => process.stderr.write(`${message}\n`);
const withoutNumbers = ({ acceptedNumbers: _, ...rest }: LoadResult) => rest;
const ms = (p: Percentiles) => `${round(p.p50)}/${round(p.p95)}/${round(p.p99)}`;

/** One row of the end-to-end table: a concurrency level or a paced run. */
function endToEndRow(label: string, run: Pick<LevelResult, "ingest" | "endToEnd" | "backlogAfterDrain">) {
  return [
    label,
    round(run.ingest.ratePerSecond),
    run.endToEnd.normalized,
    run.endToEnd.failed,
    round(run.endToEnd.normalizedPerSecond),
    round(run.endToEnd.drainPerSecond),
    ms(run.endToEnd.lagMs),
    run.backlogAfterDrain,
  ];
}

function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  const line = (row: string[]) => row.map((cell, i) => cell.padStart(widths[i] ?? 0)).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

/** One row per kind of call (then per operation, then the total), one column per concurrency. */
function callsTable(levels: LevelResult[]): string {
  const kinds = [...new Set(levels.flatMap((l) => Object.keys(l.callsPerEvent.byKind)))].sort();
  const operations = [...new Set(levels.flatMap((l) => Object.keys(l.callsPerEvent.byOperation)))].sort();
  return table(
    ["calls per event", ...levels.map((l) => `conc ${l.concurrency}`)],
    [
      ...kinds.map((kind) => [kind, ...levels.map((l) => l.callsPerEvent.byKind[kind] ?? 0)]),
      ...operations.map((operation) => [
        `all ${operation}`,
        ...levels.map((l) => l.callsPerEvent.byOperation[operation] ?? 0),
      ]),
      ["total", ...levels.map((l) => l.callsPerEvent.total)],
    ],
  );
}

/** DynamoDB's capacity units per event, by table then in all, one column per concurrency. */
function unitsTable(levels: LevelResult[]): string {
  const kinds = [...new Set(levels.flatMap((l) => Object.keys(l.callsPerEvent.capacityUnits)))].sort(
    (a, b) => a.split(" ").length - b.split(" ").length || a.localeCompare(b),
  );
  return table(
    ["capacity units per event", ...levels.map((l) => `conc ${l.concurrency}`)],
    kinds.map((kind) => [kind, ...levels.map((l) => l.callsPerEvent.capacityUnits[kind] ?? 0)]),
  );
}

async function main() {
  const occurredAt = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const runId = Date.now().toString(36);
  const loadBefore = loadAverage();
  const body = (prefix: string) => (n: number) => eventBody(`${runId}-${prefix}`, n, occurredAt);

  log(`validate + map micro-benchmark...`);
  const mapping = await measureMappingCost(REPO_ROOT);

  log(`starting the local runtime...`);
  const runtime = await startRuntimeProcess(REPO_ROOT);
  const { endpoints } = runtime;
  const records = recordReader(endpoints);
  const ceiling = storeCeiling(endpoints, body("ceiling"));
  const levels: LevelResult[] = [];
  const sustained: {
    share: number;
    workflowRate: number;
    ingest: Omit<LoadResult, "acceptedNumbers">;
    endToEnd: Omit<EndToEnd, "ingestIds">;
    backlogAfterDrain: number;
  }[] = [];
  const hotEntities: HotEntityResult[] = [];
  let taskDurations: Awaited<ReturnType<typeof records.taskDurations>> = {
    byState: {},
    bytesPerHistoryEvent: 0,
  };
  try {
    // The bench measures the pipeline, not the vendor's limit (100/s for vendorA): lift it in this
    // throwaway data directory before the first request, so no answer was cached with the old one.
    await records.entities.vendors.patch({ vendorId: "vendorA" }).set({ rateLimitPerSecond: 1_000_000 }).go();
    await ceiling.setup();

    log(`warm-up (${Math.min(3, SECONDS)} s)...`);
    await drive({
      url: endpoints.api,
      apiKey: API_KEY,
      connections: 8,
      seconds: Math.min(3, SECONDS),
      body: body("warm"),
    });
    await records.drain(DRAIN_TIMEOUT_MS);

    for (const connections of LEVELS) {
      const prefix = `c${connections}`;
      log(`concurrency ${connections}: ingest ${SECONDS} s...`);
      const cpuBefore = runtime.cpu();
      const callsBefore = await callSnapshot(endpoints);
      const ingest = await drive({
        url: endpoints.api,
        apiKey: API_KEY,
        connections,
        seconds: SECONDS,
        body: body(prefix),
      });
      const backlogAfterDrain = await records.drain(DRAIN_TIMEOUT_MS);
      const cpuUsed = cpuSince(cpuBefore, runtime.cpu());
      const callsAfter = await callSnapshot(endpoints);
      const endToEnd = await records.endToEnd(`${runId}-${prefix}`, ingest.endedAt);
      // Per event the runtime accepted (its records), not per 202 the client counted in time.
      const events = endToEnd.records;
      log(`concurrency ${connections}: duplicates ${SECONDS / 2} s...`);
      const accepted = ingest.acceptedNumbers;
      const originals = body(prefix);
      const duplicate = await drive({
        url: endpoints.api,
        apiKey: API_KEY,
        connections,
        seconds: SECONDS / 2,
        body: (n) => originals(accepted[n % accepted.length] ?? 0),
      });

      log(`concurrency ${connections}: store ceiling...`);
      const storeRates = await ceiling.measure(connections, SECONDS / 2, SECONDS / 5);
      levels.push({
        concurrency: connections,
        ingest: withoutNumbers(ingest),
        endToEnd: (({ ingestIds: _, ...rest }) => rest)(endToEnd),
        backlogAfterDrain,
        duplicate: withoutNumbers(duplicate),
        ceiling: storeRates,
        ingestVsCeiling: ingest.ratePerSecond / storeRates.sequence.perSecond,
        cpuMsPerEvent: cpuPerEvent(cpuUsed, events),
        callsPerEvent: callsPerEvent(callsBefore, callsAfter, events),
      });
    }

    // Paced runs below what the workflow does alone (its drain rate after the busiest run), so the
    // lag shown is the pipeline's, not a queue's: ingest and workflow then share the machine.
    const drainRates = levels.map((level) => level.endToEnd.drainPerSecond).filter((rate) => rate > 0);
    const workflowRate =
      drainRates.length > 0
        ? Math.max(...drainRates)
        : Math.max(...levels.map((level) => level.endToEnd.normalizedPerSecond));
    const connections = Math.max(...LEVELS);
    for (const share of PACED_SHARES) {
      const targetRate = Math.max(1, Math.floor(workflowRate * share));
      log(
        `paced ${targetRate} events/s (${share * 100}% of the workflow's ${round(workflowRate)}/s alone), ${SECONDS} s...`,
      );
      const paced = await drive({
        url: endpoints.api,
        apiKey: API_KEY,
        connections,
        seconds: SECONDS,
        overallRate: targetRate,
        body: body(`paced${share * 100}`),
      });
      const backlogAfterDrain = await records.drain(DRAIN_TIMEOUT_MS);
      const endToEnd = await records.endToEnd(`${runId}-paced${share * 100}`, paced.endedAt);
      // Task timings where the workflow is not waiting for CPU: the lightest paced run.
      if (share === PACED_SHARES[0])
        taskDurations = await records.taskDurations(endToEnd.ingestIds.slice(0, 200));
      sustained.push({
        share,
        workflowRate,
        ingest: withoutNumbers(paced),
        endToEnd: (({ ingestIds: _, ...rest }) => rest)(endToEnd),
        backlogAfterDrain,
      });
    }

    for (const connections of HOT_CONNECTIONS) {
      log(`one hot entity: ${HOT_EVENTS} events at concurrency ${connections}...`);
      // Each concurrency on an entity of its own, so one run's history does not slow the next.
      const hotEntity = await measureHotEntity(endpoints, records, `${runId}-hot-${connections}`, {
        events: HOT_EVENTS,
        connections,
        apiKey: API_KEY,
        drainTimeoutMs: DRAIN_TIMEOUT_MS,
      });
      hotEntities.push(hotEntity);
    }
  } catch (error) {
    log(`the run failed; the runtime's output is in ${runtime.logFile}`);
    await runtime.stop();
    throw error;
  } finally {
    records.close();
    ceiling.close();
  }
  const peakRssBytes = runtime.peakRssBytes();
  const peakMemory = runtime.peakMemory();
  await runtime.stop();

  const result = {
    date: new Date().toISOString(),
    label: LABEL || undefined,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
    // Other work on the machine shows here: figures of a run with a high load before it are suspect.
    loadAverage: { before: loadBefore, after: loadAverage() },
    secondsPerRun: SECONDS,
    levels,
    sustained,
    mapping,
    hotEntities,
    taskDurationsMs: taskDurations.byState,
    bytesPerHistoryEvent: round(taskDurations.bytesPerHistoryEvent),
    peakRssMiB: round(peakRssBytes / 1024 / 1024),
    /** Highest heap used / taken / limit, and memory held outside it, by thread, MiB (each at its own moment). */
    peakHeapMiB: Object.fromEntries(
      Object.entries(peakMemory.threads).map(([name, heap]) => [
        name,
        {
          used: mib(heap.usedBytes),
          total: mib(heap.totalBytes),
          limit: mib(heap.limitBytes),
          external: mib(heap.externalBytes),
        },
      ]),
    ),
  };

  const heapsByThread = Object.entries(peakMemory.threads)
    .map(
      ([name, heap]) =>
        `${name} ${mib(heap.usedBytes)}/${mib(heap.totalBytes)} of ${mib(heap.limitBytes)} +${mib(heap.externalBytes)}`,
    )
    .join(", ");
  const output = [
    "",
    `DVSS bench ${result.date}${LABEL ? ` (${LABEL})` : ""}: ${result.machine.cpus} CPUs, Node ${process.version}, ${SECONDS} s per run`,
    "",
    "Ingest (POST /v1/events, unique events) against the stores' ceiling (GetItem+PutObject+PutItem+PutItem)",
    table(
      [
        "conc",
        "accepted/s",
        "p50/p95/p99 ms",
        "non-202",
        "ceiling ev/s",
        "ceiling p50/p95/p99",
        "ingest/ceiling",
      ],
      levels.map((l) => [
        l.concurrency,
        round(l.ingest.ratePerSecond),
        ms(l.ingest.latencyMs),
        Object.values(l.ingest.otherStatuses).reduce((a, b) => a + b, 0) + l.ingest.errors,
        round(l.ceiling.sequence.perSecond),
        ms(l.ceiling.sequence.latencyMs),
        `${round(l.ingestVsCeiling * 100)}%`,
      ]),
    ),
    "",
    `End to end (IngestRecords: receivedAt → updatedAt of NORMALIZED); the workflow alone drains ${round(sustained[0]?.workflowRate ?? 0)} events/s`,
    table(
      [
        "run",
        "offered/s",
        "normalized",
        "failed",
        "normalized/s",
        "drain/s",
        "lag p50/p95/p99 ms",
        "left RECEIVED",
      ],
      [
        ...levels.map((l) => endToEndRow(`conc ${l.concurrency}`, l)),
        ...sustained.map((run) => endToEndRow(`paced ${run.ingest.targetRate}/s`, run)),
      ],
    ),
    "",
    "Duplicates (every request a duplicate) and single store calls at the same concurrency",
    table(
      ["conc", "duplicate/s", "p50/p95/p99 ms", "GetItem/s", "PutObject/s", "PutItem/s"],
      levels.map((l) => [
        l.concurrency,
        round(l.duplicate.ratePerSecond),
        ms(l.duplicate.latencyMs),
        round(l.ceiling.getItem.perSecond),
        round(l.ceiling.putObject.perSecond),
        round(l.ceiling.putItem.perSecond),
      ]),
    ),
    "",
    "Runtime CPU per accepted event, ingest until the workflow drained (ms, by thread)",
    table(
      ["conc", "api", "tasks", "dynalite", "s3rver", "other", "total"],
      levels.map((l) => [
        l.concurrency,
        ...["api", "tasks", "dynalite", "s3rver", "other", "total"].map((name) => l.cpuMsPerEvent[name] ?? 0),
      ]),
    ),
    "",
    "Store calls per accepted event, ingest until the workflow drained (counted at dynalite, s3rver and the Step Functions endpoint)",
    callsTable(levels),
    "",
    "DynamoDB capacity units per accepted event, as on-demand bills them, from the items written and read (counted at dynalite)",
    unitsTable(levels),
    "",
    ...hotEntities.map(
      (hot) =>
        `one hot entity (one warehouse/sku): ${hot.events} events at concurrency ${hot.connections}: ${hot.normalized} NORMALIZED, ${hot.failed} failed, ${hot.stillReceived} left RECEIVED, ${round(hot.normalizedPerSecond)} events/s; quantity ${hot.quantity.actual} (fold ${hot.quantity.expected}), version ${hot.version}`,
    ),
    `validate + map (vendorA seed, CPU per event): engine ${round(mapping.engineMicros)} µs, compiled version ${round(mapping.compiledMicros)} µs, hand-written ${round(mapping.handWrittenMicros, 2)} µs (engine ${round(mapping.engineVsHand)}×, compiled ${round(mapping.compiledVsHand)}× hand-written)`,
    `task durations in the ${(PACED_SHARES[0] ?? 0) * 100}% paced run (mean ms): ${Object.entries(
      taskDurations.byState,
    )
      .map(([name, d]) => `${name} ${round(d.mean)}`)
      .join(", ")}; ${round(taskDurations.bytesPerHistoryEvent)} bytes per history event`,
    `peak heap by thread (MiB used/taken of limit +outside it): ${heapsByThread}`,
    `peak RSS of the runtime: ${result.peakRssMiB} MiB; load average before ${loadBefore.join(" ")}, after ${result.loadAverage.after.join(" ")}`,
    "",
  ].join("\n");
  process.stdout.write(output);

  const resultsDir = join(REPO_ROOT, "bench/results");
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${result.date.slice(0, 10)}${LABEL ? `-${LABEL}` : ""}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`results written to ${file.slice(REPO_ROOT.length + 1)}`);
}

await main();
