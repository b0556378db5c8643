import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { ScanCommand, type ScanCommandInput } from "@aws-sdk/client-dynamodb";
import { ListExecutionsCommand } from "@aws-sdk/client-sfn";
import { createEntities, PENDING_SHARDS } from "@dvss/core/entities/index";
import { localClients } from "@dvss/local/clients";
import type { LocalEndpoints } from "@dvss/local/runtime";
import { freePort, spawnRuntime } from "../bench/runtime-process.ts";

/**
 * `npm run chaos`: the local runtime as `npm start` runs it, under load from two vendors
 * (inventory adjustments on a few entities, orders and their statuses), killed with SIGKILL at
 * random moments and started again on the same data directory and port. A vendor retries every
 * request that got no answer or a 503, as the contract tells it to. Then a burst leaves a backlog,
 * the runtime is killed once more, and the time the restarted runtime takes to finish that
 * backlog gives the recovery rate. At the end it checks:
 *
 *   - every event answered 202 reached NORMALIZED, or FAILED_NORMALIZE with a reason;
 *   - an externalEventId always got the same ingestId (ACCEPTED once, DUPLICATE after);
 *   - no execution is left RUNNING;
 *   - the canonical state is the fold of the events that ended NORMALIZED (inventory: the sum of
 *     the adjustments; orders: the highest status; version: the number of events);
 *   - the feed holds each change (entity, version) exactly once, each NORMALIZED event once.
 *
 * Not part of `npm test` (minutes, and all of the machine's CPU). Settings: CHAOS_EVENTS (4000),
 * CHAOS_KILLS (5), CHAOS_CONCURRENCY (8), CHAOS_BACKLOG (3000), CHAOS_KILL_BACKLOG (1), CHAOS_SEED.
 * Exit 1 if a check fails.
 */

const REPO_ROOT = join(import.meta.dirname, "..");
const env = process.env;
const config = {
  events: Number(env.CHAOS_EVENTS ?? 4000),
  kills: Number(env.CHAOS_KILLS ?? 5),
  concurrency: Number(env.CHAOS_CONCURRENCY ?? 8),
  backlog: Number(env.CHAOS_BACKLOG ?? 3000),
  seed: Number(env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31)),
  /** CHAOS_KILL_BACKLOG=0: the backlog is drained without a kill (a baseline for the recovery rate). */
  killBacklog: env.CHAOS_KILL_BACKLOG !== "0",
};

