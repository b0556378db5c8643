import { join, resolve } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";

/** s3rver's fixed credentials (dynalite takes any): what every local client signs with, never real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** Where local data lives (README, "Run it"): DVSS_DATA_DIR, else `.dvss` in the working directory. */
export function localDataDir(
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): string {
  return env.DVSS_DATA_DIR ? resolve(cwd, env.DVSS_DATA_DIR) : join(cwd, ".dvss");
}

export interface LocalStoreEndpoints {
  dynamodb: string;
  s3: string;
  sfn: string;
  region: string;
}

/** Ordinary AWS SDK clients for the embedded stores, as tools and tests reach them through endpoints.json. */
export function localClients(endpoints: LocalStoreEndpoints) {
  const common = { region: endpoints.region, credentials: LOCAL_CREDENTIALS };
  return {
    dynamodb: new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb }),
    s3: new S3Client({
      ...common,
      endpoint: endpoints.s3,
      forcePathStyle: true,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    }),
    sfn: new SFNClient({ ...common, endpoint: endpoints.sfn }),
  };
}
