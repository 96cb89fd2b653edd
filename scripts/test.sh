#!/usr/bin/env bash
# Build RE-Bench.sln (Debug) and run every test against a private PostgreSQL (55433) and RabbitMQ (5673).
#   scripts/test.sh               start infra, build, test, stop the infra this run started
#   scripts/test.sh --keep-infra  same, but leave the infra running
#   scripts/test.sh --infra-only  start (or reuse) the infra, print the env exports, keep it running
#   scripts/test.sh --stop-infra  stop the test infra (after --infra-only or --keep-infra)
# Last line of output: "N passed, N failed[, N skipped]". Exit status non-zero if a test failed or none ran.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO_ROOT=$(pwd)
source scripts/lib/infra.sh

PROFILE=test PG_PORT=55433 RMQ_PORT=5673
KEEP=""; INFRA_ONLY=""
for arg in "$@"; do
  case $arg in
    --keep-infra) KEEP=1 ;;
    --infra-only) INFRA_ONLY=1; KEEP=1 ;;
    --stop-infra) rmq_stop "$PROFILE"; pg_stop "$PROFILE"; exit 0 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) die "unknown argument: $arg (see --help)" ;;
  esac
done

T0=$SECONDS
PG_STARTED="" RMQ_STARTED=""
stop_started_infra() {
  [ -z "$KEEP" ] || return 0
  if [ -n "$RMQ_STARTED" ]; then rmq_stop "$PROFILE"; RMQ_STARTED=""; fi
  if [ -n "$PG_STARTED" ]; then pg_stop "$PROFILE"; PG_STARTED=""; fi
}
trap 'rc=$?; stop_started_infra; exit $rc' EXIT
trap 'exit 130' INT TERM

infra_install
pg_start "$PROFILE" "$PG_PORT"
rmq_start "$PROFILE" "$RMQ_PORT"
export REBENCH_TEST_PG="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
export REBENCH_TEST_RMQ_PORT=$RMQ_PORT
log "infra ready in $((SECONDS - T0)) s"

if [ -n "$INFRA_ONLY" ]; then
  echo "export REBENCH_TEST_PG=\"$REBENCH_TEST_PG\""
  echo "export REBENCH_TEST_RMQ_PORT=$REBENCH_TEST_RMQ_PORT"
  echo "# stop with: scripts/test.sh --stop-infra"
  exit 0
fi

bash scripts/validate-compose.sh

# Marten's dependency graph needs the local shim package (see nuget.config); rebuild it if it was deleted.
if ! ls nuget-local/Patched.DistributedLock.Postgres.1.3.3.1.nupkg >/dev/null 2>&1; then
  log "packing the Marten restore shim into nuget-local/"
  dotnet pack shims/Patched.DistributedLock.Postgres/Patched.DistributedLock.Postgres.csproj -c Release -o nuget-local -nologo -v q
fi

t=$SECONDS
timeout 900 dotnet build RE-Bench.sln -c Debug -nologo -v q -clp:ErrorsOnly || die "build failed"
log "build done in $((SECONDS - t)) s"

RESULTS="$DATA_ROOT/$PROFILE/results"
rm -rf "$RESULTS"
t=$SECONDS
set +e
# A test hanging for 5 minutes aborts its project's run (no dump: dump tools are not installed); the whole run is
# bounded at 30 minutes (CI allows 90), well above the ~15 it takes on 2 cores, so a slow machine is not a failure.
timeout 1800 dotnet test RE-Bench.sln --no-build -c Debug --nologo --blame-hang-timeout 5m --blame-hang-dump-type none \
  --logger "console;verbosity=minimal" --logger trx --results-directory "$RESULTS"
TEST_RC=$?
set -e
log "tests done in $((SECONDS - t)) s (dotnet test exit code $TEST_RC); total $((SECONDS - T0)) s"

# Sum the Counters of every TRX file (one per test project).
read -r PASSED FAILED SKIPPED < <(/usr/bin/python3 - "$RESULTS" <<'EOF'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for f in glob.glob(sys.argv[1] + "/**/*.trx", recursive=True):
    for c in ET.parse(f).getroot().iter():
        if c.tag.endswith("}Counters") or c.tag == "Counters":
            n = lambda k: int(c.get(k, 0))
            passed += n("passed")
            failed += n("failed") + n("error") + n("timeout") + n("aborted")
            skipped += n("total") - n("executed")  # xunit skips count as not executed
print(passed, failed, skipped)
EOF
)
# A crashed or hung test host leaves its test out of the TRX; count the aborted run as one failure.
if [ "$TEST_RC" -ne 0 ] && [ "$FAILED" -eq 0 ]; then
  log "dotnet test failed (exit code $TEST_RC) though no failed test was recorded: a test run aborted; counted as 1 failed"
  FAILED=1
fi
SUMMARY="$PASSED passed, $FAILED failed"
[ "$SKIPPED" -gt 0 ] && SUMMARY="$SUMMARY, $SKIPPED skipped"
RC=0
if [ "$FAILED" -gt 0 ]; then RC=1
elif [ "$PASSED" -eq 0 ]; then log "no test ran"; RC=1
fi
stop_started_infra
echo "$SUMMARY"
exit $RC
