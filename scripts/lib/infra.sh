# shellcheck shell=bash
# Local infrastructure for RE-Bench: a private PostgreSQL cluster and a private RabbitMQ node on loopback,
# one pair per profile ("test", "run") so both profiles can run side by side. Sourced by the other scripts.
#
#   infra_install                      install missing Debian packages (postgresql, rabbitmq-server, python3-numpy, python3-torch, bubblewrap, slirp4netns, rustc, gcc, libc6-dev, chromium; python3-openai where packaged)
#   pg_start <profile> <port>          start (or reuse) the cluster; data in .data/<profile>/pg
#   pg_stop <profile>
#   rmq_start <profile> <port>         start (or reuse) the node; state in .data/<profile>/rabbitmq
#   rmq_stop <profile>
#
# pg_start/rmq_start set PG_STARTED/RMQ_STARTED to 1 when they started the server, empty when they reused one.
#
# Each profile's RabbitMQ gets its own node name, Erlang distribution port and epmd port, because a shared
# epmd (4369) would be killed by whichever profile stops first.

REPO_ROOT=${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DATA_ROOT=${DATA_ROOT:-$REPO_ROOT/.data}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# kill -0 also succeeds on zombies, which pile up here because PID 1 does not reap orphans.
is_alive() {
  local pid=$1 stat
  [ -n "$pid" ] || return 1
  { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
  stat=${stat##*) } # the state letter follows the command name, which may itself contain spaces
  [ "${stat%% *}" != Z ]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_port <port> <timeout_s> <pid-or-empty>: 0 when the port accepts TCP; 1 on timeout or when pid died.
wait_port() {
  local port=$1 timeout=$2 pid=${3:-} deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    port_open "$port" && return 0
    if [ -n "$pid" ] && ! is_alive "$pid"; then return 1; fi
    sleep 0.25
  done
  return 1
}

# Run a command as a system user when root (initdb refuses root), as ourselves otherwise.
as_user() {
  local user=$1; shift
  # cd /: the caller's directory may not be readable by <user>.
  if is_root; then (cd / && runuser -u "$user" -- "$@"); else "$@"; fi
}

_APT_UPDATED=""
apt_install() {
  [ $# -gt 0 ] || return 0
  is_root || die "missing packages: $*; run as root or install them: apt-get install $*"
  local t0=$SECONDS
  if [ -z "$_APT_UPDATED" ]; then apt-get update -q >/dev/null; _APT_UPDATED=1; fi
  log "installing $* ..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
  log "installed $* in $((SECONDS - t0)) s"
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

infra_install() {
  local missing=()
  [ -n "$(pg_bin)" ] || missing+=(postgresql)
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
  # The CPU task's scorer runs with the system interpreter, not whatever python3 is first on PATH.
  /usr/bin/python3 -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
  # The CPU variants of the model-training tasks (LLM Foundry, Fix Embedding, Restricted MLM) use torch 1.13 (CPU).
  /usr/bin/python3 -c 'import torch' 2>/dev/null || missing+=(python3-torch)
  # The sandbox isolates environments with bubblewrap (namespaces); without it Sandbox:Isolation=auto falls back to none.
  command -v bwrap >/dev/null || missing+=(bubblewrap)
  # Environments whose task allows the network get it in their own namespace through slirp4netns (user-mode NAT).
  [ -x /usr/bin/slirp4netns ] || missing+=(slirp4netns)
  # The Rust contest task compiles inside the sandbox, which sees only the system's /usr (not a rustup in a home).
  [ -x /usr/bin/rustc ] || missing+=(rustc)
  # The sandbox's system-call filter helper is C, compiled statically by the build (services/sandbox/Sandbox.csproj).
  command -v cc >/dev/null || missing+=(gcc)
  [ -f "/usr/lib/$(uname -m)-linux-gnu/libc.a" ] && [ -f /usr/include/linux/seccomp.h ] || missing+=(libc6-dev)
  # The Rust contest task's official scorer hands the module a real openai.AsyncOpenAI (issue 23). Debian 12 does not
  # package it (and PyPI is out of reach); where the distribution does (Debian 13), install it so that
  # RustMainScorerTests runs the full path instead of checking the refusal.
  # Asked of the package lists already on the machine (no apt-get update on every run for a package Debian 12 lacks).
  if ! /usr/bin/python3 -c 'import openai' 2>/dev/null && is_root && apt-cache show python3-openai >/dev/null 2>&1; then
    missing+=(python3-openai)
  fi
  # The web console's browser tests (tests/EndToEnd.Tests, Console*) drive Debian's chromium through Playwright.
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  apt_install "${missing[@]}"
}

# prepare_dir <dir> <user>: create it owned by <user> and check that <user> can reach and write it
# (the repo may sit under a home directory the service users cannot traverse).
prepare_dir() {
  local dir=$1 user=$2
  mkdir -p "$dir" || return 1
  if is_root; then
    chown "$user:" "$dir" && chmod 700 "$dir" || return 1
    as_user "$user" test -w "$dir" -a -x "$dir" 2>/dev/null || return 1
  fi
  return 0
}

# state_dir <profile> <name> <user>: .data/<profile>/<name>, or /tmp/rebench-<profile>-<name> when <user> cannot use it.
state_dir() {
  local profile=$1 name=$2 user=$3 dir="$DATA_ROOT/$1/$2" fallback="/tmp/rebench-$1-$2"
  # Reuse a fallback chosen earlier so a restart finds the same data.
  if [ -e "$fallback" ] && [ ! -e "$dir" ]; then echo "$fallback"; return; fi
  mkdir -p "$DATA_ROOT/$profile"
  if prepare_dir "$dir" "$user"; then echo "$dir"; return; fi
  log "user $user cannot use $dir (a parent directory is not traversable); using $fallback instead"
  rm -rf "$dir"
  prepare_dir "$fallback" "$user" || die "cannot prepare $fallback for user $user"
  echo "$fallback"
}

# ---------------------------------------------------------------------------------------------- PostgreSQL

pg_dir() {
  local fallback="/tmp/rebench-$1-pg"
  if [ -e "$fallback" ] && [ ! -e "$DATA_ROOT/$1/pg" ]; then echo "$fallback"; else echo "$DATA_ROOT/$1/pg"; fi
}

pg_start() {
  local profile=$1 port=$2 bin dir t0=$SECONDS
  bin=$(pg_bin); [ -n "$bin" ] || die "PostgreSQL is not installed (run infra_install)"
  dir=$(pg_dir "$profile")
  if [ -s "$dir/PG_VERSION" ] && as_user postgres "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    port_open "$port" || die "PostgreSQL ($profile) runs from $dir but not on port $port; stop it: scripts/stop.sh"
    log "PostgreSQL ($profile) already running on 127.0.0.1:$port, reusing it (data $dir)"
    PG_STARTED=""
    return 0
  fi
  port_open "$port" && die "port $port is taken by another process; cannot start PostgreSQL ($profile)"
  dir=$(state_dir "$profile" pg postgres)
  if [ ! -s "$dir/PG_VERSION" ]; then
    local initlog="$DATA_ROOT/$profile/pg-initdb.log"
    find "$dir" -mindepth 1 -delete # leftovers of a failed initdb; it wants an empty directory
    as_user postgres "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --no-locale >"$initlog" 2>&1 \
      || { tail -20 "$initlog" >&2; die "initdb failed for $dir"; }
  fi
  # The log lives inside the data dir: the one directory user postgres is known to be able to write.
  if ! as_user postgres "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k /tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null 2>&1; then
    tail -20 "$dir/server.log" >&2 || true
    die "PostgreSQL ($profile) did not start on 127.0.0.1:$port (log: $dir/server.log)"
  fi
  wait_port "$port" 30 || { tail -20 "$dir/server.log" >&2; die "PostgreSQL ($profile) not accepting connections on $port"; }
  PG_STARTED=1
  log "PostgreSQL ($profile) up on 127.0.0.1:$port in $((SECONDS - t0)) s (data $dir)"
}

pg_stop() {
  local profile=$1 bin dir
  bin=$(pg_bin); dir=$(pg_dir "$profile")
  [ -n "$bin" ] && [ -s "$dir/PG_VERSION" ] || return 0
  if as_user postgres "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_user postgres "$bin/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
    log "PostgreSQL ($profile) stopped"
  fi
}

# ------------------------------------------------------------------------------------------------ RabbitMQ

# rmq_epmd_port <profile> <amqp port>: fixed for the two known profiles, derived from the AMQP port otherwise.
rmq_epmd_port() { case $1 in run) echo 4371 ;; test) echo 4372 ;; *) echo $(($2 + 30000)) ;; esac; }

rmq_dir() {
  local fallback="/tmp/rebench-$1-rabbitmq"
  if [ -e "$fallback" ] && [ ! -e "$DATA_ROOT/$1/rabbitmq" ]; then echo "$fallback"; else echo "$DATA_ROOT/$1/rabbitmq"; fi
}

rmq_pid() {
  local pid
  pid=$(cat "$(rmq_dir "$1")/rabbit.pid" 2>/dev/null) || return 1
  is_alive "$pid" && grep -qa beam "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

rmq_start() {
  local profile=$1 port=$2 base pid t0=$SECONDS epmd_port
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || die "rabbitmq-server is not installed (run infra_install)"
  epmd_port=$(rmq_epmd_port "$profile" "$port")
  if pid=$(rmq_pid "$profile"); then
    wait_port "$port" 60 "$pid" || die "RabbitMQ ($profile) pid $pid runs but port $port is closed; stop it: kill $pid"
    log "RabbitMQ ($profile) already running on 127.0.0.1:$port (pid $pid), reusing it"
    RMQ_STARTED=""
    return 0
  fi
  port_open "$port" && die "port $port is taken by another process; cannot start RabbitMQ ($profile)"
  base=$(state_dir "$profile" rabbitmq rabbitmq)
  mkdir -p "$base"/{mnesia,log}
  echo "[]." >"$base/enabled_plugins"
  : >"$base/rabbitmq.conf"
  rm -f "$base/rabbit.pid"
  echo "$epmd_port" >"$base/epmd.port" # for rmq_stop, which is not told the AMQP port
  if is_root; then chown -R rabbitmq: "$base"; fi
  # The epmd the node spawns inherits ERL_EPMD_PORT/ERL_EPMD_ADDRESS, so it too stays private and on loopback.
  (
    cd "$base" # the caller's directory may not be readable by user rabbitmq
    export HOME="$base" RABBITMQ_NODENAME="rebench-$profile@localhost" \
      RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$port" RABBITMQ_DIST_PORT=$((port + 20000)) \
      ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$epmd_port" \
      RABBITMQ_MNESIA_BASE="$base/mnesia" RABBITMQ_LOG_BASE="$base/log" \
      RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" RABBITMQ_CONFIG_FILE="$base/rabbitmq" \
      RABBITMQ_PID_FILE="$base/rabbit.pid" \
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    if is_root; then
      exec setsid runuser -u rabbitmq --preserve-environment -- /usr/lib/rabbitmq/bin/rabbitmq-server
    else
      exec setsid /usr/lib/rabbitmq/bin/rabbitmq-server
    fi
  ) >"$base/console.log" 2>&1 </dev/null &
  local launcher=$!
  local deadline=$((SECONDS + 90))
  while [ $SECONDS -lt $deadline ]; do
    port_open "$port" && break
    if ! is_alive "$launcher" && ! rmq_pid "$profile" >/dev/null; then break; fi
    sleep 0.25
  done
  if ! port_open "$port"; then
    tail -25 "$base/console.log" >&2 || true
    die "RabbitMQ ($profile) did not open 127.0.0.1:$port within 90 s (logs: $base/console.log, $base/log/)"
  fi
  RMQ_STARTED=1
  log "RabbitMQ ($profile) up on 127.0.0.1:$port in $((SECONDS - t0)) s (state $base, epmd port $epmd_port)"
}

rmq_stop() {
  local profile=$1 pid epmd
  if pid=$(rmq_pid "$profile"); then
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 120); do is_alive "$pid" || break; sleep 0.25; done
    if is_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    log "RabbitMQ ($profile) stopped"
  fi
  local base epmd_port
  base=$(rmq_dir "$profile")
  rm -f "$base/rabbit.pid"
  epmd=$(ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -1)
  if [ -n "$epmd" ] && epmd_port=$(cat "$base/epmd.port" 2>/dev/null); then
    ERL_EPMD_ADDRESS=127.0.0.1 "$epmd" -port "$epmd_port" -kill >/dev/null 2>&1 || true
  fi
}
