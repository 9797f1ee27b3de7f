"""Keystone objects of the full profile (run by devcloud.sh after the light registration).

PROFILE=full: service users (nova, placement, glance, neutron, octavia: admin on `service`),
Heat's stack user domain `heat` with its admin `heat_domain_admin`, and the catalog entries
compute, placement, image, network, load-balancer. PROFILE=light: those catalog entries are
removed (Heat and clients must not find services that do not run); users and domain stay.
Creates only what is missing, like the light registration.
"""
import os

from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

E = os.environ
ks = client.Client(session=session.Session(auth=v3.Password(
    auth_url=E["KS_URL"], username="admin", password=E["ADMIN_PASSWORD"],
    project_name="admin", user_domain_name="Default", project_domain_name="Default")))
anon = session.Session()
full = E["PROFILE"] == "full"
host = "http://127.0.0.1:"
SERVICES = {  # type: (name, url)
    "compute": ("nova", host + E["NOVA_PORT"] + "/v2.1"),
    "placement": ("placement", host + E["PLACEMENT_PORT"]),
    "image": ("glance", host + E["GLANCE_PORT"]),
    "network": ("neutron", host + E["NEUTRON_PORT"]),
    "load-balancer": ("octavia", host + E["OCTAVIA_PORT"]),
}
services, endpoints = ks.services.list(), ks.endpoints.list()

if not full:
    for s in services:
        if s.type in SERVICES:
            ks.services.delete(s)  # deletes its endpoints too
    raise SystemExit(0)

roles = {r.name: r for r in ks.roles.list()}
admin_r = roles["admin"]
granted = set()
for a in ks.role_assignments.list(role=admin_r):
    scope = a.scope.get("project") or a.scope.get("domain") or {}
    if getattr(a, "user", None):
        granted.add((a.user["id"], scope.get("id")))


def password_works(name, domain_id, password):
    r = anon.post(E["KS_URL"] + "/auth/tokens", raise_exc=False, json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": name, "domain": {"id": domain_id}, "password": password}}},
        "scope": "unscoped"}})
    return r.status_code == 201


def user(name, password, domain, **kw):
    found = ks.users.list(domain=domain, name=name)
    if found:
        if not password_works(name, domain.id if hasattr(domain, "id") else domain, password):
            ks.users.update(found[0], password=password)
        return found[0]
    return ks.users.create(name, domain=domain, password=password, **kw)


def grant(u, project=None, domain=None):
    if (u.id, (project or domain).id) not in granted:
        ks.roles.grant(admin_r, user=u, project=project, domain=domain)


service_p = next(p for p in ks.projects.list(domain="default") if p.name == "service")
for name in ("nova", "placement", "glance", "neutron", "octavia"):
    grant(user(name, E["SERVICE_PASSWORD"], "default", default_project=service_p), project=service_p)

# Heat's stack user domain: WaitConditionHandle (and software deployments) create users
# there; their tokens are what a handle's curl_cli sends.
heat_d = next((d for d in ks.domains.list() if d.name == "heat"), None) or \
    ks.domains.create("heat", description="Heat: users and projects created by stacks")
grant(user("heat_domain_admin", E["STACK_DOMAIN_ADMIN_PASSWORD"], heat_d), domain=heat_d)

for type_, (name, url) in SERVICES.items():
    svc = next((s for s in services if s.type == type_), None) or \
        ks.services.create(name, type=type_, description=name)
    have = {e.interface: e for e in endpoints if e.service_id == svc.id and e.region == E["REGION"]}
    for iface in ("public", "internal", "admin"):
        if iface not in have:
            ks.endpoints.create(svc, url, interface=iface, region=E["REGION"])
        elif have[iface].url != url:
            ks.endpoints.update(have[iface], url=url)
