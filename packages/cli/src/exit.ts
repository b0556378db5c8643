import { NotFoundError, UsageError } from "@dvss/core/errors";

/**
 * Exit codes of `dvss` (docs/operations/runbook.md lists them too):
 * 0 everything asked for was done; 1 an operation failed or was refused (a mapping example
 * mismatch, a redrive of a NORMALIZED event, a store error); 2 usage or configuration error (bad
 * arguments, no local runtime, no outputs for the stage); 3 something named does not exist (an
 * ingestId, a vendor, a folder).
 */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, NOT_FOUND: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof UsageError) return EXIT.USAGE;
  if (error instanceof NotFoundError) return EXIT.NOT_FOUND;
  return EXIT.FAILED;
}
