// Keystone token validation, trusts, per-bay trustee users and the API's Keystone middleware
// against the REAL Keystone + Heat of the dev cloud (users demo, demo2, admin and Bayforge's
// service user `bayforge`; see scripts/devcloud/README.md).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { loadCloudConfig, type CloudConfig } from "../../shared/adapters/openstack/config/index.ts";
import { HttpTransport, type HttpRequest, type HttpResponse, type RetryPolicy } from "../../shared/adapters/http/index.ts";
import { Session } from "../../shared/adapters/openstack/identity/session.ts";
import { IdentityError } from "../../shared/adapters/openstack/identity/results.ts";
import {
  INVALID_TOKEN,
  KeystoneIdentity,
  NOT_PROJECT_SCOPED,
  TokenValidator,
  TrustClient,
  TrusteeUsers,
  trustSession,
  trustScopedCloud,
  trusteeName,
  type Trust,
} from "../../shared/adapters/openstack/index.ts";
import { HeatClient } from "../../shared/adapters/openstack/orchestration/stacks.ts";
import type { Stack } from "../../shared/ports/orchestrator.ts";
import { ApiError } from "../../shared/domain/errors.ts";
import { silentLogger } from "../../shared/observability/logger.ts";
import { keystoneAuth } from "../../functions/api/keystone-auth.ts";
import { renderError } from "../../functions/api/errors.ts";
import type { Caller } from "../../functions/api/env.ts";
import { cloudsYamlPath, devcloudAuthUrl, ensureDevcloudUp } from "../support/devcloud.ts";
import { settle } from "../support/heat-check.ts";
import { delegationMarker, makeCredentials } from "../../shared/bay-credentials.ts";
import type { KeyVault } from "../../shared/ports/key-vault.ts";

const RUN = `bf-ks-${process.pid}-${Date.now().toString(36)}`;
const FAST_RETRY: Partial<RetryPolicy> = { attempts: 2, baseDelayMs: 20, maxDelayMs: 100, budgetMs: 2_000 };
const KS = devcloudAuthUrl();

const TINY = {
  heat_template_version: "2016-10-14",
  resources: { r: { type: "OS::Heat::RandomString", properties: { length: 4 } } },
};

/** Counts what the service session sends to Keystone: token validations, every request. */
class CountingTransport extends HttpTransport {
  validations = 0;
  requests = 0;
  override send(req: HttpRequest): Promise<HttpResponse> {
    this.requests++;
    if (req.method === "GET" && new URL(req.url).pathname.endsWith("/auth/tokens")) this.validations++;
    return super.send(req);
  }
}

const cloud = (name: string): CloudConfig => {
  const c = loadCloudConfig({ OS_CLOUD: `devcloud-${name}`, OS_CLIENT_CONFIG_FILE: cloudsYamlPath() });
  assert.ok(c, `cloud devcloud-${name} in ${cloudsYamlPath()}`);
  return c;
};

const password = (c: CloudConfig): string => (c.auth.type === "password" ? c.auth.password : "");