/** mulberry32: the same seed gives the same events and kill moments. */
function prng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(config.seed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------------------------------------
// The events

const WAREHOUSES = ["W1", "W2"];
// 16 inventory entities: each gets a few hundred events, below the 500 an item keeps (beyond
// them a late event is refused BEFORE_WATERMARK by design, and the sum below would not hold).
const SKUS = ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"];
/** Standard statuses in rank order, with each vendor's word for them. */
const STATUSES = [
  { standard: "ACKED", vendorA: "acked", vendorB: "acknowledged" },
  { standard: "PICKED", vendorA: "picked", vendorB: "picked" },
  { standard: "SHIPPED", vendorA: "shipped", vendorB: "dispatched" },
] as const;

interface PlannedEvent {
  vendorId: "vendorA" | "vendorB";
  externalEventId: string;
  body: string;
  /** inventory `<warehouse>#<sku>` or order id. */
  entity: string;
  kind: "inventory" | "order";
  delta?: number;
  /** The order's lines (OrderCreated) or its standard status. */
  lines?: { sku: string; quantity: number }[];
  status?: string;
  rank?: number;
}

const baseTime = Date.now() - 3_600_000;
let sequence = 0;
const occurredAt = (offsetMs = 0) => new Date(baseTime + sequence * 10 + offsetMs).toISOString();

function envelope(vendorId: string, externalEventId: string, eventType: string, at: string, payload: object) {
  return JSON.stringify({
    vendorId,
    externalEventId,
    eventType,
    occurredAt: at,
    schemaVersion: "1",
    payload,
  });
}

function adjustment(prefix: string): PlannedEvent {
  sequence += 1;
  const vendorId = pick(["vendorA", "vendorB"] as const);
  const warehouse = pick(WAREHOUSES);
  const sku = pick(SKUS);
  const units = 1 + Math.floor(random() * 9);
  const delta = random() < 0.7 ? units : -units;
  const externalEventId = `${prefix}-adj-${sequence}`;
  const body =
    vendorId === "vendorA"
      ? envelope(vendorId, externalEventId, "inventory_adjust", occurredAt(), {
          sku,
          qtyChange: delta,
          warehouse,
        })
      : envelope(vendorId, externalEventId, "stock_movement", occurredAt(), {
          item_code: sku,
          location: { code: warehouse },
          direction: delta > 0 ? "in" : "out",
          quantity: String(units),
        });
  return { vendorId, externalEventId, body, entity: `${warehouse}#${sku}`, kind: "inventory", delta };
}

/** An order and its three statuses: four events, sent in any order (the fold does not care). */
function order(prefix: string): PlannedEvent[] {
  sequence += 1;
  const vendorId = pick(["vendorA", "vendorB"] as const);
  const orderId = `${prefix}-${vendorId === "vendorA" ? "SO" : "B"}-${sequence}`;
  const lines = [{ sku: pick(SKUS), quantity: 1 + Math.floor(random() * 5) }];
  const warehouse = pick(WAREHOUSES);
  const created =
    vendorId === "vendorA"
      ? envelope(vendorId, `${orderId}-created`, "order_created", occurredAt(), {
          orderId,
          lines: lines.map((line) => ({ sku: line.sku, qty: line.quantity })),
        })
      : envelope(vendorId, `${orderId}-created`, "order_placed", occurredAt(), {
          order_ref: orderId,
          ship_from: { code: warehouse },
          items: lines.map((line) => ({ item_code: line.sku, units: String(line.quantity) })),
        });
  const events: PlannedEvent[] = [
    { vendorId, externalEventId: `${orderId}-created`, body: created, entity: orderId, kind: "order", lines },
  ];
  STATUSES.forEach((status, index) => {
    const at = occurredAt((index + 1) * 1000);
    const externalEventId = `${orderId}-${status.standard.toLowerCase()}`;
    const body =
      vendorId === "vendorA"
        ? envelope(vendorId, externalEventId, "order_status", at, { orderId, status: status.vendorA })
        : envelope(vendorId, externalEventId, "order_state", at, {
            order_ref: orderId,
            state: status.vendorB,
          });
    events.push({
      vendorId,
      externalEventId,
      body,
      entity: orderId,
      kind: "order",
      status: status.standard,
      rank: index + 1,
    });
  });
  return events;
}

/** About 70% inventory adjustments, 30% order events, shuffled. */
function plan(prefix: string, count: number): PlannedEvent[] {
  const events: PlannedEvent[] = [];
  while (events.length < count) {
    if (random() < 0.3 * 0.25) events.push(...order(prefix));
    else events.push(adjustment(prefix));
  }
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j] as PlannedEvent, events[i] as PlannedEvent];
  }
  return events;
}

// ---------------------------------------------------------------------------------------------
// The runtime, as `npm start` runs it

class Runtime {
  readonly dataDir = mkdtempSync(join(tmpdir(), "dvss-chaos-"));
  readonly logFile = `${this.dataDir}.log`;
  port = 0;
  #child: ChildProcess | undefined;
  endpoints: LocalEndpoints | undefined;

  /** Starts it and resolves once it printed its ready line: the milliseconds that took. */
  async start(): Promise<number> {
    this.port ||= await freePort();
    const started = Date.now();
    const { child, endpoints } = await spawnRuntime(REPO_ROOT, {
      port: this.port,
      dataDir: this.dataDir,
      logFile: this.logFile,
    });
    this.#child = child;
    this.endpoints = endpoints;
    return Date.now() - started;
  }

  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const force = setTimeout(() => child.kill("SIGKILL"), 60_000);
    await exited;
    clearTimeout(force);
  }

  get api(): string {
    return `http://127.0.0.1:${this.port}`;
  }
}

// ---------------------------------------------------------------------------------------------
// A vendor: retries until it gets an answer

const counters = { accepted: 0, duplicate: 0, unavailable: 0, rateLimited: 0, noAnswer: 0 };
/** externalEventId → the ingestId it was answered with, and every ingestId it was ever answered with. */
const answered = new Map<string, { ingestId: string; event: PlannedEvent; ingestIds: Set<string> }>();

async function send(runtime: Runtime, event: PlannedEvent): Promise<void> {
  for (;;) {
    let response: Response;
    try {
      response = await fetch(`${runtime.api}/v1/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer local-${event.vendorId}-key` },
        body: event.body,
        signal: AbortSignal.timeout(30_000),
      });
    } catch {
      counters.noAnswer += 1; // killed, or not started yet
      await sleep(200);
      continue;
    }
    const text = await response.text();
    if (response.status === 202) {
      const { status, ingestId } = JSON.parse(text) as { status: string; ingestId: string };
      counters[status === "ACCEPTED" ? "accepted" : "duplicate"] += 1;
      const seen = answered.get(event.externalEventId);
      if (seen) seen.ingestIds.add(ingestId);
      else answered.set(event.externalEventId, { ingestId, event, ingestIds: new Set([ingestId]) });
      return;
    }
    if (response.status === 429) {
      counters.rateLimited += 1;
      await sleep(Number(response.headers.get("retry-after") ?? 1) * 1000);
      continue;
    }
    if (response.status === 503) {
      counters.unavailable += 1;
      await sleep(200);
      continue;
    }
    throw new Error(`${event.externalEventId}: unexpected ${response.status} ${text}`);
  }
}

