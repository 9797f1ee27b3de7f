// Loads a HOT template with the nested templates and files it references, the way
// python-heatclient's template_utils.get_template_contents does: every `type: *.yaml`
// (or *.template) and every `get_file` path is read, rewritten to an absolute file:// URL,
// and put into `files` under that URL, so Heat resolves them without reaching our disk.
// Shell fragments go without their comment lines (shippedScript): they become the servers'
// user_data, which Nova caps at 65,535 bytes of base64.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";
import { load, CORE_SCHEMA } from "js-yaml";

export interface LoadedTemplate {
  template: Record<string, unknown>;
  files: Record<string, string>;
}

// CORE_SCHEMA keeps `heat_template_version: 2016-10-14` a string instead of a Date.
export const parseHot = (text: string): Record<string, unknown> =>
  load(text, { schema: CORE_SCHEMA }) as Record<string, unknown>;

const isTemplateRef = (key: string, value: unknown): value is string =>
  typeof value === "string" &&
  ((key === "type" && /\.(yaml|template)$/.test(value)) || key === "get_file");

function toUrl(ref: string, baseDir: string): string {
  if (/^[a-z]+:\/\//.test(ref)) return ref;
  return pathToFileURL(resolve(baseDir, ref)).href;
}

export function loadTemplate(path: string): LoadedTemplate {
  const files: Record<string, string> = {};
  const template = loadInto(resolve(path), files);
  return { template, files };
}

function loadInto(path: string, files: Record<string, string>): Record<string, unknown> {
  const template = parseHot(readFileSync(path, "utf8"));
  if (!template || typeof template !== "object") throw new Error(`${path} is not a HOT template`);
  walk(template, dirname(path), files);
  return template;
}

function walk(node: unknown, baseDir: string, files: Record<string, string>): void {
  if (Array.isArray(node)) {
    node.forEach((v) => walk(v, baseDir, files));
    return;
  }
  if (!node || typeof node !== "object") return;
  const obj = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(obj)) {
    if (isTemplateRef(key, value)) {
      const url = toUrl(value, baseDir);
      obj[key] = url;
      if (!(url in files) && url.startsWith("file://")) {
        const file = fileURLToPath(url);
        if (key === "type") {
          files[url] = ""; // placeholder against cycles, replaced below
          files[url] = JSON.stringify(loadInto(file, files));
        } else {
          const text = readFileSync(file, "utf8");
          files[url] = file.endsWith(".sh") ? shippedScript(text) : text;
        }
      }
    } else {
      walk(value, baseDir, files);
    }
  }
}

/**
 * A shell fragment as it is shipped in user_data: every comment-only line left empty (the
 * lines keep their numbers, so a boot failure's "failed at line N" points into the source),
 * shebangs kept. The fragments' heredocs hold TOML, YAML, systemd units, Python and shell, in
 * all of which such a line is a comment too.
 */
export function shippedScript(text: string): string {
  return text.replace(/^[ \t]*#(?!!).*$/gm, "");
}
