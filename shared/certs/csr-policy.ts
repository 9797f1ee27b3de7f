// The subject policy for the bay's own nodes (callers holding a bootstrap token): a node may
// have signed only the subjects its role needs, as the boot fragments request them
// (templates/kubernetes/fragments/make-certs-{master,minion}.sh, boot-lib.sh). Kubernetes
// reads a client certificate's CN as the user and every O as a group, so the CN and the exact
// set of O's are checked; a node's own name is one of its bay and role. `system:masters` is
// no node's: only the user's own POST /v1/certificates (Keystone) signs any subject, as
// Magnum's `cluster config` needs.
import { ApiError } from "../domain/errors.ts";
import type { BootstrapRole } from "../domain/bootstrap-token.ts";
import { isUniversal as is, Tag as T, TagClass, type DerNode } from "./der.ts";
import { InvalidCsr, oidOf, parseExtensionValue, type CertificationRequest } from "./csr.ts";

export interface SubjectPolicy {
  role: BootstrapRole;
  /** the bay's node name prefix: its nodes are `<prefix>-master-<n>` and `<prefix>-minion-<n>` */
  nodeNamePrefix: string;
  /**
   * The bay's extra node groups (minions too: they hold the minions' token), whose nodes are
   * `<prefix>-<group>-<n>`. No group is named `master` (the domain refuses it): its nodes
   * would carry the masters' names.
   */
  minionGroups?: readonly string[];
  /** a node that proved its own name (the agent's signed request): `{node}` must be this one */
  ownNode?: string;
}

/** The subject is not one the caller's role may have signed (400, as Magnum's other refusals). */
export class SubjectNotAllowed extends ApiError {
  constructor(reason: string) {
    super(400, "Subject not allowed", `Subject not allowed: ${reason}`);
    this.name = "SubjectNotAllowed";
  }
}

/** `{node}`: the node's own name (one of its bay and role). */
interface Allowed {
  cn: string;
  o: readonly string[];
}

/** What each role may have signed: CN and exactly these O's. */
export const NODE_SUBJECTS: Readonly<Record<BootstrapRole, readonly Allowed[]>> = {
  minion: [
    { cn: "system:node:{node}", o: ["system:nodes"] }, // the kubelet's client identity
    { cn: "{node}", o: [] }, // the kubelet's serving certificate
  ],
  master: [
    { cn: "system:node:{node}", o: ["system:nodes"] },
    { cn: "{node}", o: [] }, // kubelet serving, etcd server and peer
    { cn: "kube-apiserver", o: [] },
    // kubeadm ≥ 1.29's group for these two, bound to cluster-admin (not system:masters)
    { cn: "kube-apiserver-kubelet-client", o: ["kubeadm:cluster-admins"] },
    { cn: "kubernetes-admin", o: ["kubeadm:cluster-admins"] },
    { cn: "front-proxy-client", o: [] },
    { cn: "kube-apiserver-etcd-client", o: [] },
    { cn: "system:kube-controller-manager", o: [] },
    { cn: "system:kube-scheduler", o: [] },
  ],
};

const OID_CN = "2.5.4.3";
const OID_O = "2.5.4.10";
const OID_SUBJECT_ALT_NAME = "2.5.29.17";
/** GeneralName tags (RFC 5280 §4.2.1.6) */
const DNS_NAME = 2;
const IP_ADDRESS = 7;
/** Longest value echoed in a message. */
const ECHO = 64;

