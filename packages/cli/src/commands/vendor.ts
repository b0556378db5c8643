import { UsageError } from "@dvss/core/errors";
import { addVendor, rotateVendorKey } from "@dvss/core/ops/vendors";
import type { Command } from "commander";
import { fields, parseDuration } from "../format.ts";
import { paint } from "../io.ts";
import { type Cli, type RegisterCommand, type TargetOptions, withTarget } from "./common.ts";

interface AddOptions extends TargetOptions {
  name?: string;
  priority: string;
  rateLimit: string;
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
    .addHelpText("after", "\nSee `dvss vendor add --help` and `dvss vendor rotate-key --help`.");

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
      .option("--rate-limit <perSecond>", "requests per second the vendor may send", "100"),
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
        rateLimitPerSecond: wholeNumber(options.rateLimit, "--rate-limit", 0),
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
        [
          `New API key for ${vendorId}: ${paint(cli.io, "bold", rotated.apiKey)}`,
          paint(cli.io, "yellow", KEY_WARNING),
          rotated.previousKeys.length === 0
            ? "The vendor had no other valid key."
            : `Its ${rotated.previousKeys.length} earlier key(s) stop working at: ${[
                ...new Set(rotated.previousKeys.map((key) => key.expiresAt)),
              ].join(", ")}.`,
        ].join("\n"),
      );
    });
};
