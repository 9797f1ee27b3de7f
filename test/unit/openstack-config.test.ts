// Guards how the OpenStack adapter finds its cloud: OS_CLOUD + clouds.yaml (+ secure.yaml),
// or plain OS_* variables, and the errors that say what is missing.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CloudConfigError,
  identityV3Url,
  loadCloudConfig,
  redactCloudConfig,
  type CloudConfig,
} from "../../shared/adapters/openstack/config/index.ts";
import { authRequestBody } from "../../shared/adapters/openstack/identity/requests.ts";

let root: string;
let empty: { cwd: string; home: string; systemDir: string };

before(() => {
  root = mkdtempSync(join(tmpdir(), "bf-osconfig-"));
  empty = { cwd: join(root, "cwd-empty"), home: join(root, "home-empty"), systemDir: join(root, "etc-empty") };
  for (const d of Object.values(empty)) mkdirSync(d, { recursive: true });
});
after(() => rmSync(root, { recursive: true, force: true }));

function dir(name: string, files: Record<string, string>): string {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  return d;
}

const CLOUDS = `
clouds:
  mycloud:
    auth:
      auth_url: https://keystone.example.com:5000
      username: alice
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionTwo
    interface: internal
  other:
    auth:
      auth_url: https://other.example.com/identity/v3/
      user_id: 0123abcd
      password: 012345
      project_id: 98765432109876543210987654321098
    regions: [North, South]
    orchestration_endpoint_override: https://heat.example.com/v1/%(tenant_id)s
    api_timeout: 12
    verify: false
`;

/** mycloud with its password inline (no secure.yaml needed) */
const CLOUDS_PW = CLOUDS.replace("username: alice", "username: alice\n      password: pw");

function assertPassword(cfg: CloudConfig | undefined): asserts cfg is CloudConfig & { auth: { type: "password" } } {
  assert.ok(cfg, "expected a cloud");
  assert.equal(cfg.auth.type, "password");
}

