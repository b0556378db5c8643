import { ROUTES } from "@dvss/core/routes";
import type { StageSettings } from "../stacks/settings.ts";
import type { FunctionName, Stores } from "./access.ts";
import { dvssFunction } from "./function.ts";

/**
 * The HTTP API of the HTTP API contract, docs/contract, from the one route list the local server also serves: one function
 * per handler (routes sharing a handler share its function), stage throttling, access logs.
 */
export function api(settings: StageSettings, stores: Stores) {
  const functions: Partial<Record<FunctionName, sst.aws.Function>> = {};
  for (const route of ROUTES) {
    const name = route.functionName as FunctionName;
    functions[name] ??= dvssFunction(name, route.handler, settings, stores);
  }

  const httpApi = new sst.aws.ApiGatewayV2("Api", {
    // Vendors and consumers are servers, not browsers.
    cors: false,
    accessLog: { retention: settings.logRetention },
    transform: {
      stage: {
        defaultRouteSettings: {
          throttlingRateLimit: settings.apiThrottling.rateLimit,
          throttlingBurstLimit: settings.apiThrottling.burstLimit,
        },
      },
    },
  });
  for (const route of ROUTES) {
    const fn = functions[route.functionName as FunctionName];
    if (!fn) throw new Error(`No function for ${route.method} ${route.path}`);
    httpApi.route(`${route.method} ${route.path}`, fn.arn);
  }

  return { api: httpApi, functions };
}
