import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { TableName } from "../tables.ts";
import { inventoryStateEntity, orderStateEntity, pendingDivergencesEntity } from "./canonical-state.ts";
import { consumerEntity } from "./consumer.ts";
import { crosswalkEntity } from "./crosswalk.ts";
import { divergenceEntity } from "./divergence.ts";
import { driftBudgetEntity, driftFindingEntity } from "./drift.ts";
import { entityEventEntity } from "./entity-event.ts";
import { ingestRecordEntity } from "./ingest-record.ts";
import { activeMappingEntity, mappingVersionEntity } from "./mapping-version.ts";
import { outboxEntryEntity, outboxSequenceEntity } from "./outbox.ts";
import { quarantineEntity } from "./quarantine.ts";
import { scorecardEntity } from "./scorecard.ts";
import { apiKeyEntity, vendorEntity, vendorSigningEntity } from "./vendor.ts";

export * from "./canonical-state.ts";
export * from "./consumer.ts";
export * from "./crosswalk.ts";
export * from "./divergence.ts";
export * from "./drift.ts";
export * from "./entity-event.ts";
export * from "./ingest-record.ts";
export * from "./mapping-version.ts";
export * from "./outbox.ts";
export * from "./quarantine.ts";
export * from "./scorecard.ts";
export * from "./vendor.ts";

export type TableNames = Record<TableName, string>;

/** Every entity bound to its table, built once per container from one DynamoDB client. */
export function createEntities(dynamodb: DynamoDBClient, tables: TableNames) {
  const client = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  return {
    ingestRecords: ingestRecordEntity({ client, table: tables.IngestRecords }),
    vendors: vendorEntity({ client, table: tables.Vendors }),
    apiKeys: apiKeyEntity({ client, table: tables.Vendors }),
    vendorSigning: vendorSigningEntity({ client, table: tables.Vendors }),
    consumers: consumerEntity({ client, table: tables.Vendors }),
    crosswalk: crosswalkEntity({ client, table: tables.Vendors }),
    mappingVersions: mappingVersionEntity({ client, table: tables.Vendors }),
    activeMappings: activeMappingEntity({ client, table: tables.Vendors }),
    quarantine: quarantineEntity({ client, table: tables.Quarantine }),
    inventoryStates: inventoryStateEntity({ client, table: tables.CanonicalState }),
    orderStates: orderStateEntity({ client, table: tables.CanonicalState }),
    pendingDivergences: pendingDivergencesEntity({ client, table: tables.CanonicalState }),
    entityEvents: entityEventEntity({ client, table: tables.CanonicalState }),
    divergences: divergenceEntity({ client, table: tables.Divergence }),
    driftFindings: driftFindingEntity({ client, table: tables.Divergence }),
    driftBudgets: driftBudgetEntity({ client, table: tables.Divergence }),
    outboxEntries: outboxEntryEntity({ client, table: tables.Outbox }),
    outboxSequence: outboxSequenceEntity({ client, table: tables.Outbox }),
    scorecards: scorecardEntity({ client, table: tables.Scorecards }),
  };
}

export type Entities = ReturnType<typeof createEntities>;
