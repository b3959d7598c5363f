#!/usr/bin/env bash
# checkpatch --strict on every patch of the series: one named result per patch.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
n=0
for p in $(series_patches); do
	name=checkpatch/$(basename "$p" .patch)
	lf=$(logfile "$name")
	if (cd "$TREE" && ./scripts/checkpatch.pl --strict --quiet --show-types "$p") > "$lf" 2>&1; then
		record "$name" PASS
	else
		record "$name" FAIL "$(grep -cE '^(ERROR|WARNING|CHECK)' "$lf") findings, see ${lf#$TOP/}"
		sed 's/^/    /' "$lf" | head -n 40 >&2
	fi
	n=$((n + 1))
done
[ "$n" -gt 0 ] || record checkpatch SKIP "0 patches: nothing to check"
