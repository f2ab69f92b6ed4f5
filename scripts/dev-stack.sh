#!/usr/bin/env bash
# Starts and stops the local dev stack in the background, and writes its endpoints to
# .dev/env (a sourceable file).
#
#   dev-stack.sh up      build what is missing, start every service, wait until each answers
#   dev-stack.sh down    stop every service (SIGTERM, then SIGKILL after a grace period)
#   dev-stack.sh status  show which services run
#
# Services: the dev chain (chopsticks running our runtime from genesis), Kubo (IPFS) and the
# CloudStack API simulator (devtools/cloudstack_simulator).
source "$(dirname "$0")/lib.sh"

CHAIN_HOST=127.0.0.1
IPFS_HOST=127.0.0.1
# Kubo's repository lives outside the source tree, one per checkout.
IPFS_REPO="${DINFRA_IPFS_REPO:-$DINFRA_CACHE/ipfs-repo-$(printf %s "$ROOT" | sha256sum | cut -c1-12)}"
# The CloudStack simulator's state (SQLite) and its admin API key and secret, made once per
# state file and kept beside it, live outside the source tree, one per checkout.
CLOUDSTACK_HOST=127.0.0.1
CLOUDSTACK_DB="${DINFRA_CLOUDSTACK_DB:-$DINFRA_CACHE/cloudstack-sim-$(printf %s "$ROOT" | sha256sum | cut -c1-12).sqlite}"
CLOUDSTACK_CREDENTIALS="${CLOUDSTACK_DB%.sqlite}.credentials.json"
SERVICES=(chain ipfs cloudstack)
STARTUP_TIMEOUT="${DINFRA_STARTUP_TIMEOUT:-180}"

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# The port a service listens on: the one it was started with if it runs (kept in
# .dev/ports), else the explicit override, else the default, else (when another checkout's
# stack holds the default) a free port, so that two checkouts, such as a CI clone beside a
# developer's stack, never collide. An explicit override that is taken is an error.
PORTS_FILE="$DEV_DIR/ports"
[ -f "$PORTS_FILE" ] && source "$PORTS_FILE"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
choose_port() {  # <variable> <override variable> <default> <service>
  local var=$1 override=$2 default=$3 service=$4
  # A running service keeps the port it runs on (read from .dev/ports above).
  if ! { pid_alive "$DEV_DIR/$service.pid" && [ -n "${!var:-}" ]; }; then
    if [ -n "${!override:-}" ]; then
      port_open 127.0.0.1 "${!override}" && die "port ${!override} ($override) is in use"
      printf -v "$var" %s "${!override}"
    elif port_open 127.0.0.1 "$default"; then
      printf -v "$var" %s "$(free_port)"
      log "port $default is in use; $service uses ${!var} instead"
    else
      printf -v "$var" %s "$default"
    fi
  fi
  printf '%s=%s\n' "$var" "${!var}" >> "$PORTS_FILE"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Stops the process group recorded in a pid file.
stop_service() {
  local name=$1 pidfile="$DEV_DIR/$1.pid"
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  local pid; pid=$(cat "$pidfile")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  log "stopped $name"
}

# Runs a command detached in its own process group, logging to .dev/<name>.log.
start_service() {
  local name=$1; shift
  setsid "$@" >"$DEV_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$DEV_DIR/$name.pid"
}

# Waits until `check` succeeds, the service dies, or the timeout passes.
wait_ready() {
  local name=$1 check=$2 deadline=$((SECONDS + STARTUP_TIMEOUT))
  until eval "$check"; do
    pid_alive "$DEV_DIR/$name.pid" || { tail -n 30 "$DEV_DIR/$name.log" >&2; die "$name exited during start-up (log: .dev/$name.log)"; }
    [ $SECONDS -lt $deadline ] || { tail -n 30 "$DEV_DIR/$name.log" >&2; die "$name not ready after ${STARTUP_TIMEOUT}s (log: .dev/$name.log)"; }
    sleep 0.5
  done
}

chain_answers() {
  curl -sf -m 5 -H 'Content-Type: application/json' \
    -d '{"id":1,"jsonrpc":"2.0","method":"chain_getHeader","params":[]}' \
    "http://$CHAIN_HOST:$CHAIN_PORT" | grep -q '"number"'
}

chain_up() {
  pid_alive "$DEV_DIR/chain.pid" && { log "dev chain already running"; return; }
  "$ROOT/scripts/setup-chopsticks.sh"
  [ -f "$RUNTIME_WASM" ] || "$ROOT/scripts/build-runtime.sh"
  local spec="$DEV_DIR/chain-spec.json"
  if [ ! -f "$spec" ] || [ "$RUNTIME_WASM" -nt "$spec" ]; then
    log "building the dev chain spec"
    (cd "$ROOT/chain/devchain" && node build-chain-spec.mjs "$RUNTIME_WASM" "$spec" development)
  fi
  cat > "$DEV_DIR/chopsticks.yml" <<YAML
host: $CHAIN_HOST
port: $CHAIN_PORT
genesis: $spec
# One block per transaction, final at once: tests and the demo never wait for a timer.
build-block-mode: Instant
runtime-log-level: 0
YAML
  log "starting the dev chain on ws://$CHAIN_HOST:$CHAIN_PORT"
  start_service chain node "$ROOT/chain/devchain/node_modules/@acala-network/chopsticks/chopsticks.cjs" \
    --config "$DEV_DIR/chopsticks.yml"
  wait_ready chain chain_answers
}

ipfs_answers() {
  curl -sf -m 5 -X POST "http://$IPFS_HOST:$IPFS_API_PORT/api/v0/version" | grep -q '"Version"' &&
    curl -s -m 5 -o /dev/null "http://$IPFS_HOST:$IPFS_GATEWAY_PORT/ipfs/bafkqaaa"
}

ipfs_up() {
  pid_alive "$DEV_DIR/ipfs.pid" && { log "Kubo already running"; return; }
  "$ROOT/scripts/setup-kubo.sh"
  local ipfs="$DEV_DIR/ipfs"
  export IPFS_PATH="$IPFS_REPO"
  if [ ! -f "$IPFS_REPO/config" ]; then
    log "initialising Kubo's repository in $IPFS_REPO"
    # The test profile: no bootstrap peers, no discovery, nothing announced.
    "$ipfs" init --profile test >/dev/null
  fi
  "$ipfs" config Addresses.API "/ip4/$IPFS_HOST/tcp/$IPFS_API_PORT"
  "$ipfs" config Addresses.Gateway "/ip4/$IPFS_HOST/tcp/$IPFS_GATEWAY_PORT"
  log "starting Kubo: RPC http://$IPFS_HOST:$IPFS_API_PORT, gateway http://$IPFS_HOST:$IPFS_GATEWAY_PORT"
  # Offline: it serves what it stores and never waits on the network, which these machines lack.
  start_service ipfs "$ipfs" daemon --offline
  wait_ready ipfs ipfs_answers
  publish_schemas "$ipfs"
}

# The dev chain's genesis names the reference types' schemas by CID (raw CIDv1 of the file's
# bytes); pin them so that descriptors validate on a fresh machine, as a type author would.
publish_schemas() {
  local schema cid
  for schema in "$ROOT"/descriptors/*/schema.json; do
    cid=$("$1" --api "/ip4/$IPFS_HOST/tcp/$IPFS_API_PORT" add -Q --cid-version=1 --raw-leaves --pin "$schema")
    log "published ${schema#"$ROOT"/}: $cid"
  done
}

cloudstack_answers() {
  curl -sf -m 5 "http://$CLOUDSTACK_HOST:$CLOUDSTACK_PORT/_simulator/health" | grep -q '"ok"'
}

cloudstack_up() {
  pid_alive "$DEV_DIR/cloudstack.pid" && { log "CloudStack simulator already running"; return; }
  log "starting the CloudStack simulator on http://$CLOUDSTACK_HOST:$CLOUDSTACK_PORT/client/api (state: $CLOUDSTACK_DB)"
  # Standard library only: any Python 3.9+ runs it.
  start_service cloudstack env PYTHONPATH="$ROOT/devtools" python3 -m cloudstack_simulator \
    --db "$CLOUDSTACK_DB" --credentials-file "$CLOUDSTACK_CREDENTIALS" --host "$CLOUDSTACK_HOST" --port "$CLOUDSTACK_PORT"
  wait_ready cloudstack cloudstack_answers
}

# One field of the simulator's credentials file.
cloudstack_credential() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$CLOUDSTACK_CREDENTIALS" "$1"
}

write_env() {
  cat > "$DEV_DIR/env" <<ENV
# Endpoints of the local dev stack; written by 'make dev-up'. Source it: . .dev/env
export DINFRA_NODE_URL=ws://$CHAIN_HOST:$CHAIN_PORT
export DINFRA_IPFS_API=http://$IPFS_HOST:$IPFS_API_PORT
export DINFRA_IPFS_GATEWAY=http://$IPFS_HOST:$IPFS_GATEWAY_PORT
export IPFS_PATH=$IPFS_REPO
# The CloudStack simulator, under the names ngine_io.cloudstack and the cs client read.
export CLOUDSTACK_ENDPOINT=http://$CLOUDSTACK_HOST:$CLOUDSTACK_PORT/client/api
export CLOUDSTACK_KEY=$(cloudstack_credential apikey)
export CLOUDSTACK_SECRET=$(cloudstack_credential secretkey)
export CLOUDSTACK_TIMEOUT=10
export DINFRA_CLOUDSTACK_DB=$CLOUDSTACK_DB
ENV
}

case "${1:-}" in
  up)
    # Rewritten from the values read above: running services keep their ports, the rest are chosen afresh.
    : > "$PORTS_FILE"
    choose_port CHAIN_PORT DINFRA_CHAIN_PORT 9944 chain
    choose_port IPFS_API_PORT DINFRA_IPFS_API_PORT 5001 ipfs
    choose_port IPFS_GATEWAY_PORT DINFRA_IPFS_GATEWAY_PORT 8080 ipfs
    choose_port CLOUDSTACK_PORT DINFRA_CLOUDSTACK_PORT 8888 cloudstack
    chain_up
    ipfs_up
    cloudstack_up
    write_env
    log "dev stack is up; endpoints in .dev/env"
    ;;
  down)
    for s in "${SERVICES[@]}"; do stop_service "$s"; done
    rm -f "$DEV_DIR/env" "$PORTS_FILE"
    ;;
  status)
    for s in "${SERVICES[@]}"; do
      if pid_alive "$DEV_DIR/$s.pid"; then echo "$s: running (pid $(cat "$DEV_DIR/$s.pid"))"; else echo "$s: stopped"; fi
    done
    ;;
  *) die "usage: $0 up|down|status" ;;
esac
