#!/usr/bin/env bash
# Measures the start and reference constants of variant cpu the way the platform scores: HOME = a fresh copy of
# variants/cpu/agent (plus variants/cpu/reference on top, for the reference), REBENCH_PROTECTED = a copy of
# variants/cpu/scoring, the scorer run with /usr/bin/python3 from HOME. Prints each raw score and the median; copy
# the medians into manifest.yaml (variants[cpu].overrides.scoring.start / .reference and measured_by).
#   usage: tasks/<task>/measure_constants.sh [RUNS]   (default 3)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cpu="$here/variants/cpu"
runs="${1:-3}"
python=/usr/bin/python3

measure() {
    local name="$1" with_reference="$2" scores=()
    for _ in $(seq "$runs"); do
        local work
        work="$(mktemp -d)"
        mkdir -p "$work/home" "$work/protected"
        cp -r "$cpu/agent/." "$work/home/"
        cp -r "$cpu/scoring/." "$work/protected/"
        if [ "$with_reference" = yes ]; then cp -r "$cpu/reference/." "$work/home/"; fi
        scores+=("$(cd "$work/home" && HOME="$work/home" REBENCH_PROTECTED="$work/protected" \
            "$python" "$work/protected/score.py" 2>/dev/null | tail -n 1 \
            | "$python" -c 'import json, sys; print(json.load(sys.stdin)["score"])')")
        rm -rf "$work"
    done
    printf '%s\n' "${scores[@]}" | "$python" -c '
import statistics, sys
name = sys.argv[1]
values = [float(v) for v in sys.stdin.read().split()]
print(f"{name}: runs={values}")
print(f"{name}: median={statistics.median(values)!r}")' "$name"
}

echo "machine: $(nproc) cpus, $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), python $("$python" -c 'import platform; print(platform.python_version())'), torch $("$python" -c 'import torch; print(torch.__version__)')"
measure start no
measure reference yes
