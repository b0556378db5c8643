/**
 * `npm run bench:feed`: the feed's guarantees under load, with one shard and with several.
 *
 * For each shard count, in one process against the local stores (in memory, as the tests run
 * them): WRITERS concurrent writers apply EVENTS inventory changes over ENTITIES entities through
 * applyStateChange (each writer stands for one ApplyState task), while READERS readers page the
 * feed (limit 100, each with its own cursor) until they have read as many changes as were applied.
 * Then each reader's items are checked: every applied change exactly once, each entity's versions
 * 1, 2, 3, ... in order. It prints the rate of applied changes, how they spread over the shards,
 * and the write units per second each shard's partition would take on AWS (3 per change,
 * docs/performance.md "Capacity"). The local store has no partition limit, so the rate shows the
 * cost of the feed's code, not DynamoDB's ceiling. Exits 1 if a check fails.
 *
 * Environment: BENCH_FEED_SHARDS (default 1,4), BENCH_FEED_EVENTS (4000), BENCH_FEED_ENTITIES
 * (400), BENCH_FEED_WRITERS (32), BENCH_FEED_READERS (2).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createEntities } from "@dvss/core/entities/index";
import { WRITE_CONTENTION_ERROR } from "@dvss/core/errors";
import { newIngestId } from "@dvss/core/ids";
import { rawKey } from "@dvss/core/keys";
import type { NormalizedDocument } from "@dvss/core/normalized";
import { applyStateChange } from "@dvss/core/state/apply";
import { shardOf } from "@dvss/core/state/feed";
import { type FeedItem, readFeed } from "@dvss/core/state/read";
import { startStores } from "@dvss/local/stores";

const SHARDS = (process.env.BENCH_FEED_SHARDS ?? "1,4").split(",").map(Number);
const EVENTS = Number(process.env.BENCH_FEED_EVENTS ?? 4000);
const ENTITIES = Number(process.env.BENCH_FEED_ENTITIES ?? 400);
const WRITERS = Number(process.env.BENCH_FEED_WRITERS ?? 32);
const READERS = Number(process.env.BENCH_FEED_READERS ?? 2);
/** Write units one change takes in its shard's partition (stacks/settings.ts, FEED_PARTITION). */
const UNITS_PER_CHANGE = 3;
/** A reader that sees nothing new for this long while changes are missing reports them lost. */
const STALL_MS = 30_000;

const log = (message: string) => process.stderr.write(`${message}\n`);

function adjustment(n: number): NormalizedDocument {
  const ingestId = newIngestId();
  return {
    ingestId,
    vendorId: "vendorA",
    externalEventId: `feed-bench-${n}`,
    eventType: "InventoryAdjusted",
    schemaVersion: "1.0",
    occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    data: { warehouseId: "FEED", sku: `SKU-${n % ENTITIES}`, quantityDelta: 1 },
    rawRef: { bucket: "raw", key: rawKey("vendorA", ingestId) },
  } as NormalizedDocument;
}

interface Result {
  shards: number;
  applied: number;
  seconds: number;
  changesPerSecond: number;
  /** Changes per shard, and the busiest shard's write units per second on AWS. */
  perShard: number[];
  busiestShardUnitsPerSecond: number;
  readers: { read: number; duplicates: number; missing: number; outOfOrder: number }[];
}

async function run(shards: number): Promise<Result> {
  const stores = await startStores({ stage: `feed-bench-${shards}` });
  const client = new DynamoDBClient({
    endpoint: stores.dynamodbEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const entities = createEntities(client, stores.tables);
  try {
    const events = Array.from({ length: EVENTS }, (_, n) => adjustment(n));
    let next = 0;
    let writing = true;
    const started = performance.now();
    const writers = Promise.all(
      Array.from({ length: WRITERS }, async () => {
        for (let doc = events[next++]; doc; doc = events[next++]) {
          for (;;) {
            try {
              await applyStateChange(entities, doc, {
                vendorPriority: 10,
                mappingVersion: "1",
                feedShards: shards,
              });
              break;
            } catch (error) {
              // The workflow retries a contended write; so does the bench.
              if ((error as { code?: string }).code !== WRITE_CONTENTION_ERROR) throw error;
            }
          }
        }
      }),
    ).finally(() => {
      writing = false;
    });
    const readers = Array.from({ length: READERS }, async () => {
      const items: FeedItem[] = [];
      let cursor: string | undefined;
      let progressAt = performance.now();
      while (writing || items.length < EVENTS) {
        const page = await readFeed(entities, { ...(cursor && { after: cursor }), limit: 100, shards });
        items.push(...page.items);
        cursor = page.next;
        if (page.items.length > 0) progressAt = performance.now();
        else if (!writing && performance.now() - progressAt > STALL_MS) break;
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return items;
    });
    await writers;
    const seconds = (performance.now() - started) / 1000;
    const read = await Promise.all(readers);

    const perShard = Array.from({ length: shards }, () => 0);
    for (const doc of events) {
      const shard = shardOf({ type: "inventory", key: `FEED#${(doc.data as { sku: string }).sku}` }, shards);
      perShard[shard] = (perShard[shard] ?? 0) + 1;
    }
    const expected = new Set(events.map((doc) => doc.ingestId));
    return {
      shards,
      applied: events.length,
      seconds: Math.round(seconds * 10) / 10,
      changesPerSecond: Math.round(events.length / seconds),
      perShard,
      busiestShardUnitsPerSecond: Math.round((Math.max(...perShard) * UNITS_PER_CHANGE) / seconds),
      readers: read.map((items) => {
        const seen = new Set<string>();
        const versions = new Map<string, number>();
        let duplicates = 0;
        let outOfOrder = 0;
        for (const item of items) {
          if (seen.has(item.event.ingestId)) duplicates++;
          seen.add(item.event.ingestId);
          if (item.version !== (versions.get(item.entity.key) ?? 0) + 1) outOfOrder++;
          versions.set(item.entity.key, item.version);
        }
        const missing = [...expected].filter((ingestId) => !seen.has(ingestId)).length;
        return { read: items.length, duplicates, missing, outOfOrder };
      }),
    };
  } finally {
    client.destroy();
    await stores.close();
  }
}

log(`DVSS feed bench: ${EVENTS} changes over ${ENTITIES} entities, ${WRITERS} writers, ${READERS} readers`);
const results: Result[] = [];
for (const shards of SHARDS) results.push(await run(shards));

const failed = results.some((result) =>
  result.readers.some((reader) => reader.duplicates + reader.missing + reader.outOfOrder > 0),
);
console.log(
  "shards  changes/s  seconds  changes per shard min-max  busiest shard WCU/s on AWS  readers: read/dup/missing/out of order",
);
for (const result of results) {
  console.log(
    [
      String(result.shards).padStart(6),
      String(result.changesPerSecond).padStart(9),
      String(result.seconds).padStart(7),
      `${Math.min(...result.perShard)}-${Math.max(...result.perShard)}`.padEnd(25),
      String(result.busiestShardUnitsPerSecond).padStart(26),
      result.readers.map((r) => `${r.read}/${r.duplicates}/${r.missing}/${r.outOfOrder}`).join("  "),
    ].join("  "),
  );
}
console.log(
  failed
    ? "FAILED: a reader saw a change twice, missed one or saw an entity out of order"
    : "every change once, each entity's in order, for every reader",
);
process.exitCode = failed ? 1 : 0;
