import { api } from "../infra/api.ts";
import { events } from "../infra/events.ts";
import { linkNamesOnly } from "../infra/links.ts";
import { deployedVendorIds, monitoring } from "../infra/monitoring.ts";
import { storage } from "../infra/storage.ts";
import { workflow } from "../infra/workflow.ts";
import { type StageSettings, stageSettings } from "./settings.ts";

/**
 * What one stage deploys, in dependency order: stores, the workflow (its task functions first),
 * the API and the scheduled/streamed parts that start or read it, then alarms where the stage
 * has them. Returns the stage's outputs.
 */
export function deployStage(stage: string, settings: StageSettings = stageSettings(stage)) {
  linkNamesOnly();
  const stores = storage(settings);
  const normalize = workflow(settings, stores);
  const withWorkflow = { ...stores, normalize: normalize.stateMachine };
  const http = api(settings, withWorkflow);
  const background = events(settings, withWorkflow);
  const ingest = http.functions.IngestApi;
  if (!ingest) throw new Error("The API has no ingest function");
  if (settings.alarms) {
    monitoring(settings.alarms, {
      httpApi: http.api,
      ingest,
      stateMachine: normalize.stateMachine,
      reconciler: background.reconciler,
      outboxDeadLetters: background.outboxDeadLetters,
      outboxTable: stores.tables.Outbox,
      vendorIds: deployedVendorIds(),
    });
  }

  return {
    api: http.api.url,
    rawBucket: stores.buckets.RawBucket.name,
    normalizedBucket: stores.buckets.NormalizedBucket.name,
    tables: Object.fromEntries(Object.entries(stores.tables).map(([name, table]) => [name, table.name])),
    normalizeStateMachine: normalize.stateMachine.arn,
    outboxBus: background.outboxBus.name,
  };
}
