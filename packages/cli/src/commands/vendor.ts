import {
  disableSigning,
  enableSigning,
  pauseVendor,
  resumeVendor,
  rotateSigningSecret,
  setVendor,
} from "@dvss/core/access";
import { UsageError } from "@dvss/core/errors";
import { type ScorecardRow, vendorScorecard } from "@dvss/core/ops/scorecard";
import { addVendor, rotateVendorKey } from "@dvss/core/ops/vendors";
import type { Command } from "commander";
import { fields, formatDuration, parseDuration, rotatedKeyReport, table } from "../format.ts";
import { paint } from "../io.ts";
import { type Cli, type RegisterCommand, type TargetOptions, withTarget } from "./common.ts";

interface AddOptions extends TargetOptions {
  name?: string;
  priority: string;
  rateLimit: string;
}

interface ScorecardOptions extends TargetOptions {
  days: string;
}

interface RotateOptions extends TargetOptions {
  grace: string;
}

function wholeNumber(text: string, flag: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new UsageError(`${flag} must be a whole number, at least ${min}`);
  return value;
}

const KEY_WARNING =
  "This key is shown once and stored only as a hash: give it to the vendor now, over a secure channel.";

export const registerVendor: RegisterCommand = (program: Command, cli: Cli) => {
  const vendor = program
    .command("vendor")
    .description("vendors and their API keys")
    .addHelpText(
      "after",
      "\nSee `dvss vendor add --help`, `rotate-key --help`, `scorecard --help`, `pause --help`, `set --help`, `signing --help`.",
    );

  withTarget(
    vendor
      .command("add")
      .description("register a vendor and print its first API key (once)")
      .argument("<vendorId>", "1-64 characters of A-Z a-z 0-9 . _ -")
      .option("--name <name>", "display name (default: the vendorId)")
      .option(
        "--priority <n>",
        "tie-break between vendors' events at the same occurredAt: the lower number wins",
        "100",
      )
      .option(
        "--rate-limit <perSecond>",
        "requests per second the vendor may send, 1 or more (to stop a vendor, pause it)",
        "100",
      ),
  )
    .addHelpText(
      "after",
      "\nThen publish its mappings: `dvss mapping publish <vendorId>/<eventType>/<version>`." +
        "\nExit codes: 0 added, 1 the vendor exists already, 2 usage.",
    )
    .action(async (vendorId: string, options: AddOptions) => {
      const added = await addVendor(cli.context(options), {
        vendorId,
        name: options.name ?? vendorId,
        priority: wholeNumber(options.priority, "--priority", 0),
        rateLimitPerSecond: wholeNumber(options.rateLimit, "--rate-limit", 1),
      });
      cli.print(options, added, () =>
        [
          `Vendor ${vendorId} added.`,
          fields(cli.io, [
            ["name", added.vendor.name],
            ["priority", String(added.vendor.priority)],
            ["rate limit", `${added.vendor.rateLimitPerSecond}/s`],
            ["API key", paint(cli.io, "bold", added.apiKey)],
          ]),
          paint(cli.io, "yellow", KEY_WARNING),
        ].join("\n"),
      );
    });

  withTarget(
    vendor
      .command("rotate-key")
      .description("issue a new API key; the current keys keep working for a grace period")
      .argument("<vendorId>", "whose key")
      .option(
        "--grace <duration>",
        "how long the current keys stay valid (e.g. 1h, 24h, 7d; 0 revokes them)",
        "24h",
      ),
  )
    .addHelpText(
      "after",
      "\nAuthentication caches answers for up to 30 s, so a revoked key may work that much longer." +
        "\nExit codes: 0 rotated, 3 no such vendor, 1 a store failed, 2 usage.",
    )
    .action(async (vendorId: string, options: RotateOptions) => {
      const rotated = await rotateVendorKey(
        cli.context(options),
        vendorId,
        parseDuration(options.grace, "--grace"),
      );
      cli.print(options, rotated, () =>
        rotatedKeyReport(cli.io, rotated, {
          heading: `New API key for ${vendorId}`,
          owner: "vendor",
          warning: KEY_WARNING,
        }),
      );
    });
  withTarget(
    vendor
      .command("scorecard")
      .description("a vendor's data quality per UTC day: what it sent, what became of it, and a score")
      .argument("<vendorId>", "which vendor")
      .option("--days <n>", "how many days, today last", "7"),
  )
    .addHelpText(
      "after",
      "\nEach figure, where it is counted and the score's formula: docs/spec/scorecard.md." +
        "\nExit codes: 0 shown, 1 a store failed, 2 usage.",
    )
    .action(async (vendorId: string, options: ScorecardOptions) => {
      const days = wholeNumber(options.days, "--days", 1);
      const scorecard = await vendorScorecard(cli.context(options), vendorId, days);
      cli.print(options, scorecard, () => scorecardText(cli.io, scorecard.vendorId, scorecard.days));
    });
  registerVendorLifecycle(vendor, cli);
};

