import { type BucketName, TABLES, type TableName } from "@dvss/core/tables";

/**
 * Least privilege, declared once: what each function may do to which store. Links carry names
 * only (see links.ts); every permission comes from this table, as the few actions each handler
 * uses on the resources it touches. The stack test pins the resulting IAM statements.
 */

/** read: GetItem and Query (table and its indexes); put: PutItem (ElectroDB create/put); update: UpdateItem (patch/upsert/remove). */
export type TableAccess = "read" | "put" | "update";
/** get: GetObject (and HeadObject); put: PutObject; delete: DeleteObject; list: ListBucket (HeadBucket). */
export type BucketAccess = "get" | "put" | "delete" | "list";

export interface Access {
  tables?: Partial<Record<TableName, TableAccess[]>>;
  buckets?: Partial<Record<BucketName, BucketAccess[]>>;
  /** states:StartExecution on the Normalize state machine. */
  startNormalize?: boolean;
  /**
   * May read the vendors' signing secrets (the Vendors items under `signing#<vendorId>`). Every
   * other function with access to the Vendors table is denied those partitions.
   */
  signingSecrets?: boolean;
}

/** The partition keys of the signing secrets in the Vendors table (core's vendorSigning entity). */
export const SIGNING_PARTITIONS = "signing#*";

/**
 * The item actions on the Vendors table that a role without `signingSecrets` may not use on a
 * `signing#` partition. Each carries its partition keys as `dynamodb:LeadingKeys`; the Deny matches
 * if any of them is a signing partition (`ForAnyValue`: with `ForAllValues` a BatchGetItem mixing a
 * profile's key with a secret's would pass). Scan carries no partition key, so it is denied outright
 * on the table (no function is granted it anyway).
 */
const SIGNING_DENIED_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
];

const TABLE_ACTIONS: Record<TableAccess, string[]> = {
  read: ["dynamodb:GetItem", "dynamodb:Query"],
  put: ["dynamodb:PutItem"],
  update: ["dynamodb:UpdateItem"],
};

const BUCKET_ACTIONS: Record<BucketAccess, string> = {
  get: "s3:GetObject",
  put: "s3:PutObject",
  delete: "s3:DeleteObject",
  list: "s3:ListBucket",
};

/** Every function of the app, by its SST resource name, with what it touches. */
export const ACCESS = {
  // HTTP
  IngestApi: {
    // Signing secrets: a signing vendor's posts are checked against them (core/auth.ts); no other
    // function reads them.
    // Divergence: a 409 is recorded as an IDEMPOTENCY_CONFLICT divergence.
    // Scorecards: duplicates and refusals are counted where they are answered.
    tables: {
      Vendors: ["read"],
      IngestRecords: ["read", "put"],
      Divergence: ["put"],
      Scorecards: ["update"],
    },
    buckets: { RawBucket: ["put", "delete"] },
    startNormalize: true,
    signingSecrets: true,
  },
  EventsApi: { tables: { Vendors: ["read"], IngestRecords: ["read"] } },
  // Outbox put: a feed reader closes a position left empty past its grace period as a gap.
  // Divergence read: explain lists an entity's divergences.
  ConsumerApi: {
    tables: { Vendors: ["read"], CanonicalState: ["read"], Divergence: ["read"], Outbox: ["read", "put"] },
  },
  HealthApi: { tables: { Vendors: ["read"] }, buckets: { RawBucket: ["list"] } },
  // Workflow tasks. Readers of an object also list its bucket: S3 answers a missing key with
  // NoSuchKey (reported as MissingRecordError) only to a caller allowed to list, AccessDenied otherwise.
  // Vendors read: published mapping versions and the active version per event type live there.
  // Divergence update: drift findings (docs/spec/drift.md), written with UpdateItem only.
  // Scorecards: a new drift finding counts on its vendor's scorecard.
  MapTask: {
    tables: { Vendors: ["read"], Divergence: ["update"], Scorecards: ["update"] },
    buckets: { RawBucket: ["get", "list"], NormalizedBucket: ["put"] },
  },
  // Vendors read: the vendor's crosswalk; the normalized document when the vendor has entries.
  MatchTask: {
    tables: { Vendors: ["read"] },
    buckets: { NormalizedBucket: ["get", "list"] },
  },
  // IngestRecords, Quarantine, Scorecards: it marks the record NORMALIZED (lib/outcome.ts), as
  // UpdateStatusTask does.
  ApplyStateTask: {
    tables: {
      Vendors: ["read"],
      CanonicalState: ["read", "put", "update"],
      Divergence: ["put"],
      Outbox: ["read", "put", "update"],
      IngestRecords: ["update"],
      Quarantine: ["read", "update"],
      Scorecards: ["update"],
    },
    buckets: { NormalizedBucket: ["get", "list"] },
  },
  // Quarantine: a redriven event that ends NORMALIZED resolves its quarantine entry.
  // Scorecards: an event's outcome is counted where it is recorded.
  UpdateStatusTask: {
    tables: { IngestRecords: ["read", "update"], Quarantine: ["read", "update"], Scorecards: ["update"] },
  },
  QuarantineTask: { tables: { IngestRecords: ["read"], Quarantine: ["put"] } },
  // Scheduled
  Reconciler: {
    tables: { IngestRecords: ["read", "update"], Quarantine: ["put"] },
    startNormalize: true,
  },
} as const satisfies Record<string, Access>;

