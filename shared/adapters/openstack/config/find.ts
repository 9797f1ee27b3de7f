// Finding a named cloud as openstacksdk does: clouds.yaml (or .yml / .json) in the working
// directory, ~/.config/openstack (XDG_CONFIG_HOME) or /etc/openstack, or the file that
// OS_CLIENT_CONFIG_FILE names; secure.yaml beside it (or OS_CLIENT_SECURE_FILE) merged over it.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { FAILSAFE_SCHEMA, load, Type } from "js-yaml";
import { CloudConfigError, isObject, nonEmpty, type Env, type LoadOptions, type Raw } from "./types.ts";

// Scalars stay the text that was written: with CORE_SCHEMA an unquoted password `0123` would
// become 123 and a digits-only id would lose precision. Only null (`~`, `null`, empty) is
// resolved; booleans are read from their text where a flag is expected.
const CONFIG_SCHEMA = FAILSAFE_SCHEMA.extend({
  implicit: [
    new Type("tag:yaml.org,2002:null", {
      kind: "scalar",
      resolve: (d: string | null) => d === null || /^(~|null|Null|NULL)?$/.test(d),
      construct: () => null,
    }),
  ],
});

const FILE_SUFFIXES = [".yaml", ".yml", ".json"];

/** The named cloud's raw mapping (region_name from OS_REGION_NAME when it has none) and the file it is in. */
export function findCloud(cloudName: string, env: Env, opts: LoadOptions): { raw: Raw; path: string } {
  const home = opts.home ?? nonEmpty(env.HOME) ?? homedir();
  const userDir = join(nonEmpty(env.XDG_CONFIG_HOME) ?? join(home, ".config"), "openstack");
  const dirs = [opts.cwd ?? process.cwd(), userDir, opts.systemDir ?? "/etc/openstack"];

  let path: string | undefined;
  const override = nonEmpty(env.OS_CLIENT_CONFIG_FILE);
  if (override) {
    path = resolve(opts.cwd ?? process.cwd(), override);
    if (!existsSync(path)) {
      throw new CloudConfigError(`OS_CLIENT_CONFIG_FILE names ${path}, which does not exist`);
    }
  } else {
    const candidates = dirs.flatMap((d) => FILE_SUFFIXES.map((s) => join(d, `clouds${s}`)));
    path = candidates.find((p) => existsSync(p));
    if (!path) {
      throw new CloudConfigError(
        `OS_CLOUD is "${cloudName}" but no clouds.yaml was found (looked in ${dirs.join(", ")}; ` +
          `or set OS_CLIENT_CONFIG_FILE)`,
      );
    }
  }
  let doc = readYaml(path);

  const secureOverride = nonEmpty(env.OS_CLIENT_SECURE_FILE);
  let securePath: string | undefined;
  if (secureOverride) {
    securePath = resolve(opts.cwd ?? process.cwd(), secureOverride);
    if (!existsSync(securePath)) {
      throw new CloudConfigError(`OS_CLIENT_SECURE_FILE names ${securePath}, which does not exist`);
    }
  } else {
    securePath = FILE_SUFFIXES.map((s) => join(dirname(path!), `secure${s}`)).find((p) => existsSync(p));
  }
  if (securePath) doc = deepMerge(doc, readYaml(securePath));

  const clouds = doc.clouds;
  if (!isObject(clouds)) throw new CloudConfigError(`${path} has no "clouds:" mapping`);
  const cloud = clouds[cloudName];
  if (!isObject(cloud)) {
    const known = Object.keys(clouds);
    throw new CloudConfigError(
      `OS_CLOUD names cloud "${cloudName}", which is not in ${path}` +
        (known.length ? ` (clouds there: ${known.join(", ")})` : " (it defines no clouds)"),
    );
  }
  const raw: Raw = { ...cloud };
  if (raw.region_name === undefined && nonEmpty(env.OS_REGION_NAME)) raw.region_name = env.OS_REGION_NAME;
  return { raw, path };
}

function readYaml(path: string): Raw {
  let parsed: unknown;
  try {
    parsed = load(readFileSync(path, "utf8"), { schema: CONFIG_SCHEMA, filename: path });
  } catch (e) {
    throw new CloudConfigError(`cannot read ${path}: ${(e as Error).message.split("\n")[0]}`);
  }
  if (parsed == null) return {};
  if (!isObject(parsed)) throw new CloudConfigError(`${path} is not a YAML mapping`);
  return parsed;
}

function deepMerge(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Raw, v) : v;
  }
  return out;
}
