// Local-use caller resolution with no Keystone: every request acts for one configured
// project (or the X-Project-Id it names). Keystone token validation replaces it in #3.
import type { Caller } from "./env.ts";

export const noauth =
  (project: string) =>
  async (headers: Headers): Promise<Caller> => ({
    projectId: headers.get("x-project-id") || project,
    userId: headers.get("x-user-id") || "noauth",
    isAdmin: false,
  });
