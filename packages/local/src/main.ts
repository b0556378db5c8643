import { resolve } from "node:path";
import { localDataDir } from "./clients.ts";
import { DataDirInUseError } from "./data-dir-lock.ts";
import { localVendorKey, startLocal } from "./runtime.ts";
import { VendorsDirOverlapError, vendorsDirLabel } from "./vendors.ts";

/** `npm start`: the whole pipeline on this machine, until Ctrl-C. */
const dataDir = localDataDir();
const port = Number(process.env.PORT ?? 4000);
// The vendor folders to start with, as the CLI finds them (default schemas/vendors).
const vendorsDir = process.env.DVSS_VENDORS_DIR ? resolve(process.env.DVSS_VENDORS_DIR) : undefined;

try {
  const runtime = await startLocal({
    dataDir,
    port,
    ...(vendorsDir && { vendorsDir }),
    // Every 10 s: after a crash, the events it left unfinished are restarted within seconds.
    reconcileIntervalMs: Number(process.env.DVSS_RECONCILE_INTERVAL_MS ?? 10_000),
    console: true,
    onFatal(error) {
      // Exit so a supervisor (or the developer) starts DVSS again, with fresh ports in endpoints.json.
      console.error(`DVSS local cannot recover by itself and stops: ${error.message}`);
      process.exit(1);
    },
  });
  const { endpoints } = runtime;
  console.log(`DVSS local ready ${endpoints.api}`);
  console.log(`  data       ${dataDir} (endpoints.json has every URL and name)`);
  console.log(`  vendor key ${localVendorKey("<vendorId>")}, e.g. ${localVendorKey("vendorA")}`);
  console.log(`  try        curl -s ${endpoints.api}/healthz`);
  console.log(`  console    ${endpoints.api}/console   (operator CLI: npx dvss --help)`);
  // One vendor's broken folder does not stop the others: it is refused, loudly.
  const check = `npx dvss mapping check ${vendorsDirLabel(runtime.vendorsSourceDir)}`;
  for (const vendor of runtime.refusedVendors) console.error(`  refused    ${vendor.message}`);
  if (runtime.refusedVendors.length > 0) {
    const ids = runtime.refusedVendors.map((vendor) => vendor.vendorId).join(", ");
    console.error(
      `             not loaded: ${ids}; their events are answered 503 until the folder is fixed and DVSS` +
        ` restarted (check with: ${check})`,
    );
  }
  for (const version of runtime.refusedVersions) console.error(`  refused    ${version.message}`);
  if (runtime.refusedVersions.length > 0) {
    const ids = runtime.refusedVersions.map((version) => version.id).join(", ");
    console.error(
      `             left out: ${ids}, as \`npx dvss mapping publish\` would refuse them; fix, then publish` +
        ` or restart (check with: ${check})`,
    );
  }
  for (const refused of runtime.refusedCrosswalks) {
    console.error(
      `  refused    ${refused.file}: ${refused.message} (not loaded; fix, then import or restart)`,
    );
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: finishing running executions and closing the stores...`);
    await runtime.close();
    console.log("DVSS local stopped; data kept in", dataDir);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
} catch (error) {
  const message = (error as Error).message ?? String(error);
  if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
    console.error(`Port ${port} is in use: is DVSS already running? Set PORT to use another.`);
  } else if (error instanceof DataDirInUseError || error instanceof VendorsDirOverlapError) {
    console.error(message);
  } else {
    console.error("DVSS local failed to start:", error);
  }
  process.exit(1);
}
