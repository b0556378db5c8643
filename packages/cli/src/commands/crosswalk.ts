import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "@dvss/core/errors";
import {
  addCrosswalkEntry,
  importCrosswalk,
  listCrosswalk,
  removeCrosswalkEntry,
} from "@dvss/core/ops/crosswalk";
import type { Command } from "commander";
import { table } from "../format.ts";
import { type Cli, type RegisterCommand, type TargetOptions, withTarget } from "./common.ts";

interface AddOptions extends TargetOptions {
  unit?: string;
  vendorUnit?: string;
  factor?: string;
}

interface ListOptions extends TargetOptions {
  vendor?: string;
}

/** Who made a change, as the entry's history records it. */
const operatorOf = (cli: Cli) => cli.io.env.USER ?? cli.io.env.USERNAME ?? "operator";

export const registerCrosswalk: RegisterCommand = (program: Command, cli: Cli) => {
  const crosswalk = program
    .command("crosswalk")
    .description("vendor keys → canonical ids, per vendor and kind (docs/spec/canonical-state.md)")
    .addHelpText("after", "\nSee `dvss crosswalk import|add|remove|list --help`.");

  withTarget(
    crosswalk
      .command("import")
      .argument("<file>", 'a crosswalk file: {"vendorId", "entries": [{kind, vendorKey, canonicalId, ...}]}')
      .description("add or change every entry of a file; a key already mapped elsewhere is refused"),
  )
    .addHelpText("after", "\nExit codes: 0 imported, 1 refused or a store failed, 2 usage.")
    .action(async (file: string, options: TargetOptions) => {
      const path = resolve(cli.io.cwd, file);
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (error) {
        throw new UsageError(`Cannot read ${file}: ${(error as Error).message}`);
      }
      const result = await importCrosswalk(cli.context(options), text, file, operatorOf(cli));
      cli.print(
        options,
        result,
        () => `Imported ${result.vendorId}: ${result.written} written, ${result.unchanged} unchanged.`,
      );
    });

  withTarget(
    crosswalk
      .command("add")
      .argument("<vendorId>")
      .argument("<kind>", "location, product or order")
      .argument("<vendorKey>", "the vendor's own key")
      .argument("<canonicalId>", "the canonical id it stands for")
      .option("--unit <unit>", "product: the canonical product's unit (e.g. EA)")
      .option("--vendor-unit <unit>", "product: the unit the vendor counts in, converted by --factor")
      .option("--factor <n>", "product: how many --unit one --vendor-unit is (a case of 12: 12)")
      .description("add an entry, or change the canonical id of an existing one (a new version)"),
  )
    .addHelpText(
      "after",
      "\nExit codes: 0 added (also when already so), 1 refused or a store failed, 2 usage.",
    )
    .action(
      async (vendorId: string, kind: string, vendorKey: string, canonicalId: string, options: AddOptions) => {
        const input = {
          kind,
          vendorKey,
          canonicalId,
          ...(options.unit !== undefined && { unit: options.unit }),
          ...(options.vendorUnit !== undefined && { vendorUnit: options.vendorUnit }),
          ...(options.factor !== undefined && { factor: Number(options.factor) }),
        };
        const entry = await addCrosswalkEntry(cli.context(options), vendorId, input, operatorOf(cli));
        cli.print(
          options,
          entry,
          () => `${vendorId} ${kind} ${vendorKey} → ${entry.canonicalId} (version ${entry.version}).`,
        );
      },
    );

  withTarget(
    crosswalk
      .command("remove")
      .argument("<vendorId>")
      .argument("<kind>", "location, product or order")
      .argument("<vendorKey>")
      .description("remove an entry (its history stays)"),
  )
    .addHelpText("after", "\nExit codes: 0 removed, 3 no such entry, 1 a store failed, 2 usage.")
    .action(async (vendorId: string, kind: string, vendorKey: string, options: TargetOptions) => {
      const entry = await removeCrosswalkEntry(
        cli.context(options),
        vendorId,
        kind,
        vendorKey,
        operatorOf(cli),
      );
      cli.print(options, entry, () => `Removed ${vendorId} ${kind} ${vendorKey} (version ${entry.version}).`);
    });

  withTarget(
    crosswalk
      .command("list")
      .option("--vendor <vendorId>", "only this vendor's entries")
      .description("the entries in force, by vendor, kind and key"),
  )
    .addHelpText("after", "\nExit codes: 0 listed (also when empty), 1 a store failed, 2 usage.")
    .action(async (options: ListOptions) => {
      const entries = await listCrosswalk(cli.context(options), options.vendor);
      cli.print(options, entries, () => {
        if (entries.length === 0) return "No crosswalk entries.";
        const rows = entries.map((entry) => [
          entry.vendorId,
          entry.kind,
          entry.vendorKey,
          entry.canonicalId,
          entry.vendorUnit ? `${entry.vendorUnit} × ${entry.factor} = ${entry.unit}` : (entry.unit ?? ""),
          String(entry.version),
          `${entry.updatedAt} ${entry.updatedBy}`,
        ]);
        return [
          table(cli.io, ["vendor", "kind", "vendorKey", "canonicalId", "unit", "version", "updated"], rows),
          `${entries.length} entr${entries.length === 1 ? "y" : "ies"}.`,
        ].join("\n");
      });
    });
};
