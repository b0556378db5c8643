/**
 * Recording stand-ins for the globals SST gives sst.config.ts (`sst`, `aws`, `$app`,
 * `$interpolate`, `$jsonStringify`, `$resolve`, `$config`, `$util.dynamic`), so a test can evaluate the stacks in
 * milliseconds without Pulumi, AWS or the network, and read back every resource they declare with
 * the exact arguments they passed.
 *
 * Outputs are plain strings: the attribute `arn` of the resource named `RawBucket` is
 * "RawBucket.arn", `nodes.table.streamArn` of `Outbox` is "Outbox.nodes.table.streamArn".
 * `$interpolate` joins, `$jsonStringify` stringifies, `$resolve(x).apply(f)` is `f(x)`. The
 * infra code therefore combines outputs only through those helpers, never `.apply` on a property.
 * What SST itself adds inside a component (its defaults) is not modelled: the stacks state every
 * hardening explicitly, and that is what the tests read.
 */

export interface Recorded {
  type: string;
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: arguments are read back as the stacks wrote them
  args: any;
  opts: unknown;
  /** Calls of component methods, e.g. ApiGatewayV2.route. */
  calls: { method: string; args: unknown[] }[];
  /** A dynamic resource's provider (`$util.dynamic.Resource`). */
  provider?: unknown;
}

export interface LinkDefinition {
  properties: Record<string, unknown>;
  include?: unknown[];
}

/** Attributes that are values (strings); any other property is a nested object of attributes. */
const LEAF_ATTRIBUTES = new Set(["arn", "id", "name", "url", "urn", "streamArn", "bucket", "invokeArn"]);

function attributeTree(prefix: string): unknown {
  return new Proxy(
    {},
    {
      get(_target, property) {
        if (typeof property !== "string" || property === "then" || property === "toJSON") return undefined;
        const path = `${prefix}.${property}`;
        return LEAF_ATTRIBUTES.has(property) ? path : attributeTree(path);
      },
    },
  );
}

/** Component methods the stacks call, recorded rather than run. */
const METHODS = new Set(["route", "subscribe"]);

export class FakeSst {
  readonly resources: Recorded[] = [];
  readonly linkWrappers = new Map<string, (resource: unknown) => LinkDefinition>();
  readonly #classes = new Map<string, unknown>();

  /** The class standing for `type` ("sst.aws.Function", "aws.sfn.StateMachine"), one per type. */
  classOf(type: string): unknown {
    const existing = this.#classes.get(type);
    if (existing) return existing;
    const resources = this.resources;
    const cls = class {
      static readonly fakeType = type;
      constructor(name: string, args: unknown = {}, opts: unknown = undefined) {
        const record: Recorded = { type, name, args, opts, calls: [] };
        resources.push(record);
        // biome-ignore lint/correctness/noConstructorReturn: a resource is its recorded attributes
        return new Proxy(this, {
          get(_target, property) {
            if (property === "record") return record;
            if (typeof property !== "string" || property === "then" || property === "toJSON")
              return undefined;
            if (METHODS.has(property))
              return (...callArgs: unknown[]) => {
                record.calls.push({ method: property, args: callArgs });
              };
            return LEAF_ATTRIBUTES.has(property)
              ? `${name}.${property}`
              : attributeTree(`${name}.${property}`);
          },
        });
      }
    };
    this.#classes.set(type, cls);
    return cls;
  }

  #namespace(prefix: string): unknown {
    return new Proxy(
      {},
      {
        get: (_target, property) => {
          if (typeof property !== "string") return undefined;
          const path = `${prefix}.${property}`;
          return /^[A-Z]/.test(property) ? this.classOf(path) : this.#namespace(path);
        },
      },
    );
  }

  /**
   * `$util.dynamic.Resource`: constructed as (provider, name, props, opts), recorded as type
   * "$util.dynamic.Resource" with its props as args and its provider.
   */
  #dynamicResource(): unknown {
    const Recording = this.classOf("$util.dynamic.Resource") as new (
      name: string,
      args: unknown,
      opts: unknown,
    ) => { record: Recorded };
    return class extends Recording {
      constructor(provider: unknown, name: string, props: unknown, opts?: unknown) {
        super(name, props, opts);
        this.record.provider = provider;
      }
    };
  }

  /** Puts the stand-ins where SST puts its globals, for the given stage. */
  install(stage: string): this {
    const sst = {
      aws: this.#namespace("sst.aws"),
      Linkable: {
        wrap: (cls: { fakeType: string }, definition: (resource: unknown) => LinkDefinition) => {
          this.linkWrappers.set(cls.fakeType, definition);
        },
      },
    };
    Object.assign(globalThis, {
      sst,
      aws: this.#namespace("aws"),
      $app: { name: "dvss", stage },
      $dev: false,
      $config: (config: unknown) => config,
      $interpolate: (strings: TemplateStringsArray, ...values: unknown[]) =>
        strings.reduce((joined, part, i) => joined + part + (i < values.length ? String(values[i]) : ""), ""),
      $jsonStringify: (value: unknown) => JSON.stringify(value),
      $resolve: (value: unknown) => ({ apply: (f: (resolved: unknown) => unknown) => f(value) }),
      $util: { dynamic: { Resource: this.#dynamicResource() } },
    });
    return this;
  }

  all(type: string): Recorded[] {
    return this.resources.filter((resource) => resource.type === type);
  }

  one(type: string, name: string): Recorded {
    const found = this.resources.filter((resource) => resource.type === type && resource.name === name);
    if (found.length !== 1) throw new Error(`Expected one ${type} named ${name}, found ${found.length}`);
    return found[0] as Recorded;
  }

  /** The recorded resource behind a stand-in instance (a link, say). */
  static recordOf(instance: unknown): Recorded {
    return (instance as { record: Recorded }).record;
  }
}
