import { taskHandler } from "../lib/task.ts";

/** Folds the standard event into canonical state (wired to the state engine next). */
export const handler = taskHandler(async () => ({ applied: false }));
