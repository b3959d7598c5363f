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
# CHECK_PRUNE=1 (the default when CI=true): once a base is done and another
# follows, its kernel tree, worktrees and build dirs go; its reports in
# out/<base>/ stay. A cold make check of both bases kept them all and ran
# out of disk on the CI machine; pruning leaves the later base the disk of
# one. A later base that needs them again (the pkvm host kernel is built
# from the 7.3 tree) builds them again.
prune=${CHECK_PRUNE:-$([ "${CI:-}" = true ] && echo 1 || echo 0)}
rc=0
left=$(wc -w <<< "$BASES")
for b in $BASES; do
	[ -f "$TOP/bases/$b.env" ] || die "no bases/$b.env"
	log "=== make check: base $b"
	BASE=$b OUT=$OUT_ROOT/$b TREE=$WORK/linux-$b BUILD=$WORK/build/$b WTS=$WORK/wt/$b \
		"$TOP/scripts/check.sh" "$@" || rc=1
	left=$((left - 1))
	if [ "$prune" = 1 ] && [ "$left" -gt 0 ]; then
		log "=== make check: $b is done, removing work/linux-$b, work/wt/$b and work/build/$b (CHECK_PRUNE=1)"
		rm -rf "$WORK/wt/$b" "$WORK/build/$b" "$WORK/linux-$b"
	fi
done
log "=== summary of every base ($BASES)"
python3 "$TOP/scripts/summary.py" --merge "$OUT_ROOT" $BASES || rc=1
exit $rc
