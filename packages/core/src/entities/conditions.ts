/**
 * A conditional write that lost: DynamoDB's ConditionalCheckFailedException, as the SDK throws it
 * or as ElectroDB wraps it (its cause). The one test every "create if absent" and compare-and-swap uses.
 */
export function isConditionalCheckFailed(error: unknown): boolean {
  const named = (value: unknown) =>
    (value as { name?: unknown } | undefined)?.name === "ConditionalCheckFailedException";
  return named(error) || named((error as { cause?: unknown } | undefined)?.cause);
}
