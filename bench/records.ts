import { GetExecutionHistoryCommand } from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { createEntities, PENDING_SHARDS } from "@dvss/core/entities/index";
import { localClients } from "@dvss/local/clients";
import type { LocalEndpoints } from "@dvss/local/runtime";
import { uncounted } from "./calls.ts";
import { type Percentiles, percentiles, sleep } from "./stats.ts";

/** What the IngestRecords of one run say about the pipeline behind the API. */
export interface EndToEnd {
  records: number;
  normalized: number;
  failed: number;
  stillReceived: number;
  /** NORMALIZED records / (last updatedAt − first receivedAt): the rate the workflow finished them at. */
  normalizedPerSecond: number;
  /** updatedAt − receivedAt of each NORMALIZED record: accept to NORMALIZED. */
  lagMs: Percentiles;
  /**
   * The rate the workflow finished the backlog once the load stopped (records NORMALIZED after
   * `loadEndedAt` over the time they took): what the workflow does alone. 0 without a backlog.
   */
  drainPerSecond: number;
  ingestIds: string[];
}

interface RecordRow {
  ingestId: string;
  status: string;
  receivedAt: string;
  updatedAt?: string;
}

/** The stores of the running runtime, reached with the ordinary AWS SDK through endpoints.json. */
export function recordReader(endpoints: LocalEndpoints) {
  // What the bench reads is not the pipeline's work: the stores do not count it.
  const { dynamodb, sfn } = localClients(endpoints);
  uncounted(dynamodb);
  uncounted(sfn);
  const documents = DynamoDBDocumentClient.from(dynamodb);
  const entities = createEntities(dynamodb, endpoints.tables);

  /** Records still RECEIVED: the sparse pending index holds exactly those. */
  async function pending(): Promise<number> {
    let count = 0;
    for (let shard = 0; shard < PENDING_SHARDS; shard++) {
      const { data } = await entities.ingestRecords.query
        .pending({ pendingShard: String(shard) })
        .go({ pages: "all", attributes: ["ingestId"] });
      count += data.length;
    }
    return count;
  }

  return {
    entities,
    dynamodb,

    /** Waits until no record is RECEIVED (the workflow caught up) or the time is up; returns what is left. */
    async drain(timeoutMs: number): Promise<number> {
      const deadline = Date.now() + timeoutMs;
      let left = await pending();
      while (left > 0 && Date.now() < deadline) {
        await sleep(250);
        left = await pending();
      }
      return left;
    },

    async endToEnd(prefix: string, loadEndedAt: number): Promise<EndToEnd> {
      const rows: RecordRow[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(
          new ScanCommand({
            TableName: endpoints.tables.IngestRecords,
            FilterExpression: "begins_with(externalEventId, :prefix)",
            ProjectionExpression: "ingestId, #status, receivedAt, updatedAt",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":prefix": `${prefix}-` },
            ExclusiveStartKey: startKey,
          }),
        );
        rows.push(...((page.Items ?? []) as RecordRow[]));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      const normalized = rows.filter((row) => row.status === "NORMALIZED" && row.updatedAt);
      const lags = normalized.map((row) => Date.parse(row.updatedAt as string) - Date.parse(row.receivedAt));
      const firstReceived = Math.min(...rows.map((row) => Date.parse(row.receivedAt)));
      const lastNormalized = Math.max(...normalized.map((row) => Date.parse(row.updatedAt as string)));
      const span = (lastNormalized - firstReceived) / 1000;
      const afterLoad = normalized.filter((row) => Date.parse(row.updatedAt as string) > loadEndedAt);
      const drainSpan = (lastNormalized - loadEndedAt) / 1000;
      // A backlog of a few events says nothing about a rate.
      const drainPerSecond = afterLoad.length >= 50 && drainSpan > 0 ? afterLoad.length / drainSpan : 0;
      return {
        records: rows.length,
        normalized: normalized.length,
        failed: rows.filter((row) => row.status === "FAILED_NORMALIZE").length,
        stillReceived: rows.filter((row) => row.status === "RECEIVED").length,
        normalizedPerSecond: normalized.length > 0 && span > 0 ? normalized.length / span : 0,
        lagMs: percentiles(lags),
        drainPerSecond,
        ingestIds: normalized.map((row) => row.ingestId),
      };
    },

    /**
     * How long each Task state ran (TaskStateEntered → TaskStateExited) in the given executions, from
     * GetExecutionHistory of the local Step Functions endpoint: a proxy for Lambda durations.
     */
    async taskDurations(ingestIds: string[]): Promise<{
      byState: Record<string, Percentiles & { mean: number }>;
      /** Mean JSON size of a history event with its state data: the basis of the log estimate in core/cost.ts. */
      bytesPerHistoryEvent: number;
    }> {
      const byState: Record<string, number[]> = {};
      let historyBytes = 0;
      let historyEvents = 0;
      const executionPrefix = endpoints.stateMachineArn.replace(":stateMachine:", ":execution:");
      for (const ingestId of ingestIds) {
        const { events = [] } = await sfn.send(
          new GetExecutionHistoryCommand({
            executionArn: `${executionPrefix}:${ingestId}`,
            maxResults: 1000,
          }),
        );
        const entered = new Map<string, number>();
        for (const event of events) {
          historyBytes += JSON.stringify(event).length;
          historyEvents += 1;
          const at = event.timestamp?.getTime() ?? 0;
          if (event.type === "TaskStateEntered") entered.set(event.stateEnteredEventDetails?.name ?? "", at);
          const exitedName = event.stateExitedEventDetails?.name ?? "";
          if (event.type === "TaskStateExited" && entered.has(exitedName)) {
            const durations = byState[exitedName] ?? [];
            durations.push(at - (entered.get(exitedName) as number));
            byState[exitedName] = durations;
          }
        }
      }
      return {
        byState: Object.fromEntries(
          Object.entries(byState).map(([name, values]) => [
            name,
            { ...percentiles(values), mean: values.reduce((a, b) => a + b, 0) / values.length },
          ]),
        ),
        bytesPerHistoryEvent: historyEvents > 0 ? historyBytes / historyEvents : 0,
      };
    },

    close() {
      dynamodb.destroy();
      sfn.destroy();
    },
  };
}

export type RecordReader = ReturnType<typeof recordReader>;
