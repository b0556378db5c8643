import type { Target } from "@dvss/core/ops/context";
import type { BucketName, TableName } from "@dvss/core/tables";
import { LOCAL_CREDENTIALS } from "./clients.ts";

/**
 * What a running local runtime tells of itself, in endpoints.json and to its console: the part of
 * its LocalEndpoints (runtime.ts) that operations need. Older files may lack vendorsDir.
 */
export interface LocalEndpointsFile {
  api: string;
  dynamodb: string;
  s3: string;
  sfn: string;
  region: string;
  stateMachineArn: string;
  tables: Record<TableName, string>;
  buckets: Record<BucketName, string>;
  vendorsDir?: string;
}

/**
 * A running local runtime as the target of operations: the console's, from the runtime itself;
 * the CLI's, from endpoints.json. Its clients sign with the emulators' fixed credentials.
 */
export function targetOfLocalEndpoints(
  endpoints: LocalEndpointsFile,
  resolvedFrom: string,
  fallbackVendorsDir: string,
): Target {
  return {
    kind: "local",
    stage: "local",
    region: endpoints.region,
    tables: endpoints.tables,
    buckets: endpoints.buckets,
    stateMachineArn: endpoints.stateMachineArn,
    api: endpoints.api,
    endpoints: {
      dynamodb: endpoints.dynamodb,
      s3: endpoints.s3,
      sfn: endpoints.sfn,
      credentials: LOCAL_CREDENTIALS,
    },
    vendorsDir: endpoints.vendorsDir ?? fallbackVendorsDir,
    resolvedFrom,
  };
}
