import { execFileSync } from "node:child_process";
import { chmodSync, readdirSync, renameSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { type DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { decodeTime } from "ulid";
import { describe, expect, it } from "vitest";
import { localClients } from "../src/clients.ts";
import { type Harness, seedEnvelope, startHarness, tempDir } from "./harness.ts";

// Its own file: each runtime re-points the process's handlers at its stores.
let posted = 0;
const post = (dvss: Harness) => dvss.post({ ...seedEnvelope, externalEventId: `fault-${++posted}` });

/** Posts until an event is accepted again (the store thread is being started again meanwhile). */
async function postUntilAccepted(dvss: Harness, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await post(dvss);
    if (response.status === 202 || Date.now() > deadline) return response;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** What a failed write may not leave in the raw bucket: an empty object, or a temporary file. */
function leftovers(bucketDir: string): string[] {
  return filesUnder(bucketDir).filter(
    (file) => file.endsWith(".partial") || (file.endsWith("._S3rver_object") && statSync(file).size === 0),
  );
}

const isRoot = process.getuid?.() === 0;

/**
 * Makes a directory refuse new files, as a read-only disk does. chmod does not stop root, so as
 * root the directory is swapped for a link to /proc, where no one can create a file.
 */
function refuseWrites(dir: string): () => void {
  if (!isRoot) {
    chmodSync(dir, 0o555);
    return () => chmodSync(dir, 0o755);
  }
  renameSync(dir, `${dir}.aside`);
  symlinkSync("/proc", dir);
  return () => {
    rmSync(dir);
    renameSync(`${dir}.aside`, dir);
  };
}

/** A small tmpfs to fill up: needs root on Linux (CI without it skips the full-disk test). */
function canMountTmpfs(): boolean {
  if (process.platform !== "linux" || !isRoot) return false;
  const probe = tempDir("dvss-mount-probe-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], { stdio: "ignore" });
    execFileSync("umount", [probe], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

describe("a disk error in the embedded stores", () => {
  it("answers 503 while the disk refuses writes, accepts again once it is back, and leaves no empty object", async () => {
    const dataDir = tempDir("dvss-fault-");
    const dvss = await startHarness({ dataDir });
    try {
      const first = await post(dvss);
      expect(first.status).toBe(202);
      const day = new Date(decodeTime(first.body.ingestId)).toISOString().slice(0, 10).split("-");
      const bucketDir = join(dataDir, "s3", dvss.endpoints.buckets.RawBucket);
      const restore = refuseWrites(join(bucketDir, "raw", "vendorA", ...day));

      const during = [await post(dvss), await post(dvss)];
      restore();
      const after = await postUntilAccepted(dvss);

      expect(during.map((response) => response.status)).toEqual([503, 503]);
      expect(during[0]?.body.error.code).toBe("UNAVAILABLE");
      expect(after.status).toBe(202);
      expect(leftovers(bucketDir)).toEqual([]);
    } finally {
      await dvss.close();
    }
  });

  it.each(["s3", "dynamodb"] as const)(
    "starts a %s store whose thread died again on the same port, with its data",
    async (store) => {
      const dataDir = tempDir("dvss-crash-");
      const dvss = await startHarness({ dataDir });
      try {
        const first = await post(dvss);
        const endpoint = store === "s3" ? dvss.endpoints.s3 : dvss.endpoints.dynamodb;

        await dvss.runtime.stores.crash(store);
        const during = await post(dvss);
        const after = await postUntilAccepted(dvss);
        const again = await dvss.post({ ...seedEnvelope, externalEventId: `fault-${posted}` });

        expect(first.status).toBe(202);
        expect(during.status).toBe(503);
        expect(after.status).toBe(202);
        expect(store === "s3" ? dvss.runtime.stores.s3Endpoint : dvss.runtime.stores.dynamodbEndpoint).toBe(
          endpoint,
        );
        // What the store held before its thread died is still there.
        expect(again.body).toEqual({ status: "DUPLICATE", ingestId: after.body.ingestId });
        expect((await dvss.rawKeys()).some((key) => key.includes(first.body.ingestId))).toBe(true);
      } finally {
        await dvss.close();
      }
    },
  );

  it.skipIf(!canMountTmpfs())(
    "recovers from a full disk: both stores answer again once space is freed, and no empty object is left",
    async () => {
      const dataDir = tempDir("dvss-full-");
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", dataDir]);
      let dvss: Harness | undefined;
      let dynamodb: DynamoDBClient | undefined;
      try {
        dvss = await startHarness({ dataDir });
        dynamodb = localClients(dvss.endpoints).dynamodb;
        const first = await post(dvss);
        const filler = join(dataDir, "filler");
        try {
          execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=1M", "count=64"], { stdio: "ignore" });
        } catch {
          // dd stops at the first ENOSPC: the disk is full, which is the point.
        }

        const during = await post(dvss);
        // A write big enough to reach dynalite's log file, which then fails with ENOSPC.
        const bigWrite = (n: number) =>
          (dynamodb as DynamoDBClient).send(
            new PutItemCommand({
              TableName: dvss?.endpoints.tables.Divergence,
              Item: { pk: { S: `full-disk-${n}` }, sk: { S: "x" }, filler: { S: "x".repeat(200_000) } },
            }),
          );
        const dynamoDuring = await bigWrite(1).then(
          () => "written",
          (error: Error) => error.name,
        );
        rmSync(filler);
        const after = await postUntilAccepted(dvss);
        await bigWrite(2);

        expect(first.status).toBe(202);
        expect(during.status).toBe(503);
        expect(dynamoDuring).not.toBe("written");
        expect(after.status).toBe(202);
        expect(leftovers(join(dataDir, "s3", dvss.endpoints.buckets.RawBucket))).toEqual([]);
      } finally {
        dynamodb?.destroy();
        // Unmounted even when a regression leaves a store that never closes.
        await Promise.race([dvss?.close(), new Promise((resolve) => setTimeout(resolve, 10_000))]);
        execFileSync("umount", ["-l", dataDir]);
      }
    },
  );
});
