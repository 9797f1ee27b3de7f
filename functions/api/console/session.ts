// The console's session: the person's Keystone token and a CSRF secret, sealed with the key
// vault (AES-256-GCM, bound to the context below) into an HttpOnly, SameSite=Strict cookie.
// Nothing is kept server-side, so any API container (or Lambda) can serve any request.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { KeyVault } from "../../../shared/ports/key-vault.ts";

export const SESSION_COOKIE = "bf_console";
/** before sign-in: the double-submit secret of the sign-in form (login CSRF) */
export const PRE_COOKIE = "bf_console_pre";
const CONTEXT = "console-session:v1";
const PATH = "/console";

export interface ConsoleSession {
  token: string;
  csrf: string;
  expiresAt: number;
  user: string;
  project: string;
  /** Heat's endpoint for the person's project (the timeline's resources) */
  heat?: string;
}

/** Secure when the browser reached us over TLS (directly, or through API Gateway / a proxy). */
const secure = (c: Context) => new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";

const cookieOptions = (c: Context, maxAge: number) => ({ path: PATH, httpOnly: true, sameSite: "Strict" as const, secure: secure(c), maxAge });

export const newSecret = () => randomBytes(24).toString("base64url");

export async function writeSession(c: Context, vault: KeyVault, s: ConsoleSession): Promise<void> {
  const sealed = await vault.encrypt(JSON.stringify(s), CONTEXT);
  setCookie(c, SESSION_COOKIE, sealed, cookieOptions(c, Math.max(1, Math.floor((s.expiresAt - Date.now()) / 1000))));
}

/** The session the cookie holds, or undefined when there is none, it was tampered with, or it expired. */
export async function readSession(c: Context, vault: KeyVault): Promise<ConsoleSession | undefined> {
  const sealed = getCookie(c, SESSION_COOKIE);
  if (!sealed || sealed.length > 4096) return undefined;
  try {
    const s = JSON.parse(await vault.decrypt(sealed, CONTEXT)) as ConsoleSession;
    if (typeof s.token !== "string" || typeof s.csrf !== "string" || !(s.expiresAt > Date.now())) return undefined;
    return s;
  } catch {
    return undefined;
  }
}

export function clearSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, cookieOptions(c, 0));
}

export function setPreCookie(c: Context, value: string): void {
  setCookie(c, PRE_COOKIE, value, cookieOptions(c, 3600));
}

export const readPreCookie = (c: Context) => getCookie(c, PRE_COOKIE);

export function clearPreCookie(c: Context): void {
  deleteCookie(c, PRE_COOKIE, cookieOptions(c, 0));
}

/** Constant-time comparison of a submitted CSRF token with the expected one. */
export function sameSecret(given: unknown, expected: string | undefined): boolean {
  if (typeof given !== "string" || !expected) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
