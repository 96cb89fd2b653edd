#!/usr/bin/env bash
# Measures the start and reference constants of variant cpu (see tasks/_shared/measure_constants.sh).
#   usage: tasks/ai_rd_restricted_mlm/measure_constants.sh [RUNS]   (default 3)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../_shared/measure_constants.sh" "$here" cpu "${1:-3}"
