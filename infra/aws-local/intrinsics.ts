// A small resolver of CloudFormation's intrinsic functions, for the ones Bayforge's synthesized
// template uses (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::If with its Conditions) plus the few
// that are as cheap to have (Fn::Select, Fn::Split, Fn::Equals/Not/And/Or). Each Ref and
// GetAtt is answered by the caller's `ref` / `getAtt` (local values: the queue's URL, the
// table's name, the HTTP API's local URL...); anything else is an error naming it, so a
// template that grows a new intrinsic fails loudly instead of running with a wrong value.
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

export interface Resolver {
  /** a parameter's, a pseudo parameter's or a resource's Ref value */
  ref(name: string): string;
  getAtt(logicalId: string, attribute: string): string;
  /** the template's Conditions section */
  conditions?: Record<string, Json>;
}

export function resolve(value: Json, r: Resolver): Json {
  if (Array.isArray(value)) return value.map((v) => resolve(v, r));
  if (value === null || typeof value !== "object") return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] === "Ref" || keys[0].startsWith("Fn::") || keys[0] === "Condition")) return intrinsic(keys[0], value[keys[0]], r);
  return Object.fromEntries(keys.map((k) => [k, resolve(value[k], r)]));
}

/** A value that must resolve to a string (an environment variable, a name). */
export function resolveString(value: Json, r: Resolver): string {
  const v = resolve(value, r);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v !== "string") throw new Error(`expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function intrinsic(fn: string, arg: Json, r: Resolver): Json {
  switch (fn) {
    case "Ref":
      return r.ref(asString(arg, fn));
    case "Fn::GetAtt": {
      const [id, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/);
      return r.getAtt(asString(id, fn), asString(attr, fn));
    }
    case "Fn::Join": {
      const [sep, items] = asArray(arg, fn);
      return asArray(resolve(items, r), fn).map((v) => asString(v, fn)).join(asString(sep, fn));
    }
    case "Fn::Select": {
      const [index, items] = asArray(arg, fn);
      return asArray(resolve(items, r), fn)[Number(resolve(index, r))];
    }
    case "Fn::Split": {
      const [sep, text] = asArray(arg, fn);
      return asString(resolve(text, r), fn).split(asString(sep, fn));
    }
    case "Fn::Sub": {
      const [template, vars] = Array.isArray(arg) ? arg : [arg, {}];
      const own = resolve(vars ?? {}, r) as Record<string, Json>;
      return asString(template, fn).replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
        if (name in own) return asString(own[name], fn);
        const [id, attr] = name.split(/\.(.*)/);
        return attr ? r.getAtt(id, attr) : r.ref(id);
      });
    }
    case "Fn::If": {
      const [cond, yes, no] = asArray(arg, fn);
      return resolve(condition(asString(cond, fn), r) ? yes : no, r);
    }
    case "Condition":
      return condition(asString(arg, fn), r);
    case "Fn::Equals": {
      const [a, b] = asArray(arg, fn).map((v) => resolve(v, r));
      return JSON.stringify(a) === JSON.stringify(b);
    }
    case "Fn::Not":
      return !truthy(resolve(asArray(arg, fn)[0], r));
    case "Fn::And":
      return asArray(arg, fn).every((v) => truthy(resolve(v, r)));
    case "Fn::Or":
      return asArray(arg, fn).some((v) => truthy(resolve(v, r)));
    default:
      throw new Error(`aws-local does not resolve ${fn} (add it to infra/aws-local/intrinsics.ts)`);
  }
}

function condition(name: string, r: Resolver): boolean {
  const c = r.conditions?.[name];
  if (c === undefined) throw new Error(`the template has no condition ${name}`);
  return truthy(resolve(c, r));
}

const truthy = (v: Json): boolean => v === true || v === "true";

function asString(v: Json | undefined, fn: string): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  throw new Error(`${fn}: expected a string, got ${JSON.stringify(v)}`);
}

function asArray(v: Json | undefined, fn: string): Json[] {
  if (!Array.isArray(v)) throw new Error(`${fn}: expected a list, got ${JSON.stringify(v)}`);
  return v;
}
