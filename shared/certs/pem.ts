// PEM armour (RFC 7468, with RFC 1421 headers read): the text form of der.ts's DER. Labels
// are bounded, since a CSR's is echoed in messages; only DerError comes out.
import { DerError } from "./der.ts";

export interface PemBlock {
  /** the label, e.g. "CERTIFICATE REQUEST" */
  type: string;
  /** RFC 1421 headers (e.g. Proc-Type: 4,ENCRYPTED), by name */
  headers: Record<string, string>;
  der: Buffer;
}

/** Every PEM block in `text`, in order; throws DerError for a block it cannot read. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const begin = /-----BEGIN ([^\r\n-]+(?:-[^\r\n-]+)*)-----/g;
  for (let m = begin.exec(text); m; m = begin.exec(text)) {
    const type = m[1];
    // a label is echoed in messages: bounded (RFC 7468's are short words)
    if (type.length > 64) throw new DerError("a PEM block's label is longer than 64 characters");
    const endLine = `-----END ${type}-----`;
    const end = text.indexOf(endLine, begin.lastIndex);
    if (end < 0) throw new DerError(`the "${type}" block has no END line`);
    blocks.push({ type, ...pemBody(text.slice(begin.lastIndex, end), type) });
    begin.lastIndex = end + endLine.length;
  }
  return blocks;
}

/** The DER of the first block labelled `type` in `text`; throws DerError when there is none. */
export function pemDecode(text: string, type: string): Buffer {
  const block = pemBlocks(text).find((b) => b.type === type);
  if (!block) throw new DerError(`no "${type}" PEM block was found`);
  return block.der;
}

function pemBody(inside: string, type: string): { headers: Record<string, string>; der: Buffer } {
  const lines = inside.split(/\r?\n/);
  const headers: Record<string, string> = {};
  let i = lines[0].trim() === "" ? 1 : 0;
  if (lines[i]?.includes(":")) {
    // headers run to a blank line; a line starting with white space continues the one before
    let last = "";
    for (; i < lines.length && lines[i].trim() !== ""; i++) {
      const line = lines[i];
      if (/^\s/.test(line) && last) headers[last] += ` ${line.trim()}`;
      else {
        const at = line.indexOf(":");
        if (at < 1) throw new DerError(`the "${type}" block has a malformed header line`);
        last = line.slice(0, at).trim();
        headers[last] = line.slice(at + 1).trim();
      }
    }
  }
  const base64 = lines.slice(i).join("").replace(/[ \t\r]/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
    throw new DerError(`the "${type}" block is not valid base64`);
  }
  return { headers, der: Buffer.from(base64, "base64") };
}

/** PEM armour: 64-column base64 lines, LF line endings (as openssl writes it). */
export function pemEncode(type: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString("base64");
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.map((l) => `${l}\n`).join("")}-----END ${type}-----\n`;
}
