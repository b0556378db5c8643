import { LogFormatter, LogItem } from "@aws-lambda-powertools/logger";
import type { LogAttributes, UnformattedAttributes } from "@aws-lambda-powertools/logger/types";

/**
 * The handlers' log line: Powertools' standard keys, less those that say nothing a line's place
 * does not say already. Each function logs to a log group of its own (/aws/lambda/<name>, its
 * version in the stream's name), so its ARN and memory size, constant per function, are dropped;
 * the sampling rate, 0 (no debug sampling is configured), is dropped; cold_start is kept only when
 * true (the first invocation of a container); the X-Ray trace id only when the request is sampled,
 * the only time a trace exists to look it up in. Kept: level, message, timestamp (Lambda's JSON log
 * format takes the line's level and time from them), service, function_name (which task wrote a
 * line, also where functions share one output, as in `npm start`), function_request_id (the
 * invocation, as Lambda's own lines name it), then the line's appended and own keys.
 * docs/operations/observability.md lists the lines.
 */
export class DvssLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const context = attributes.lambdaContext;
    const base: LogAttributes = {
      level: attributes.logLevel,
      message: attributes.message,
      timestamp: this.formatTimestamp(attributes.timestamp),
      service: attributes.serviceName,
      ...(context?.coldStart && { cold_start: true }),
      function_name: context?.functionName,
      function_request_id: context?.awsRequestId,
      ...(attributes.sampleRateValue > 0 && { sampling_rate: attributes.sampleRateValue }),
      ...(attributes.xRayTraceId && xRaySampled() && { xray_trace_id: attributes.xRayTraceId }),
      ...(context?.tenantId && { tenant_id: context.tenantId }),
    };
    return new LogItem({ attributes: base }).addAttributes(additional);
  }
}

/** Whether Lambda's trace header (_X_AMZN_TRACE_ID, "Root=…;Parent=…;Sampled=1") says the request is traced. */
function xRaySampled(): boolean {
  return /(?:^|;)\s*Sampled=1(?:;|$)/.test(process.env._X_AMZN_TRACE_ID ?? "");
}
