// What the node simulator reads from the cloud, as admin across all projects: the servers
// in Nova (and a server's user_data), their ports and subnets in Neutron, and the load
// balancers in Octavia (VIP, listeners, pools, members).
import type { OpenStack } from "../../../shared/adapters/openstack/index.ts";

export interface Server {
  id: string;
  name: string;
  status: string;
  projectId: string;
}

export interface Nic {
  networkId: string;
  ip: string;
  /** prefix length of the fixed IP's subnet */
  prefix: number;
  mac: string;
}

/** A listener of a load balancer: VIP:port to the members of its default pool. */
export interface Frontend {
  lbId: string;
  networkId: string;
  vip: string;
  prefix: number;
  port: number;
  members: Array<{ host: string; port: number }>;
}

export interface BootInfo {
  /** base64, null when the server has none */
  userData: string | null;
  /** Nova's hostname for the server (what cloud-init sets), when Nova says */
  hostname?: string;
}

/** What the simulator reads; CloudReader reads it from the real services. */
export interface Cloud {
  servers(): Promise<Server[]>;
  /** what the server boots with; undefined when the server is gone */
  bootInfo(serverId: string): Promise<BootInfo | undefined>;
  nics(serverId: string): Promise<Nic[]>;
  frontends(): Promise<Frontend[]>;
}

const LIST_CAP = 2000;

export class CloudReader implements Cloud {
  private subnetPrefix = new Map<string, number>();

  constructor(private readonly os: OpenStack) {}

  private async get<T>(service: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    const base = await this.os.session.endpoint(service);
    const res = await fetch(`${base}${path}`, {
      headers: { "x-auth-token": await this.os.session.token(), accept: "application/json", ...headers },
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.status === 401) await this.os.session.authenticate({ force: true });
    if (!res.ok && res.status !== 404) throw new Error(`${service} GET ${path}: ${res.status} ${text.slice(0, 300)}`);
    return { status: res.status, body: (res.ok ? JSON.parse(text) : undefined) as T };
  }

  /** Every server in Nova, all projects. */
  async servers(): Promise<Server[]> {
    const { body } = await this.get<{ servers: Array<{ id: string; name: string; status: string; tenant_id: string }> }>("compute", `/servers/detail?all_tenants=1&limit=${LIST_CAP}`);
    return body.servers.map((s) => ({ id: s.id, name: String(s.name ?? ""), status: s.status, projectId: s.tenant_id }));
  }

  /** The base64 user_data and the hostname Nova holds for a server (microversion 2.3 shows them to admins). */
  async bootInfo(serverId: string): Promise<BootInfo | undefined> {
    const { status, body } = await this.get<{ server: Record<string, unknown> }>("compute", `/servers/${encodeURIComponent(serverId)}`, { "OpenStack-API-Version": "compute 2.3" });
    if (status === 404) return undefined;
    const ud = body.server["OS-EXT-SRV-ATTR:user_data"];
    const hostname = body.server["OS-EXT-SRV-ATTR:hostname"];
    return { userData: typeof ud === "string" ? ud : null, ...(typeof hostname === "string" && hostname ? { hostname } : {}) };
  }

  /** The server's ports (its NICs), in creation order. */
  async nics(serverId: string): Promise<Nic[]> {
    const { body } = await this.get<{ ports: Array<{ network_id: string; mac_address: string; fixed_ips: Array<{ subnet_id: string; ip_address: string }>; created_at?: string }> }>(
      "network",
      `/v2.0/ports?device_id=${encodeURIComponent(serverId)}`,
    );
    const ports = [...body.ports].sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
    const nics: Nic[] = [];
    for (const p of ports) {
      const fixed = p.fixed_ips.find((f) => f.ip_address.includes("."));
      if (fixed) nics.push({ networkId: p.network_id, ip: fixed.ip_address, prefix: await this.prefixOf(fixed.subnet_id), mac: p.mac_address });
    }
    return nics;
  }

  private async prefixOf(subnetId: string): Promise<number> {
    const known = this.subnetPrefix.get(subnetId);
    if (known !== undefined) return known;
    const { body } = await this.get<{ subnet: { cidr: string } }>("network", `/v2.0/subnets/${encodeURIComponent(subnetId)}`);
    const prefix = Number(body?.subnet?.cidr?.split("/")[1] ?? 24);
    this.subnetPrefix.set(subnetId, prefix);
    return prefix;
  }

  /** Every listener of every load balancer (Octavia; admin sees all projects), with its pool's members. */
  async frontends(): Promise<Frontend[]> {
    type Lb = { id: string; vip_address: string; vip_network_id: string; vip_subnet_id: string; provisioning_status: string };
    type Listener = { id: string; protocol_port: number; default_pool_id: string | null; loadbalancers: Array<{ id: string }>; admin_state_up: boolean };
    type Member = { address: string; protocol_port: number; admin_state_up: boolean };
    const lbs = (await this.get<{ loadbalancers: Lb[] }>("load-balancer", `/v2/lbaas/loadbalancers?limit=${LIST_CAP}`)).body.loadbalancers;
    if (!lbs.length) return [];
    const listeners = (await this.get<{ listeners: Listener[] }>("load-balancer", `/v2/lbaas/listeners?limit=${LIST_CAP}`)).body.listeners;
    const out: Frontend[] = [];
    for (const lb of lbs) {
      if (!lb.vip_address || lb.provisioning_status === "DELETED") continue;
      const prefix = await this.prefixOf(lb.vip_subnet_id);
      for (const l of listeners.filter((x) => x.loadbalancers.some((y) => y.id === lb.id) && x.admin_state_up !== false)) {
        let members: Member[] = [];
        if (l.default_pool_id) {
          const r = await this.get<{ members: Member[] }>("load-balancer", `/v2/lbaas/pools/${encodeURIComponent(l.default_pool_id)}/members?limit=${LIST_CAP}`);
          members = r.body?.members ?? [];
        }
        out.push({
          lbId: lb.id,
          networkId: lb.vip_network_id,
          vip: lb.vip_address,
          prefix,
          port: l.protocol_port,
          members: members.filter((m) => m.admin_state_up !== false).map((m) => ({ host: m.address, port: m.protocol_port })),
        });
      }
    }
    return out;
  }
}
