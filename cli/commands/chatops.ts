// `bayforge chatops map|unmap|list`: the operator's chat-ops mappings, written straight into
// the data dir `npm start` serves from (BAYFORGE_DATA_DIR), not through the API: a mapping
// holds an application credential's secret, which no HTTP request should carry or be able to
// read back. `map` checks the credential with Keystone first (Bayforge's own cloud, OS_CLOUD /
// OS_* as for `npm start`): it must authenticate, be scoped to the project, and be usable by
// Heat (which makes a trust from it for every stack), else nothing is written. The secret is
// read from stdin (never an argument: arguments show in `ps`) and stored encrypted with the
// data dir's key vault. A running `npm start` sees changes at once.
//
//   bayforge chatops map <slack:T123[:C456] | mattermost:<team>[:<channel>]> --project <id>
//                        [--application-credential-id <id>  (its secret on stdin) | --trust-id <id>]
//                        [--allow <user id>,<user id>...]
//   bayforge chatops unmap <key>
//   bayforge chatops list
import { parseArgs } from "node:util";
import { loadSettings } from "../../shared/config.ts";
import { openLocalStores } from "../../shared/adapters/local/index.ts";
import { LocalKeyVault } from "../../shared/adapters/local/key-vault.ts";
import { openstackFromEnv } from "../../shared/adapters/openstack/index.ts";
import { checkAppCredential, checkMappingTrust } from "../../shared/adapters/openstack/mapping-clouds.ts";
import { MAPPING_KEY, type ChatOpsMapping } from "../../shared/ports/chatops-mappings.ts";

export const CHATOPS_USAGE = `usage: bayforge chatops map <key> --project <project id> [--application-credential-id <id> | --trust-id <id>] [--allow <user ids>]
       bayforge chatops unmap <key>
       bayforge chatops list

  <key>  slack:<team id>[:<channel id>] or mattermost:<team id>[:<channel id>]
  --application-credential-id  an application credential of the project, created by a member
         (openstack application credential create); its secret is read from stdin
  --trust-id  or a trust from a member of the project to Bayforge's service user, with
         impersonation and one redelegation (Heat derives its own trust from it); no secret
  --allow  comma-separated chat user ids that may create, scale and delete (default: anyone)

Keystone mode (npm start's default) needs one of the two; noauth may map a project alone.
Writes the data dir BAYFORGE_DATA_DIR (default .bayforge); checks with OS_CLOUD / OS_* (Bayforge's cloud).`;

interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  readStdin(): Promise<string>;
}

/** Exit code: 0 done, 1 refused or failed, 2 usage error. */
export async function chatops(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const usage = (msg: string) => (io.stderr.write(`bayforge chatops: ${msg}\n\n${CHATOPS_USAGE}\n`), 2);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { project: { type: "string" }, "application-credential-id": { type: "string" }, "trust-id": { type: "string" }, allow: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
  } catch (e) {
    return usage((e as Error).message);
  }
  const [verb, key, ...extra] = parsed.positionals;
  const o = parsed.values;
  if (o.help || !verb) return (io.stdout.write(CHATOPS_USAGE + "\n"), verb || o.help ? 0 : 2);
  if (extra.length) return usage(`unexpected ${extra.join(" ").slice(0, 80)}`);
  if (verb !== "list" && (!key || !MAPPING_KEY.test(key))) return usage(`a key such as slack:T123, slack:T123:C456 or mattermost:<team> is needed, not ${JSON.stringify((key ?? "").slice(0, 80))}`);

  const settings = loadSettings(env);
  const stores = openLocalStores(settings.dataDir);
  try {
    const mappings = stores.chatops(await LocalKeyVault.forDataDir(settings.dataDir, env));
    switch (verb) {
      case "list": {
        const all = await mappings.list();
        if (!all.length) io.stdout.write("no chat-ops mappings\n");
        for (const m of all)
          io.stdout.write(`${m.key}\tproject ${m.project_id}\t${m.app_credential_id ? `application credential ${m.app_credential_id}` : m.trust_id ? `trust ${m.trust_id}` : "no credential (noauth only)"}\t${m.allow?.length ? `allow ${m.allow.join(",")}` : "anyone may change bays"}\n`);
        return 0;
      }
      case "unmap": {
        const gone = await mappings.remove(key);
        io.stdout.write(gone ? `unmapped ${key}\n` : `${key} was not mapped\n`);
        return gone ? 0 : 1;
      }
      case "map": {
        const project = o.project?.trim();
        if (!project || !/^[A-Za-z0-9_.-]{1,64}$/.test(project)) return usage("--project <project id> is needed (letters, digits, _ . -)");
        const allow = o.allow === undefined ? null : o.allow.split(",").map((u) => u.trim()).filter(Boolean);
        if (allow?.some((u) => !/^[A-Za-z0-9_.@-]{1,64}$/.test(u))) return usage("--allow takes chat user ids separated by commas (letters, digits, _ . @ -)");
        const credId = o["application-credential-id"]?.trim();
        const trustId = o["trust-id"]?.trim();
        if (credId && trustId) return usage("give --application-credential-id or --trust-id, not both");
        let secret: string | null = null;
        if (credId) {
          secret = (await io.readStdin()).split(/\r?\n/)[0].trim();
          if (!secret) return usage("the application credential's secret is read from stdin, which was empty");
        }
        if (credId || trustId) {
          const cloud = openstackFromEnv(env);
          if (!cloud) {
            io.stderr.write("bayforge chatops: no OpenStack cloud configured to check the credential with: set OS_CLOUD (clouds.yaml) or OS_AUTH_URL, as for npm start\n");
            return 1;
          }
          try {
            const info = credId ? await checkAppCredential(cloud.session, { id: credId, secret: secret! }, project) : await checkMappingTrust(cloud.session, trustId!, project);
            io.stdout.write(`${credId ? `application credential ${credId}` : `trust ${trustId}`} acts as ${info.userName ?? info.userId} in project ${info.projectName ?? project}\n`);
          } catch (e) {
            io.stderr.write(`bayforge chatops: refused, nothing written: ${(e as Error).message}\n`);
            return 1;
          } finally {
            await cloud.close();
          }
        }
        const m: ChatOpsMapping = { key, project_id: project, app_credential_id: credId ?? null, trust_id: trustId ?? null, allow: allow?.length ? allow : null };
        await mappings.put(m, secret);
        io.stdout.write(`mapped ${key} to project ${project}${credId || trustId ? "" : " without a credential (served only with BAYFORGE_AUTH=noauth)"}${m.allow ? `; ${m.allow.length} user(s) may create, scale and delete` : ""}\n`);
        return 0;
      }
      default:
        return usage(`unknown command chatops ${verb.slice(0, 40)}`);
    }
  } finally {
    await stores.close();
  }
}
