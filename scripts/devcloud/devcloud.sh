#!/usr/bin/env bash
# devcloud.sh: Bayforge's throw-away, loopback-only OpenStack (Keystone v3 + Heat) for tests.
#
#   devcloud.sh up            install (once), configure, bootstrap and start; prints OS_* env.
#                             Idempotent: returns at once when both services run and answer.
#                             On a running full profile it goes back to the light one.
#   devcloud.sh up --full     the full profile: also RabbitMQ, Placement, Glance, Nova (fake
#                             virt driver), Neutron, Octavia (noop amphorae); see full/full.sh
#   devcloud.sh down          stop the processes this script started (by pid file)
#   devcloud.sh status        show pids and whether the APIs answer (exit 0 = up)
#   devcloud.sh env [admin|demo|demo2|bayforge]   print the OS_* environment
#   devcloud.sh reset         down + delete the state dir (next `up` starts from empty DBs)
#
# Debian bookworm packages: keystone 2:22 (Zed), heat 1:19 (Zed). Everything lives in
# $DEVCLOUD_DIR (default <repo>/.bayforge/devcloud): configs, SQLite DBs, fernet keys, logs,
# pids. Keystone runs under uwsgi on 127.0.0.1:$DEVCLOUD_KEYSTONE_PORT (5000), caching in
# memcached on 127.0.0.1:$DEVCLOUD_MEMCACHED_PORT (11311) as production Keystones do (devstack,
# kolla-ansible and OpenStack-Ansible all configure it); Heat runs as
# ONE `heat-all` process (engine + REST API) on 127.0.0.1:$DEVCLOUD_HEAT_PORT (8004) with
# oslo.messaging's in-process `fake://` transport: no rabbitmq, apache or mysql.
#
# Heat's own global environment (environment_dir) maps the Nova/Neutron/Cinder/LBaaS types
# away (env-none.yaml) or to provider templates (fakes/*.yaml), so a client sends exactly
# the request it would send to a real cloud. OS::Nova::Server is fakes/server.yaml, which
# fails for the image "broken-image" and takes 300 s to boot "slow-image" (see README.md).
# The full profile (`up --full`) keeps only Cinder placeholders (full/env-full.yaml).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
DIR=${DEVCLOUD_DIR:-$REPO_ROOT/.bayforge/devcloud}
KS_PORT=${DEVCLOUD_KEYSTONE_PORT:-5000}
HEAT_PORT=${DEVCLOUD_HEAT_PORT:-8004}
MEMCACHED_PORT=${DEVCLOUD_MEMCACHED_PORT:-11311}
# bcrypt cost of the passwords Keystone stores (see keystone.conf below); Keystone's default is 12
HASH_ROUNDS=${DEVCLOUD_PASSWORD_HASH_ROUNDS:-4}
REGION=${DEVCLOUD_REGION:-RegionOne}
ADMIN_PASSWORD=${DEVCLOUD_ADMIN_PASSWORD:-devcloud-admin}
DEMO_PASSWORD=${DEVCLOUD_DEMO_PASSWORD:-devcloud-demo}
DEMO2_PASSWORD=${DEVCLOUD_DEMO2_PASSWORD:-devcloud-demo2}
BAYFORGE_PASSWORD=${DEVCLOUD_BAYFORGE_PASSWORD:-devcloud-bayforge}
HEAT_PASSWORD=${DEVCLOUD_HEAT_PASSWORD:-devcloud-heat}
# Bayforge's own API in the catalog (container-infra, as Magnum), for python-magnumclient.
BAYFORGE_URL=${DEVCLOUD_BAYFORGE_URL:-http://127.0.0.1:9511}
BAYFORGE_URL="${BAYFORGE_URL%/}/v1"
# Heat's convergence engine (Zed default) or the legacy in-memory one (false).
HEAT_CONVERGENCE=${DEVCLOUD_HEAT_CONVERGENCE:-true}
KS_URL="http://127.0.0.1:${KS_PORT}/v3"
HEAT_ROOT="http://127.0.0.1:${HEAT_PORT}/"
HEAT_URL="http://127.0.0.1:${HEAT_PORT}/v1/%(tenant_id)s"
PY=/usr/bin/python3   # never a pyenv/venv/nvm python: the OpenStack libs are Debian's
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}"
PACKAGES=(keystone heat-api heat-engine heat-common python3-heatclient python3-openstackclient
  sqlite3 uwsgi uwsgi-plugin-python3 curl memcached python3-pymemcache
  # not the cloud's, but the tests' that run beside it: shellcheck for the boot fragments, and
  # the real etcd the sandboxed node boot (test/e2e/boot-fragments.test.ts) registers with
  shellcheck etcd-server)
