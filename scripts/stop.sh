#!/usr/bin/env bash
# Stop what scripts/run.sh started: the five services and the web console (by pid file, whole process group) and the
# run-profile PostgreSQL (55432) and RabbitMQ (5672). Safe to run when nothing is running.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO_ROOT=$(pwd)
source scripts/lib/services.sh
stop_services
rmq_stop run
pg_stop run
log "stopped"
