#!/usr/bin/env bash
# Run the whole platform locally and show a demo campaign:
# PostgreSQL 127.0.0.1:55432 and RabbitMQ 127.0.0.1:5672 (state in .data/run), a Release build of RE-Bench.sln,
# the five services on 127.0.0.1:5100-5105 and the web console on 5106 (logs .data/run/logs, pids .data/run/pids), then `rebench demo`: the
# prefix-sum task x noop, reference x k=2, then the CPU variants of all seven environments x noop, reference
# (--quick: the first only).
# The platform keeps running afterwards; scripts/stop.sh stops it. Running this again restarts the services
# on a fresh build.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO_ROOT=$(pwd)
source scripts/lib/services.sh

CONFIG=Release
ALL_TASKS=1
for arg in "$@"; do
  case $arg in
    --all-tasks) ALL_TASKS=1 ;;  # the default; kept so older instructions still work
    --quick) ALL_TASKS="" ;;
    -h|--help) echo "usage: scripts/run.sh [--quick]   (default: the prefix-sum demo, then the CPU variants of all seven environments x noop, reference; --quick: the prefix-sum demo only)"; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done
PG_PORT=55432 RMQ_PORT=5672
T0=$SECONDS

infra_install
pg_start run "$PG_PORT"
rmq_start run "$RMQ_PORT"

# Stop services from an earlier run before building: rewriting the dlls of a running process can crash it.
stop_services

if ! ls nuget-local/Patched.DistributedLock.Postgres.1.3.3.1.nupkg >/dev/null 2>&1; then
  log "packing the Marten restore shim into nuget-local/"
  dotnet pack shims/Patched.DistributedLock.Postgres/Patched.DistributedLock.Postgres.csproj -c Release -o nuget-local -nologo -v q
fi
t=$SECONDS
timeout 900 dotnet build RE-Bench.sln -c "$CONFIG" -nologo -v q -clp:ErrorsOnly || die "build failed"
log "build ($CONFIG) done in $((SECONDS - t)) s"

KEY_FILE="$RUN_DIR/api-key"
if [ -n "${REBENCH_API_KEY:-}" ]; then
  KEY=$REBENCH_API_KEY KEY_FROM_ENV=1