describe("loadCloudConfig", () => {
  it("answers undefined when neither OS_CLOUD nor any OS_* variable describes a cloud", () => {
    assert.equal(loadCloudConfig({}, empty), undefined);
    assert.equal(loadCloudConfig({ PATH: "/bin", OS_REGION_NAME: "RegionOne" }, empty), undefined);
  });

  it("reads the cloud OS_CLOUD names from OS_CLIENT_CONFIG_FILE, with secure.yaml beside it merged in", () => {
    const d = dir("explicit", {
      "clouds.yaml": CLOUDS,
      "secure.yaml": "clouds:\n  mycloud:\n    auth:\n      password: s3cret\n",
    });
    const cfg = loadCloudConfig({ OS_CLOUD: "mycloud", OS_CLIENT_CONFIG_FILE: join(d, "clouds.yaml") }, empty);
    assertPassword(cfg);
    assert.equal(cfg.cloud, "mycloud");
    assert.equal(cfg.source, join(d, "clouds.yaml"));
    assert.equal(cfg.auth.authUrl, "https://keystone.example.com:5000/v3");
    assert.equal(cfg.auth.username, "alice");
    assert.equal(cfg.auth.password, "s3cret");
    assert.equal(cfg.auth.projectName, "demo");
    assert.equal(cfg.auth.userDomainName, "Default");
    assert.equal(cfg.auth.projectDomainName, "Default");
    assert.equal(cfg.regionName, "RegionTwo");
    assert.equal(cfg.interface, "internal");
    assert.equal(cfg.insecure, false);
    assert.deepEqual(cfg.endpointOverrides, {});
  });

  it("keeps number-like scalars exactly as written, takes the first of `regions`, endpoint overrides, api_timeout and verify: false", () => {
    const d = dir("numbers", { "clouds.yaml": CLOUDS });
    const cfg = loadCloudConfig({ OS_CLOUD: "other", OS_CLIENT_CONFIG_FILE: join(d, "clouds.yaml") }, empty);
    assertPassword(cfg);
    assert.equal(cfg.auth.authUrl, "https://other.example.com/identity/v3");
    assert.equal(cfg.auth.userId, "0123abcd");
    assert.equal(cfg.auth.password, "012345");
    assert.equal(cfg.auth.projectId, "98765432109876543210987654321098");
    assert.equal(cfg.regionName, "North");
    assert.equal(cfg.apiTimeoutMs, 12_000);
    assert.equal(cfg.insecure, true);
    assert.deepEqual(cfg.endpointOverrides, { orchestration: "https://heat.example.com/v1/%(tenant_id)s" });
  });

  it("searches ./clouds.yaml, then ~/.config/openstack, then /etc/openstack", () => {
    const cwd = dir("search-cwd", {});
    const home = join(root, "search-home");
    dir("search-home/.config/openstack", { "clouds.yaml": CLOUDS_PW.replace("RegionTwo", "FromHome") });
    const etc = dir("search-etc", { "clouds.yaml": CLOUDS_PW.replace("RegionTwo", "FromEtc") });
    const env = { OS_CLOUD: "mycloud" };
    assert.equal(loadCloudConfig(env, { cwd, home, systemDir: etc })?.regionName, "FromHome");
    assert.equal(loadCloudConfig(env, { cwd: empty.cwd, home: empty.home, systemDir: etc })?.regionName, "FromEtc");
    writeFileSync(join(cwd, "clouds.yaml"), CLOUDS_PW.replace("RegionTwo", "FromCwd"));
    assert.equal(loadCloudConfig(env, { cwd, home, systemDir: etc })?.regionName, "FromCwd");
  });

  it("a secure.yaml beside a searched clouds.yaml fills in secrets too", () => {
    const home = join(root, "secure-home");
    dir("secure-home/.config/openstack", {
      "clouds.yaml": CLOUDS,
      "secure.yml": "clouds: {mycloud: {auth: {password: from-secure}}}",
    });
    const cfg = loadCloudConfig({ OS_CLOUD: "mycloud" }, { ...empty, home });
    assertPassword(cfg);
    assert.equal(cfg.auth.password, "from-secure");
  });

  it("OS_REGION_NAME fills the region when the cloud names none", () => {
    const d = dir("region", { "clouds.yaml": CLOUDS_PW.replace("    region_name: RegionTwo\n", "") });
    const cfg = loadCloudConfig(
      { OS_CLOUD: "mycloud", OS_CLIENT_CONFIG_FILE: join(d, "clouds.yaml"), OS_REGION_NAME: "RegionEnv" },
      empty,
    );
    assert.equal(cfg?.regionName, "RegionEnv");
  });

  it("answers a clear error naming the cloud and the file when OS_CLOUD names a cloud that is not there", () => {
    const d = dir("missing-cloud", { "clouds.yaml": CLOUDS });
    const file = join(d, "clouds.yaml");
    assert.throws(
      () => loadCloudConfig({ OS_CLOUD: "nosuch", OS_CLIENT_CONFIG_FILE: file }, empty),
      (e: unknown) =>
        e instanceof CloudConfigError &&
        e.message.includes('"nosuch"') &&
        e.message.includes(file) &&
        e.message.includes("mycloud, other"),
    );
  });

  it("answers a clear error when OS_CLOUD is set but no clouds.yaml exists, or OS_CLIENT_CONFIG_FILE is missing", () => {
    assert.throws(() => loadCloudConfig({ OS_CLOUD: "x" }, empty), /no clouds\.yaml was found/);
    assert.throws(
      () => loadCloudConfig({ OS_CLOUD: "x", OS_CLIENT_CONFIG_FILE: join(root, "nope.yaml") }, empty),
      /OS_CLIENT_CONFIG_FILE names .*nope\.yaml, which does not exist/,
    );
  });

  it("names the missing clouds.yaml key (auth.password) without the secure.yaml", () => {
    const d = dir("no-secret", { "clouds.yaml": CLOUDS });
    assert.throws(
      () => loadCloudConfig({ OS_CLOUD: "mycloud", OS_CLIENT_CONFIG_FILE: join(d, "clouds.yaml") }, empty),
      (e: unknown) => e instanceof CloudConfigError && /cloud "mycloud" in .*: auth\.password is missing/.test(e.message),
    );
  });

  it("builds a password cloud from OS_* variables alone, appending /v3 to the auth URL", () => {
    const cfg = loadCloudConfig(
      {
        OS_AUTH_URL: "http://keystone.local:5000/",
        OS_AUTH_TYPE: "password",
        OS_USERNAME: "bob",
        OS_PASSWORD: "pw",
        OS_PROJECT_NAME: "proj",
        OS_USER_DOMAIN_NAME: "Default",
        OS_PROJECT_DOMAIN_ID: "default",
        OS_REGION_NAME: "RegionOne",
        OS_INTERFACE: "publicURL",
        OS_IDENTITY_API_VERSION: "3",
        OS_CACERT: "/etc/ssl/ca.pem",
        OS_ORCHESTRATION_ENDPOINT_OVERRIDE: "http://heat.local/v1",
      },
      empty,
    );
    assertPassword(cfg);
    assert.equal(cfg.cloud, "envvars");
    assert.equal(cfg.source, "environment");
    assert.equal(cfg.auth.authUrl, "http://keystone.local:5000/v3");
    assert.equal(cfg.auth.username, "bob");
    assert.equal(cfg.auth.projectDomainId, "default");
    assert.equal(cfg.regionName, "RegionOne");
    assert.equal(cfg.interface, "public");
    assert.equal(cfg.cacert, "/etc/ssl/ca.pem");
    assert.deepEqual(cfg.endpointOverrides, { orchestration: "http://heat.local/v1" });
    assert.deepEqual(authRequestBody(cfg.auth), {
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: "bob", domain: { name: "Default" }, password: "pw" } },
        },
        scope: { project: { name: "proj", domain: { id: "default" } } },
      },
    });
  });

  it("OS_DOMAIN_NAME stands for both the user's and the project's domain", () => {
    const cfg = loadCloudConfig(
      { OS_AUTH_URL: "http://k/v3", OS_USERNAME: "u", OS_PASSWORD: "p", OS_PROJECT_NAME: "p", OS_DOMAIN_NAME: "Dom" },
      empty,
    );
    assertPassword(cfg);
    assert.equal(cfg.auth.userDomainName, "Dom");
    assert.equal(cfg.auth.projectDomainName, "Dom");
  });

  it("names the missing OS_* variable", () => {
    assert.throws(() => loadCloudConfig({ OS_USERNAME: "u", OS_PASSWORD: "p" }, empty), /OS_AUTH_URL is missing/);
    assert.throws(
      () => loadCloudConfig({ OS_AUTH_URL: "http://k", OS_USERNAME: "u", OS_PROJECT_NAME: "p", OS_USER_DOMAIN_NAME: "D", OS_PROJECT_DOMAIN_NAME: "D" }, empty),
      /OS_PASSWORD is missing/,
    );
    assert.throws(
      () => loadCloudConfig({ OS_AUTH_URL: "http://k", OS_USERNAME: "u", OS_PASSWORD: "p", OS_PROJECT_NAME: "p" }, empty),
      /OS_USER_DOMAIN_NAME \(or OS_USER_DOMAIN_ID\)/,
    );
    assert.throws(
      () => loadCloudConfig({ OS_AUTH_URL: "http://k", OS_USER_ID: "u", OS_PASSWORD: "p" }, empty),
      /OS_PROJECT_NAME \(or OS_PROJECT_ID\)/,
    );
    assert.throws(
      () => loadCloudConfig({ OS_AUTH_URL: "http://k", OS_AUTH_TYPE: "v3oidcpassword" }, empty),
      /auth type "v3oidcpassword" \(OS_AUTH_TYPE\) is not supported/,
    );
    assert.throws(
      () => loadCloudConfig({ OS_AUTH_URL: "http://k", OS_IDENTITY_API_VERSION: "2.0", OS_USER_ID: "u", OS_PASSWORD: "p", OS_PROJECT_ID: "x" }, empty),
      /only Keystone v3/,
    );
  });

  it("application credentials by id need no user and send no scope", () => {
    const cfg = loadCloudConfig(
      {
        OS_AUTH_URL: "https://k.example.com",
        OS_AUTH_TYPE: "v3applicationcredential",
        OS_APPLICATION_CREDENTIAL_ID: "ac-id",
        OS_APPLICATION_CREDENTIAL_SECRET: "ac-secret",
        OS_INSECURE: "true",
      },
      empty,
    );
    assert.ok(cfg);
    assert.equal(cfg.auth.type, "application_credential");
    assert.equal(cfg.insecure, true);
    assert.deepEqual(authRequestBody(cfg.auth), {
      auth: {
        identity: {
          methods: ["application_credential"],
          application_credential: { id: "ac-id", secret: "ac-secret" },
        },
      },
    });
  });

  it("a named application credential needs its user; the auth type is inferred from the secret", () => {
    const d = dir("appcred", {
      "clouds.yaml": `
clouds:
  ac:
    auth_type: v3applicationcredential
    auth: {auth_url: "https://k/v3", application_credential_name: deployer, username: carol, user_domain_name: Default}
  ac-inferred:
    auth: {auth_url: "https://k/v3", application_credential_name: deployer}
`,
      "secure.yaml": "clouds: {ac: {auth: {application_credential_secret: xyz}}, ac-inferred: {auth: {application_credential_secret: xyz}}}",
    });
    const file = join(d, "clouds.yaml");
    const cfg = loadCloudConfig({ OS_CLOUD: "ac", OS_CLIENT_CONFIG_FILE: file }, empty);
    assert.ok(cfg);
    assert.deepEqual(authRequestBody(cfg.auth), {
      auth: {
        identity: {
          methods: ["application_credential"],
          application_credential: { name: "deployer", user: { name: "carol", domain: { name: "Default" } }, secret: "xyz" },
        },
      },
    });
    assert.throws(
      () => loadCloudConfig({ OS_CLOUD: "ac-inferred", OS_CLIENT_CONFIG_FILE: file }, empty),
      /auth\.user_id \(or auth\.username\), needed with a named application credential/,
    );
  });

  it("redactCloudConfig hides passwords and secrets", () => {
    const cfg = loadCloudConfig(
      { OS_AUTH_URL: "http://k", OS_USER_ID: "u", OS_PASSWORD: "hunter2", OS_PROJECT_ID: "p" },
      empty,
    )!;
    const shown = JSON.stringify(redactCloudConfig(cfg));
    assert.ok(!shown.includes("hunter2"));
    assert.ok(shown.includes("[redacted]"));
  });

  it("identityV3Url appends /v3 as keystoneauth does", () => {
    assert.equal(identityV3Url("http://k:5000"), "http://k:5000/v3");
    assert.equal(identityV3Url("http://k:5000/v3/"), "http://k:5000/v3");
    assert.equal(identityV3Url("http://k/identity"), "http://k/identity/v3");
    assert.equal(identityV3Url("http://k/v2.0"), "http://k/v3");
  });
});