async function sendAll(runtime: Runtime, events: PlannedEvent[], concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < events.length) await send(runtime, events[next++] as PlannedEvent);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Looking inside

function stores(runtime: Runtime) {
  const clients = localClients(runtime.endpoints as LocalEndpoints);
  const entities = createEntities(clients.dynamodb, (runtime.endpoints as LocalEndpoints).tables);
  return { ...clients, entities };
}

/** Records still RECEIVED (the sparse pending index). */
async function pendingCount(runtime: Runtime): Promise<number> {
  const { entities, dynamodb, s3, sfn } = stores(runtime);
  try {
    const shards = await Promise.all(
      Array.from({ length: PENDING_SHARDS }, (_, shard) =>
        entities.ingestRecords.query
          .pending({ pendingShard: String(shard) })
          .go({ pages: "all", attributes: ["ingestId"] }),
      ),
    );
    return shards.reduce((sum, { data }) => sum + data.length, 0);
  } finally {
    dynamodb.destroy();
    s3.destroy();
    sfn.destroy();
  }
}

async function getJson(url: string, key: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T);
      }
    }),
  );
  return results;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const runtime = new Runtime();
  const failures: string[] = [];
  const check = (ok: boolean, message: string) => {
    console.log(`  ${ok ? "ok  " : "FAIL"} ${message}`);
    if (!ok) failures.push(message);
  };
  console.log(
    `chaos: ${config.events} events, ${config.kills} kills, ${config.concurrency} connections, ` +
      `backlog ${config.backlog}, seed ${config.seed}; load average ${loadavg()
        .map((n) => n.toFixed(2))
        .join(" ")}`,
  );
  console.log(`  data ${runtime.dataDir}, log ${runtime.logFile}`);
  const began = Date.now();
  await runtime.start();

  // 1. Load, killed at random moments.
  const load = plan("c", config.events);
  let loading = true;
  const sending = sendAll(runtime, load, config.concurrency).finally(() => {
    loading = false;
  });
  const restarts: { downMs: number; readyMs: number; pendingAfter: number }[] = [];
  for (let kill = 1; kill <= config.kills; kill++) {
    await sleep(2_000 + random() * 8_000);
    const killedAt = Date.now();
    await runtime.kill();
    await sleep(random() * 1_000);
    const readyMs = await runtime.start();
    const pendingAfter = await pendingCount(runtime);
    restarts.push({ downMs: Date.now() - killedAt, readyMs, pendingAfter });
    console.log(
      `  kill ${kill} at ${seconds(killedAt - began)}${loading ? "" : " (load sent, draining)"}: ` +
        `back after ${seconds(Date.now() - killedAt)}, ${pendingAfter} events RECEIVED`,
    );
  }
  await sending;
  console.log(`  load sent in ${seconds(Date.now() - began)}`);

  // 2. A backlog, one more kill, and how fast the restarted runtime finishes it.
  const burst = plan("r", config.backlog);
  const burstStarted = Date.now();
  await sendAll(runtime, burst, Math.max(config.concurrency, 16));
  const burstMs = Date.now() - burstStarted;
  const killedAt = Date.now();
  if (config.killBacklog) {
    await runtime.kill();
    await runtime.start();
  }
  const readyAt = Date.now();
  const backlog = await pendingCount(runtime);
  let pending = backlog;
  const progress: string[] = [];
  while (pending > 0 && Date.now() - readyAt < 30 * 60_000) {
    await sleep(1_000);
    pending = await pendingCount(runtime);
    if ((Date.now() - readyAt) % 10_000 < 1_000)
      progress.push(`${seconds(Date.now() - readyAt)}: ${pending}`);
  }
  const recoveredAt = Date.now();
  const perMinute = (backlog / ((recoveredAt - killedAt) / 60_000)).toFixed(0);
  const perMinuteReady = (backlog / ((recoveredAt - readyAt) / 60_000)).toFixed(0);
  console.log(
    `  burst of ${config.backlog} sent in ${seconds(burstMs)}; killed with ${backlog} events RECEIVED; ` +
      `restarted in ${seconds(readyAt - killedAt)}; all finished ${seconds(recoveredAt - killedAt)} after the kill`,
  );
  console.log(`  still RECEIVED ${progress.join(", ")}`);

  // 3. Checks, once everything is finished.
  // Every event is final; their executions end just after (the end-of-execution write).
  const drainStarted = Date.now();
  while (Date.now() - drainStarted < 5 * 60_000) {
    const { sfn } = stores(runtime);
    const page = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: (runtime.endpoints as LocalEndpoints).stateMachineArn,
        statusFilter: "RUNNING",
      }),
    );
    sfn.destroy();
    if ((page.executions ?? []).length === 0) break;
    await sleep(1_000);
  }
  await sleep(6_000); // the feed closes a position left empty for 5 s
  console.log("\nchecks");
  const events = [...answered.values()];
  const { sfn } = stores(runtime);
  const endpoints = runtime.endpoints as LocalEndpoints;

  check(
    events.every((entry) => entry.ingestIds.size === 1),
    `every externalEventId got one ingestId (${events.filter((entry) => entry.ingestIds.size > 1).length} got more)`,
  );
  const outcomes = await mapLimited(events, 16, async (entry) => {
    const { body } = await getJson(
      `${runtime.api}/v1/events/${entry.ingestId}`,
      `local-${entry.event.vendorId}-key`,
    );
    return {
      entry,
      status: String(body.status),
      reason: (body.error as { code?: string } | undefined)?.code,
    };
  });
  const byStatus = new Map<string, number>();
  for (const outcome of outcomes) {
    const label = outcome.reason ? `${outcome.status} ${outcome.reason}` : outcome.status;
    byStatus.set(label, (byStatus.get(label) ?? 0) + 1);
  }
  const terminal = outcomes.filter(
    (outcome) => outcome.status === "NORMALIZED" || (outcome.status === "FAILED_NORMALIZE" && outcome.reason),
  );
  check(
    terminal.length === outcomes.length,
    `every 202 reached a terminal status: ${[...byStatus].map(([label, n]) => `${label} ${n}`).join(", ")}`,
  );
  const running = await sfn.send(
    new ListExecutionsCommand({ stateMachineArn: endpoints.stateMachineArn, statusFilter: "RUNNING" }),
  );
  const aborted = [
    ...readFileSync(runtime.logFile, "utf8").matchAll(/Ended (\d+) executions the previous run/g),
  ]
    .map((match) => Number(match[1]))
    .reduce((sum, n) => sum + n, 0);
  // Every execution item, not the index ListExecutions reads: a kill inside a write can leave them apart.
  const { dynamodb } = stores(runtime);
  let runningItems = 0;
  let ExclusiveStartKey: ScanCommandInput["ExclusiveStartKey"];
  do {
    const page = await dynamodb.send(
      new ScanCommand({
        TableName: endpoints.executionsTable,
        FilterExpression: "#status = :running",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":running": { S: "RUNNING" } },
        ProjectionExpression: "pk",
        ExclusiveStartKey,
      }),
    );
    runningItems += page.Count ?? 0;
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  dynamodb.destroy();
  check(
    (running.executions ?? []).length === 0 && runningItems === 0,
    `no execution RUNNING: ${(running.executions ?? []).length} listed, ${runningItems} in the table ` +
      `(${aborted} ended ABORTED by a restart)`,
  );

  // The fold of what ended NORMALIZED.
  const normalized = outcomes.filter((outcome) => outcome.status === "NORMALIZED").map(({ entry }) => entry);
  const expected = new Map<
    string,
    { kind: string; quantity: number; version: number; rank: number; lines?: unknown }
  >();
  for (const { event } of normalized) {
    const entity = expected.get(event.entity) ?? { kind: event.kind, quantity: 0, version: 0, rank: 0 };
    entity.version += 1;
    entity.quantity += event.delta ?? 0;
    entity.rank = Math.max(entity.rank, event.rank ?? 0);
    if (event.lines) entity.lines = event.lines;
    expected.set(event.entity, entity);
  }
  const stateMismatches: string[] = [];
  await mapLimited([...expected], 16, async ([key, want]) => {
    if (want.kind === "inventory") {
      const [warehouse, sku] = key.split("#");
      const { body } = await getJson(
        `${runtime.api}/v1/state/inventory/${warehouse}/${sku}`,
        "local-consumer-key",
      );
      if (body.quantityOnHand !== want.quantity || body.version !== want.version) {
        stateMismatches.push(
          `${key}: quantity ${body.quantityOnHand} version ${body.version}, the fold says ${want.quantity} v${want.version}`,
        );
      }
    } else {
      const { body } = await getJson(`${runtime.api}/v1/state/orders/${key}`, "local-consumer-key");
      const status = want.rank === 0 ? "CREATED" : STATUSES[want.rank - 1]?.standard;
      const lines = want.lines ?? [];
      if (
        body.status !== status ||
        body.version !== want.version ||
        JSON.stringify(body.lines) !== JSON.stringify(lines)
      ) {
        stateMismatches.push(
          `${key}: ${body.status} v${body.version} ${JSON.stringify(body.lines)}, the fold says ${status} v${want.version} ${JSON.stringify(lines)}`,
        );
      }
    }
  });
  const inventoryEntities = [...expected.values()].filter((entity) => entity.kind === "inventory").length;
  check(
    stateMismatches.length === 0,
    `canonical state is the fold of the NORMALIZED events (${inventoryEntities} inventory entities, ` +
      `${expected.size - inventoryEntities} orders)${stateMismatches.length ? `:\n      ${stateMismatches.slice(0, 10).join("\n      ")}` : ""}`,
  );

  // The feed, from the start.
  const feed: { entity: { type: string; key: string }; version: number; event: { ingestId: string } }[] = [];
  let after: string | undefined;
  for (let empty = 0; empty < 2; ) {
    const { body } = await getJson(
      `${runtime.api}/v1/feed?limit=500${after ? `&after=${after}` : ""}`,
      "local-consumer-key",
    );
    const items = body.items as typeof feed;
    feed.push(...items);
    after = body.next as string;
    if (items.length === 0) {
      empty += 1;
      await sleep(6_000);
    }
  }
  const changes = new Set(feed.map((item) => `${item.entity.type}:${item.entity.key}#${item.version}`));
  const feedIngestIds = new Map<string, number>();
  for (const item of feed)
    feedIngestIds.set(item.event.ingestId, (feedIngestIds.get(item.event.ingestId) ?? 0) + 1);
  const missingVersions = [...expected].flatMap(([key, want]) =>
    Array.from({ length: want.version }, (_, index) => `${want.kind}:${key}#${index + 1}`).filter(
      (change) => !changes.has(change),
    ),
  );
  // An entity's versions only go up, in feed order.
  const lastVersion = new Map<string, number>();
  const backwards: string[] = [];
  for (const item of feed) {
    const key = `${item.entity.type}:${item.entity.key}`;
    const before = lastVersion.get(key) ?? 0;
    if (item.version <= before) backwards.push(`${key} v${before} then v${item.version}`);
    lastVersion.set(key, item.version);
  }
  check(
    backwards.length === 0,
    `versions only go up in the feed${backwards.length ? ` (${backwards.length} do not: ${backwards.slice(0, 5).join(", ")})` : ""}`,
  );
  check(changes.size === feed.length, `no change twice in the feed (${feed.length - changes.size} repeated)`);
  check(
    missingVersions.length === 0 &&
      feed.length === [...expected.values()].reduce((sum, e) => sum + e.version, 0),
    `the feed holds every version of every entity once (${feed.length} items, ${missingVersions.length} missing)`,
  );
  check(
    normalized.every((entry) => feedIngestIds.get(entry.ingestId) === 1),
    `each NORMALIZED event is in the feed once (${normalized.filter((entry) => feedIngestIds.get(entry.ingestId) !== 1).length} not)`,
  );
  sfn.destroy();
  await runtime.stop();

  console.log("\nfigures");
  console.log(
    `  events ${events.length} (load ${load.length}, burst ${burst.length}); answers: ACCEPTED ${counters.accepted}, ` +
      `DUPLICATE ${counters.duplicate} (retries whose first answer was lost), 503 ${counters.unavailable}, ` +
      `429 ${counters.rateLimited}, no answer ${counters.noAnswer}`,
  );
  console.log(
    `  kills ${restarts.length + (config.killBacklog ? 1 : 0)}; back after ${restarts.map((r) => seconds(r.downMs)).join(", ")}; ` +
      `RECEIVED after each restart ${restarts.map((r) => r.pendingAfter).join(", ")}`,
  );
  console.log(
    `  recovery after the last kill: ${backlog} events in ${seconds(recoveredAt - killedAt)}: ${perMinute} events/min ` +
      `from the kill, ${perMinuteReady} events/min once ready`,
  );
  console.log(
    `  total ${seconds(Date.now() - began)}; load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(" ")}`,
  );
  if (failures.length > 0) {
    console.log(`\n${failures.length} check(s) failed; data kept in ${runtime.dataDir}`);
    process.exit(1);
  }
  console.log("\nall checks passed");
}

await main();