export type FunctionName = keyof typeof ACCESS;

/** The deployed stores a function's access refers to. */
export interface Stores {
  tables: Record<TableName, sst.aws.Dynamo>;
  buckets: Record<BucketName, sst.aws.Bucket>;
  normalize?: aws.sfn.StateMachine;
}

const entries = <K extends string, V>(record: Partial<Record<K, V>> | undefined) =>
  Object.entries(record ?? {}) as [K, V][];

/**
 * The IAM statements of one function: one per store, only the actions it uses; and, on the Vendors
 * table, a Deny of the signing secrets' partitions unless the function may read them.
 */
export function permissionsFor(access: Access, stores: Stores): sst.aws.FunctionArgs["permissions"] {
  const tables = entries(access.tables).flatMap(([name, levels]) => {
    const table = stores.tables[name];
    return [
      { actions: levels.flatMap((level) => TABLE_ACTIONS[level]), resources: [table.arn] },
      // A Query on an index is authorized on the index's ARN (only tables that have indexes).
      ...(levels.includes("read") && Object.keys(TABLES[name].globalIndexes).length > 0
        ? [{ actions: ["dynamodb:Query"], resources: [$interpolate`${table.arn}/index/*`] }]
        : []),
      ...(name === "Vendors" && !access.signingSecrets
        ? [
            {
              effect: "deny" as const,
              actions: SIGNING_DENIED_ACTIONS,
              resources: [table.arn],
              conditions: [
                {
                  test: "ForAnyValue:StringLike",
                  variable: "dynamodb:LeadingKeys",
                  values: [SIGNING_PARTITIONS],
                },
              ],
            },
            { effect: "deny" as const, actions: ["dynamodb:Scan"], resources: [table.arn] },
          ]
        : []),
    ];
  });
  const buckets = entries(access.buckets).map(([name, levels]) => {
    const bucket = stores.buckets[name];
    const objectLevels = levels.filter((level) => level !== "list");
    return [
      ...(objectLevels.length > 0
        ? [
            {
              actions: objectLevels.map((level) => BUCKET_ACTIONS[level]),
              resources: [$interpolate`${bucket.arn}/*`],
            },
          ]
        : []),
      ...(levels.includes("list") ? [{ actions: [BUCKET_ACTIONS.list], resources: [bucket.arn] }] : []),
    ];
  });
  const workflow = access.startNormalize
    ? [{ actions: ["states:StartExecution"], resources: [requireNormalize(stores).arn] }]
    : [];
  return [...tables, ...buckets.flat(), ...workflow];
}

/** The resources a function is linked to: every store it touches, for its name (and the state machine's ARN). */
export function linksFor(access: Access, stores: Stores): unknown[] {
  return [
    ...entries(access.tables).map(([name]) => stores.tables[name]),
    ...entries(access.buckets).map(([name]) => stores.buckets[name]),
    ...(access.startNormalize ? [requireNormalize(stores)] : []),
  ];
}

function requireNormalize(stores: Stores): aws.sfn.StateMachine {
  if (!stores.normalize)
    throw new Error("The Normalize state machine must exist before a function that starts it");
  return stores.normalize;
}