/** POST /v3/auth/tokens by hand (unscoped or domain-scoped tokens, which the Session never makes). */
async function issueToken(user: string, pw: string, scope?: unknown): Promise<string> {
  const res = await fetch(`${KS}/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: { identity: { methods: ["password"], password: { user: { name: user, domain: { id: "default" }, password: pw } } }, scope },
    }),
  });
  assert.equal(res.status, 201, `token for ${user}: ${await res.text()}`);
  const token = res.headers.get("x-subject-token");
  assert.ok(token);
  return token;
}

/** A fresh project-scoped token of a clouds.yaml user. */
async function freshToken(c: CloudConfig): Promise<string> {
  const s = new Session(c);
  try {
    return await s.token();
  } finally {
    await s.close();
  }
}

async function revoke(token: string): Promise<void> {
  const res = await fetch(`${KS}/auth/tokens`, { method: "DELETE", headers: { "x-auth-token": token, "x-subject-token": token } });
  assert.equal(res.status, 204, "Keystone revokes the token");
}


/** The names of the stacks a session's project has, from Heat's GET /stacks. */
async function stackNames(heat: HeatClient): Promise<string[]> {
  const res = await heat.session.request({ method: "GET", url: `${await heat.endpoint()}/stacks` });
  assert.equal(res.status, 200);
  return ((res.body as { stacks: Array<{ stack_name: string }> }).stacks ?? []).map((s) => s.stack_name);
}

describe("Keystone identity against the dev cloud (real Keystone + Heat)", () => {
  let bayforgeCloud: CloudConfig, demoCloud: CloudConfig, demo2Cloud: CloudConfig, adminCloud: CloudConfig;
  let counting: CountingTransport;
  let service: Session, demo: Session, demo2: Session;
  let demoHeat: HeatClient, demo2Heat: HeatClient;
  let demoUserId: string, demoProjectId: string, bayforgeUserId: string;
  let trusts: TrustClient;
  const sessions: Session[] = [];
  const stacks: Array<{ name: string; id: string }> = [];
  const trustIds: string[] = [];
  const trusteeIds: string[] = [];

  before(async () => {
    await ensureDevcloudUp();
    assert.ok(existsSync(cloudsYamlPath()));
    bayforgeCloud = cloud("bayforge");
    demoCloud = cloud("demo");
    demo2Cloud = cloud("demo2");
    adminCloud = cloud("admin");
    counting = new CountingTransport();
    service = new Session(bayforgeCloud, { transport: counting });
    demo = new Session(demoCloud);
    demo2 = new Session(demo2Cloud);
    sessions.push(service, demo, demo2);
    demoHeat = new HeatClient(demo);
    demo2Heat = new HeatClient(demo2);
    const d = await demo.tokenInfo();
    demoUserId = d.userId;
    demoProjectId = d.projectId!;
    bayforgeUserId = (await service.tokenInfo()).userId;
    trusts = new TrustClient(service);
  });

  after(async () => {
    for (const { name, id } of stacks) await demoHeat.deleteStack(name, id).catch(() => {});
    for (const { name, id } of stacks) await settle(demoHeat, name, id, 60_000).catch(() => {});
    for (const id of trustIds) await trusts.delete(id).catch(() => {});
    const users = new TrusteeUsers(service);
    for (const id of trusteeIds) await users.delete(id).catch(() => {});
    for (const s of sessions) await s.close();
    await counting.close();
  });

  // ---------------------------------------------------------------- token validation

  describe("TokenValidator", () => {
    it("validates a demo token: user, project, roles, expiry, no catalog unless asked", async () => {
      const token = await freshToken(demoCloud);
      const v = new TokenValidator(service);
      const r = await v.validate(token);
      assert.ok(r.valid, "the token is valid");
      assert.equal(r.token.userId, demoUserId);
      assert.equal(r.token.userName, "demo");
      assert.equal(r.token.userDomainId, "default");
      assert.equal(r.token.projectId, demoProjectId);
      assert.equal(r.token.projectName, "demo");
      assert.equal(r.token.projectDomainId, "default");
      assert.ok(r.token.roles.includes("member"), `roles: ${r.token.roles}`);
      assert.ok(r.token.roles.includes("reader"), "implied roles are listed (member implies reader)");
      assert.ok(!r.token.roles.includes("admin"));
      assert.ok(r.token.expiresAt.getTime() > Date.now() + 60_000);
      assert.equal(r.token.catalog, undefined);
      assert.equal(r.token.trustId, undefined);

      const withCatalog = await new TokenValidator(service, { catalog: true }).validate(token);
      assert.ok(withCatalog.valid);
      assert.ok(withCatalog.token.catalog?.some((e) => e.type === "orchestration"), "the catalog when asked for");
    });

    it("refuses garbage tokens without echoing them", async () => {
      const v = new TokenValidator(service);
      const before = counting.validations;
      for (const bad of ["garbage", `gAAAAAB${"x".repeat(170)}`]) {
        const r = await v.validate(bad);
        assert.deepEqual(r, { valid: false, reason: INVALID_TOKEN });
      }
      assert.equal(counting.validations - before, 2, "Keystone was asked about both");
      // a value that cannot be a token (or a header) is refused without asking Keystone
      for (const bad of ["", "two words", "line\nbreak", "x".repeat(9000)]) {
        assert.deepEqual(await v.validate(bad), { valid: false, reason: INVALID_TOKEN });
      }
      assert.equal(counting.validations - before, 2);
    });

    it("refuses a revoked token (a cached validation lasts until forgotten or its TTL)", async () => {
      const token = await freshToken(demoCloud);
      const v = new TokenValidator(service);
      assert.equal((await v.validate(token)).valid, true);
      await revoke(token);
      const fresh = await new TokenValidator(service).validate(token);
      assert.deepEqual(fresh, { valid: false, reason: INVALID_TOKEN });
      assert.equal((await v.validate(token)).valid, true, "still cached: revocation shows after the TTL");
      v.forget(token);
      assert.deepEqual(await v.validate(token), { valid: false, reason: INVALID_TOKEN });
      const noCache = new TokenValidator(service, { cacheTtlMs: 0 });
      assert.equal((await noCache.validate(await freshToken(demoCloud))).valid, true);
    });

    it("refuses unscoped and domain-scoped tokens: Bayforge needs a project", async () => {
      const v = new TokenValidator(service);
      // ("unscoped" explicitly: without a scope Keystone scopes to the user's default project)
      const unscoped = await issueToken("demo", password(demoCloud), "unscoped");
      assert.deepEqual(await v.validate(unscoped), { valid: false, reason: NOT_PROJECT_SCOPED });
      // bayforge is the admin of the bayforge (trustee) domain
      const domainScoped = await issueToken("bayforge", password(bayforgeCloud), { domain: { name: "bayforge" } });
      assert.deepEqual(await v.validate(domainScoped), { valid: false, reason: NOT_PROJECT_SCOPED });
    });

    it("answers a repeated validation from its cache, and concurrent ones with one request", async () => {
      const token = await freshToken(demoCloud);
      const v = new TokenValidator(service);
      const before = counting.validations;
      const first = await v.validate(token);
      const second = await v.validate(token);
      assert.ok(first.valid && second.valid);
      assert.equal(second.token.userId, demoUserId);
      assert.equal(counting.validations - before, 1, "one GET /v3/auth/tokens for two validations");
      assert.equal(v.keystoneLookups, 1);

      const other = await freshToken(demoCloud);
      const all = await Promise.all(Array.from({ length: 8 }, () => v.validate(other)));
      assert.ok(all.every((r) => r.valid));
      assert.equal(counting.validations - before, 2, "eight concurrent validations, one request");
      assert.equal(v.cacheSize, 2);
    });

    it("asks Keystone again once the TTL has passed, and keeps at most maxEntries", async () => {
      let clock = Date.now();
      const v = new TokenValidator(service, { cacheTtlMs: 60_000, maxEntries: 2, now: () => clock });
      const [a, b, c] = await Promise.all([freshToken(demoCloud), freshToken(demoCloud), freshToken(demo2Cloud)]);
      await v.validate(a);
      await v.validate(a);
      assert.equal(v.keystoneLookups, 1);
      clock += 61_000;
      const again = await v.validate(a);
      assert.ok(again.valid);
      assert.equal(v.keystoneLookups, 2, "TTL passed: Keystone asked again");

      await v.validate(b);
      const cr = await v.validate(c);
      assert.ok(cr.valid);
      assert.equal(cr.token.projectName, "demo2");
      assert.equal(v.cacheSize, 2, "bounded");
      assert.equal(v.keystoneLookups, 4);
      await v.validate(c);
      await v.validate(b);
      assert.equal(v.keystoneLookups, 4, "b and c still cached");
      await v.validate(a);
      assert.equal(v.keystoneLookups, 5, "a was the least recently used: evicted");
    });

    it("throws IdentityError (not an invalid token) when Keystone cannot be reached", async () => {
      const down: CloudConfig = { ...bayforgeCloud, auth: { ...bayforgeCloud.auth, authUrl: "http://127.0.0.1:9/v3" } };
      const s = new Session(down, { retry: FAST_RETRY });
      sessions.push(s);
      await assert.rejects(new TokenValidator(s).validate(await freshToken(demoCloud)), (e: unknown) => {
        assert.ok(e instanceof IdentityError);
        assert.match(e.message, /did not answer/);
        return true;
      });
    });
  });

  // ---------------------------------------------------------------- trusts

  describe("trusts", () => {
    it("demo delegates to bayforge; through the trust a Heat stack lands in demo's project, demo2 cannot see it", async () => {
      // as the API will: the caller's validated token gives the trustor, project and roles
      const demoToken = await demo.token();
      const caller = await new TokenValidator(service).validate(demoToken);
      assert.ok(caller.valid);
      // whole seconds: Keystone keeps no more of a trust's expiry
      const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000);
      const trust = await trusts.create(demoToken, {
        trustorUserId: caller.token.userId,
        trusteeUserId: bayforgeUserId,
        projectId: caller.token.projectId,
        roles: caller.token.roles,
        expiresAt,
        allowRedelegation: true,
      });
      trustIds.push(trust.id);
      assert.equal(trust.trustorUserId, demoUserId);
      assert.equal(trust.trusteeUserId, bayforgeUserId);
      assert.equal(trust.projectId, demoProjectId);
      assert.deepEqual([...trust.roles].sort(), [...caller.token.roles].sort());
      assert.ok(trust.roles.includes("member") && trust.roles.includes("reader"));
      assert.equal(trust.impersonation, true);
      assert.equal(trust.redelegationCount, 1);
      assert.equal(trust.expiresAt?.toISOString(), expiresAt.toISOString(), "the expiry asked for");
      const read = await trusts.get(trust.id);
      assert.equal(read?.id, trust.id);
      assert.equal(read?.trustorUserId, demoUserId);

      const acting = trustSession(service, trust.id);
      sessions.push(acting);
      const info = await acting.tokenInfo();
      assert.equal(info.userId, demoUserId, "impersonation: the token is demo's");
      assert.equal(info.projectId, demoProjectId);
      assert.notEqual(await acting.token(), await service.token());
      assert.ok(info.methods?.includes("token"), `the trust's token rescoped from the service's own (no password check per trust): ${info.methods}`);
      // Keystone refusing the rescoping (here: a token it never issued) falls back to the password
      const fallback = new Session(trustScopedCloud(service.cloud, trust.id), { transport: service.transport, rescopeFrom: { token: async () => "not-a-token-keystone-issued" } as unknown as Session });
      const viaPassword = await fallback.tokenInfo();
      assert.equal(viaPassword.userId, demoUserId);
      assert.deepEqual(viaPassword.methods, ["password"]);

      const name = `${RUN}-trust`;
      const viaTrust = new HeatClient(acting);
      const { id } = await viaTrust.createStack({ stack_name: name, template: TINY, files: {}, parameters: {} });
      stacks.push({ name, id });
      assert.equal((await settle(viaTrust, name, id))?.stack_status, "CREATE_COMPLETE");

      const seen = await demoHeat.findStack(name);
      assert.equal(seen?.id, id, "demo sees the stack with its own token");
      assert.ok((await stackNames(demoHeat)).includes(name));
      assert.equal(await demo2Heat.findStack(name), undefined, "demo2 cannot find it");
      assert.ok(!(await stackNames(demo2Heat)).includes(name), "nor list it");

      // deleting the stack through the trust leaves the trust usable (Heat deletes only the
      // trust it derived from ours), so a poll after the delete still works
      await viaTrust.deleteStack(name, id);
      const deleted = await settle(viaTrust, name, id);
      assert.ok(!deleted || deleted.stack_status === "DELETE_COMPLETE", `deleted, as seen through the trust: ${deleted?.stack_status}`);
      const seenByDemo = await demoHeat.findStack(name); // by name Heat may still show it a moment
      assert.ok(!seenByDemo || seenByDemo.stack_status === "DELETE_COMPLETE", "demo sees it deleted too");
      assert.equal((await trusts.get(trust.id))?.id, trust.id, "the trust outlives the stack");

      // the trust deleted, acting through it fails: a new session cannot authenticate, and
      // Keystone revokes the tokens issued through it (Heat may accept one it has cached for a
      // few minutes: keystonemiddleware's token_cache_time)
      const held = await acting.token();
      await trusts.delete(trust.id);
      assert.equal(await trusts.get(trust.id), undefined);
      const late = new HeatClient(trustSession(service, trust.id));
      sessions.push(late.session);
      await assert.rejects(late.session.token(), (e: unknown) => e instanceof IdentityError && e.status === 401);
      await assert.rejects(late.findStack(name), /Keystone refused to authenticate user "bayforge" through a trust \(HTTP 401\)/);
      assert.deepEqual(await new TokenValidator(service).validate(held), { valid: false, reason: INVALID_TOKEN });
      await trusts.delete(trust.id); // already gone: fine
    });

    it("without redelegation a trust reads Heat but cannot create stacks (Heat's own trust would be a redelegation)", async () => {
      // (roles member + reader, which would be enough with redelegation)
      const name = `${RUN}-ro`;
      const { id } = await demoHeat.createStack({ stack_name: name, template: TINY, files: {}, parameters: {} });
      stacks.push({ name, id });
      const trust = await trusts.create(await demo.token(), {
        trustorUserId: demoUserId,
        trusteeUserId: bayforgeUserId,
        projectId: demoProjectId,
        roles: ["member", "reader"],
      });
      trustIds.push(trust.id);
      assert.equal(trust.redelegationCount, 0);
      assert.equal(trust.expiresAt, undefined);
      const viaTrust = new HeatClient(trustSession(service, trust.id));
      sessions.push(viaTrust.session);
      assert.equal((await viaTrust.findStack(name))?.id, id, "reads demo's stacks");
      await assert.rejects(
        viaTrust.createStack({ stack_name: `${RUN}-refused`, template: TINY, files: {}, parameters: {} }),
        (e: unknown) => e instanceof Error && (e as { status?: number }).status === 403,
      );
      assert.equal(await demoHeat.findStack(`${RUN}-refused`), undefined);
      await trusts.delete(trust.id);
    });

    it("refuses to delegate a role the user does not hold, with Keystone's reason and without the token", async () => {
      const token = await demo.token();
      await assert.rejects(
        trusts.create(token, { trustorUserId: demoUserId, trusteeUserId: bayforgeUserId, projectId: demoProjectId, roles: ["admin"] }),
        (e: unknown) => {
          assert.ok(e instanceof IdentityError);
          assert.equal(e.status, 404);
          assert.match(e.message, /Keystone refused to create a trust .*Could not find role/);
          assert.ok(!e.message.includes(token));
          return true;
        },
      );
    });

    it("refuses a trust for someone else: the trustor must be the token's user", async () => {
      await assert.rejects(
        trusts.create(await demo2.token(), {
          trustorUserId: demoUserId,
          trusteeUserId: bayforgeUserId,
          projectId: demoProjectId,
          roles: ["member"],
        }),
        (e: unknown) => e instanceof IdentityError && e.status === 403,
      );
    });
  });

  // ---------------------------------------------------------------- trustee users

  describe("trustee users", () => {
    it("creates bay-<uuid> in the bayforge domain; a trust to it lets it act as demo; delete removes both", async () => {
      const users = new TrusteeUsers(service);
      const bay = randomUUID();
      const trustee = await users.create(bay);
      trusteeIds.push(trustee.userId);
      assert.equal(trustee.name, trusteeName(bay));
      assert.equal(trustee.name, `bay-${bay}`);
      assert.ok(trustee.password.length >= 32);

      // as the cloud's admin sees it
      const admin = new Session(adminCloud);
      sessions.push(admin);
      const got = await admin.request({ method: "GET", url: `${KS}/users/${trustee.userId}`, closeConnection: true });
      assert.equal(got.status, 200);
      const user = (got.body as { user: { name: string; domain_id: string } }).user;
      assert.equal(user.name, `bay-${bay}`);
      const domains = await admin.request({ method: "GET", url: `${KS}/domains?name=bayforge`, closeConnection: true });
      assert.equal(user.domain_id, (domains.body as { domains: Array<{ id: string }> }).domains[0].id);
      assert.equal(user.domain_id, await users.domainId());

      const trust = await trusts.create(await demo.token(), {
        trustorUserId: demoUserId,
        trusteeUserId: trustee.userId,
        projectId: demoProjectId,
        roles: ["member"],
      });
      trustIds.push(trust.id);
      const asTrustee = trustSession(service, trust.id, { as: { userId: trustee.userId, password: trustee.password } });
      sessions.push(asTrustee);
      const info = await asTrustee.tokenInfo();
      assert.equal(info.userId, demoUserId);
      assert.equal(info.projectId, demoProjectId);
      const name = `${RUN}-trustee`;
      const { id } = await demoHeat.createStack({ stack_name: name, template: TINY, files: {}, parameters: {} });
      stacks.push({ name, id });
      assert.equal((await new HeatClient(asTrustee).findStack(name))?.id, id, "Heat shows it demo's stacks");

      // a retried create (answer lost) gets the same user with a new password
      const again = await users.create(bay);
      assert.equal(again.userId, trustee.userId);
      assert.notEqual(again.password, trustee.password);
      const withOld = trustSession(service, trust.id, { as: { userId: trustee.userId, password: trustee.password } });
      const withNew = trustSession(service, trust.id, { as: { userId: trustee.userId, password: again.password } });
      sessions.push(withOld, withNew);
      await assert.rejects(withOld.token(), (e: unknown) => e instanceof IdentityError && e.status === 401);
      assert.equal((await withNew.tokenInfo()).userId, demoUserId);

      await users.delete(trustee.userId);
      const gone = await admin.request({ method: "GET", url: `${KS}/users/${trustee.userId}`, closeConnection: true });
      assert.equal(gone.status, 404);
      assert.equal(await trusts.get(trust.id), undefined, "its trusts went with it");
      await users.delete(trustee.userId); // already gone: fine
      const late = trustSession(service, trust.id, { as: { userId: trustee.userId, password: again.password } });
      sessions.push(late);
      await assert.rejects(late.token(), IdentityError);
    });

    it("a bay whose trustee password cannot be encrypted leaves no trust and no trustee user behind", async () => {
      // the real adapter, watched: what it made in Keystone before the vault failed
      const identity = new KeystoneIdentity(service);
      const made: { trusts: string[]; users: string[] } = { trusts: [], users: [] };
      const watched = Object.assign(Object.create(identity), {
        delegate: async (...a: Parameters<KeystoneIdentity["delegate"]>) => {
          const id = await identity.delegate(...a);
          made.trusts.push(id);
          return id;
        },
        createTrustee: async (...a: Parameters<KeystoneIdentity["createTrustee"]>) => {
          const t = await identity.createTrustee(...a);
          made.trusts.push(t.trust_id);
          made.users.push(t.user_id);
          return t;
        },
      }) as KeystoneIdentity;
      const vault = { encrypt: async () => Promise.reject(new Error("the key service is unavailable")), decrypt: async () => "" } as unknown as KeyVault;
      const who = { userId: demoUserId, projectId: demoProjectId, roles: (await demo.tokenInfo()).roles };
      const bayUuid = randomUUID();
      await assert.rejects(makeCredentials(watched, vault, await demo.token(), who, bayUuid, { trustee: true, marker: delegationMarker(bayUuid, 0), lookFirst: false }), /key service is unavailable/);
      assert.equal(made.trusts.length, 2, "the user's trust to Bayforge and the trustee's trust were made");
      assert.equal(made.users.length, 1);
      for (const id of made.trusts) assert.equal(await trusts.get(id), undefined, `trust ${id} removed`);
      const admin = new Session(adminCloud);
      sessions.push(admin);
      const user = await admin.request({ method: "GET", url: `${KS}/users/${made.users[0]}`, closeConnection: true });
      assert.equal(user.status, 404, "the trustee user removed");
    });

    it("names a missing trustee domain", async () => {
      await assert.rejects(new TrusteeUsers(service, { domainName: `${RUN}-nowhere` }).create(randomUUID()), /trustee domain ".*" does not exist/);
    });
  });

  // ---------------------------------------------------------------- API middleware

  describe("keystoneAuth middleware", () => {
    const headers = (token?: string) => new Headers(token === undefined ? {} : { "x-auth-token": token });
    const status = (status: number, title: RegExp | string, notIn?: string) => (e: unknown) => {
      assert.ok(e instanceof ApiError, `an ApiError, got ${e}`);
      assert.equal(e.status, status);
      if (typeof title === "string") assert.equal(e.title, title);
      else assert.match(e.title, title);
      if (notIn) assert.ok(!e.detail.includes(notIn) && !e.title.includes(notIn), "the token is not echoed");
      return true;
    };
    let auth: (h: Headers) => Promise<Caller>;

    before(() => {
      auth = keystoneAuth(new TokenValidator(service));
    });

    it("401 Authentication required without a token", async () => {
      await assert.rejects(auth(headers()), status(401, "Authentication required"));
      await assert.rejects(auth(headers("   ")), status(401, "Authentication required"));
    });

    it("401 with a bad or revoked token, without echoing it", async () => {
      await assert.rejects(auth(headers("not-a-token")), status(401, "Unauthorized", "not-a-token"));
      const revoked = await freshToken(demoCloud);
      await revoke(revoked);
      await assert.rejects(auth(headers(revoked)), (e: unknown) => {
        status(401, "Unauthorized", revoked)(e);
        assert.match((e as ApiError).detail, /^The request you have made requires authentication\./);
        return true;
      });
    });

    it("the Caller of a good token: demo's user and project, not an admin", async () => {
      const token = await freshToken(demoCloud);
      const caller = await auth(headers(token));
      assert.equal(caller.userId, demoUserId);
      assert.equal(caller.projectId, demoProjectId);
      assert.equal(caller.isAdmin, false);
      assert.equal(caller.userName, "demo");
      assert.equal(caller.projectName, "demo");
      assert.equal(caller.token, token);
      assert.ok(caller.roles?.includes("member"));
      const demo2Caller = await auth(headers(await freshToken(demo2Cloud)));
      assert.equal(demo2Caller.projectName, "demo2");
      assert.notEqual(demo2Caller.projectId, demoProjectId);
    });

    it("isAdmin for the admin user, and for whatever roles adminRoles names", async () => {
      const admin = await auth(headers(await freshToken(adminCloud)));
      assert.equal(admin.isAdmin, true);
      assert.equal(admin.projectName, "admin");
      const ownersAreAdmins = keystoneAuth(new TokenValidator(service), { adminRoles: ["heat_stack_owner"] });
      assert.equal((await ownersAreAdmins(headers(await freshToken(demoCloud)))).isAdmin, true);
    });

    it("503 when Keystone cannot be reached", async () => {
      const down: CloudConfig = { ...bayforgeCloud, auth: { ...bayforgeCloud.auth, authUrl: "http://127.0.0.1:9/v3" } };
      const s = new Session(down, { retry: FAST_RETRY });
      sessions.push(s);
      const token = await freshToken(demoCloud);
      await assert.rejects(keystoneAuth(new TokenValidator(s))(headers(token)), status(503, "Service Unavailable", token));
    });

    it("over HTTP: Magnum's error envelope with 401, the token nowhere in the answer", async () => {
      const app = new Hono<{ Variables: { caller: Caller } }>();
      app.use(async (c, next) => {
        c.set("caller", await auth(c.req.raw.headers));
        await next();
      });
      app.get("/v1/whoami", (c) => c.json({ project: c.get("caller").projectId }));
      app.onError((err, c) => renderError(c, err, silentLogger));
      const bad = `gAAAAAB${"q".repeat(170)}`;
      const res = await app.request("/v1/whoami", { headers: { "x-auth-token": bad } });
      assert.equal(res.status, 401);
      const text = await res.text();
      assert.ok(!text.includes(bad));
      const body = JSON.parse(text) as { errors: Array<{ status: number; title: string; detail: string }> };
      assert.equal(body.errors[0].status, 401);
      assert.match(body.errors[0].detail, /requires authentication/);
      const none = await app.request("/v1/whoami");
      assert.equal(none.status, 401);
      assert.equal(((await none.json()) as { errors: Array<{ title: string }> }).errors[0].title, "Authentication required");
      const ok = await app.request("/v1/whoami", { headers: { "x-auth-token": await freshToken(demoCloud) } });
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { project: demoProjectId });
    });
  });
});
