#!/usr/bin/env bash
# basetree.sh [REV]: a git worktree of the series tree at REV (default coco-base,
# the stock kernel) in work/wt/<base>/base, for A/B builds against stock 6.12 and for
# the bisect build. Prints its path.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
rev=${1:-coco-base}
wt=${WT:-$WTS/base}
[ -d "$TREE/.git" ] || "$TOP/scripts/tree.sh" >&2
# A worktree whose metadata is gone (its creation was interrupted, or the tree
# was made anew) is made again.
if [ -e "$wt/.git" ] && ! git -C "$wt" rev-parse --git-dir >/dev/null 2>&1; then
	echo "basetree: ${wt#$TOP/} is not a worktree of ${TREE#$TOP/} any more, making it again" >&2
	rm -rf "$wt"
fi
if [ ! -e "$wt/.git" ]; then
	git -C "$TREE" worktree prune
	git -C "$TREE" worktree add -q --detach "$wt" "$rev" >&2
else
	git -C "$wt" checkout -q --detach "$rev" >&2
fi
echo "$wt"
