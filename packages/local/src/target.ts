import type { Target } from "@dvss/core/ops/context";
import { LOCAL_CREDENTIALS } from "./clients.ts";
import type { LocalEndpoints } from "./runtime.ts";

/** What `npm start` writes to endpoints.json (older files may lack vendorsDir). */
export type LocalEndpointsFile = Omit<LocalEndpoints, "executionsTable" | "vendorsDir"> & {
  vendorsDir?: string;
};

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