interface SetOptions extends TargetOptions {
  priority?: string;
  rateLimit?: string;
}

/** A flag's whole number, as written: "12", "-3"; not "", "1e3", "0x10" or "1.5". */
function integerFlag(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d{1,15}$/.test(text.trim()))
    throw new UsageError(`${flag} "${text}" is not a whole number (digits only, at most 15)`);
  return Number(text);
}

const SECRET_WARNING =
  "This secret is shown once: give it to the vendor now, over a secure channel. " +
  "DVSS keeps it to check signatures and never shows it again.";
const CACHE_NOTE = "The API applies it within 30 s (what it read about a vendor is cached that long).";

/** pause, resume, set and signing: a vendor's lifecycle on the local runtime or a stage alike. */
function registerVendorLifecycle(vendor: Command, cli: Cli): void {
  withTarget(
    vendor
      .command("pause")
      .description("refuse the vendor's new events (403 VENDOR_PAUSED) until resumed")
      .argument("<vendorId>", "which vendor"),
  )
    .addHelpText(
      "after",
      `\nEvents accepted before go on through the workflow; nothing the vendor posts meanwhile is stored.\n${CACHE_NOTE}` +
        "\nExit codes: 0 paused (or already), 3 no such vendor.",
    )
    .action(async (vendorId: string, options: TargetOptions) => {
      const context = cli.context(options);
      const paused = await pauseVendor(context.entities, vendorId, context.now());
      cli.print(options, paused, () =>
        [
          paused.changed
            ? `Vendor ${vendorId} paused.`
            : `Vendor ${vendorId} was already paused (since ${paused.pausedAt}).`,
          CACHE_NOTE,
        ].join("\n"),
      );
    });

  withTarget(
    vendor
      .command("resume")
      .description("take the vendor's events again")
      .argument("<vendorId>", "which vendor"),
  )
    .addHelpText("after", `\n${CACHE_NOTE}\nExit codes: 0 resumed (or was not paused), 3 no such vendor.`)
    .action(async (vendorId: string, options: TargetOptions) => {
      const context = cli.context(options);
      const resumed = await resumeVendor(context.entities, vendorId, context.now());
      cli.print(options, resumed, () =>
        [
          resumed.changed ? `Vendor ${vendorId} resumed.` : `Vendor ${vendorId} was not paused.`,
          CACHE_NOTE,
        ].join("\n"),
      );
    });

  withTarget(
    vendor
      .command("set")
      .description("change a vendor's priority or rate limit")
      .argument("<vendorId>", "which vendor")
      .option("--priority <n>", "tie-break at the same occurredAt: the lower number wins (0 or more)")
      .option("--rate-limit <perSecond>", "requests per second the vendor may send (1 or more)"),
  )
    .addHelpText(
      "after",
      `\n${CACHE_NOTE} Locally, a bundled vendor's vendor.json is loaded again at each start and wins.` +
        "\nExit codes: 0 set, 2 usage (nothing set, a value out of range), 3 no such vendor.",
    )
    .action(async (vendorId: string, options: SetOptions) => {
      const context = cli.context(options);
      const set = await setVendor(
        context.entities,
        vendorId,
        {
          ...(options.priority !== undefined && { priority: integerFlag(options.priority, "--priority") }),
          ...(options.rateLimit !== undefined && {
            rateLimitPerSecond: integerFlag(options.rateLimit, "--rate-limit"),
          }),
        },
        context.now(),
      );
      cli.print(options, set, () =>
        [
          `Vendor ${vendorId}:`,
          fields(cli.io, [
            ["priority", String(set.priority)],
            ["rate limit", `${set.rateLimitPerSecond}/s`],
          ]),
          CACHE_NOTE,
        ].join("\n"),
      );
    });

  const signing = vendor
    .command("signing")
    .description("signed requests (Standard Webhooks HMAC-SHA256): enable, rotate-secret, disable")
    .addHelpText("after", '\nThe scheme: docs/contract/README.md, "Signed requests".');

  withTarget(
    signing
      .command("enable")
      .description("require a valid signature on the vendor's posts; prints the secret (once)")
      .argument("<vendorId>", "which vendor"),
  )
    .addHelpText(
      "after",
      `\nGive the vendor the secret before enabling on a live vendor: its unsigned posts get 401 INVALID_SIGNATURE.\n${CACHE_NOTE}` +
        "\nExit codes: 0 enabled, 1 already enabled (use rotate-secret), 3 no such vendor.",
    )
    .action(async (vendorId: string, options: TargetOptions) => {
      const context = cli.context(options);
      const issued = await enableSigning(context.entities, vendorId, context.now());
      cli.print(options, issued, () =>
        [
          `Vendor ${vendorId} must now sign its requests.`,
          fields(cli.io, [["secret", paint(cli.io, "bold", issued.secret)]]),
          paint(cli.io, "yellow", SECRET_WARNING),
          CACHE_NOTE,
        ].join("\n"),
      );
    });

  withTarget(
    signing
      .command("rotate-secret")
      .description("issue a new secret; the current one keeps working for a grace period")
      .argument("<vendorId>", "which vendor")
      .option("--grace <duration>", "how long the current secret stays valid (0 to 7d)", "24h"),
  )
    .addHelpText(
      "after",
      "\nAt most two secrets are valid: a secret replaced earlier stops at once." +
        "\nExit codes: 0 rotated, 2 usage, 3 no such vendor or signing not enabled.",
    )
    .action(async (vendorId: string, options: RotateOptions) => {
      const context = cli.context(options);
      const rotated = await rotateSigningSecret(
        context.entities,
        vendorId,
        parseDuration(options.grace, "--grace"),
        context.now(),
      );
      cli.print(options, rotated, () =>
        [
          `New signing secret for ${vendorId}: ${paint(cli.io, "bold", rotated.secret)}`,
          paint(cli.io, "yellow", SECRET_WARNING),
          rotated.previousExpiresAt
            ? `The previous secret works until ${rotated.previousExpiresAt}.`
            : "The previous secret stops working now.",
        ].join("\n"),
      );
    });

  withTarget(
    signing
      .command("disable")
      .description("stop checking the vendor's signatures and delete its secrets")
      .argument("<vendorId>", "which vendor"),
  )
    .addHelpText("after", `\n${CACHE_NOTE}\nExit codes: 0 disabled (or was not enabled), 3 no such vendor.`)
    .action(async (vendorId: string, options: TargetOptions) => {
      const context = cli.context(options);
      const disabled = await disableSigning(context.entities, vendorId);
      cli.print(options, disabled, () =>
        disabled.changed
          ? `Vendor ${vendorId} no longer signs its requests; its secrets are deleted. ${CACHE_NOTE}`
          : `Vendor ${vendorId} did not sign its requests.`,
      );
    });
}

