import { CreateTableCommand, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { createTableInput, TABLES } from "@dvss/core/tables";
import { localClients } from "@dvss/local/clients";
import type { LocalEndpoints } from "@dvss/local/runtime";
import { EXECUTIONS_TABLE } from "@dvss/local/stores";
import { uncounted } from "./calls.ts";
import { type Percentiles, percentiles } from "./stats.ts";

/**
 * The ceiling of the embedded stores themselves: the calls one accepted event costs in the local
 * runtime, made directly with the AWS SDK against the same dynalite and s3rver the runtime runs,
 * from this (separate) process, with the same concurrency and nothing else in between:
 *
 *   GetItem      IngestRecords-shaped table, a key that is not there (the duplicate check)
 *   PutObject    the raw body (same size as a bench event)
 *   PutItem      conditional (attribute_not_exists), an ingest-record-shaped item with both GSI keys
 *   PutItem      conditional, an execution-shaped item (what the local StartExecution writes)
 *
 * The tables are created for the bench beside the runtime's, from the same definitions (same
 * keys and indexes), so the runtime's own data is not touched.
 */

export interface OpRate {
  concurrency: number;
  seconds: number;
  perSecond: number;
  latencyMs: Percentiles;
}

export interface CeilingResult {
  /** The four-call sequence above, as events per second. */
  sequence: OpRate;
  /** Each call on its own, same concurrency. */
  getItem: OpRate;
  putObject: OpRate;
  putItem: OpRate;
}

async function loop(concurrency: number, seconds: number, op: (n: number) => Promise<void>): Promise<OpRate> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const n = next++;
        const t0 = performance.now();
        await op(n);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    concurrency,
    seconds: elapsed,
    perSecond: latencies.length / elapsed,
    latencyMs: percentiles(latencies),
  };
}

export function storeCeiling(endpoints: LocalEndpoints, body: (n: number) => string) {
  // The ceiling's calls are the bench's own, not the pipeline's.
  const { dynamodb, s3 } = localClients(endpoints);
  uncounted(dynamodb);
  uncounted(s3);
  const recordsTable = "dvss-bench-CeilingRecords";
  const executionsTable = "dvss-bench-CeilingExecutions";
  const bucket = "dvss-bench-ceiling";
  let round = 0;

  const getItem = (id: string) =>
    dynamodb.send(
      new GetItemCommand({
        TableName: recordsTable,
        Key: { pk: { S: `$dvss#vendorid_vendora#externaleventid_${id}` }, sk: { S: "$ingestrecord_1" } },
      }),
    );
  const putObject = (id: string, n: number) =>
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `raw/vendorA/2026/01/30/${id}.json`,
        Body: body(n),
        ContentType: "application/json",
        IfNoneMatch: "*",
      }),
    );
  const now = new Date().toISOString();
  const putRecord = (id: string) =>
    dynamodb.send(
      new PutItemCommand({
        TableName: recordsTable,
        ConditionExpression: "attribute_not_exists(pk)",
        Item: {
          pk: { S: `$dvss#vendorid_vendora#externaleventid_${id}` },
          sk: { S: "$ingestrecord_1" },
          gsi1pk: { S: `$dvss#ingestid_${id}` },
          gsi1sk: { S: "$ingestrecord_1" },
          gsi2pk: { S: `$dvss#pendingshard_${id.length % 8}` },
          gsi2sk: { S: `$ingestrecord_1#receivedat_${now}` },
          vendorId: { S: "vendorA" },
          externalEventId: { S: id },
          ingestId: { S: id },
          eventType: { S: "inventory_update" },
          occurredAt: { S: now },
          schemaVersion: { S: "1" },
          receivedAt: { S: now },
          rawBucket: { S: bucket },
          rawKey: { S: `raw/vendorA/2026/01/30/${id}.json` },
          payloadSha256: { S: "0".repeat(64) },
          status: { S: "RECEIVED" },
          pendingShard: { S: String(id.length % 8) },
          attempts: { N: "1" },
          __edb_e__: { S: "ingestRecord" },
          __edb_v__: { S: "1" },
        },
      }),
    );
  const putExecution = (id: string) =>
    dynamodb.send(
      new PutItemCommand({
        TableName: executionsTable,
        ConditionExpression: "attribute_not_exists(pk)",
        Item: {
          pk: { S: `arn:aws:states:us-east-1:000000000000:execution:dvss-local-Normalize:${id}` },
          sk: { S: "execution" },
          gsi1pk: { S: endpoints.stateMachineArn },
          gsi1sk: { S: `${String(Date.now()).padStart(15, "0")}#${id}` },
          executionArn: { S: `arn:aws:states:us-east-1:000000000000:execution:dvss-local-Normalize:${id}` },
          stateMachineArn: { S: endpoints.stateMachineArn },
          name: { S: id },
          status: { S: "RUNNING" },
          input: {
            S: JSON.stringify({ ingestId: id, vendorId: "vendorA", externalEventId: id, rawRef: {} }),
          },
          startDate: { N: String(Date.now()) },
          history: { L: [] },
        },
      }),
    );

  return {
    async setup(): Promise<void> {
      for (const [name, definition] of [
        [recordsTable, TABLES.IngestRecords],
        [executionsTable, EXECUTIONS_TABLE],
      ] as const) {
        await dynamodb.send(new CreateTableCommand(createTableInput(name, definition)));
      }
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    },

    async measure(concurrency: number, sequenceSeconds: number, opSeconds: number): Promise<CeilingResult> {
      round += 1;
      const id = (kind: string, n: number) => `c${round}-${kind}-${n}`;
      const sequence = await loop(concurrency, sequenceSeconds, async (n) => {
        const key = id("seq", n);
        await getItem(key);
        await putObject(key, n);
        await putRecord(key);
        await putExecution(key);
      });
      const getItemRate = await loop(concurrency, opSeconds, (n) =>
        getItem(id("get", n)).then(() => undefined),
      );
      const putObjectRate = await loop(concurrency, opSeconds, (n) =>
        putObject(id("obj", n), n).then(() => undefined),
      );
      const putItemRate = await loop(concurrency, opSeconds, (n) =>
        putRecord(id("put", n)).then(() => undefined),
      );
      return { sequence, getItem: getItemRate, putObject: putObjectRate, putItem: putItemRate };
    },

    close() {
      dynamodb.destroy();
      s3.destroy();
    },
  };
}