/** Throws SubjectNotAllowed unless the request's subject (and, for minions, its SANs) fit the policy. */
export function checkSubject(policy: SubjectPolicy, csr: CertificationRequest): void {
  const { cn, o } = readSubject(csr.subject);
  const kinds = [policy.role, ...(policy.role === "minion" ? (policy.minionGroups ?? []).filter((g) => g !== "master") : [])];
  const ownName = new RegExp(`^${escape(policy.nodeNamePrefix)}-(?:${kinds.map(escape).join("|")})-(0|[1-9][0-9]{0,5})$`);
  let node: string | undefined;
  const fits = NODE_SUBJECTS[policy.role].some((a) => {
    if (a.o.length !== o.length || !a.o.every((g) => o.includes(g))) return false;
    if (!a.cn.includes("{node}")) return a.cn === cn;
    const [before, after] = a.cn.split("{node}");
    const name = cn.startsWith(before) && cn.endsWith(after) ? cn.slice(before.length, cn.length - after.length) : "";
    if (!ownName.test(name) || (policy.ownNode !== undefined && name !== policy.ownNode)) return false;
    node = name;
    return true;
  });
  if (!fits) {
    throw new SubjectNotAllowed(
      `the bay's ${policy.role} nodes may not have "${show(cn, o)}" signed. They may have: ` +
        NODE_SUBJECTS[policy.role].map((a) => show(a.cn.replace("{node}", `${policy.nodeNamePrefix}-${kinds.length > 1 ? `{${kinds.slice(0, 4).join("|")}${kinds.length > 4 ? "|..." : ""}}` : policy.role}-<n>`), a.o)).join("; ") +
        ". Any other subject is signed only for the bay's owner, with their own token",
    );
  }
  // A minion's certificate must not serve as another host (the API's names, another node):
  // its DNS names are its own name only. (Its IP addresses Bayforge cannot know; masters,
  // which serve the API, name whatever they serve.)
  if (policy.role === "minion") checkMinionNames(csr, node!);
}

/** The subject's one CN and its O's; anything else in it is refused, so nothing is read two ways. */
function readSubject(subject: DerNode): { cn: string; o: string[] } {
  let cn: string | undefined;
  const o: string[] = [];
  for (const rdn of subject.children) {
    if (!is(rdn, T.SET) || rdn.children.length !== 1) throw new SubjectNotAllowed("the subject must name one attribute per RDN");
    const [atv] = rdn.children;
    const [type, value, ...rest] = atv.children;
    if (!is(atv, T.SEQUENCE) || !type || !is(type, T.OID) || !value || rest.length) throw new InvalidCsr("its subject is malformed");
    const id = oidOf(type, "its subject is malformed");
    if (id !== OID_CN && id !== OID_O) throw new SubjectNotAllowed(`a node's subject holds CN and O only, not ${id}`);
    const text = readString(value);
    if (id === OID_O) o.push(text);
    else if (cn === undefined) cn = text;
    else throw new SubjectNotAllowed("the subject names more than one CN");
  }
  if (cn === undefined) throw new SubjectNotAllowed("the subject has no CN");
  return { cn, o };
}

/** A UTF8String or PrintableString value (what openssl writes); others are refused, not guessed at. */
function readString(n: DerNode): string {
  if (n.tagClass === TagClass.UNIVERSAL && n.tag === T.UTF8_STRING && !n.constructed) {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(n.content);
    } catch {
      throw new InvalidCsr("its subject holds a UTF8String that is not UTF-8");
    }
  }
  const text = n.content.toString("latin1");
  if (n.tagClass === TagClass.UNIVERSAL && n.tag === T.PRINTABLE_STRING && !n.constructed && /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) return text;
  throw new SubjectNotAllowed("a node's subject values must be UTF8String or PrintableString");
}

function checkMinionNames(csr: CertificationRequest, node: string): void {
  const san = csr.extensions.find((e) => e.oid === OID_SUBJECT_ALT_NAME);
  if (!san) return;
  const names = parseExtensionValue(san, "subjectAltName");
  if (!is(names, T.SEQUENCE)) throw new InvalidCsr("its subjectAltName extension is malformed");
  for (const g of names.children) {
    if (g.tagClass === TagClass.CONTEXT && !g.constructed && g.tag === IP_ADDRESS) continue;
    if (g.tagClass === TagClass.CONTEXT && !g.constructed && g.tag === DNS_NAME && g.content.toString("latin1") === node) continue;
    throw new SubjectNotAllowed(`a minion's subjectAltName may hold its own name (DNS:${node}) and IP addresses only`);
  }
}

const show = (cn: string, o: readonly string[]): string => [`CN=${clip(cn)}`, ...o.slice(0, 4).map((g) => `O=${clip(g)}`), ...(o.length > 4 ? ["..."] : [])].join(", ");
/** At most ECHO characters of a value the sender chose, control characters escaped. */
const clip = (s: string): string => JSON.stringify(s.length > ECHO ? `${s.slice(0, ECHO)}…` : s).slice(1, -1);
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
