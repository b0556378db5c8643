/**
 * A pause in the deployment, for AWS's eventual consistency: a resource that depends on a wait is
 * created only once the wait has lasted `seconds`. The wait runs when it is created and again
 * whenever one of its `triggers` changes (it is replaced), never on a deploy that changes neither.
 *
 * Built on Pulumi's dynamic resources (`$util.dynamic`, the Node.js runtime SST deploys with), so it
 * needs no provider beyond those SST ships: the `time` provider's Sleep would need `sst add time`.
 * Pulumi serializes the provider below into the deployment, so it refers to nothing but globals.
 */

export interface WaitInputs {
  /** How long the wait lasts, in seconds. */
  seconds: number;
  /** Values whose change means waiting again (ARNs, a policy document). */
  triggers: Record<string, string>;
}

/** The wait's create, diff and delete: pure but for the sleep, and testable as they are. */
export const WAIT_PROVIDER = {
  async create(inputs: WaitInputs) {
    await new Promise((resolve) => setTimeout(resolve, inputs.seconds * 1000));
    return { id: `wait-${inputs.seconds}s-${Date.now()}`, outs: inputs };
  },
  async diff(_id: string, olds: WaitInputs, news: WaitInputs) {
    const changed =
      olds.seconds !== news.seconds || JSON.stringify(olds.triggers) !== JSON.stringify(news.triggers);
    return { changes: changed, replaces: changed ? ["triggers"] : [], deleteBeforeReplace: true };
  },
  async delete() {},
};

/**
 * A wait named `name`: pass it in `dependsOn` of what must not be created before it has lasted.
 * The class is defined at the call, because `$util` exists only once SST runs the stacks.
 */
export function waitFor(
  name: string,
  inputs: { seconds: number; triggers: Record<string, $util.Input<string>> },
  opts?: $util.CustomResourceOptions,
): $util.CustomResource {
  class Wait extends $util.dynamic.Resource {
    constructor() {
      super(WAIT_PROVIDER, name, inputs, opts);
    }
  }
  return new Wait();
}
