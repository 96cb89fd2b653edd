#!/usr/bin/env bash
# Measures the start and reference constants of variant cpu: runs the protected scorer RUNS times on the starting
# solution and on the reference solution, and prints each raw score and the median. Run it on an idle machine
# and copy the medians into manifest.yaml (variants[cpu].scoring.start / .reference and measured_by).
#   usage: tasks/ai_rd_triton_cumsum/measure_constants.sh [RUNS]   (default 7)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runs="${1:-7}"
python=/usr/bin/python3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

measure() {
    local name="$1" solution="$2" scores=()
    cp "$solution" "$work/solution.py"
    for _ in $(seq "$runs"); do
        scores+=("$(HOME="$work" "$python" "$here/scoring/score.py" 2>/dev/null | tail -n 1 \
            | "$python" -c 'import json, sys; print(json.load(sys.stdin)["score"])')")
    done
    printf '%s\n' "${scores[@]}" | "$python" -c '
import statistics, sys
name = sys.argv[1]
values = [float(v) for v in sys.stdin.read().split()]
print(f"{name}: runs={values}")
print(f"{name}: median={statistics.median(values)!r}")' "$name"
}

echo "machine: $(nproc) cpus, $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs), python $("$python" -c 'import platform; print(platform.python_version())'), numpy $("$python" -c 'import numpy; print(numpy.__version__)')"
measure start "$here/agent/solution.py"
measure reference "$here/reference/solution.py"
