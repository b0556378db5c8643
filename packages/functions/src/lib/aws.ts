import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";
import { createEntities, type Entities } from "@dvss/core/entities/index";
import { TABLE_NAMES, type TableName } from "@dvss/core/tables";
import { Resource } from "sst/resource";
import { DvssLogFormatter } from "./log-format.ts";

/**
 * What every handler of this container shares: one client per service (keep-alive is the SDK v3
 * default), the entities, the logger and metrics. Built on first use, not at import, so a cold
 * start pays only for what the handler touches. Endpoints and credentials come from the
 * environment (AWS_ENDPOINT_URL_*, AWS_REGION), never from a "local" switch.
 */

export const logger = new Logger({ serviceName: "dvss", logFormatter: new DvssLogFormatter() });
export const metrics = new Metrics({ namespace: "dvss", serviceName: "dvss" });

const resource = Resource as unknown as Record<string, { name: string }>;

/** The deployed name of a table, bucket or state machine, from SST's resource environment. */
export function resourceName(name: TableName | "RawBucket" | "NormalizedBucket" | "Normalize"): string {
  const value = name in resource ? resource[name] : undefined;
  if (!value?.name) throw new Error(`Resource ${name} is not linked to this function`);
  return value.name;
}

/** The normalize state machine's ARN (its link carries both name and arn). */
export function stateMachineArn(): string {
  const value = "Normalize" in resource ? (resource.Normalize as { arn?: string }) : undefined;
  if (!value?.arn) throw new Error("Resource Normalize is not linked to this function");
  return value.arn;
}

/** Least privilege links each function to only some tables; the others get a name that fails loudly. */
function linkedTableName(name: TableName): string {
  return name in resource ? resourceName(name) : `${name}-not-linked-to-this-function`;
}

let dynamodb: DynamoDBClient | undefined;
let s3: S3Client | undefined;
let sfn: SFNClient | undefined;
let entities: Entities | undefined;

export function dynamoClient(): DynamoDBClient {
  dynamodb ??= new DynamoDBClient({ maxAttempts: 3 });
  return dynamodb;
}

export function s3Client(): S3Client {
  s3 ??= new S3Client({
    maxAttempts: 3,
    // Path-style addressing is an endpoint property (S3-compatible stores need it), set by the environment.
    forcePathStyle: process.env.DVSS_S3_FORCE_PATH_STYLE === "true",
    // Checksums only where S3 requires them: every body we send is small and buffered. A write
    // into a bucket under Object Lock (OBJECT_LOCK_BUCKETS) names its ChecksumAlgorithm itself.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  return s3;
}

export function sfnClient(): SFNClient {
  sfn ??= new SFNClient({ maxAttempts: 2 });
  return sfn;
}

export function tableNames(): Record<TableName, string> {
  return Object.fromEntries(TABLE_NAMES.map((name) => [name, linkedTableName(name)])) as Record<
    TableName,
    string
  >;
}

export function getEntities(): Entities {
  entities ??= createEntities(dynamoClient(), tableNames());
  return entities;
}

/** Drops the cached clients: the local runtime calls it when its endpoints change (a restart in one process). */
export function resetAwsClients(): void {
  dynamodb?.destroy();
  s3?.destroy();
  sfn?.destroy();
  dynamodb = undefined;
  s3 = undefined;
  sfn = undefined;
  entities = undefined;
}
