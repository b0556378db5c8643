import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { startStores } from "@dvss/local/stores";
import { createEntities, type Entities, type TableNames } from "../src/entities/index.ts";

/** In-memory stores of a stage and the entities over them, for a test file of the state engine. */
export async function startTestStores(stage: string): Promise<{
  entities: Entities;
  /** The client and table names under the entities, to read items as DynamoDB stores them. */
  dynamodb: DynamoDBClient;
  tables: TableNames;
  close(): Promise<void>;
}> {
  const stores = await startStores({ stage });
  const dynamodb = new DynamoDBClient({
    endpoint: stores.dynamodbEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  return {
    entities: createEntities(dynamodb, stores.tables),
    dynamodb,
    tables: stores.tables,
    async close() {
      dynamodb.destroy();
      await stores.close();
    },
  };
}
