// What the full-profile dev cloud itself says a bay is made of: each service's own API (Nova,
// Neutron, Octavia, Keystone), read as the dev cloud's admin, so a test checks the real
// resources and not Bayforge's or Heat's account of them.
import { openstackFromEnv, type OpenStack } from "../../shared/adapters/openstack/index.ts";
import { cloudsYamlPath } from "./devcloud.ts";

export interface Server {
  id: string;
  name: string;
  status: string;
  key_name: string | null;
  image: { id: string };
  flavor: { original_name: string };
  tenant_id: string;
}
export interface Port {
  id: string;
  network_id: string;
  device_id: string;
  device_owner: string;
  security_groups: string[];
  fixed_ips: Array<{ subnet_id: string; ip_address: string }>;
  "binding:vif_type"?: string;
}
export interface SecurityGroupRule {
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  direction: string;
}
export interface LoadBalancer {
  id: string;
  name: string;
  provisioning_status: string;
  operating_status: string;
  vip_address: string;
  vip_port_id: string;
  vip_subnet_id: string;
  provider: string;
  listeners: Array<{ id: string }>;
  pools: Array<{ id: string }>;
}
export interface Listener {
  id: string;
  protocol: string;
  protocol_port: number;
  default_pool_id: string | null;
  allowed_cidrs?: string[] | null;
}
export interface Member {
  address: string;
  protocol_port: number;
}

/** Counts of what a project holds, per kind: a delete must bring each back to where it was. */
export type Counts = Record<"servers" | "ports" | "floatingips" | "routers" | "networks" | "subnets" | "security_groups" | "loadbalancers", number>;

export class CloudInventory {
  readonly os: OpenStack;
  constructor() {
    const os = openstackFromEnv({ OS_CLIENT_CONFIG_FILE: cloudsYamlPath(), OS_CLOUD: "devcloud-admin" });
    if (!os) throw new Error("dev cloud not configured");
    this.os = os;
  }

  close(): Promise<void> {
    return this.os.close();
  }

  /** GET on a service of the catalog (by type), as admin; the body as JSON. */
  async get<T = any>(serviceType: string, path: string, headers: Record<string, string> = {}): Promise<T> {
    const base = (await this.os.session.endpoint(serviceType)).replace(/\/+$/, "");
    const res = await fetch(base + path, { headers: { "x-auth-token": await this.os.session.token(), accept: "application/json", ...headers } });
    if (!res.ok) throw new Error(`${serviceType} GET ${path}: ${res.status} ${(await res.text()).slice(0, 300)}`);
    return (await res.json()) as T;
  }

  async send(serviceType: string, method: string, path: string, body?: unknown): Promise<any> {
    const base = (await this.os.session.endpoint(serviceType)).replace(/\/+$/, "");
    const res = await fetch(base + path, {
      method,
      headers: { "x-auth-token": await this.os.session.token(), accept: "application/json", "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${serviceType} ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  }

  async server(id: string): Promise<Server> {
    // 2.47: the flavor is shown by name (original_name), not by a link to a flavor id
    return (await this.get("compute", `/servers/${id}`, { "OpenStack-API-Version": "compute 2.47" })).server;
  }

  async image(name: string): Promise<{ id: string }> {
    const images = (await this.get("image", `/v2/images?name=${encodeURIComponent(name)}`)).images as Array<{ id: string }>;
    if (images.length !== 1) throw new Error(`${images.length} images named ${name}`);
    return images[0];
  }

  async portsOf(deviceId: string): Promise<Port[]> {
    return (await this.get("network", `/v2.0/ports?device_id=${deviceId}`)).ports;
  }

  async port(id: string): Promise<Port> {
    return (await this.get("network", `/v2.0/ports/${id}`)).port;
  }

  async securityGroupRules(groupId: string): Promise<SecurityGroupRule[]> {
    return (await this.get("network", `/v2.0/security-group-rules?security_group_id=${groupId}`)).security_group_rules;
  }

  async floatingIpsOfPort(portId: string): Promise<Array<{ floating_ip_address: string }>> {
    return (await this.get("network", `/v2.0/floatingips?port_id=${portId}`)).floatingips;
  }

  async loadBalancer(id: string): Promise<LoadBalancer> {
    return (await this.get("load-balancer", `/v2/lbaas/loadbalancers/${id}`)).loadbalancer;
  }

  async listener(id: string): Promise<Listener> {
    return (await this.get("load-balancer", `/v2/lbaas/listeners/${id}`)).listener;
  }

  async members(poolId: string): Promise<Member[]> {
    return (await this.get("load-balancer", `/v2/lbaas/pools/${poolId}/members`)).members;
  }

  /** The listeners of a load balancer, each with its pool's members. */
  async listenersWithMembers(lb: LoadBalancer): Promise<Array<Listener & { members: Member[] }>> {
    const out = [];
    for (const { id } of lb.listeners) {
      const l = await this.listener(id);
      out.push({ ...l, members: l.default_pool_id ? await this.members(l.default_pool_id) : [] });
    }
    return out.sort((a, b) => a.protocol_port - b.protocol_port);
  }

  async projectId(name: string): Promise<string> {
    const projects = (await this.get("identity", `/projects?name=${encodeURIComponent(name)}`)).projects as Array<{ id: string }>;
    if (projects.length !== 1) throw new Error(`${projects.length} projects named ${name}`);
    return projects[0].id;
  }

  /** How many of each kind the project holds (the default security group included). */
  async counts(projectId: string): Promise<Counts> {
    const q = `project_id=${projectId}`;
    const [servers, ports, floatingips, routers, networks, subnets, sgs, lbs] = await Promise.all([
      this.get("compute", `/servers?all_tenants=1&project_id=${projectId}`),
      this.get("network", `/v2.0/ports?${q}`),
      this.get("network", `/v2.0/floatingips?${q}`),
      this.get("network", `/v2.0/routers?${q}`),
      this.get("network", `/v2.0/networks?${q}`),
      this.get("network", `/v2.0/subnets?${q}`),
      this.get("network", `/v2.0/security-groups?${q}`),
      this.get("load-balancer", `/v2/lbaas/loadbalancers?${q}`),
    ]);
    return {
      servers: servers.servers.length,
      ports: ports.ports.length,
      floatingips: floatingips.floatingips.length,
      routers: routers.routers.length,
      networks: networks.networks.length,
      subnets: subnets.subnets.length,
      security_groups: sgs.security_groups.length,
      loadbalancers: lbs.loadbalancers.filter((lb: { provisioning_status: string }) => lb.provisioning_status !== "DELETED").length,
    };
  }

  /** Keystone: the users of a domain, and the trusts whose trustor is `userId`. */
  async usersInDomain(domainName: string): Promise<Array<{ id: string; name: string }>> {
    const domains = (await this.get("identity", `/domains?name=${encodeURIComponent(domainName)}`)).domains as Array<{ id: string }>;
    if (domains.length !== 1) throw new Error(`${domains.length} domains named ${domainName}`);
    return (await this.get("identity", `/users?domain_id=${domains[0].id}`)).users;
  }

  async trustsOf(trustorUserId: string): Promise<Array<{ id: string }>> {
    return (await this.get("identity", `/OS-TRUST/trusts?trustor_user_id=${trustorUserId}`)).trusts;
  }

  async userId(name: string): Promise<string> {
    const users = (await this.get("identity", `/users?name=${encodeURIComponent(name)}&domain_id=default`)).users as Array<{ id: string }>;
    if (users.length !== 1) throw new Error(`${users.length} users named ${name}`);
    return users[0].id;
  }
}