else
  if [ ! -s "$KEY_FILE" ]; then
    mkdir -p "$RUN_DIR"
    (umask 077; od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$KEY_FILE")
  fi
  KEY=$(cat "$KEY_FILE")
fi

# A second, read-only key for auditors (role auditor: read, verify, export, re-execute; anything else PERMISSION_DENIED).
AUDITOR_KEY_FILE="$RUN_DIR/auditor-key"
if [ ! -s "$AUDITOR_KEY_FILE" ]; then
  mkdir -p "$RUN_DIR"
  (umask 077; od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$AUDITOR_KEY_FILE")
fi

# The orchestrator's Ed25519 seal key (docs/audit.md), kept so seals still verify after a restart.
SEAL_KEY_FILE="$RUN_DIR/signing-key"
if [ ! -s "$SEAL_KEY_FILE" ]; then
  mkdir -p "$RUN_DIR"
  (umask 077; head -c 32 /dev/urandom | base64 -w0 >"$SEAL_KEY_FILE")
fi

# The platform key: every service and the gateway sign their calls to each other with it and refuse calls without
# a valid signature. Made once (base64 of 32 random bytes, 0600) and passed by file, so it is in no argv or
# environment. Rotation: README, "Service-to-service authentication".
PLATFORM_KEY_FILE="$RUN_DIR/platform.key"
if [ ! -s "$PLATFORM_KEY_FILE" ]; then
  mkdir -p "$RUN_DIR"
  (umask 077; head -c 32 /dev/urandom | base64 -w0 >"$PLATFORM_KEY_FILE")
fi
chmod 600 "$PLATFORM_KEY_FILE"
PK="Platform__KeyFile=$PLATFORM_KEY_FILE"
# Keys of a rotation still accepted (validation only): REBENCH_PREVIOUS_PLATFORM_KEY_FILE, if set.
if [ -n "${REBENCH_PREVIOUS_PLATFORM_KEY_FILE:-}" ]; then
  PK_PREV=("Platform__PreviousKeyFiles__0=$REBENCH_PREVIOUS_PLATFORM_KEY_FILE")
else
  PK_PREV=()
fi

PG="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
RMQ=(RabbitMq__Host=127.0.0.1 "RabbitMq__Port=$RMQ_PORT")
mkdir -p "$RUN_DIR/sandbox"

start_service sandbox "$CONFIG" 5102 Service__Port=5102 "$PK" ${PK_PREV[@]+"${PK_PREV[@]}"} "Sandbox__Root=$RUN_DIR/sandbox"
# Services__Orchestrator: reports check their inputs against the sealed record on request (--verify); the orchestrator
# starts after scoring, which is fine: it is only called when a report asks.
start_service scoring "$CONFIG" 5103 Service__Port=5103 "$PK" ${PK_PREV[@]+"${PK_PREV[@]}"} Services__Sandbox=http://127.0.0.1:5102 \
  Services__Orchestrator=http://127.0.0.1:5101 "ConnectionStrings__Postgres=$PG" "${RMQ[@]}" "Scoring__TasksRoot=$REPO_ROOT/tasks"
# LLM providers of the modular and aide scaffolds: one JSON file (format: config/providers.example.json), watched by
# the agents service, so an edited file applies to the next run without a restart. It may hold keys: git ignores it.
PROVIDERS_FILE=${REBENCH_PROVIDERS_FILE:-$REPO_ROOT/config/providers.json}
start_service agents "$CONFIG" 5104 Service__Port=5104 "$PK" ${PK_PREV[@]+"${PK_PREV[@]}"} \
  Services__Session=http://127.0.0.1:5105 Services__Scoring=http://127.0.0.1:5103 "Agents__ProvidersFile=$PROVIDERS_FILE"
start_service orchestrator "$CONFIG" 5101 Service__Port=5101 "$PK" ${PK_PREV[@]+"${PK_PREV[@]}"} "ConnectionStrings__Postgres=$PG" "${RMQ[@]}" \
  Services__Sandbox=http://127.0.0.1:5102 Services__Scoring=http://127.0.0.1:5103 Services__Agents=http://127.0.0.1:5104 \
  "Audit__SigningKey=$(cat "$SEAL_KEY_FILE")"
start_service gateway "$CONFIG" 5100 Service__Port=5100 "$PK" ${PK_PREV[@]+"${PK_PREV[@]}"} Gateway__InternalPort=5105 \
  Services__Orchestrator=http://127.0.0.1:5101 Services__Scoring=http://127.0.0.1:5103 Services__Agents=http://127.0.0.1:5104 \
  "Gateway__ApiKeys__0=$KEY" \
  "Gateway__ApiKeys__1=$(cat "$AUDITOR_KEY_FILE")" Gateway__ApiKeys__1__Role=auditor Gateway__ApiKeys__1__Id=auditor
wait_port 5105 30 || die "gateway's internal port 5105 is not open (log: $LOG_DIR/gateway.log)"
# The web console (issue 19): beside the gateway, loopback only; it holds no key of its own, users sign in with theirs.
start_service console "$CONFIG" 5106 Service__Port=5106 Services__Gateway=http://127.0.0.1:5100
log "web console: http://127.0.0.1:5106 (sign in with an API key)"
log "platform up in $((SECONDS - T0)) s"

CLI="$REPO_ROOT/tools/rebench/bin/$CONFIG/net10.0/rebench.dll"
# The key goes to the CLI in its environment, never on its command line, which every user sees in ps.
export REBENCH_API_KEY=$KEY
REBENCH=(dotnet "$CLI" --gateway http://127.0.0.1:5100)

# Attempts an earlier run left unfinished (stopped mid-demo) would hold the scheduler's slots ahead of this demo:
# cancel them, recorded as such in their streams.
LEFT=$( { "${REBENCH[@]}" attempts list --all --status running; "${REBENCH[@]}" attempts list --all --status scheduled; } | awk 'NR>2 && $1 ~ /^[0-9a-f-]{36}$/ {print $1}')
if [ -n "$LEFT" ]; then
  log "cancelling $(echo "$LEFT" | wc -l) attempt(s) an earlier run left unfinished"
  for id in $LEFT; do "${REBENCH[@]}" attempts cancel "$id" --reason "superseded by a new scripts/run.sh demo" >/dev/null || true; done
fi
"${REBENCH[@]}" demo \
  --task ai_rd_triton_cumsum:cpu --agents noop,reference --k 2 --budget 3m

if [ -n "$ALL_TASKS" ]; then
  log "the CPU variants of all seven environments x noop, reference"
  "${REBENCH[@]}" demo --name all-tasks --k 1 --budget 10m \
    --agents noop,reference \
    --task ai_rd_optimize_llm_foundry:cpu --task ai_rd_triton_cumsum:cpu --task ai_rd_fix_embedding:cpu \
    --task ai_rd_small_scaling_law:cpu --task ai_rd_restricted_mlm:cpu --task ai_rd_nanogpt_chat_rl:cpu \
    --task ai_rd_rust_codecontests_inference:cpu
fi

# Where the key is, not what it is: this text lands in terminals and CI logs.
if [ -n "${KEY_FROM_ENV:-}" ]; then KEY_HINT="(your REBENCH_API_KEY is the admin key)"; else KEY_HINT="export REBENCH_API_KEY_FILE=$KEY_FILE"; fi
cat <<EOF

The platform is still running (gateway http://127.0.0.1:5100).
  web console: http://127.0.0.1:5106   (sign in with the admin key in $KEY_FILE or the auditor key in $AUDITOR_KEY_FILE)
  stop it:   scripts/stop.sh
  logs:      $LOG_DIR/<service>.log   (sandbox, scoring, agents, orchestrator, gateway)
  use the CLI (it reads the key from REBENCH_API_KEY or the file REBENCH_API_KEY_FILE names; a key given with
  --api-key shows in every user's process listing):
    $KEY_HINT
    alias rebench='dotnet $CLI --gateway http://127.0.0.1:5100'
    rebench --help
  auditors (read-only key in $AUDITOR_KEY_FILE):
    dotnet $CLI --gateway http://127.0.0.1:5100 --api-key-file $AUDITOR_KEY_FILE verify <attempt-id>
EOF
