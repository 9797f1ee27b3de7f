# full.sh: the dev cloud's full profile (sourced by ../devcloud.sh; `up --full`).
# shellcheck shell=bash
#
# Adds to the light profile's Keystone + Heat the real Zed services of Debian bookworm:
# RabbitMQ, Placement, Glance (file store), Nova (api, conductor, scheduler; compute with
# the fake virt driver), Neutron (server, ML2 with the bind-all mechanism driver of
# python/devcloud_ext, L3 `router` plugin, no agents) and Octavia (api + worker, noop
# amphora/compute drivers, a network driver that owns a real Neutron VIP port). Each runs
# as one process (or uwsgi master) on 127.0.0.1, started and stopped by pid; state (configs,
# SQLite DBs in WAL mode, MariaDB for Neutron and Octavia, images, logs) lives in $DIR.
# See README.md "Full profile".

NOVA_PORT=${DEVCLOUD_NOVA_PORT:-8774}
PLACEMENT_PORT=${DEVCLOUD_PLACEMENT_PORT:-8778}
GLANCE_PORT=${DEVCLOUD_GLANCE_PORT:-9292}
NEUTRON_PORT=${DEVCLOUD_NEUTRON_PORT:-9696}
OCTAVIA_PORT=${DEVCLOUD_OCTAVIA_PORT:-9876}
RABBIT_PORT=${DEVCLOUD_RABBITMQ_PORT:-5672}
EPMD_PORT=${DEVCLOUD_EPMD_PORT:-4369}
MYSQL_PORT=${DEVCLOUD_MYSQL_PORT:-3306}
RABBIT_DIST_PORT=${DEVCLOUD_RABBITMQ_DIST_PORT:-$((RABBIT_PORT + 20000))}
# one node name per bus port: two dev clouds on one machine share epmd's name space
RABBIT_NODE=devcloud${RABBIT_PORT}@localhost
SERVICE_PASSWORD=${DEVCLOUD_SERVICE_PASSWORD:-devcloud-service}
STACK_DOMAIN_ADMIN_PASSWORD=${DEVCLOUD_STACK_DOMAIN_ADMIN_PASSWORD:-devcloud-heat-domain}
TRANSPORT_URL="rabbit://guest:guest@127.0.0.1:${RABBIT_PORT}/"
# Neutron and Octavia run on MariaDB: their migrations do not support SQLite, and their
# single eventlet process on SQLite fails concurrent writes ("database is locked": the
# busy wait blocks the hub, so the lock holder never commits)
MYSQL_SOCKET=$DIR/run/mysqld.sock
mysql_url() { echo "mysql+pymysql://devcloud:devcloud@127.0.0.1:${MYSQL_PORT}/$1?charset=utf8mb4"; }
FULL_DIR="$HERE/full"
FULL_PACKAGES=(python3-nova nova-api nova-conductor nova-scheduler placement-api glance-api
  neutron-server octavia-api octavia-worker rabbitmq-server python3-octaviaclient
  mariadb-server python3-pymysql)
# Start order; `down` stops them in reverse. node-simulator only when its file exists.
FULL_SERVICES=(epmd rabbitmq mariadb placement glance neutron nova-api nova-conductor nova-scheduler
  nova-compute octavia-api octavia-worker)
NODE_SIMULATOR="$REPO_ROOT/scripts/devcloud/node-simulator/main.ts"

# what `alive` looks for in /proc/<pid>/cmdline
full_pattern() {
  case "$1" in
    epmd) echo "epmd -address" ;;
    rabbitmq) echo "rabbitmq-server" ;;
    mariadb) echo "mariadbd" ;;
    placement) echo "placement-api" ;;
    glance) echo "glance-api" ;;
    neutron) echo "neutron-server" ;;
    nova-api) echo "nova-api" ;;
    nova-conductor) echo "nova-conductor" ;;
    nova-scheduler) echo "nova-scheduler" ;;
    nova-compute) echo "nova.cmd.compute" ;;
    octavia-api) echo "octavia_wsgi" ;;
    octavia-worker) echo "octavia-worker" ;;
    node-simulator) echo "node-simulator" ;;
    *) return 1 ;;
  esac
}

