import { type BucketName, OBJECT_LOCK_BUCKETS, TABLE_NAMES, TABLES, type TableName } from "@dvss/core/tables";
import type { StageSettings } from "../stacks/settings.ts";

/**
 * Every table of packages/core/src/tables.ts, from its one declaration, and the two buckets:
 * public access blocked, TLS only, encrypted at rest; raw is versioned, never force-destroyed and
 * optionally under Object Lock (which a stage can turn on later without a new bucket), because it
 * is the archive every replay starts from.
 */
export function storage(settings: StageSettings) {
  const tables = Object.fromEntries(
    TABLE_NAMES.map((name) => {
      const definition = TABLES[name];
      return [
        name,
        new sst.aws.Dynamo(name, {
          fields: definition.fields,
          primaryIndex: definition.primaryIndex,
          globalIndexes: definition.globalIndexes,
          ...(definition.ttl && { ttl: definition.ttl }),
          ...(definition.stream && { stream: definition.stream }),
          deletionProtection: settings.deletionProtection,
          transform: {
            table: { pointInTimeRecovery: { enabled: settings.pointInTimeRecovery } },
          },
        }),
      ];
    }),
  ) as Record<TableName, sst.aws.Dynamo>;

  const objectLock = settings.rawObjectLock;
  const rawBucket = hardenedBucket("RawBucket", { versioning: true, forceDestroy: false });
  // Only a bucket whose writers send a checksum (OBJECT_LOCK_BUCKETS) may get a default retention.
  if (objectLock.enabled && OBJECT_LOCK_BUCKETS.includes("RawBucket")) {
    // Object Lock is enabled by this configuration, never by the bucket's own objectLockEnabled:
    // that argument forces a new bucket, so turning the setting on for a stage that already has
    // its archive would replace it with an empty one. S3 enables Object Lock on an existing bucket
    // once its versioning is on, hence the dependency on the bucket component (its versioning).
    // It cannot be turned off again: removing this configuration only drops the default retention.
    // GOVERNANCE: a raw object cannot be overwritten or deleted within the retention, except by an
    // operator holding s3:BypassGovernanceRetention (a legal erasure request, say).
    new aws.s3.BucketObjectLockConfiguration(
      "RawBucketObjectLock",
      {
        bucket: rawBucket.name,
        objectLockEnabled: "Enabled",
        rule: { defaultRetention: { mode: "GOVERNANCE", days: objectLock.retentionDays } },
      },
      { dependsOn: [rawBucket] },
    );
  }
  new aws.s3.BucketLifecycleConfiguration("RawBucketLifecycle", {
    bucket: rawBucket.name,
    rules: [
      {
        id: "expire-old-versions",
        status: "Enabled",
        filter: {},
        noncurrentVersionExpiration: { noncurrentDays: settings.rawNoncurrentVersionDays },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
    ],
  });

  // Derived data (a replay rewrites it byte for byte), so not versioned.
  const normalizedBucket = hardenedBucket("NormalizedBucket", {
    versioning: false,
    forceDestroy: !settings.deletionProtection,
  });
  new aws.s3.BucketLifecycleConfiguration("NormalizedBucketLifecycle", {
    bucket: normalizedBucket.name,
    rules: [
      {
        id: "abort-incomplete-uploads",
        status: "Enabled",
        filter: {},
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
    ],
  });

  const buckets: Record<BucketName, sst.aws.Bucket> = {
    RawBucket: rawBucket,
    NormalizedBucket: normalizedBucket,
  };
  return { tables, buckets };
}

function hardenedBucket(name: BucketName, options: { versioning: boolean; forceDestroy: boolean }) {
  const bucket = new sst.aws.Bucket(name, {
    versioning: options.versioning,
    enforceHttps: true,
    transform: {
      bucket: { forceDestroy: options.forceDestroy },
      publicAccessBlock: {
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
    },
  });
  // SSE-S3: encrypted at rest without a KMS key every reader would also need a grant on.
  new aws.s3.BucketServerSideEncryptionConfiguration(`${name}Encryption`, {
    bucket: bucket.name,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
  });
  return bucket;
}
