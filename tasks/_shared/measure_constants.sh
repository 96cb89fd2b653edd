#!/usr/bin/env bash
# Measures a variant's start and reference constants the way the platform scores: for each run, a fresh home (the
# variant's agent/, plus reference/ on top for the reference) and protected area (its scoring/), laid out as the
# scoring service does (layout.py: its own folders with the manifest's layers), then
# /usr/bin/python3 "$REBENCH_PROTECTED/score.py" in the home, with the sandbox's PATH (only the system's /usr, so a
# scorer that compiles uses Debian's /usr/bin/rustc, as there). Prints each raw score and the median; copy the medians
# into manifest.yaml (variants[VARIANT].overrides.scoring.start / .reference and measured_by).
#   usage: tasks/_shared/measure_constants.sh BUNDLE_DIR VARIANT [RUNS]   (default 3); each bundle's
#          measure_constants.sh calls it for its cpu variant
set -euo pipefail
shared="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bundle="$(cd "$1" && pwd)"
variant="$2"
runs="${3:-3}"
python=/usr/bin/python3
layout="$(mktemp -d)"
trap 'rm -rf "$layout"' EXIT
"$python" "$shared/layout.py" "$bundle" "$variant" "$layout"

measure() {
    local name="$1" with_reference="$2" scores=()
    for _ in $(seq "$runs"); do
        local work
        work="$(mktemp -d)"
        mkdir -p "$work/home" "$work/protected"
        cp -a "$layout/agent/." "$work/home/"
        if [ "$with_reference" = yes ]; then cp -a "$layout/reference/." "$work/home/"; fi
        cp -a "$layout/scoring/." "$work/protected/"
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

versions="$("$python" -c '
import importlib, platform
found = [f"python {platform.python_version()}"]
for name in ("torch", "numpy"):
    try:
        found.append(f"{name} {importlib.import_module(name).__version__}")
    except ImportError:
        pass
print(", ".join(found))')"
echo "$(basename "$bundle") $variant on $(nproc) cpus, $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), $versions"
measure start no
measure reference yes
