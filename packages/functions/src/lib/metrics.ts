import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { type DimensionsOf, METRICS, type MetricKey } from "@dvss/core/metrics";
import { metrics } from "./aws.ts";

type DimensionSet = readonly string[];

/**
 * The metric's dimension sets, in as few EMF lines as they fit: one line may carry several sets
 * (CloudWatch records the value once per set), but not two that share a dimension, on which
 * Powertools warns, once per line. `[[], [vendorId], [vendorId, eventType]]` is two lines.
 */
export function linesOf(dimensionSets: readonly DimensionSet[]): DimensionSet[][] {
  const lines: DimensionSet[][] = [];
  for (const set of dimensionSets) {
    const line = lines.find((sets) => !sets.some((other) => other.some((name) => set.includes(name))));
    if (line) line.push(set);
    else lines.push([set]);
  }
  return lines;
}

/**
 * Emits one metric of the vocabulary (packages/core/src/metrics.ts) under each dimension set it
 * is published under, in as few EMF lines as they fit (linesOf), written at once.
 */
export function emitMetric<Key extends MetricKey>(key: Key, dimensions: DimensionsOf<Key>, value = 1): void {
  const definition = METRICS[key];
  const values = dimensions as Record<string, string>;
  for (const sets of linesOf(definition.dimensionSets)) {
    const single = metrics.singleMetric();
    for (const set of sets)
      single.addDimensions(Object.fromEntries(set.map((name) => [name, values[name] ?? ""])));
    single.addMetric(definition.name, MetricUnit[definition.unit], value);
  }
}
