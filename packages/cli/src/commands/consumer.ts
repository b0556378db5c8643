import { addConsumer, listConsumers, rotateConsumerKey } from "@dvss/core/access";
import type { Command } from "commander";
import { fields, parseDuration, rotatedKeyReport, table } from "../format.ts";
import { paint } from "../io.ts";
import { type Cli, type RegisterCommand, type TargetOptions, withTarget } from "./common.ts";

interface RotateOptions extends TargetOptions {
  grace: string;
}

const KEY_WARNING =
  "This key is shown once and stored only as a hash: give it to the consumer now, over a secure channel.";

export const registerConsumer: RegisterCommand = (program: Command, cli: Cli) => {
  const consumer = program
    .command("consumer")
    .description("downstream teams and their keys for the consumer API (GET /v1/state, /v1/feed)")
    .addHelpText("after", "\nSee `dvss consumer add --help`, `rotate-key --help` and `list --help`.");

  withTarget(
    consumer
      .command("add")
      .description("register a consumer and print its first key (once)")
      .argument("<name>", "1-64 characters of A-Z a-z 0-9 . _ -"),
  )
    .addHelpText("after", "\nExit codes: 0 added, 1 the consumer exists already, 2 usage.")
    .action(async (name: string, options: TargetOptions) => {
      const context = cli.context(options);
      const added = await addConsumer(context.entities, name, context.now());
      cli.print(options, added, () =>
        [
          `Consumer ${name} added.`,
          fields(cli.io, [["key", paint(cli.io, "bold", added.apiKey)]]),
          paint(cli.io, "yellow", KEY_WARNING),
        ].join("\n"),
      );
    });

  withTarget(
    consumer
      .command("rotate-key")
      .description("issue a new key; the current keys keep working for a grace period")
      .argument("<name>", "whose key")
      .option(
        "--grace <duration>",
        "how long the current keys stay valid (e.g. 1h, 24h, 7d; 0 revokes them)",
        "24h",
      ),
  )
    .addHelpText(
      "after",
      "\nThe API caches what it read about a key for up to 30 s, so a revoked key may work that much longer." +
        "\nExit codes: 0 rotated, 3 no such consumer, 1 a store failed, 2 usage.",
    )
    .action(async (name: string, options: RotateOptions) => {
      const context = cli.context(options);
      const rotated = await rotateConsumerKey(
        context.entities,
        name,
        parseDuration(options.grace, "--grace"),
        context.now(),
      );
      cli.print(options, rotated, () =>
        rotatedKeyReport(cli.io, rotated, {
          heading: `New key for consumer ${name}`,
          owner: "consumer",
          warning: KEY_WARNING,
        }),
      );
    });

  withTarget(
    consumer.command("list").description("every consumer and its valid keys (never the keys themselves)"),
  ).action(async (options: TargetOptions) => {
    const context = cli.context(options);
    const consumers = await listConsumers(context.entities, context.now());
    cli.print(options, { consumers }, () =>
      consumers.length === 0
        ? "No consumers. Add one with `dvss consumer add <name>`."
        : table(
            cli.io,
            ["NAME", "CREATED", "VALID KEYS", "EXPIRING"],
            consumers.map((entry) => [
              entry.name,
              entry.createdAt,
              String(entry.keys.length),
              entry.keys
                .flatMap((key) => (key.expiresAt ? [key.expiresAt] : []))
                .sort()
                .join(", ") || "-",
            ]),
          ),
    );
  });
};
