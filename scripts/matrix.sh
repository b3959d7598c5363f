#!/usr/bin/env bash
# matrix.sh: the QEMU boot matrix (matrix/rows/*.row) on the series and stock
# kernels.  Builds the kernels with scripts/build.sh (one build at a time,
# under the build lock), the guest agent (guest/agent.c) and its initramfs,
# boots every row with a timeout and writes out/matrix.{ktap,junit.xml,md}.
# Exit status 1 when any row fails.
# Env: ROWS="glob ..." (row names, default all), SIDES="series stock",
#      TIMEOUT=120 (s per boot), MATRIX_JOBS=1, MATRIX_NO_BUILD=1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
rc=0
mkdir -p "$OUT" && touch "$OUT/.matrix.stamp"
python3 "$TOP/matrix/run.py" "$@" || rc=$?
# This run's table (without the per-row message appendix) for the console / CI log.
if [ "$OUT/matrix.md" -nt "$OUT/.matrix.stamp" ]; then
	sed '/^## Kernel messages/,$d' "$OUT/matrix.md"
else
	log "matrix: no table written by this run"
fi
exit $rc
