import { INGEST_STATUSES, type IngestRecordItem, type IngestStatus } from "../entities/index.ts";
import type { OpsContext } from "./context.ts";

export interface RecentEventsFilter {
  vendorId?: string | undefined;
  status?: IngestStatus | undefined;
  limit?: number;
}

export interface EventOverview {
  /** Newest first (ingestIds sort by arrival). */
  events: IngestRecordItem[];
  /** Matching events in all, beyond `limit`. */
  matching: number;
  /** vendorId → status → count, over every event. */
  countsByVendor: Record<string, Record<IngestStatus, number>>;
  vendors: string[];
}

/**
 * Recent events and counts per vendor, for the local console. It scans the records table: fine on
 * one machine's data, not an access pattern for a deployed stage (which has metrics for counts).
 */
export async function eventOverview(
  context: OpsContext,
  filter: RecentEventsFilter = {},
): Promise<EventOverview> {
  const { data } = await context.entities.ingestRecords.scan.go({ pages: "all" });
  const countsByVendor: EventOverview["countsByVendor"] = {};
  for (const record of data) {
    const counts =
      countsByVendor[record.vendorId] ??
      (Object.fromEntries(INGEST_STATUSES.map((status) => [status, 0])) as Record<IngestStatus, number>);
    counts[record.status] += 1;
    countsByVendor[record.vendorId] = counts;
  }
  const matching = data
    .filter(
      (record) =>
        (!filter.vendorId || record.vendorId === filter.vendorId) &&
        (!filter.status || record.status === filter.status),
    )
    .sort((a, b) => b.ingestId.localeCompare(a.ingestId));
  return {
    events: matching.slice(0, filter.limit ?? 50),
    matching: matching.length,
    countsByVendor,
    vendors: Object.keys(countsByVendor).sort(),
  };
}
