import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";
import { createEntities, type Entities } from "../entities/index.ts";
import { createCompositeSource } from "../mapping/composite-source.ts";
import type { VendorDefinitionSource } from "../mapping/definitions.ts";
import { createMappingEngine, type MappingEngine } from "../mapping/engine.ts";
import { createFileSystemSource } from "../mapping/fs-source.ts";
import { createStoreSource } from "../mapping/store-source.ts";
import type { BucketName, TableName } from "../tables.ts";

/**
 * Which DVSS an operation talks to, and by which names: the local runtime (`npm start`) or a
 * deployed stage. The CLI resolves it (packages/cli/src/target.ts); the local runtime describes
 * itself (packages/local/src/target.ts).
 */
export interface Target {
  kind: "local" | "stage";
  stage: string;
  region: string;
  tables: Record<TableName, string>;
  buckets: Record<BucketName, string>;
  stateMachineArn: string;
  api?: string;
  /** Local stores only: every client gets these endpoints and credentials (the emulators' fixed ones). */
  endpoints?: {
    dynamodb: string;
    s3: string;
    sfn: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  /** The bundled vendor definitions the target's workflow reads (local: the runtime's folder). */
  vendorsDir: string;
  /** Where the names came from, for messages. */
  resolvedFrom: string;
  /** A stage's Express executions are visible only in this log group. */
  executionLogGroup?: string;
}

/**
 * What every operation runs with: the target, its clients and entities. The CLI and the local
 * console open one each; operations reach the stores only through it.
 */
export interface OpsContext {
  target: Target;
  dynamodb: DynamoDBClient;
  s3: S3Client;
  sfn: SFNClient;
  entities: Entities;
  /** Bundled definitions (the target's folder) and published ones (its store), as the workflow sees them. */
  definitions(): { bundled: VendorDefinitionSource; combined: VendorDefinitionSource };
  /** A mapping engine over `definitions().combined`, built on first use, reading the store afresh. */
  mappingEngine(): MappingEngine;
  now(): number;
  close(): void;
}

export function openContext(target: Target): OpsContext {
  const local = target.endpoints;
  const common = { region: target.region, maxAttempts: 3, ...(local && { credentials: local.credentials }) };
  const dynamodb = new DynamoDBClient({ ...common, ...(local && { endpoint: local.dynamodb }) });
  const s3 = new S3Client({
    ...common,
    ...(local && { endpoint: local.s3, forcePathStyle: true }),
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const sfn = new SFNClient({ ...common, ...(local && { endpoint: local.sfn }) });
  const entities = createEntities(dynamodb, target.tables);
  let definitions: ReturnType<OpsContext["definitions"]> | undefined;
  let engine: MappingEngine | undefined;
  const context: OpsContext = {
    target,
    dynamodb,
    s3,
    sfn,
    entities,
    definitions() {
      if (!definitions) {
        const bundled = createFileSystemSource(target.vendorsDir);
        // An operator's command reads what is published now, not a few seconds ago.
        const published = createStoreSource({ entities: () => entities, cacheMs: 0 });
        definitions = { bundled, combined: createCompositeSource({ bundled, published }) };
      }
      return definitions;
    },
    mappingEngine() {
      engine ??= createMappingEngine({ source: context.definitions().combined });
      return engine;
    },
    now: () => Date.now(),
    close() {
      dynamodb.destroy();
      s3.destroy();
      sfn.destroy();
    },
  };
  return context;
}