/** A percentile bound in seconds as a duration: "≤2m"; the last bucket has no bound. */
const upTo = (seconds: number | null) =>
  seconds === null ? "-" : Number.isFinite(seconds) ? `≤${formatDuration(seconds * 1000)}` : ">12d";

/** One row per day, then what the totals over the days break down into. */
function scorecardText(io: Cli["io"], vendorId: string, days: ScorecardRow[]): string {
  const rows = days.map((day) => [
    day.day,
    String(day.accepted),
    String(day.duplicates),
    String(day.rejectedTotal),
    String(day.quarantinedTotal),
    String(day.normalizedAfterQuarantine),
    String(day.divergencesTotal),
    String(day.outOfOrder),
    upTo(day.latenessP50Seconds),
    upTo(day.latenessP95Seconds),
    upTo(day.redriveP95Seconds),
    day.score === null ? "-" : String(day.score),
  ]);
  const headers = ["day", "accepted", "dup", "rejected", "quarantined", "redriven", "diverg", "out-of-order"];
  const breakdown = (label: string, pick: (day: ScorecardRow) => Partial<Record<string, number>>) => {
    const totals = new Map<string, number>();
    for (const day of days) {
      for (const [name, n] of Object.entries(pick(day))) totals.set(name, (totals.get(name) ?? 0) + (n ?? 0));
    }
    const parts = [...totals].map(([name, n]) => `${name} ${n}`);
    return [label, parts.length === 0 ? undefined : parts.join(", ")] as [string, string | undefined];
  };
  const breakdowns = fields(io, [
    breakdown("rejected", (day) => day.rejected),
    breakdown("quarantined", (day) => day.quarantined),
    breakdown("divergences", (day) => day.divergences),
  ]);
  return [
    `Scorecard of ${vendorId}, by UTC day (lateness and redrive times: upper bounds, within a factor of 2):`,
    table(io, [...headers, "late p50", "late p95", "redrive p95", "score"], rows),
    ...(breakdowns ? ["", breakdowns] : []),
  ].join("\n");
}