# ---------------------------------------------------------------- config
# a [section] with password credentials of a service user (clients to other services)
svc_auth() { # section user
  cat <<EOF
[$1]
auth_type = password
auth_url = http://127.0.0.1:${KS_PORT}
username = $2
password = $SERVICE_PASSWORD
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = $REGION
EOF
}

# [keystone_authtoken] for a service user (all share SERVICE_PASSWORD, project `service`)
authtoken() { # user
  svc_auth keystone_authtoken "$1"
  echo "www_authenticate_uri = http://127.0.0.1:${KS_PORT}/v3"
}

write_full_configs() {
  mkdir -p "$DIR"/{nova,neutron,glance/images,octavia,placement,rabbitmq/mnesia,logs/rabbitmq,ssh}
  put "$DIR/rabbitmq/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$RABBIT_PORT
distribution.listener.interface = 127.0.0.1
distribution.listener.port_range.min = $RABBIT_DIST_PORT
distribution.listener.port_range.max = $RABBIT_DIST_PORT
log.file.level = warning
disk_free_limit.absolute = 50MB
EOF
  echo "[]." | put "$DIR/rabbitmq/enabled_plugins"
  : | put "$DIR/rabbitmq/rabbitmq-env.conf"

  { cat <<EOF
[DEFAULT]
log_file = $DIR/logs/placement.log
[placement_database]
connection = sqlite:///$DIR/placement.sqlite
[api]
auth_strategy = keystone
EOF
    authtoken placement; } | put "$DIR/placement/placement.conf"

  { cat <<EOF
[DEFAULT]
log_file = $DIR/logs/glance.log
bind_host = 127.0.0.1
bind_port = $GLANCE_PORT
workers = 1
image_cache_dir = $DIR/glance/cache
[database]
connection = sqlite:///$DIR/glance.sqlite
[glance_store]
stores = file
default_store = file
filesystem_store_datadir = $DIR/glance/images/
[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini
[oslo_concurrency]
lock_path = $DIR/lock
EOF
    authtoken glance; } | put "$DIR/glance/glance-api.conf"

  { cat <<EOF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $NEUTRON_PORT
state_path = $DIR/neutron
core_plugin = ml2
# routers, gateways and floating IPs (the API and DB; no L3 agent wires anything)
service_plugins = router
auth_strategy = keystone
transport_url = $TRANSPORT_URL
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
api_paste_config = /etc/neutron/api-paste.ini
allow_overlapping_ips = true
# no agents: nothing to notify, nothing to schedule
dhcp_agent_notification = false
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
network_auto_schedule = false
router_auto_schedule = false
periodic_interval = 600
graceful_shutdown_timeout = 2
[agent]
report_interval = 300
[database]
connection = $(mysql_url neutron)
[oslo_concurrency]
lock_path = $DIR/lock
[quotas]
# a dozen bays per project (each: 3 SGs, a net, subnet, router, ~6 ports, ~4 FIPs)
quota_network = -1
quota_subnet = -1
quota_port = -1
quota_router = -1
quota_floatingip = -1
quota_security_group = -1
quota_security_group_rule = -1
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
# binds every port on any host without a data plane (full/python/devcloud_ext)
mechanism_drivers = devcloud_bind_all
extension_drivers = port_security
[ml2_type_flat]
flat_networks = public
[ml2_type_vxlan]
vni_ranges = 1:10000
[securitygroup]
enable_security_group = true
EOF
    authtoken neutron; } | put "$DIR/neutron/neutron.conf"

  { cat <<EOF
[DEFAULT]
state_path = $DIR/nova
transport_url = $TRANSPORT_URL
host = devcloud
my_ip = 127.0.0.1
compute_driver = fake.FakeDriver
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = $NOVA_PORT
osapi_compute_workers = 1
# fake servers plug no VIF: do not wait for Neutron's network-vif-plugged
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
# long periodic intervals: 2 cores
report_interval = 60
service_down_time = 600
update_resources_interval = 600
heal_instance_info_cache_interval = -1
sync_power_state_interval = -1
instance_usage_audit = false
graceful_shutdown_timeout = 2
[api]
auth_strategy = keystone
[api_database]
connection = $(mysql_url nova_api)
[database]
connection = $(mysql_url nova)
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = -1
[oslo_concurrency]
lock_path = $DIR/lock
[oslo_messaging_notifications]
driver = noop
[vnc]
enabled = false
[quota]
instances = -1
cores = -1
ram = -1
key_pairs = -1
server_groups = -1
server_group_members = -1
[glance]
region_name = $REGION
EOF
    authtoken nova; svc_auth placement nova; svc_auth neutron nova; } | put "$DIR/nova/nova.conf"

  put "$DIR/octavia/policy.yaml" <<'EOF'
# Keystone's default roles instead of Octavia's load-balancer_* roles (as Octavia's own
# etc/policy/keystone_default_roles-policy.yaml): a project's `member` manages its load
# balancers, as Heat's trust for a bay carries only member and reader.
"load-balancer:observer_and_owner": "role:reader and rule:load-balancer:owner"
"load-balancer:member_and_owner": "role:member and rule:load-balancer:owner"
"load-balancer:global_observer": "role:admin"
"load-balancer:admin": "is_admin:True or role:admin"
"context_is_admin": "role:admin"
EOF
  { cat <<EOF
[DEFAULT]
transport_url = $TRANSPORT_URL
graceful_shutdown_timeout = 2
[api_settings]
bind_host = 127.0.0.1
bind_port = $OCTAVIA_PORT
auth_strategy = keystone
enabled_provider_drivers = amphora:The Octavia Amphora driver (noop amphorae on the dev cloud).
default_provider_driver = amphora
[database]
connection = $(mysql_url octavia)
[controller_worker]
workers = 1
amphora_driver = amphora_noop_driver
compute_driver = compute_noop_driver
# noop, but the VIP port is a real Neutron port (full/python/devcloud_ext)
network_driver = devcloud_real_vip_driver
loadbalancer_topology = SINGLE
client_ca = $DIR/octavia/ca.pem
[task_flow]
jobboard_enabled = false
[certificates]
# the amphora create flow signs a (never used) amphora certificate: a CA of our own
ca_certificate = $DIR/octavia/ca.pem
ca_private_key = $DIR/octavia/ca.key
ca_private_key_passphrase = devcloud-octavia-ca
server_certs_key_passphrase = devcloud-octavia-server-cert-key
[haproxy_amphora]
server_ca = $DIR/octavia/ca.pem
client_cert = $DIR/octavia/ca.pem
[oslo_messaging]
topic = octavia_prov
[oslo_policy]
policy_file = $DIR/octavia/policy.yaml
[oslo_concurrency]
lock_path = $DIR/lock
[neutron]
region_name = $REGION
endpoint_type = public
[nova]
region_name = $REGION
[glance]
region_name = $REGION
EOF
    authtoken octavia; svc_auth service_auth octavia; } | put "$DIR/octavia/octavia.conf"
}

# heat.conf additions in the full profile: the stack user domain (WaitConditionHandle's
# users and their tokens: curl_cli) and real clients
heat_full_conf() {
  cat <<EOF
stack_user_domain_name = heat
stack_domain_admin = heat_domain_admin
stack_domain_admin_password = $STACK_DOMAIN_ADMIN_PASSWORD
EOF
}

full_conf_hash() { # service
  case "$1" in
    epmd) echo "$EPMD_PORT" ;;
    rabbitmq) cat "$DIR"/rabbitmq/rabbitmq.conf; echo "$RABBIT_NODE $EPMD_PORT" ;;
    mariadb) echo "$MYSQL_PORT" ;;
    placement) cat "$DIR/placement/placement.conf"; echo "$PLACEMENT_PORT" ;;
    glance) cat "$DIR/glance/glance-api.conf" ;;
    neutron) cat "$DIR/neutron/neutron.conf" "$FULL_DIR"/python/devcloud_ext/ml2_bind_all.py ;;
    nova-*) cat "$DIR/nova/nova.conf" ;;
    octavia-*) cat "$DIR/octavia/octavia.conf" "$DIR/octavia/policy.yaml" "$FULL_DIR"/python/devcloud_ext/octavia_vip_driver.py; echo "$OCTAVIA_PORT" ;;
    # all of its code, so that `up --full` runs the simulator the checkout has
    node-simulator) cat "$(dirname "$NODE_SIMULATOR")"/*.ts "$(dirname "$NODE_SIMULATOR")"/sandbox/* 2>/dev/null; echo "$DIR" ;;
  esac | sha256sum | cut -c1-16
}

# ---------------------------------------------------------------- bootstrap (once)
# The marker names the database layout: a state dir made when Nova was on SQLite (v1) is
# bootstrapped again (every sync is idempotent; Nova's databases are new on MariaDB).
FULL_LAYOUT=2
full_bootstrapped() { [ "$(cat "$DIR/.bootstrapped-full" 2>/dev/null)" = "$FULL_LAYOUT" ]; }

# sqlite_wal DB...: readers no longer block writers (several processes share a DB)
sqlite_wal() { local f; for f in "$@"; do sqlite3 "$f" 'PRAGMA journal_mode=WAL;' >/dev/null; done; }

bootstrap_full() {
  full_bootstrapped && return 0
  # an older layout's Placement knows a compute node Nova's new databases do not: start it over
  [ -f "$DIR/.bootstrapped-full" ] && rm -f "$DIR"/placement.sqlite*
  log "full profile: db sync (placement, nova, glance, neutron, octavia)"
  local pids=() p rc=0 out="$DIR/logs"
  # independent DBs: in parallel
  ( placement-manage --config-file "$DIR/placement/placement.conf" db sync >"$out/placement-manage.log" 2>&1 ) & pids+=($!)
  ( glance-manage --config-file "$DIR/glance/glance-api.conf" db_sync >"$out/glance-manage.log" 2>&1 ) & pids+=($!)
  ( bootstrap_neutron_db >"$out/neutron-db-manage.log" 2>&1 ) & pids+=($!)
  ( bootstrap_octavia_db >"$out/octavia-db-manage.log" 2>&1 ) & pids+=($!)
  ( local nm=(nova-manage --config-file "$DIR/nova/nova.conf")
    set -e
    "${nm[@]}" api_db sync
    "${nm[@]}" cell_v2 map_cell0 --database_connection "$(mysql_url nova_cell0)"
    "${nm[@]}" cell_v2 list_cells | grep -q ' cell1 ' || "${nm[@]}" cell_v2 create_cell --name cell1
    "${nm[@]}" db sync
  ) >"$out/nova-manage.log" 2>&1 & pids+=($!)
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  if [ $rc -ne 0 ]; then
    tail -n 5 "$out"/{placement-manage,glance-manage,neutron-db-manage,octavia-db-manage,nova-manage}.log >&2
    die "full profile: db sync failed (logs in $out)"
  fi
  sqlite_wal "$DIR"/{placement,glance}.sqlite
  echo "$FULL_LAYOUT" > "$DIR/.bootstrapped-full"
}

bootstrap_neutron_db() {
  neutron-db-manage --config-file "$DIR/neutron/neutron.conf" upgrade heads
}

bootstrap_octavia_db() {
  [ -s "$DIR/octavia/ca.pem" ] || openssl req -x509 -newkey rsa:2048 -days 3650 \
    -subj /CN=devcloud-octavia-ca -passout pass:devcloud-octavia-ca \
    -keyout "$DIR/octavia/ca.key" -out "$DIR/octavia/ca.pem"
  octavia-db-manage --config-file "$DIR/octavia/octavia.conf" upgrade head
}

# ---------------------------------------------------------------- processes
# start_daemon NAME CMD...: own session, pid file written by the shell that execs CMD.
start_daemon() {
  local name=$1; shift
  rm -f "$DIR/run/$name.pid"
  setsid bash -c 'echo $$ > "$1"; shift; exec "$@"' "devcloud-$name" "$DIR/run/$name.pid" \
    "$@" >>"${DAEMON_LOG:-$DIR/logs/$name.out}" 2>&1 < /dev/null 9>&- &
  for _ in $(seq 50); do [ -s "$DIR/run/$name.pid" ] && break; sleep 0.1; done
  full_conf_hash "$name" > "$DIR/run/$name.hash"
}

start_uwsgi() { # name port wsgi-file env processes
  rm -f "$DIR/run/$1.pid"
  setsid uwsgi --plugins python3 --master --die-on-term --no-orphans --lazy-apps \
    --http-socket "127.0.0.1:$2" --add-header "Connection: close" \
    --wsgi-file "$3" --processes "$5" --threads 1 --enable-threads --buffer-size 65535 \
    --pythonpath "$FULL_DIR/python" --env "$4" \
    --pidfile "$DIR/run/$1.pid" --daemonize "$DIR/logs/$1-uwsgi.log" 9>&-
  for _ in $(seq 50); do [ -s "$DIR/run/$1.pid" ] && break; sleep 0.1; done
  full_conf_hash "$1" > "$DIR/run/$1.hash"
}

full_port() {
  case "$1" in
    epmd) echo "$EPMD_PORT" ;; rabbitmq) echo "$RABBIT_PORT" ;; mariadb) echo "$MYSQL_PORT" ;;
    placement) echo "$PLACEMENT_PORT" ;; glance) echo "$GLANCE_PORT" ;;
    neutron) echo "$NEUTRON_PORT" ;; nova-api) echo "$NOVA_PORT" ;;
    octavia-api) echo "$OCTAVIA_PORT" ;;
  esac
}

start_full_one() {
  local name=$1 port
  alive "$name" && return 0
  port=$(full_port "$name")
  if [ -n "$port" ] && port_busy "$port"; then
    die "127.0.0.1:$port ($name) is taken by a process this script did not start (see DEVCLOUD_*_PORT in README.md)"
  fi
  # RabbitMQ's distribution port (node port + 20000) must be free too, or the node exits
  if [ "$name" = rabbitmq ] && port_busy "$RABBIT_DIST_PORT"; then
    die "127.0.0.1:$RABBIT_DIST_PORT (RabbitMQ's distribution port) is taken (set DEVCLOUD_RABBITMQ_DIST_PORT, or another DEVCLOUD_RABBITMQ_PORT)"
  fi
  log "starting $name${port:+ on 127.0.0.1:$port}"
  local py=(env PYTHONPATH="$FULL_DIR/python" "$PY")
  case "$name" in
    epmd) start_daemon epmd epmd -address 127.0.0.1 -port "$EPMD_PORT" ;;
    rabbitmq)
      # HOME: the Erlang cookie lives in the state dir, not in root's home
      start_daemon rabbitmq env HOME="$DIR/rabbitmq" ERL_EPMD_PORT="$EPMD_PORT" \
        ERL_EPMD_ADDRESS=127.0.0.1 ERL_CRASH_DUMP="$DIR/logs/erl_crash.dump" RABBITMQ_NODENAME="$RABBIT_NODE" \
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$RABBIT_PORT" \
        RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT" RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq/rabbitmq-env.conf" \
        RABBITMQ_CONFIG_FILE="$DIR/rabbitmq/rabbitmq.conf" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/rabbitmq/enabled_plugins" \
        RABBITMQ_MNESIA_BASE="$DIR/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$DIR/logs/rabbitmq" \
        RABBITMQ_PID_FILE="$DIR/rabbitmq/beam.pid" \
        /usr/lib/rabbitmq/bin/rabbitmq-server ;;
    mariadb)
      [ -d "$DIR/mysql/mysql" ] || mariadb-install-db --no-defaults --datadir="$DIR/mysql" --user=root \
        --skip-test-db --auth-root-authentication-method=socket >"$DIR/logs/mariadb-install.log" 2>&1 \
        || { tail -5 "$DIR/logs/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
      start_daemon mariadb mariadbd --no-defaults --user=root --datadir="$DIR/mysql" \
        --socket="$MYSQL_SOCKET" --bind-address=127.0.0.1 --port="$MYSQL_PORT" \
        --pid-file="$DIR/mysql/mariadbd.pid" --log-error="$DIR/logs/mariadb.log" \
        --skip-name-resolve --skip-log-bin --performance-schema=off --max-connections=400 \
        --innodb-buffer-pool-size=64M --innodb-log-file-size=16M --innodb-flush-log-at-trx-commit=2
      local i
      for ((i = 0; i < 100; i++)); do
        mariadb-admin --no-defaults -S "$MYSQL_SOCKET" -uroot ping >/dev/null 2>&1 && break
        alive mariadb || { tail -10 "$DIR/logs/mariadb.log" >&2; die "mariadb died"; }
        sleep 0.3
      done
      mariadb --no-defaults -S "$MYSQL_SOCKET" -uroot -e "
        CREATE DATABASE IF NOT EXISTS neutron CHARACTER SET utf8mb4;
        CREATE DATABASE IF NOT EXISTS octavia CHARACTER SET utf8mb4;
        CREATE DATABASE IF NOT EXISTS nova_api CHARACTER SET utf8mb4;
        CREATE DATABASE IF NOT EXISTS nova CHARACTER SET utf8mb4;
        CREATE DATABASE IF NOT EXISTS nova_cell0 CHARACTER SET utf8mb4;
        CREATE USER IF NOT EXISTS 'devcloud'@'127.0.0.1' IDENTIFIED BY 'devcloud';
        GRANT ALL ON neutron.* TO 'devcloud'@'127.0.0.1';
        GRANT ALL ON octavia.* TO 'devcloud'@'127.0.0.1';
        GRANT ALL ON nova_api.* TO 'devcloud'@'127.0.0.1';
        GRANT ALL ON nova.* TO 'devcloud'@'127.0.0.1';
        GRANT ALL ON nova_cell0.* TO 'devcloud'@'127.0.0.1';" ;;
    placement) start_uwsgi placement "$PLACEMENT_PORT" /usr/bin/placement-api \
        "OS_PLACEMENT_CONFIG_DIR=$DIR/placement" 1 ;;
    glance) start_daemon glance "$PY" /usr/bin/glance-api --config-file "$DIR/glance/glance-api.conf" ;;
    neutron) start_daemon neutron "${py[@]}" /usr/bin/neutron-server --config-file "$DIR/neutron/neutron.conf" \
        --log-file "$DIR/logs/neutron.log" ;;
    nova-api|nova-conductor|nova-scheduler)
      start_daemon "$name" "$PY" "/usr/bin/$name" --config-file "$DIR/nova/nova.conf" --log-file "$DIR/logs/$name.log" ;;
    nova-compute)
      # python3-nova's entry point, without Debian's nova-compute package (it pulls libvirt)
      start_daemon nova-compute "$PY" -c 'import sys; sys.argv[0] = "nova-compute"; from nova.cmd.compute import main; main()  # nova.cmd.compute' \
        --config-file "$DIR/nova/nova.conf" --log-file "$DIR/logs/nova-compute.log" ;;
    octavia-api) start_uwsgi octavia-api "$OCTAVIA_PORT" "$FULL_DIR/python/devcloud_ext/octavia_wsgi.py" \
        "OCTAVIA_CONFIG_FILE=$DIR/octavia/octavia.conf" 2 ;;
    octavia-worker) start_daemon octavia-worker "${py[@]}" /usr/bin/octavia-worker \
        --config-file "$DIR/octavia/octavia.conf" --log-file "$DIR/logs/octavia-worker.log" ;;
  esac
}

start_node_simulator() {
  [ -f "$NODE_SIMULATOR" ] || return 0
  alive node-simulator && return 0
  log "starting the node simulator"
  DAEMON_LOG="$DIR/logs/node-simulator.log" start_daemon node-simulator env --chdir="$REPO_ROOT" \
    DEVCLOUD_DIR="$DIR" OS_CLIENT_CONFIG_FILE="$DIR/clouds.yaml" OS_CLOUD=devcloud-admin \
    node --import tsx scripts/devcloud/node-simulator/main.ts
}

# Start what is not running, then wait until each API answers and Nova's compute host is
# mapped to the cell (the scheduler finds no host before that).
start_full() {
  local n
  for n in "${FULL_SERVICES[@]}"; do
    # Nova's services give up at start when Placement does not answer yet
    [ "$n" = nova-api ] && wait_http "http://127.0.0.1:$PLACEMENT_PORT/" 90 placement
    start_full_one "$n"
  done
  wait_http "http://127.0.0.1:$GLANCE_PORT/" 90 glance
  wait_http "http://127.0.0.1:$NEUTRON_PORT/" 90 neutron
  wait_http "http://127.0.0.1:$NOVA_PORT/" 90 nova-api
  wait_http "http://127.0.0.1:$OCTAVIA_PORT/" 90 octavia-api
  local i nm=(nova-manage --config-file "$DIR/nova/nova.conf")
  # the bus: every service above waits for it (and retries forever when it died)
  for ((i = 0; i < 150; i++)); do
    port_busy "$RABBIT_PORT" && break
    alive rabbitmq || { tail -5 "$DIR/logs/rabbitmq.out" >&2; die "rabbitmq died (log: $DIR/logs/rabbitmq.out)"; }
    sleep 0.2
  done
  for ((i = 0; i < 40; i++)); do
    "${nm[@]}" cell_v2 list_hosts 2>/dev/null | grep -q ' devcloud ' && return 0
    "${nm[@]}" cell_v2 discover_hosts >>"$DIR/logs/nova-manage.log" 2>&1 || true
    for n in nova-conductor nova-scheduler nova-compute; do
      alive $n || { tail -15 "$DIR/logs/$n.log" >&2; die "$n died"; }
    done
    sleep 2
  done
  die "nova-compute's host never showed up in the cell (logs: $DIR/logs/nova-*.log)"
}

seed_hash() {
  { cat "$FULL_DIR/seed.py"; echo "$NOVA_PORT $GLANCE_PORT $NEUTRON_PORT layout $FULL_LAYOUT"; } | sha256sum | cut -c1-16
}

seed_full() {
  [ "$(cat "$DIR/.seeded" 2>/dev/null)" = "$(seed_hash)" ] && return 0
  log "full profile: image ubuntu-noble, flavors, keypairs, network public"
  [ -f "$DIR/ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C devcloud-default -f "$DIR/ssh/id_ed25519"
  DEVCLOUD_DIR=$DIR OS_CLIENT_CONFIG_FILE="$DIR/clouds.yaml" "$PY" "$FULL_DIR/seed.py" \
    >"$DIR/logs/seed.log" 2>&1 || { tail -20 "$DIR/logs/seed.log" >&2; die "seeding the full profile failed"; }
  seed_hash > "$DIR/.seeded"
}

any_full_alive() {
  local n
  for n in "${FULL_SERVICES[@]}" node-simulator; do alive "$n" && return 0; done
  return 1
}

full_is_up() {
  local n
  for n in "${FULL_SERVICES[@]}"; do
    alive "$n" && [ "$(cat "$DIR/run/$n.hash" 2>/dev/null)" = "$(full_conf_hash "$n")" ] || return 1
  done
  if [ -f "$NODE_SIMULATOR" ]; then
    alive node-simulator && [ "$(cat "$DIR/run/node-simulator.hash" 2>/dev/null)" = "$(full_conf_hash node-simulator)" ] || return 1
  fi
  for n in "$PLACEMENT_PORT" "$GLANCE_PORT" "$NEUTRON_PORT" "$NOVA_PORT" "$OCTAVIA_PORT"; do
    answers "http://127.0.0.1:$n/" || return 1
  done
  [ "$(cat "$DIR/.seeded" 2>/dev/null)" = "$(seed_hash)" ]
}

# a service whose configuration changed is restarted (a hung API too)
restart_changed_full() {
  local n port
  for n in "${FULL_SERVICES[@]}" node-simulator; do
    alive "$n" || continue
    if [ "$(cat "$DIR/run/$n.hash" 2>/dev/null)" != "$(full_conf_hash "$n")" ]; then
      log "$n configuration changed: restarting"; stop_one "$n"; continue
    fi
    port=$(full_port "$n")
    case "$n" in epmd|rabbitmq|mariadb|node-simulator) continue ;; esac
    if [ -n "$port" ] && ! answers "http://127.0.0.1:$port/" 5; then
      log "$n does not answer: restarting"; stop_one "$n"
    fi
  done
}

# All at once (one by one takes a minute): SIGTERM to each, then wait; the bus and the
# database go last, once their clients are gone.
stop_full() {
  local names=(node-simulator octavia-worker octavia-api nova-compute nova-scheduler
    nova-conductor nova-api neutron glance placement)
  stop_parallel "${names[@]}"
  stop_parallel mariadb rabbitmq
  stop_one epmd
}

stop_parallel() {
  local n pid pids=()
  for n in "$@"; do
    if alive "$n"; then
      pid=$(pid_of "$n"); log "stopping $n (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid")
    fi
    rm -f "$DIR/run/$n.pid" "$DIR/run/$n.hash"
  done
  for _ in $(seq 100); do
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && break 1; pid=; done
    [ -z "${pid:-}" ] && return 0
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

full_status() {
  local rc=0 n port
  for n in placement glance neutron nova-api octavia-api; do
    port=$(full_port "$n")
    curl -s -o /dev/null -m 2 -w "$n http://127.0.0.1:$port/ -> HTTP %{http_code}\n" "http://127.0.0.1:$port/" \
      || { echo "$n: no answer"; rc=1; }
  done
  return $rc
}
