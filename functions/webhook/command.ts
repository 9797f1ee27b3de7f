// The slash command's text → one command, or a usage error a person can act on. No I/O.
//   create <name> --model <baymodel> [--nodes <n>] [--masters <n>] [--timeout <minutes>]
//   status <name> | scale <name> <n> | delete <name> | list | help

export type Command =
  | { action: "create"; name: string; model: string; nodes?: number; masters?: number; timeout?: number }
  | { action: "status"; name: string }
  | { action: "scale"; name: string; nodes: number }
  | { action: "delete"; name: string }
  | { action: "list" }
  | { action: "help" };

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export function usage(cmd = "/bay"): string {
  return [
    `Usage:`,
    `• \`${cmd} create <name> --model <baymodel> [--nodes <n>] [--masters <n>] [--timeout <minutes>]\``,
    `• \`${cmd} status <name>\``,
    `• \`${cmd} scale <name> <nodes>\``,
    `• \`${cmd} delete <name>\``,
    `• \`${cmd} list\``,
    `• \`${cmd} help\``,
    `Names with spaces or quotes can be quoted: "my bay" (bay names themselves allow letters, digits, _ . -).`,
  ].join("\n");
}

const QUOTES: Record<string, string> = { '"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "\u201d": "\u201d" };

/** Splits on whitespace, keeping "double", 'single' and “smart” quoted words whole. */
export function tokenize(text: string): string[] {
  // Slack escapes these three in the text it sends
  const s = text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length) break;
    let word = "";
    let quoted = false;
    while (i < s.length && !/\s/.test(s[i])) {
      const close = QUOTES[s[i]];
      if (close) {
        const end = s.indexOf(close, i + 1);
        if (end < 0) throw new UsageError(`Unterminated quote ${s[i]} in: ${text.slice(0, 80)}`);
        word += s.slice(i + 1, end);
        quoted = true;
        i = end + 1;
      } else word += s[i++];
    }
    if (word || quoted) out.push(word);
  }
  return out;
}

const count = (flag: string, v: string | undefined, min: number): number => {
  if (v === undefined || v === "") throw new UsageError(`${flag} needs a value.`);
  if (!/^\d{1,6}$/.test(v) || Number(v) < min) throw new UsageError(`${flag} takes a whole number ≥ ${min}, not "${v.slice(0, 40)}".`);
  return Number(v);
};

export function parseCommand(text: string, cmd = "/bay"): Command {
  const words = tokenize(text);
  const [verb, ...rest] = words;
  const action = verb?.toLowerCase();
  const one = (what: string): string => {
    if (rest.length === 0 || rest[0] === "") throw new UsageError(`\`${cmd} ${action}\` needs a bay name: \`${cmd} ${action} <name>${what}\`.`);
    return rest[0];
  };
  const noMore = (n: number, shape: string) => {
    if (rest.length > n) throw new UsageError(`Too many words for \`${cmd} ${action}\` ("${rest.slice(n).join(" ").slice(0, 60)}"): \`${cmd} ${shape}\`.`);
  };
  switch (action) {
    case undefined:
    case "help":
      return { action: "help" };
    case "list":
      noMore(0, "list");
      return { action: "list" };
    case "status":
    case "delete": {
      const name = one("");
      noMore(1, `${action} <name>`);
      return { action, name };
    }
    case "scale": {
      const name = one(" <nodes>");
      if (rest.length < 2) throw new UsageError(`\`${cmd} scale\` needs the new node count: \`${cmd} scale ${name} <nodes>\`.`);
      noMore(2, "scale <name> <nodes>");
      return { action: "scale", name, nodes: count("the node count", rest[1], 1) };
    }
    case "create": {
      const c: Extract<Command, { action: "create" }> = { action: "create", name: "", model: "" };
      const positional: string[] = [];
      for (let i = 0; i < rest.length; i++) {
        const w = rest[i];
        if (!w.startsWith("--")) {
          positional.push(w);
          continue;
        }
        const eq = w.indexOf("=");
        const flag = eq > 0 ? w.slice(0, eq) : w;
        const value = eq > 0 ? w.slice(eq + 1) : rest[++i];
        switch (flag) {
          case "--model":
          case "--baymodel":
            if (!value) throw new UsageError(`--model needs a baymodel name or uuid.`);
            c.model = value;
            break;
          case "--nodes":
            c.nodes = count("--nodes", value, 1);
            break;
          case "--masters":
            c.masters = count("--masters", value, 1);
            break;
          case "--timeout":
            c.timeout = count("--timeout", value, 0);
            break;
          default:
            throw new UsageError(`Unknown option ${flag.slice(0, 40)} for \`${cmd} create\`; it takes --model, --nodes, --masters, --timeout.`);
        }
      }
      if (positional.length === 0) throw new UsageError(`\`${cmd} create\` needs a bay name: \`${cmd} create <name> --model <baymodel> [--nodes <n>]\`.`);
      if (positional.length > 1) throw new UsageError(`\`${cmd} create\` takes one bay name, got ${positional.length} (${positional.map((p) => `"${p.slice(0, 30)}"`).join(", ")}); quote a name with spaces.`);
      if (!c.model) throw new UsageError(`\`${cmd} create\` needs a baymodel: \`${cmd} create ${positional[0]} --model <baymodel> [--nodes <n>]\`.`);
      c.name = positional[0];
      return c;
    }
    default:
      throw new UsageError(`Unknown command "${verb.slice(0, 40)}".`);
  }
}
