# shellcheck shell=bash
# The RE-Bench services (five, and the web console) as local background processes (profile "run"). Sourced by run.sh and stop.sh.
#   start_service <name> <config> <port> KEY=VALUE...   start services/<name>/bin/<config>/net10.0/ReBench.<Name>.dll
#   stop_services                                       stop every service that has a live pid file

source "$(dirname "${BASH_SOURCE[0]}")/infra.sh"

RUN_DIR="$DATA_ROOT/run"
LOG_DIR="$RUN_DIR/logs"
PID_DIR="$RUN_DIR/pids"
# Start order; stop goes in reverse.
SERVICES=(sandbox scoring agents orchestrator gateway console)

service_dll() {
  local name=$1 config=$2
  echo "$REPO_ROOT/services/$name/bin/$config/net10.0/ReBench.${name^}.dll"
}

start_service() {
  local name=$1 config=$2 port=$3 dll pid t0=$SECONDS
  shift 3
  dll=$(service_dll "$name" "$config")
  [ -f "$dll" ] || die "$dll not found; did the build succeed?"
  port_open "$port" && die "port $port ($name) is taken by another process"
  mkdir -p "$LOG_DIR" "$PID_DIR"
  # setsid makes the service a process-group leader, so stop can signal it with everything it spawned.
  # The settings (keys among them) are exported by the shell, not passed as `env K=V` arguments, which any user
  # could read in ps while env runs (so the names must be shell identifiers: Logging__LogLevel__Default, not dotted).
  (for kv in "$@"; do export "${kv?}"; done; exec setsid dotnet "$dll") >"$LOG_DIR/$name.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_DIR/$name.pid"
  if ! wait_port "$port" 60 "$pid"; then
    tail -30 "$LOG_DIR/$name.log" >&2 || true
    local why="did not accept TCP on 127.0.0.1:$port within 60 s"
    is_alive "$pid" || why="exited before opening 127.0.0.1:$port"
    die "$name $why (log: $LOG_DIR/$name.log; stop the rest: scripts/stop.sh)"
  fi
  log "$name up on 127.0.0.1:$port (pid $pid) in $((SECONDS - t0)) s"
}

stop_service() {
  local name=$1 file="$PID_DIR/$1.pid" pid i
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  # The pid may have been reused since; only signal it if it still runs one of our assemblies.
  if is_alive "$pid" && grep -qa "ReBench\.${name^}\.dll" "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 60); do is_alive "$pid" || break; sleep 0.25; done
    if is_alive "$pid"; then
      log "$name (pid $pid) ignored SIGTERM for 15 s; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    log "$name stopped"
  fi
  rm -f "$file"
}

stop_services() {
  local i
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do stop_service "${SERVICES[i]}"; done
}
