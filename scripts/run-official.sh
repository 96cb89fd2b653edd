#!/usr/bin/env bash
# Run the official (main) variants of the seven RE-Bench environments on a GPU node: for each task, one campaign with
# the agents noop (the starting solution, scored as it is) and reference (the reference solution), k = 1, through the
# whole platform (scripts/run.sh --quick starts it, or it is already running), then print each attempt's raw and
# normalized score. These results are what the task READMEs record once they exist (none has run yet).
#
#   scripts/run-official.sh --assets DIR [--task ID]... [--budget 2h] [--dry-run]
#
#   --assets DIR  the operator's asset root (Scoring:AssetsRoot; tasks/README.md "Assets"): DIR/<task_id>/{home,
#                 protected,reference}/... as each variants/main/assets.yaml lists, digests pinned
#   --task ID     run only these tasks (repeatable; default: all seven)
#   --budget T    time budget per attempt (default 2h: the reference agent only copies files and scores, but
#                 LLM Foundry's scorer alone may take 10 minutes)
#   --dry-run     check the machine and print the plan; start nothing
#
# Without an NVIDIA GPU (no nvidia-smi, or it lists none) it says so and exits 3 before starting anything. A task that
# needs more GPUs than the machine has is skipped with its reason, and the exit status is then 1. Exit 0 only when
# every selected task ran and all its attempts completed. Tasks that need secrets (the nanoGPT judge, the Rust task's
# OpenAI key) take them from the environment the services start with (see each bundle's README).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO_ROOT=$(pwd)

# task id and the GPUs its main variant asks for (resources.gpu.count_range min in the manifest;
# tests/Tasks.Tests/RunOfficialScriptTests.cs keeps this table equal to the manifests).
GPUS_NEEDED=(
  "ai_rd_optimize_llm_foundry 4"
  "ai_rd_triton_cumsum 1"
  "ai_rd_fix_embedding 1"
  "ai_rd_small_scaling_law 6"
  "ai_rd_restricted_mlm 2"
  "ai_rd_nanogpt_chat_rl 2"
  "ai_rd_rust_codecontests_inference 0"
)

ASSETS="" BUDGET=2h DRY_RUN="" TASKS=()
while [ $# -gt 0 ]; do
  case $1 in
    --assets) ASSETS=${2:?--assets needs a folder}; shift 2 ;;
    --task) TASKS+=("${2:?--task needs a task id}"); shift 2 ;;
    --budget) BUDGET=${2:?--budget needs a duration such as 2h}; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-official.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

needed_gpus() {
  local row
  for row in "${GPUS_NEEDED[@]}"; do
    [ "${row% *}" = "$1" ] && { echo "${row#* }"; return 0; }
  done
  return 1
}
if [ ${#TASKS[@]} -eq 0 ]; then
  for row in "${GPUS_NEEDED[@]}"; do TASKS+=("${row% *}"); done
fi
for t in "${TASKS[@]}"; do
  needed_gpus "$t" >/dev/null || { echo "run-official.sh: unknown task $t (known: ${GPUS_NEEDED[*]% *})" >&2; exit 2; }
done

# The GPU check comes first: on a machine without GPUs nothing else is started. REBENCH_NVIDIA_SMI names another
# nvidia-smi (tests use it to check both paths on a machine without GPUs).
SMI=${REBENCH_NVIDIA_SMI:-nvidia-smi}
if ! command -v "$SMI" >/dev/null 2>&1; then
  echo "run-official.sh: no NVIDIA GPU on this machine ($SMI not found). The official variants need H100s (up to 6 for" \
       "one task); run this on a GPU node with the NVIDIA driver. The CPU variants run anywhere: scripts/run.sh." >&2
  exit 3
fi
GPUS=$("$SMI" -L 2>/dev/null | grep -c '^GPU [0-9]' || true)
if [ "${GPUS:-0}" -eq 0 ]; then
  echo "run-official.sh: no NVIDIA GPU on this machine ($SMI -L lists none). The official variants need H100s (up to 6" \
       "for one task); run this on a GPU node. The CPU variants run anywhere: scripts/run.sh." >&2
  exit 3
fi
echo "run-official.sh: $GPUS GPU(s): $("$SMI" -L | sed -n '1s/ (UUID.*//p')"

RUN=() SKIPPED=()
for t in "${TASKS[@]}"; do
  n=$(needed_gpus "$t")
  if [ "$n" -gt "$GPUS" ]; then
    SKIPPED+=("$t:main (needs $n GPUs, this machine has $GPUS)")
  else
    RUN+=("$t")
  fi
done
for s in ${SKIPPED[@]+"${SKIPPED[@]}"}; do echo "skipped: $s"; done
for t in ${RUN[@]+"${RUN[@]}"}; do echo "to run:  $t:main x noop (starting solution), reference; budget $BUDGET"; done
[ -n "$ASSETS" ] || [ -n "$DRY_RUN" ] || { echo "run-official.sh: --assets DIR is required (the operator's asset root)" >&2; exit 2; }
if [ -n "$DRY_RUN" ]; then
  echo "dry run: nothing started"
  if [ ${#SKIPPED[@]} -eq 0 ]; then exit 0; else exit 1; fi
fi
[ -d "$ASSETS" ] || { echo "run-official.sh: --assets $ASSETS is not a folder" >&2; exit 2; }

# The platform: the scoring service reads the asset root from its environment (start_service passes it on).
export Scoring__AssetsRoot
Scoring__AssetsRoot=$(cd "$ASSETS" && pwd)
KEY_FILE=.data/run/api-key
CLI=tools/rebench/bin/Release/net10.0/rebench.dll
if ! { [ -s "$KEY_FILE" ] && [ -f "$CLI" ] && (exec 3<>/dev/tcp/127.0.0.1/5100) 2>/dev/null; }; then
  echo "run-official.sh: starting the platform (scripts/run.sh --quick)"
  scripts/run.sh --quick
else
  echo "run-official.sh: using the platform already running on 127.0.0.1:5100 (its scoring service must have been" \
       "started with Scoring__AssetsRoot=$Scoring__AssetsRoot; otherwise stop it with scripts/stop.sh and rerun)"
fi
# By file, not on the command line: a key in argv shows in every user's process listing.
REBENCH=(dotnet "$REPO_ROOT/$CLI" --gateway http://127.0.0.1:5100 --api-key-file "$REPO_ROOT/$KEY_FILE")

STATUS=0
[ ${#SKIPPED[@]} -eq 0 ] || STATUS=1
LOG_DIR=.data/run/official
mkdir -p "$LOG_DIR"
for t in ${RUN[@]+"${RUN[@]}"}; do
  echo
  echo "== $t:main (log: $LOG_DIR/$t.log)"
  # The demo prints progress and a results table with each attempt's raw and normalized score.
  if ! "${REBENCH[@]}" demo --name "official-$t" --task "$t:main" --agents noop,reference --k 1 --budget "$BUDGET" \
      2>&1 | tee "$LOG_DIR/$t.log"; then
    STATUS=1
    echo "$t:main: not every attempt completed (see the log above and .data/run/logs/)"
  fi
done
echo
echo "Record the raw and normalized scores above in each task's README (variant main) with the machine they ran on."
exit $STATUS
