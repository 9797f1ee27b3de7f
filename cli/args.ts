// Command-line parsing for `bayforge`: one option table (util.parseArgs, strict), then each
// command says which positionals and options it takes. Anything else is a UsageError (exit 2).
import { parseArgs } from "node:util";

export class UsageError extends Error {}

export const USAGE = `usage: bayforge [--url URL] [--token TOKEN] [--json] <command>

  bay create <name> --model <baymodel> [--nodes N] [--masters N] [--timeout MIN]
  bay list
  bay show <name>
  bay scale <name> <N>
  bay delete <name>
  bay wait <name> [--timeout S]     until the bay leaves *_IN_PROGRESS (or is gone)
  baymodel list
  baymodel show <name>
  baymodel create -f <model.yaml>   (YAML or JSON; "-" reads stdin)
  apply -f <bays.yaml> [--wait] [--timeout S]
                                    baymodels + bays from a manifest (kubectl apply style):
                                    creates missing bays, scales changed node_count; --wait
                                    until every bay is done (exit 1 if any failed)
  chatops map|unmap|list ...        chat-ops mappings in the local data dir (bayforge chatops -h)

options:
  --url URL      Bayforge's API (default $BAYFORGE_URL or http://127.0.0.1:9511)
  --token TOKEN  Keystone token (default $BAYFORGE_TOKEN, $OS_TOKEN, else one from
                 Keystone for $OS_CLOUD / the OS_* variables, as the openstack CLI)
  --json         the API's JSON on stdout
  -h, --help     this text

exit: 0 done, 1 failed (API error, *_FAILED bay, timeout), 2 usage error`;

const OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  model: { type: "string" },
  nodes: { type: "string" },
  masters: { type: "string" },
  timeout: { type: "string" },
  file: { type: "string", short: "f" },
  wait: { type: "boolean" },
} as const;

type OptionName = keyof typeof OPTIONS;
const GLOBAL: OptionName[] = ["url", "token", "json", "help"];

/** positionals after `<noun> <verb>` (a trailing `?` marks an optional one), and the verb's own options */
const COMMANDS: Record<string, { args: string[]; options: OptionName[] }> = {
  "bay create": { args: ["name"], options: ["model", "nodes", "masters", "timeout"] },
  "bay list": { args: [], options: [] },
  "bay show": { args: ["name"], options: [] },
  "bay scale": { args: ["name", "N"], options: [] },
  "bay delete": { args: ["name"], options: [] },
  "bay wait": { args: ["name"], options: ["timeout"] },
  "baymodel list": { args: [], options: [] },
  "baymodel show": { args: ["name"], options: [] },
  "baymodel create": { args: [], options: ["file"] },
  apply: { args: [], options: ["file", "wait", "timeout"] },
};

export interface Command {
  /** "bay create", "baymodel list", ... */
  name: string;
  args: Record<string, string>;
  options: { model?: string; nodes?: number; masters?: number; timeout?: number; file?: string; wait?: boolean };
  url?: string;
  token?: string;
  json: boolean;
}

export type Parsed = { help: true } | ({ help: false } & Command);

/** A whole number ≥ min, or a UsageError naming the option. */
export function integer(what: string, value: string, min = 0): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min) throw new UsageError(`${what} must be a whole number ≥ ${min}, not '${value}'`);
  return Number(value);
}

export function parseCommand(argv: string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  const [noun, verb, ...rest] = positionals;
  if (!noun) throw new UsageError("a command is required");
  const name = `${noun} ${verb ?? ""}`.trim();
  const spec = COMMANDS[name];
  if (!spec) throw new UsageError(noun === "bay" || noun === "baymodel" ? `unknown command '${name}'` : `unknown command '${noun}'`);
  if (rest.length !== spec.args.length) {
    throw new UsageError(`${name} takes ${spec.args.length ? spec.args.map((a) => `<${a}>`).join(" ") : "no arguments"}` + (rest.length ? `, not '${rest.join(" ")}'` : ""));
  }
  for (const k of Object.keys(values) as OptionName[]) {
    if (values[k] !== undefined && !GLOBAL.includes(k) && !spec.options.includes(k)) throw new UsageError(`${name} does not take --${k}`);
  }
  const args = Object.fromEntries(spec.args.map((a, i) => [a, rest[i]]));
  const options: Command["options"] = {};
  if (values.model !== undefined) options.model = values.model;
  if (values.nodes !== undefined) options.nodes = integer("--nodes", values.nodes, 1);
  if (values.masters !== undefined) options.masters = integer("--masters", values.masters, 1);
  if (values.timeout !== undefined) options.timeout = integer("--timeout", values.timeout, 0);
  if (values.file !== undefined) options.file = values.file;
  if (values.wait) options.wait = true;
  if (name === "bay create" && !options.model) throw new UsageError("bay create needs --model <baymodel>");
  if (name === "baymodel create" && !options.file) throw new UsageError("baymodel create needs -f <model.yaml>");
  if (name === "apply" && !options.file) throw new UsageError("apply needs -f <bays.yaml>");
  if (name === "bay scale") integer("<N>", args.N, 1);
  return { help: false, name, args, options, url: values.url, token: values.token, json: values.json ?? false };
}
