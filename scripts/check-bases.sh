#!/usr/bin/env bash
# check-bases.sh: make check over every base it gates, one after the other:
# scripts/check.sh with BASE=<base> (its reports in out/<base>/), then one
# summary over all of them, every row named with its base, ending in
# "N passed, N failed[, N skipped]".
#   BASES="6.12 7.3" (default: every bases/*.env, oldest first)
# What make check runs for a base is in its bases/<base>.env (GATE_*).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
BASES=${BASES:-$(cd "$TOP/bases" && ls ./*.env | sed 's|^\./||; s|\.env$||' | sort -V | tr '\n' ' ')}
# OUT_ROOT: where the per-base reports go (default out/; make check-debug
# keeps its own in out/debug/, beside make check's).
OUT_ROOT=${OUT_ROOT:-$TOP/out}
rc=0
for b in $BASES; do
	[ -f "$TOP/bases/$b.env" ] || die "no bases/$b.env"
	log "=== make check: base $b"
	BASE=$b OUT=$OUT_ROOT/$b TREE=$WORK/linux-$b BUILD=$WORK/build/$b WTS=$WORK/wt/$b \
		"$TOP/scripts/check.sh" "$@" || rc=1
done
log "=== summary of every base ($BASES)"
python3 "$TOP/scripts/summary.py" --merge "$OUT_ROOT" $BASES || rc=1
exit $rc
