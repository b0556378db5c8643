import { readFileSync } from "node:fs";
import { DvssError } from "@dvss/core/errors";
import { Command, CommanderError } from "commander";
import { createCli } from "./commands/common.ts";
import { COMMANDS } from "./commands/index.ts";
import { EXIT, exitCodeOf } from "./exit.ts";
import { type Io, paint, processIo } from "./io.ts";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

const HELP_AFTER = `
Targets: the local runtime by default (found through <DVSS_DATA_DIR or ./.dvss>/endpoints.json,
as \`npm start\` writes it); --stage <name> for a deployed stage, with its names from
\`npx sst shell --stage <name> -- npx dvss ...\` (SST_RESOURCE_*) or .sst/outputs.json, and the
usual AWS credentials (AWS_PROFILE, AWS_REGION, ...).

Exit codes: 0 done; 1 an operation failed or was refused; 2 usage or configuration error;
3 not found (an ingestId, a vendor, a folder).

Every command takes --help; commands that print take --json. Runbook: docs/operations/runbook.md`;

function isConnectionRefused(error: unknown): boolean {
  const failure = error as { code?: string; message?: string; cause?: { code?: string } };
  return (
    failure?.code === "ECONNREFUSED" ||
    failure?.cause?.code === "ECONNREFUSED" ||
    String(failure?.message).includes("ECONNREFUSED")
  );
}

function reportError(io: Io, error: unknown, json: boolean): void {
  const failure = error instanceof Error ? error : new Error(String(error));
  let message = failure.message;
  if (isConnectionRefused(error)) {
    message = `The local runtime does not answer (${message}): is \`npm start\` running with this data directory?`;
  }
  const code = error instanceof DvssError ? error.code : "ERROR";
  const details = error instanceof DvssError ? error.details : [];
  if (json) {
    io.out(`${JSON.stringify({ error: { code, name: failure.name, message, details } }, null, 2)}\n`);
    return;
  }
  io.err(`${paint(io, "red", "error")} ${message}\n`);
  for (const detail of details) io.err(`  ${detail.path}: ${detail.message}\n`);
}

/** The `dvss` program, run in-process: argv without node and script, output through `io`. Returns the exit code. */
export async function runCli(argv: string[], io: Io = processIo()): Promise<number> {
  const cli = createCli(io);
  const program = new Command("dvss")
    .description(
      "Operate DVSS: follow an event, work the quarantine, redrive, replay, onboard vendors and mappings",
    )
    .version(version, "-V, --version")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
      outputError: (text, write) => write(paint(io, "red", text)),
    })
    .showHelpAfterError("(add --help for usage)")
    .addHelpText("after", HELP_AFTER);
  for (const register of COMMANDS) register(program, cli);

  try {
    await program.parseAsync(argv, { from: "user" });
    return cli.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end the program on purpose; anything else commander rejects is usage.
      return error.code === "commander.helpDisplayed" || error.code === "commander.version"
        ? EXIT.OK
        : EXIT.USAGE;
    }
    reportError(io, error, argv.includes("--json"));
    return exitCodeOf(error);
  } finally {
    cli.close();
  }
}
