import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { type DimensionsOf, METRICS, type MetricKey } from "@dvss/core/metrics";
import { metrics } from "./aws.ts";

/**
 * Emits one metric of the vocabulary (packages/core/src/metrics.ts): one EMF line per dimension
 * set it is published under, written at once. A line per set, because EMF shares one set of
 * values across the metrics of a line, and Powertools warns on every line whose sets share a name.
 */
export function emitMetric<Key extends MetricKey>(key: Key, dimensions: DimensionsOf<Key>, value = 1): void {
  const definition = METRICS[key];
  const values = dimensions as Record<string, string>;
  for (const set of definition.dimensionSets) {
    const single = metrics.singleMetric();
    for (const name of set) single.addDimension(name, values[name] ?? "");
    single.addMetric(definition.name, MetricUnit[definition.unit], value);
  }
}