# Fake types: one file per type (Heat reads environment.d unsorted), see write_global_environment.
FAKES=(pool floatingip port server loadbalancer)
# light | full: what `up` builds (`up --full`); other commands read $DIR/.profile
PROFILE=light
source "$HERE/full/full.sh"
source "$REPO_ROOT/scripts/lib/apt-ensure.sh"

log() { echo "devcloud: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

case "$DIR" in /|"") die "refusing DEVCLOUD_DIR='$DIR'" ;; esac

# ---------------------------------------------------------------- install
install_packages() {
  [ "$PROFILE" = full ] && PACKAGES+=("${FULL_PACKAGES[@]}")
  apt_ensure "$DIR/logs" "${PACKAGES[@]}" || die "could not install Debian's packages; see $DIR/logs/apt-*.log"
}

# ---------------------------------------------------------------- config
# put FILE: write stdin to FILE only when the content differs (running services keep reading
# unchanged files; the config hash below decides about restarts).
put() {
  local tmp="$1.tmp.$$"
  cat > "$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv -f "$tmp" "$1"; fi
}

write_global_environment() {
  mkdir -p "$DIR/environment.d" "$DIR/templates"
  if [ "$PROFILE" = full ]; then
    # real Nova/Neutron/Glance/Octavia and wait conditions: only Cinder's placeholders
    put "$DIR/environment.d/00-none.yaml" < "$FULL_DIR/env-full.yaml"
    rm -f "$DIR/environment.d/10-fakes.yaml"
    return 0
  fi
  # Each faked type must not also appear in the OS::Heat::None mapping.
  grep -vE '"OS::(Neutron::(Pool|FloatingIP|Port)|Nova::Server|Octavia::LoadBalancer)":' "$HERE/env-none.yaml" \
    | put "$DIR/environment.d/00-none.yaml"
  local t
  for t in "${FAKES[@]}"; do put "$DIR/templates/fake-$t.yaml" < "$HERE/fakes/$t.yaml"; done
  put "$DIR/environment.d/10-fakes.yaml" <<EOF
# Provider templates: fake addresses for the types whose attributes flow into nested
# template parameters, and a server that can fail or be slow depending on its image.
resource_registry:
  "OS::Neutron::Pool": "file://$DIR/templates/fake-pool.yaml"
  "OS::Neutron::FloatingIP": "file://$DIR/templates/fake-floatingip.yaml"
  "OS::Neutron::Port": "file://$DIR/templates/fake-port.yaml"
  "OS::Nova::Server": "file://$DIR/templates/fake-server.yaml"
  "OS::Octavia::LoadBalancer": "file://$DIR/templates/fake-loadbalancer.yaml"
EOF
  # stale files from older versions of this script would still be read by Heat
  local f
  for f in "$DIR"/environment.d/*; do
    case "$(basename "$f")" in 00-none.yaml|10-fakes.yaml) ;; *) rm -f "$f" ;; esac
  done
}

write_configs() {
  mkdir -p "$DIR"/{logs,run,fernet-keys,credential-keys,lock}
  write_global_environment
  HEAT_FULL_CONF=
  if [ "$PROFILE" = full ]; then write_full_configs; HEAT_FULL_CONF=$'\n'$(heat_full_conf); fi
  put "$DIR/keystone.conf" <<EOF
[DEFAULT]
log_file = $DIR/logs/keystone.log
# a dev cloud: refusals say which rule refused (production Keystone answers only
# "You are not authorized to perform the requested action.")
insecure_debug = true
[database]
connection = sqlite:///$DIR/keystone.sqlite
[token]
provider = fernet
expiration = 86400
[fernet_tokens]
key_repository = $DIR/fernet-keys
[fernet_receipts]
key_repository = $DIR/fernet-keys
[credential]
key_repository = $DIR/credential-keys
[cache]
# token validations, role assignments and the catalog, shared by the uwsgi processes (and
# invalidated across them: a revoked token or deleted trust is refused at once)
enabled = true
backend = dogpile.cache.pymemcache
memcache_servers = 127.0.0.1:$MEMCACHED_PORT
[identity]
# bcrypt's default 12 rounds cost ~0.3 s of CPU per password check here, paid by every
# trustee user made and every password login (Heat's, the tests'); the minimum (4) keeps a
# 200-bay batch from queueing behind password hashing on 2 cores. The benchmarks also run
# with 12 (DEVCLOUD_PASSWORD_HASH_ROUNDS=12).
password_hash_rounds = $HASH_ROUNDS
EOF
  put "$DIR/heat.conf" <<EOF
[DEFAULT]
log_file = $DIR/logs/heat.log
# in-process RPC between the API and the engine living in the same heat-all process
transport_url = fake://
num_engine_workers = 1
# Convergence checks each resource in an RPC executor thread, and a nested stack's parent
# resource keeps its thread until the nested stack is done: with the default pool (64)
# about a hundred bays at once (each ~10 nested stacks here) deadlock the single engine.
executor_thread_pool_size = 2048
# SIGTERM: without this heat-all lingers for a minute after its engine has stopped
graceful_shutdown_timeout = 2
convergence_engine = $HEAT_CONVERGENCE
region_name_for_services = $REGION
# resources / stack depth limits: large ResourceGroups (e.g. 50+ minions) must fit
max_resources_per_stack = -1
max_nested_stack_depth = 10
# nothing ever calls back into these (no servers boot) but heat wants them set
heat_metadata_server_url = http://127.0.0.1:8000
heat_waitcondition_server_url = http://127.0.0.1:8000/v1/waitcondition
# Heat's own global environment maps Nova/Neutron/LB types away, so clients send the
# same request here as to a real cloud (no dev-cloud-specific environment or files).
environment_dir = $DIR/environment.d
template_dir = $DIR/templates${HEAT_FULL_CONF}
[heat_all]
enabled_services = engine,api
[heat_api]
bind_host = 127.0.0.1
bind_port = $HEAT_PORT
workers = 1
[paste_deploy]
api_paste_config = /etc/heat/api-paste.ini
[database]
connection = sqlite:///$DIR/heat.sqlite
[oslo_concurrency]
lock_path = $DIR/lock
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:${KS_PORT}/v3
auth_url = http://127.0.0.1:${KS_PORT}
auth_type = password
username = heat
password = $HEAT_PASSWORD
project_name = service
user_domain_name = Default
project_domain_name = Default
[trustee]
auth_type = password
auth_url = http://127.0.0.1:${KS_PORT}
username = heat
password = $HEAT_PASSWORD
user_domain_name = Default
[clients_keystone]
auth_uri = http://127.0.0.1:${KS_PORT}
[clients]
endpoint_type = publicURL
[ec2authtoken]
auth_uri = http://127.0.0.1:${KS_PORT}/v3
EOF
}

# What a running service was started with; a change means restart it.
conf_hash() { # keystone|heat
  if [ "$1" = keystone ]; then
    echo "port $KS_PORT"   # on uwsgi's command line, not in keystone.conf
    cat "$DIR/keystone.conf"
  else
    cat "$DIR/heat.conf" "$DIR"/environment.d/*
    # (no fake templates on a state dir that only ever ran the full profile)
    cat "$DIR"/templates/* 2>/dev/null || true
  fi | sha256sum | cut -c1-16
}

# ---------------------------------------------------------------- bootstrap
bootstrap() {
  # The ports end up in keystone's catalog: when they change, bootstrap/register again
  # (both update existing endpoints).
  if [ "$(cat "$DIR/.ports" 2>/dev/null)" != "$KS_PORT $HEAT_PORT" ]; then
    rm -f "$DIR/.bootstrapped" "$DIR/.registered"
  fi
  # a state dir whose DB vanished is bootstrapped again
  [ -s "$DIR/keystone.sqlite" ] && [ -s "$DIR/heat.sqlite" ] || rm -f "$DIR/.bootstrapped" "$DIR/.registered"
  [ -f "$DIR/.bootstrapped" ] && return 0
  local km=(keystone-manage --config-file "$DIR/keystone.conf") out="$DIR/logs/keystone-manage.log"
  log "keystone db_sync / fernet / bootstrap"
  # (keystone-manage prints harmless eventlet "Exception ignored" noise at exit)
  "${km[@]}" db_sync >>"$out" 2>&1 || { tail -20 "$out"; die "keystone-manage db_sync failed"; }
  "${km[@]}" fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" >>"$out" 2>&1
  "${km[@]}" credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" >>"$out" 2>&1
  "${km[@]}" bootstrap --bootstrap-password "$ADMIN_PASSWORD" \
    --bootstrap-region-id "$REGION" \
    --bootstrap-public-url "$KS_URL" --bootstrap-internal-url "$KS_URL" \
    --bootstrap-admin-url "$KS_URL" >>"$out" 2>&1 || { tail -20 "$out"; die "keystone-manage bootstrap failed"; }
  log "heat db_sync"
  heat-manage --config-file "$DIR/heat.conf" db_sync >>"$DIR/logs/heat-manage.log" 2>&1 \
    || { tail -20 "$DIR/logs/heat-manage.log"; die "heat-manage db_sync failed"; }
  # WAL: readers no longer block writers; without it concurrent requests (2 keystone
  # workers, heat's green threads) fail with "sqlite3.OperationalError: database is locked".
  sqlite3 "$DIR/keystone.sqlite" 'PRAGMA journal_mode=WAL;' >/dev/null
  sqlite3 "$DIR/heat.sqlite" 'PRAGMA journal_mode=WAL;' >/dev/null
  echo "$KS_PORT $HEAT_PORT" > "$DIR/.ports"
  touch "$DIR/.bootstrapped"
}

# Keystone objects Heat, Bayforge and the tests need. The script only creates what is
# missing (and resets the known users' passwords), so it is safe to run on every start: it
# runs whenever `up` has to start something, and also on an otherwise-fast `up` when what it
# registers changed (this script, a password, a URL): `.registered` holds the hash of what
# was last registered. A state dir bootstrapped by an older version of this script so gets
# the new projects, users, domain and services on its next `up`, without a reset.
register_identity_py() {
  cat <<'EOF'
import os
from keystoneauth1.identity import v3
from keystoneauth1 import session
from keystoneclient.v3 import client

# Each Keystone request costs ~0.2 s here: read each kind of object once, then create or
# grant only what is missing.
E = os.environ
ks = client.Client(session=session.Session(auth=v3.Password(
    auth_url=E["KS_URL"], username="admin", password=E["ADMIN_PASSWORD"],
    project_name="admin", user_domain_name="Default", project_domain_name="Default")))
anon = session.Session()
projects = {p.name: p for p in ks.projects.list(domain="default")}
domains = {d.name: d for d in ks.domains.list()}
roles = {r.name: r for r in ks.roles.list()}
users = {u.name: u for u in ks.users.list(domain="default")}
granted = set()
for a in ks.role_assignments.list():
    scope = a.scope.get("project") or a.scope.get("domain") or {}
    if getattr(a, "user", None):
        granted.add((a.role["id"], a.user["id"], scope.get("id")))

def project(name):
    return projects.get(name) or ks.projects.create(name, domain="default")

def domain(name, description):
    return domains.get(name) or ks.domains.create(name, description=description)

def role(name):
    return roles.get(name) or ks.roles.create(name)

def password_works(name, password):
    r = anon.post(E["KS_URL"] + "/auth/tokens", raise_exc=False, json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": name, "domain": {"id": "default"}, "password": password}}},
        "scope": "unscoped"}})
    return r.status_code == 201

def user(name, password, proj):
    u = users.get(name)
    if u:
        # setting a password revokes all the user's tokens (running services', tests'):
        # only when it is not the configured one already
        if not password_works(name, password):
            ks.users.update(u, password=password)
        return u
    return ks.users.create(name, domain="default", password=password, default_project=proj)

def grant(r, u, project=None, domain=None):
    if (r.id, u.id, (project or domain).id) not in granted:
        ks.roles.grant(r, user=u, project=project, domain=domain)

service_list, endpoint_list = ks.services.list(), ks.endpoints.list()

def service(type_, name, description, url):
    svc = next((s for s in service_list if s.type == type_), None) or \
        ks.services.create(name, type=type_, description=description)
    have = {e.interface: e for e in endpoint_list if e.service_id == svc.id and e.region == E["REGION"]}
    for iface in ("public", "internal", "admin"):
        if iface not in have:
            ks.endpoints.create(svc, url, interface=iface, region=E["REGION"])
        elif have[iface].url != url:
            ks.endpoints.update(have[iface], url=url)

service_p, demo_p, demo2_p, admin_p = project("service"), project("demo"), project("demo2"), project("admin")
# Per-bay trustee users live in their own domain, as Magnum's trustee_domain.
bayforge_d = domain("bayforge", "Bayforge: per-bay trustee users")
admin_r, member_r, reader_r = role("admin"), role("member"), role("reader")
owner_r = role("heat_stack_owner")
role("heat_stack_user")  # heat assigns it to users it creates; never grant it by hand
heat_u = user("heat", E["HEAT_PASSWORD"], service_p)
demo_u = user("demo", E["DEMO_PASSWORD"], demo_p)
demo2_u = user("demo2", E["DEMO2_PASSWORD"], demo2_p)
# Bayforge's service user: admin on `service` lets it validate other users' tokens and
# delete trusts (Keystone's default policy); admin on the `bayforge` domain makes it that
# domain's admin for the trustee users (Magnum's trustee_domain_admin).
bayforge_u = user("bayforge", E["BAYFORGE_PASSWORD"], service_p)
admin_u = users["admin"]
for r, u, p in [(admin_r, heat_u, service_p), (member_r, demo_u, demo_p),
                (owner_r, demo_u, demo_p), (owner_r, admin_u, admin_p),
                (member_r, demo2_u, demo2_p), (owner_r, demo2_u, demo2_p),
                (admin_r, bayforge_u, service_p)]:
    grant(r, u, project=p)
grant(admin_r, bayforge_u, domain=bayforge_d)

service("orchestration", "heat", "Orchestration", E["HEAT_URL"])
service("container-infra", "magnum", "Container Infrastructure Management (Bayforge)", E["BAYFORGE_URL"])
EOF
}

registration_hash() {
  { register_identity_py
    printf '%s\n' "$KS_URL" "$HEAT_URL" "$BAYFORGE_URL" "$REGION" \
      "$ADMIN_PASSWORD" "$DEMO_PASSWORD" "$DEMO2_PASSWORD" "$BAYFORGE_PASSWORD" "$HEAT_PASSWORD"
    # the full profile's catalog (or its removal on the light one)
    if [ "$PROFILE" = full ] || [ -f "$DIR/.registered-full" ]; then
      echo "$PROFILE $NOVA_PORT $PLACEMENT_PORT $GLANCE_PORT $NEUTRON_PORT $OCTAVIA_PORT"
      echo "$SERVICE_PASSWORD $STACK_DOMAIN_ADMIN_PASSWORD"; cat "$FULL_DIR/register.py"
    fi
  } | sha256sum | cut -c1-16
}

registered() { [ "$(cat "$DIR/.registered" 2>/dev/null)" = "$(registration_hash)" ]; }

register_identity() {
  log "registering projects, users, roles, the bayforge domain, heat and container-infra in the catalog"
  local out="$DIR/logs/register-identity.log"
  KS_URL=$KS_URL ADMIN_PASSWORD=$ADMIN_PASSWORD DEMO_PASSWORD=$DEMO_PASSWORD \
  DEMO2_PASSWORD=$DEMO2_PASSWORD BAYFORGE_PASSWORD=$BAYFORGE_PASSWORD \
  HEAT_PASSWORD=$HEAT_PASSWORD HEAT_URL=$HEAT_URL BAYFORGE_URL=$BAYFORGE_URL REGION=$REGION \
    "$PY" -c "$(register_identity_py)" >"$out" 2>&1 || { tail -20 "$out" >&2; die "registering keystone objects failed"; }
  if [ "$PROFILE" = full ] || [ -f "$DIR/.registered-full" ]; then
    if [ "$PROFILE" = full ]; then log "full profile: service users, heat's stack user domain, catalog"
    else log "light profile: removing the full profile's services from the catalog"; fi
    KS_URL=$KS_URL ADMIN_PASSWORD=$ADMIN_PASSWORD REGION=$REGION PROFILE=$PROFILE \
    NOVA_PORT=$NOVA_PORT PLACEMENT_PORT=$PLACEMENT_PORT GLANCE_PORT=$GLANCE_PORT \
    NEUTRON_PORT=$NEUTRON_PORT OCTAVIA_PORT=$OCTAVIA_PORT SERVICE_PASSWORD=$SERVICE_PASSWORD \
    STACK_DOMAIN_ADMIN_PASSWORD=$STACK_DOMAIN_ADMIN_PASSWORD \
      "$PY" "$FULL_DIR/register.py" >>"$out" 2>&1 || { tail -20 "$out" >&2; die "registering the full profile failed"; }
    if [ "$PROFILE" = full ]; then touch "$DIR/.registered-full"; else rm -f "$DIR/.registered-full"; fi
  fi
  registration_hash > "$DIR/.registered"
}

# ---------------------------------------------------------------- processes
pid_of() { cat "$DIR/run/$1.pid" 2>/dev/null || true; }

# alive NAME: the pid file names a live process that is really ours (after a reboot the pid
# may have been reused by something else).
alive() {
  local pid; pid=$(pid_of "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  local pat
  case "$1" in keystone) pat=uwsgi ;; heat) pat=heat-all ;; memcached) pat="memcached -l 127.0.0.1" ;; *) pat=$(full_pattern "$1") || return 1 ;; esac
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pat"
}

answers() { curl -s -o /dev/null -m "${2:-2}" "$1"; }

port_busy() { # port: is something listening there?
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_http() { # url seconds name
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    answers "$1" && return 0
    if [ -n "${3:-}" ] && ! alive "$3"; then
      log "$3 died while starting; last log lines:"; tail -15 "$DIR/logs/$3"*.log >&2 || true
      return 1
    fi
    sleep 0.2
  done
  log "timed out waiting for $1"; return 1
}

start_memcached() {
  alive memcached && return 0
  rm -f "$DIR/run/memcached.pid"
  port_busy "$MEMCACHED_PORT" && die "127.0.0.1:$MEMCACHED_PORT is taken by a process this script did not start (set DEVCLOUD_MEMCACHED_PORT)"
  log "starting memcached on 127.0.0.1:$MEMCACHED_PORT"
  # no UDP; -u: memcached refuses to run as root without naming the user it runs as
  setsid bash -c 'echo $$ > "$1"; shift; exec "$@"' devcloud-memcached "$DIR/run/memcached.pid" \
    memcached -l 127.0.0.1 -p "$MEMCACHED_PORT" -U 0 -m 64 -u "$(id -un)" >>"$DIR/logs/memcached.log" 2>&1 < /dev/null 9>&- &
  for _ in $(seq 50); do [ -s "$DIR/run/memcached.pid" ] && port_busy "$MEMCACHED_PORT" && return 0; sleep 0.1; done
  die "memcached did not start; see $DIR/logs/memcached.log"
}

start_keystone() {
  alive keystone && return 0
  rm -f "$DIR/run/keystone.pid"
  port_busy "$KS_PORT" && die "127.0.0.1:$KS_PORT is taken by a process this script did not start (set DEVCLOUD_KEYSTONE_PORT)"
  log "starting keystone on 127.0.0.1:$KS_PORT"
  # uwsgi writes its master pid itself; --die-on-term makes SIGTERM a clean stop.
  # --http-socket closes every connection after a response, so say so: without
  # "Connection: close" pooled clients (python-requests, node) reuse the dead socket
  # and get ECONNRESET.
  # One thread per process: Keystone on SQLite shares connections across threads
  # ("SQLite objects created in a thread can only be used in that same thread") and
  # once refused a good token's trust under concurrent load; processes do not share.
  # setsid: its own session, so nothing that kills the caller's process group kills it.
  setsid uwsgi --plugins python3 --master --die-on-term --no-orphans --lazy-apps \
    --http-socket "127.0.0.1:$KS_PORT" --add-header "Connection: close" \
    --wsgi-file /usr/bin/keystone-wsgi-public \
    --processes 6 --threads 1 --enable-threads --buffer-size 65535 \
    --env "OS_KEYSTONE_CONFIG_FILES=$DIR/keystone.conf" \
    --pidfile "$DIR/run/keystone.pid" --daemonize "$DIR/logs/keystone-uwsgi.log" 9>&-
  for _ in $(seq 50); do [ -s "$DIR/run/keystone.pid" ] && break; sleep 0.1; done
  conf_hash keystone > "$DIR/run/keystone.hash"
  wait_http "$KS_URL" 60 keystone
}

start_heat() {
  alive heat && return 0
  rm -f "$DIR/run/heat.pid"
  port_busy "$HEAT_PORT" && die "127.0.0.1:$HEAT_PORT is taken by a process this script did not start (set DEVCLOUD_HEAT_PORT)"
  # Heat on SQLite must not reuse ids as MySQL never does (a stale delete by a reused id broke
  # stacks under concurrency): see the script. Idempotent, and Heat is stopped here.
  python3 "$HERE/sqlite-ids-never-reused.py" "$DIR/heat.sqlite" >>"$DIR/logs/heat-manage.log" 2>&1 \
    || { tail -5 "$DIR/logs/heat-manage.log"; die "could not make Heat's SQLite ids unique for ever"; }
  log "starting heat-all on 127.0.0.1:$HEAT_PORT"
  # setsid: own session and process group, detached from the caller's terminal/job.
  # The inner shell writes its own pid and execs heat-all, so the pid file is right whether
  # or not setsid had to fork.
  setsid bash -c 'echo $$ > "$1"; shift; exec "$@"' devcloud-heat "$DIR/run/heat.pid" \
    heat-all --config-file "$DIR/heat.conf" >>"$DIR/logs/heat-all.out" 2>&1 < /dev/null 9>&- &
  for _ in $(seq 50); do [ -s "$DIR/run/heat.pid" ] && break; sleep 0.1; done
  conf_hash heat > "$DIR/run/heat.hash"
  wait_http "$HEAT_ROOT" 90 heat
}

# Readiness through the whole chain: keystone token -> heat API -> engine (RPC) -> DB.
wait_heat_engine() {
  local i body token project
  for ((i = 0; i < 60; i++)); do
    body=$(curl -s -m 5 -D "$DIR/run/token.hdr" -H 'Content-Type: application/json' \
      -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"admin\",\"domain\":{\"name\":\"Default\"},\"password\":\"$ADMIN_PASSWORD\"}}},\"scope\":{\"project\":{\"name\":\"admin\",\"domain\":{\"name\":\"Default\"}}}}}" \
      "$KS_URL/auth/tokens" || true)
    token=$(tr -d '\r' < "$DIR/run/token.hdr" 2>/dev/null | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p')
    project=$(printf '%s' "$body" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["token"]["project"]["id"])' 2>/dev/null || true)
    rm -f "$DIR/run/token.hdr"
    if [ -n "$token" ] && [ -n "$project" ] && \
       [ "$(curl -s -o /dev/null -m 30 -w '%{http_code}' -H "X-Auth-Token: $token" \
            "http://127.0.0.1:$HEAT_PORT/v1/$project/stacks?limit=1")" = 200 ]; then
      return 0
    fi
    alive heat || { log "heat died; last log lines:"; tail -15 "$DIR/logs/heat.log" >&2; return 1; }
    sleep 1
  done
  log "heat engine not ready after 60 tries"; return 1
}

stop_one() {
  local f="$DIR/run/$1.pid" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if alive "$1"; then
    log "stopping $1 (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f" "$DIR/run/$1.hash"
}

# Everything runs and answers, with the configuration it was started with.
is_up() {
  alive memcached && alive keystone && alive heat && answers "$KS_URL" && answers "$HEAT_ROOT" || return 1
  [ "$(cat "$DIR/run/keystone.hash" 2>/dev/null)" = "$(conf_hash keystone)" ] || return 1
  [ "$(cat "$DIR/run/heat.hash" 2>/dev/null)" = "$(conf_hash heat)" ] || return 1
  [ "$(cat "$DIR/.profile" 2>/dev/null || echo light)" = "$PROFILE" ] || return 1
  if [ "$PROFILE" = full ]; then full_is_up; else ! any_full_alive; fi
}

# ---------------------------------------------------------------- output
# creds USER: sets CRED_PASSWORD and CRED_PROJECT for a dev-cloud user (domain Default)
creds() {
  case "$1" in
    admin) CRED_PASSWORD=$ADMIN_PASSWORD CRED_PROJECT=admin ;;
    demo) CRED_PASSWORD=$DEMO_PASSWORD CRED_PROJECT=demo ;;
    demo2) CRED_PASSWORD=$DEMO2_PASSWORD CRED_PROJECT=demo2 ;;
    bayforge) CRED_PASSWORD=$BAYFORGE_PASSWORD CRED_PROJECT=service ;;
    *) die "unknown user '$1' (admin, demo, demo2, bayforge)" ;;
  esac
}

print_env() { # admin|demo|demo2|bayforge
  local u=${1:-admin}
  creds "$u"
  cat <<EOF
export OS_AUTH_URL=$KS_URL
export OS_AUTH_TYPE=password
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=$u
export OS_PASSWORD=$CRED_PASSWORD
export OS_PROJECT_NAME=$CRED_PROJECT
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=$REGION
EOF
}

USERS=(admin demo demo2 bayforge)

write_clouds_yaml() {
  local u
  {
    echo "# use with OS_CLIENT_CONFIG_FILE=$DIR/clouds.yaml OS_CLOUD=devcloud-admin|devcloud-demo|devcloud-demo2|devcloud-bayforge"
    echo "clouds:"
    for u in "${USERS[@]}"; do
      creds "$u"
      cat <<EOF
  devcloud-$u:
    auth: {auth_url: "$KS_URL", username: $u, password: "$CRED_PASSWORD",
           project_name: $CRED_PROJECT, user_domain_name: Default, project_domain_name: Default}
    region_name: $REGION
    identity_api_version: 3
EOF
    done
  } | put "$DIR/clouds.yaml"
  for u in "${USERS[@]}"; do print_env "$u" | put "$DIR/$u-openrc"; done
}

status() {
  local rc=0 n names=(memcached keystone heat)
  [ "$(cat "$DIR/.profile" 2>/dev/null)" = full ] && names+=("${FULL_SERVICES[@]}") && \
    [ -f "$NODE_SIMULATOR" ] && names+=(node-simulator)
  echo "profile: $(cat "$DIR/.profile" 2>/dev/null || echo light)"
  for n in "${names[@]}"; do
    if alive $n; then echo "$n: running (pid $(pid_of $n))"; else echo "$n: stopped"; rc=1; fi
  done
  curl -s -o /dev/null -m 2 -w "keystone $KS_URL -> HTTP %{http_code}\n" "$KS_URL" || { echo "keystone: no answer"; rc=1; }
  curl -s -o /dev/null -m 2 -w "heat $HEAT_ROOT -> HTTP %{http_code}\n" "$HEAT_ROOT" || { echo "heat: no answer"; rc=1; }
  if [ "$(cat "$DIR/.profile" 2>/dev/null)" = full ]; then full_status || rc=1; fi
  echo "state: $DIR"
  return $rc
}

# Serialize up/down/reset between concurrent callers (parallel test runners). The services
# are started with fd 9 closed (`9>&-`): a daemon inheriting it would hold the lock forever.
lock() {
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock -w 900 9 || die "could not lock $DIR/.lock"
}

up() {
  lock
  mkdir -p "$DIR/logs"
  if command -v heat-all >/dev/null && command -v uwsgi >/dev/null && [ -f "$DIR/.bootstrapped" ] &&
     { [ "$PROFILE" = light ] || full_bootstrapped; }; then
    write_configs
    if is_up; then
      registered || register_identity   # what this script registers changed since
      write_clouds_yaml
      log "already up ($PROFILE): keystone $KS_URL, heat ${HEAT_ROOT}v1, state in $DIR"
      print_env admin
      return 0
    fi
  fi
  install_packages
  write_configs
  # back to the light profile: the full profile's services go (heat restarts below: its
  # environment changed)
  [ "$PROFILE" = light ] && stop_full
  [ "$PROFILE" = full ] && restart_changed_full
  # a service started with another configuration (ports, fakes, env) is restarted
  if alive keystone && [ "$(cat "$DIR/run/keystone.hash" 2>/dev/null)" != "$(conf_hash keystone)" ]; then
    log "keystone configuration changed: restarting"; stop_one keystone
  fi
  if alive heat && [ "$(cat "$DIR/run/heat.hash" 2>/dev/null)" != "$(conf_hash heat)" ]; then
    log "heat configuration changed: restarting"; stop_one heat
  fi
  # a live process that does not answer (hung) is restarted too
  alive keystone && ! answers "$KS_URL" 5 && { log "keystone does not answer: restarting"; stop_one keystone; }
  alive heat && ! answers "$HEAT_ROOT" 5 && { log "heat does not answer: restarting"; stop_one heat; }
  start_memcached   # before keystone-manage too: it reads and invalidates the cache
  bootstrap
  if [ "$PROFILE" = full ]; then
    # the bus boots (~10 s) while the databases are made
    start_full_one epmd; start_full_one rabbitmq; start_full_one mariadb
    bootstrap_full
  fi
  start_keystone
  register_identity
  [ "$PROFILE" = full ] && start_full
  start_heat
  wait_heat_engine
  write_clouds_yaml
  if [ "$PROFILE" = full ]; then seed_full; start_node_simulator; fi
  echo "$PROFILE" > "$DIR/.profile"
  log "up ($PROFILE): keystone $KS_URL, heat ${HEAT_ROOT}v1, state in $DIR"
  log "clouds.yaml: $DIR/clouds.yaml (OS_CLOUD=devcloud-admin|devcloud-demo|devcloud-demo2|devcloud-bayforge)"
  print_env admin
}

case "${1:-}" in
  up)
    case "${2:-}" in --full) PROFILE=full ;; "") ;; *) die "usage: $0 up [--full]" ;; esac
    up ;;
  down) lock; stop_full; stop_one heat; stop_one keystone; stop_one memcached ;;
  status) status ;;
  env) print_env "${2:-admin}" ;;
  reset)
    lock; stop_full; stop_one heat; stop_one keystone; stop_one memcached
    rm -rf "${DIR:?}"/* "${DIR:?}"/.[!.]* 2>/dev/null || true
    rmdir "$DIR" 2>/dev/null || true
    ;;
  *) echo "usage: $0 up [--full]|down|status|env [admin|demo|demo2|bayforge]|reset" >&2; exit 2 ;;
esac
