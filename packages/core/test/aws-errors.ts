import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { createEntities, type Entities, type TableNames } from "../src/entities/index.ts";

/**
 * AWS's answers to a refused call, as the wire carries them, so the SDK's own clients turn them
 * into the errors they throw in production (DynamoDB: JSON, status 400 for every client error;
 * S3: XML).
 */
export interface AwsAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const dynamodbError = (status: number, type: string, message: string): AwsAnswer => ({
  status,
  headers: { "content-type": "application/x-amz-json-1.0" },
  body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }),
});

const s3Error = (status: number, code: string, message: string): AwsAnswer => ({
  status,
  headers: { "content-type": "application/xml" },
  body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>R1</RequestId></Error>`,
});

const denied = (action: string, resource: string) =>
  `User: arn:aws:sts::123456789012:assumed-role/dvss-prod-Ingest/dvss-prod-Ingest is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;

export const RECORDS_TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/dvss-prod-IngestRecords";
export const RAW_OBJECT_ARN = "arn:aws:s3:::dvss-prod-raw/raw/vendorA/2026/01/30/x.json";

export const DYNAMODB = {
  accessDenied: dynamodbError(400, "AccessDeniedException", denied("dynamodb:GetItem", RECORDS_TABLE_ARN)),
  throughputExceeded: dynamodbError(400, "ProvisionedThroughputExceededException", "Rate exceeded"),
  throttled: dynamodbError(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput"),
  internal: dynamodbError(500, "InternalServerError", "Internal server error"),
  invalid: dynamodbError(400, "ValidationException", "Item size has exceeded the maximum allowed size"),
};

export const S3 = {
  accessDenied: s3Error(403, "AccessDenied", denied("s3:PutObject", `"${RAW_OBJECT_ARN}"`)),
  slowDown: s3Error(503, "SlowDown", "Please reduce your request rate."),
  requestTimeout: s3Error(
    400,
    "RequestTimeout",
    "Your socket connection to the server was not read from or written to within the timeout period.",
  ),
  noSuchBucket: s3Error(404, "NoSuchBucket", "The specified bucket does not exist"),
};

/** An endpoint that answers every request with `answer` (set it before each call). */
export async function fakeAws(): Promise<{
  endpoint: string;
  answer: AwsAnswer;
  dynamodb: Entities;
  s3: S3Client;
  close(): Promise<void>;
}> {
  const fake = {
    answer: DYNAMODB.internal,
  } as { answer: AwsAnswer };
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(fake.answer.status, fake.answer.headers);
      response.end(fake.answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // One attempt: the classification under test, not the SDK's own retries.
  const config = {
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  };
  const dynamodbClient = new DynamoDBClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const tables = new Proxy({}, { get: (_, name) => `dvss-prod-${String(name)}` }) as TableNames;
  return Object.assign(fake, {
    endpoint,
    dynamodb: createEntities(dynamodbClient, tables),
    s3,
    async close() {
      dynamodbClient.destroy();
      s3.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}
