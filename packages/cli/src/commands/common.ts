import { type OpsContext, openContext } from "@dvss/core/ops/context";
import { type Command, Option } from "commander";
import { EXIT, type ExitCode } from "../exit.ts";
import type { Io } from "../io.ts";
import { resolveTarget } from "../target.ts";

/** What every command registers with and runs through. */
export interface Cli {
  io: Io;
  /** The context of the target `--stage` names (local runtime without it); opened once, closed at exit. */
  context(options: TargetOptions): OpsContext;
  /** Sets the exit code the command ends with; the most serious one set wins (see exit.ts). */
  exit(code: ExitCode): void;
  /** Prints `value` as JSON with --json, else the human text. */
  print(options: { json?: boolean }, value: unknown, human: () => string): void;
}

export interface TargetOptions {
  stage?: string;
  json?: boolean;
}

/** A command adds itself to the program: one file per command, one line in commands/index.ts. */
export type RegisterCommand = (program: Command, cli: Cli) => void;

export function withJson(command: Command): Command {
  return command.addOption(new Option("--json", "machine-readable output (JSON on stdout)"));
}

/** --stage and --json: for commands that talk to a DVSS (local runtime by default). */
export function withTarget(command: Command): Command {
  return withJson(command).addOption(
    new Option(
      "--stage <name>",
      "a deployed stage (names from `sst shell --stage <name>` or .sst/outputs.json) instead of the local runtime",
    ),
  );
}

/** Exit codes by seriousness: a failure outranks a missing thing, which outranks usage, which outranks ok. */
const SERIOUSNESS: Record<ExitCode, number> = { 0: 0, 2: 1, 3: 2, 1: 3 };

export function createCli(io: Io): Cli & { exitCode: ExitCode; close(): void } {
  let context: OpsContext | undefined;
  const cli = {
    io,
    exitCode: EXIT.OK as ExitCode,
    context(options: TargetOptions) {
      context ??= openContext(resolveTarget({ stage: options.stage, env: io.env, cwd: io.cwd }));
      return context;
    },
    exit(code: ExitCode) {
      if (SERIOUSNESS[code] > SERIOUSNESS[cli.exitCode]) cli.exitCode = code;
    },
    print(options: { json?: boolean }, value: unknown, human: () => string) {
      io.out(`${options.json ? JSON.stringify(value, null, 2) : human()}\n`);
    },
    close() {
      context?.close();
      context = undefined;
    },
  };
  return cli;
}
