#!/usr/bin/env bash
# Bisect build: the base and then every patch in turn, incrementally, for
# x86_64 and arm64, with KUnit and all its tests enabled so test code is
# compiled at every step too. Runs in a worktree so the series tree is untouched.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
commits=$(git -C "$TREE" rev-list --reverse coco-base..HEAD)
wt=$(WT=$WORK/wt/bisect "$TOP/scripts/basetree.sh" coco-base) || die "cannot create the bisect worktree"
for arch in x86_64 arm64; do
	name=bisect/$arch
	lf=$(logfile "$name")
	: > "$lf"
	bad=
	i=0
	for c in coco-base $commits; do
		git -C "$wt" checkout -q --detach "$c" || { bad="checkout of $c"; break; }
		what=$( [ "$c" = coco-base ] && echo "base" || echo "patch $i: $(git -C "$wt" log -1 --format=%s)")
		log "$name: building $what"
		if ! KTREE=$wt BUILD_DIR=$BUILD/bisect-$arch "$TOP/scripts/build.sh" "$arch" bisect >>"$lf" 2>&1; then
			bad=$what; break
		fi
		i=$((i + 1))
	done
	if [ -n "$bad" ]; then
		record "$name" FAIL "build breaks at $bad, see ${lf#$TOP/} and work/build/bisect-$arch/build.log"
	else
		record "$name" PASS "base + $((i - 1)) patches built one by one"
	fi
done
