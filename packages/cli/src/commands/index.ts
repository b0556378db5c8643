import type { RegisterCommand } from "./common.ts";
import { registerConsumer } from "./consumer.ts";
import { registerCost } from "./cost.ts";
import { registerCrosswalk } from "./crosswalk.ts";
import { registerDrift } from "./drift.ts";
import { registerExplain } from "./explain.ts";
import { registerMapping } from "./mapping.ts";
import { registerQuarantine } from "./quarantine.ts";
import { registerRedrive } from "./redrive.ts";
import { registerReplay } from "./replay.ts";
import { registerStatus } from "./status.ts";
import { registerVendor } from "./vendor.ts";

/** Every command, in help order. A new command is one file in this folder and one line here. */
export const COMMANDS: RegisterCommand[] = [
  registerStatus,
  registerExplain,
  registerQuarantine,
  registerDrift,
  registerRedrive,
  registerReplay,
  registerVendor,
  registerConsumer,
  registerMapping,
  registerCrosswalk,
  registerCost,
];
