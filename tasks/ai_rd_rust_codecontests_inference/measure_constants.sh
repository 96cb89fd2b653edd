#!/usr/bin/env bash
# Measures the start and reference constants of variant cpu the way the platform scores: for each run, a fresh
# home (a copy of agent/, plus reference/ on top for the reference) and protected area (a copy of scoring/), then
# /usr/bin/python3 "$REBENCH_PROTECTED/score.py" in the home. Prints each raw score and the median; copy the medians
# into manifest.yaml (variants[cpu].overrides.scoring.start / .reference and measured_by).
#   usage: tasks/<this bundle>/measure_constants.sh [RUNS]   (default 3)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
variant=cpu
runs="${1:-3}"
python=/usr/bin/python3

measure() {
    local name="$1" with_reference="$2" scores=()
    for _ in $(seq "$runs"); do
        local work
        work="$(mktemp -d)"
        mkdir -p "$work/home" "$work/protected"
        cp -r "$here/variants/$variant/agent/." "$work/home/"
        if [ "$with_reference" = 1 ]; then cp -r "$here/variants/$variant/reference/." "$work/home/"; fi
        cp -r "$here/variants/$variant/scoring/." "$work/protected/"
        # PATH as inside the sandbox (only the system /usr): the scorer then uses Debian's /usr/bin/rustc, as there.
        scores+=("$(cd "$work/home" && PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work/home" REBENCH_PROTECTED="$work/protected" \
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

echo "machine: $(nproc) cpus, $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs), python $("$python" -c 'import platform; print(platform.python_version())'), load $(cut -d' ' -f1-3 /proc/loadavg)"
measure start 0
measure reference 1
