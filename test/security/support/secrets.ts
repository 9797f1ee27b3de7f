// Looking for secrets where they must not be: files read as raw bytes (a SQLite file, its WAL,
// logs) and strings. A private key is found by any private line of its PEM body or by its
// private numbers in raw or base64 form, so a partial copy or one in another encoding is
// caught too.
import { createPrivateKey } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export interface Secret {
  /** what it is, for the failure message (never the value) */
  name: string;
  /** byte sequences any one of which betrays it */
  needles: Buffer[];
}

/** A secret string: found when it appears whole. */
export const secretString = (name: string, value: string): Secret => ({ name, needles: [Buffer.from(value, "utf8")] });

/**
 * A PEM private key, by what is private in it: each line of its base64 body that is not just
 * its public modulus (which its certificate shows), and its private exponent and primes as raw
 * bytes and as base64/base64url (as a DER or JWK copy would hold them).
 */
export function privateKey(name: string, pem: string): Secret {
  const lines = pem.split("\n").filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l));
  if (lines.length < 3) throw new Error(`${name} does not look like a PEM private key`);
  const jwk = createPrivateKey(pem).export({ format: "jwk" }) as Record<string, string>;
  const modulus = Buffer.from(jwk.n, "base64url");
  const der = Buffer.from(lines.join(""), "base64");
  const privateLines = lines.filter((l, i) => !modulus.includes(der.subarray(i * 48, i * 48 + 48)));
  const parts = ["d", "p", "q"].map((k) => Buffer.from(jwk[k], "base64url"));
  return {
    name,
    needles: [
      ...privateLines.map((l) => Buffer.from(l, "ascii")),
      ...parts.map((b) => b.subarray(0, 32)),
      ...parts.flatMap((b) => [Buffer.from(b.toString("base64").slice(0, 40)), Buffer.from(b.toString("base64url").slice(0, 40))]),
    ],
  };
}

/** Patterns that betray a kind of secret whatever its value. */
export const PATTERNS: Array<{ name: string; re: RegExp }> = [
  { name: "a PEM private key", re: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { name: "a Keystone (Fernet) token", re: /gAAAAA[A-Za-z0-9_-]{60,}/ },
  { name: "a bay bootstrap token", re: /bfb_[0-9a-f-]{36}_[A-Za-z0-9_-]{43}/ },
];

/** The names of the secrets (and patterns) found in `data`. */
export function leaks(data: Buffer, secrets: Secret[], patterns = PATTERNS): string[] {
  const found = secrets.filter((s) => s.needles.some((n) => n.length > 0 && data.includes(n))).map((s) => s.name);
  const text = data.toString("latin1");
  for (const p of patterns) if (p.re.test(text)) found.push(p.name);
  return found;
}

/** Every regular file under `dir` (recursively), with its bytes. */
export function filesUnder(dir: string): Array<{ path: string; data: Buffer }> {
  const out: Array<{ path: string; data: Buffer }> = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile() && statSync(p).size > 0) out.push({ path: p, data: readFileSync(p) });
  }
  return out;
}
