import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";
import { createEntities, type Entities } from "@dvss/core/entities/index";
import { createCompositeSource } from "@dvss/core/mapping/composite-source";
import type { VendorDefinitionSource } from "@dvss/core/mapping/definitions";
import { createMappingEngine, type MappingEngine } from "@dvss/core/mapping/engine";
import { createFileSystemSource } from "@dvss/core/mapping/fs-source";
import { createStoreSource } from "@dvss/core/mapping/store-source";
import { LOCAL_CREDENTIALS } from "@dvss/local/clients";
import type { Target } from "./target.ts";

/** What every operation runs with: the target, its clients and entities. Shared by the CLI and the local console. */
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
  const common = { region: target.region, maxAttempts: 3, ...(local && { credentials: LOCAL_CREDENTIALS }) };
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
