/**
 * The one declaration of every DynamoDB table: keys, indexes, TTL, streams. The SST stack
 * deploys these (the shape is sst.aws.Dynamo's) and the local runtime creates them, so the two
 * cannot drift. ElectroDB entities use the generic key fields declared here.
 */

export type TableName =
  | "IngestRecords"
  | "Vendors"
  | "CanonicalState"
  | "Divergence"
  | "Quarantine"
  | "Outbox"
  | "Scorecards";

export interface GlobalIndex {
  hashKey: string;
  rangeKey: string;
  /**
   * The attributes the index copies besides the keys (sst.aws.Dynamo's shape): all of them when
   * absent, or only those named. A write that changes no attribute an index copies costs that
   * index nothing, so an index that only finds a record's key copies only what does not change.
   */
  projection?: string[];
}

export interface TableDefinition {
  fields: Record<string, "string" | "number">;
  primaryIndex: { hashKey: string; rangeKey: string };
  globalIndexes: Record<string, GlobalIndex>;
  /**
   * The attribute DynamoDB expires items by (epoch seconds). No table has one: what DVSS keeps in
   * DynamoDB is kept for ever (docs/operations/deploy.md, "Retention"). A table that gets one needs
   * its writer to set the attribute, with the days as a stage setting.
   */
  ttl?: string;
  stream?: "new-image" | "new-and-old-images";
}

const keys = { pk: "string", sk: "string" } as const;
const primaryIndex = { hashKey: "pk", rangeKey: "sk" };
const gsi = (n: number): GlobalIndex => ({ hashKey: `gsi${n}pk`, rangeKey: `gsi${n}sk` });
const gsiFields = (n: number) => ({ [`gsi${n}pk`]: "string", [`gsi${n}sk`]: "string" }) as const;

/**
 * ElectroDB's entity name and version on every item: an index that copies only some attributes
 * must copy these too, or ElectroDB disowns the items a query of it reads.
 */
const ELECTRODB_IDENTITY = ["__edb_e__", "__edb_v__"];

/** What the by-ingestId index copies of an ingest record: the attributes of its key, which never change. */
const RECORD_KEY_ATTRIBUTES = ["vendorId", "externalEventId", "ingestId", ...ELECTRODB_IDENTITY];

/**
 * What the Divergence table's by-ingestId index copies: the attributes of a divergence's key and of
 * the index's and who it concerns (divergencesOfEvent reads the rest by key).
 */
const DIVERGENCE_KEY_ATTRIBUTES = [
  "entityType",
  "entityKey",
  "divergenceId",
  "kind",
  "ingestId",
  "vendorId",
  "externalEventId",
  "detectedAt",
  ...ELECTRODB_IDENTITY,
];

export const TABLES: Record<TableName, TableDefinition> = {
  // (vendorId, externalEventId) → the event's record. gsi1: by ingestId, to the record's key only
  // (findIngestRecord), so the status update writes nothing to it. gsi2: sparse, sharded index of
  // records still RECEIVED, which the reconciler reads.
  IngestRecords: {
    fields: { ...keys, ...gsiFields(1), ...gsiFields(2) },
    primaryIndex,
    globalIndexes: { gsi1: { ...gsi(1), projection: RECORD_KEY_ATTRIBUTES }, gsi2: gsi(2) },
  },
  // Vendor profiles, API key hashes (one item per key, looked up by hash) and mapping versions.
  Vendors: {
    fields: { ...keys, ...gsiFields(1) },
    primaryIndex,
    globalIndexes: { gsi1: gsi(1) },
  },
  CanonicalState: {
    fields: { ...keys },
    primaryIndex,
    globalIndexes: {},
  },
  // Divergences by entity, and drift findings by vendor. gsi1, divergences by ingestId, copies only
  // what names a divergence (DIVERGENCE_KEY_ATTRIBUTES), not what the events said: its entry is one
  // write unit whatever the divergence's size (one of an order can be tens of KB). gsi2 (divergences
  // by kind and time; every drift finding, which `dvss drift` lists whole) copies everything.
  Divergence: {
    fields: { ...keys, ...gsiFields(1), ...gsiFields(2) },
    primaryIndex,
    globalIndexes: { gsi1: { ...gsi(1), projection: DIVERGENCE_KEY_ATTRIBUTES }, gsi2: gsi(2) },
  },
  Quarantine: {
    fields: { ...keys, ...gsiFields(1) },
    primaryIndex,
    globalIndexes: { gsi1: gsi(1) },
  },
  // The feed: shard → positions. No index: an event's entry is found at the position its entity's
  // log item records (state/feed.ts readLoggedEntry), not by ingestId.
  Outbox: {
    fields: { ...keys },
    primaryIndex,
    globalIndexes: {},
    stream: "new-image",
  },
  // One item of counters per (vendor, UTC day): the vendor scorecard (docs/spec/scorecard.md).
  Scorecards: {
    fields: { ...keys },
    primaryIndex,
    globalIndexes: {},
  },
};

export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

/** The two buckets, by their resource names. */
export const BUCKET_NAMES = ["RawBucket", "NormalizedBucket"] as const;
export type BucketName = (typeof BUCKET_NAMES)[number];

/**
 * Buckets a stage puts under Object Lock with a default retention (infra/storage.ts, the raw
 * archive in production). S3 refuses a PutObject into such a bucket that carries neither
 * Content-MD5 nor an x-amz-checksum-* header, so every write into them names a checksum, and the
 * local S3 refuses such a write into them too (packages/local/src/store-worker.ts).
 */
export const OBJECT_LOCK_BUCKETS: readonly BucketName[] = ["RawBucket"];

/** The CreateTable input for one definition: what the local runtime (and any non-SST tool) uses. */
export function createTableInput(tableName: string, definition: TableDefinition) {
  const attributeNames = new Set<string>([definition.primaryIndex.hashKey, definition.primaryIndex.rangeKey]);
  for (const index of Object.values(definition.globalIndexes)) {
    attributeNames.add(index.hashKey);
    attributeNames.add(index.rangeKey);
  }
  const globalIndexes = Object.entries(definition.globalIndexes);
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST" as const,
    AttributeDefinitions: [...attributeNames].map((name) => ({
      AttributeName: name,
      AttributeType: definition.fields[name] === "number" ? ("N" as const) : ("S" as const),
    })),
    KeySchema: [
      { AttributeName: definition.primaryIndex.hashKey, KeyType: "HASH" as const },
      { AttributeName: definition.primaryIndex.rangeKey, KeyType: "RANGE" as const },
    ],
    ...(globalIndexes.length > 0 && {
      GlobalSecondaryIndexes: globalIndexes.map(([indexName, index]) => ({
        IndexName: indexName,
        KeySchema: [
          { AttributeName: index.hashKey, KeyType: "HASH" as const },
          { AttributeName: index.rangeKey, KeyType: "RANGE" as const },
        ],
        Projection: index.projection
          ? { ProjectionType: "INCLUDE" as const, NonKeyAttributes: index.projection }
          : { ProjectionType: "ALL" as const },
      })),
    }),
  };
}
