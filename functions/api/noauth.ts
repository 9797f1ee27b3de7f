// Local-use caller resolution with no Keystone: every request acts for one configured
// project (or the X-Project-Id it names), and as an admin when X-Roles names admin: Magnum's
// noauth trusts the identity headers it is sent the same way. Never exposed unless
// BAYFORGE_AUTH=noauth is set.
import type { Caller } from "./env.ts";

export const noauth =
  (project: string) =>
  async (headers: Headers): Promise<Caller> => ({
    projectId: headers.get("x-project-id") || project,
    userId: headers.get("x-user-id") || "noauth",
    isAdmin: (headers.get("x-roles") ?? "").split(",").some((r) => r.trim().toLowerCase() === "admin"),
  });
