#!/usr/bin/env bash
# tree.sh: create $TREE (work/linux-<base>) = the cached base commit + git am of
# patches/<base>/*.patch. An existing tree is kept when it already holds exactly
# the series; a tree with other work is never thrown away: FORCE=1 moves it
# aside to work/linux-<base>.old-<time> before re-creating it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

REPO=$CACHE/linux-$BASE.git
[ -d "$REPO" ] || "$TOP/scripts/fetch-base.sh"

series_ids() { local p; for p in $(series_patches); do git patch-id --stable < "$p"; done | awk '{print $1}'; }
tree_ids()   { git -C "$TREE" log --reverse -p --format='From %H' coco-base..HEAD | git patch-id --stable | awk '{print $1}'; }

if [ -d "$TREE/.git" ]; then
	# The base the tree was created from (its own coco-base tag) must be the
	# cached base: bases/$BASE.env may pin a new version.
	if [ "$(git -C "$TREE" rev-parse -q --verify coco-base)" != "$(git --git-dir="$REPO" rev-parse coco-base)" ]; then
		log "$TREE was made from another base than $(git --git-dir="$REPO" log -1 --format=%s coco-base)"
	elif [ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] &&
	   [ "$(series_ids)" = "$(tree_ids)" ]; then
		log "$TREE already holds the $(series_patches | wc -l) patches of patches/$BASE; nothing to do"
		exit 0
	fi
	if [ "${FORCE:-0}" != 1 ]; then
		die "$TREE holds work that differs from patches/$BASE (uncommitted edits or other commits).
Run 'make export' to keep it, or 'make tree FORCE=1' to move it aside and start again."
	fi
	aside=$TREE.old-$(date +%Y%m%d-%H%M%S)
	log "moving the old tree aside to $aside"
	mv "$TREE" "$aside"
fi

mkdir -p "$WORK"
log "creating $TREE from $(git --git-dir="$REPO" rev-parse --short=12 coco-base)"
git clone -q --shared --no-checkout "$REPO" "$TREE"
git -C "$TREE" checkout -q -b series coco-base
# The tree is a scratch area: keep kunit.py and builds from dirtying git status.
printf '/.kunit/\n__pycache__/\n' >> "$TREE/.git/info/exclude"

n=0
for p in $(series_patches); do
	if ! git -C "$TREE" am -q --keep-cr --committer-date-is-author-date "$p"; then
		git -C "$TREE" am --abort || true
		die "patch $(basename "$p") does not apply to the base"
	fi
	n=$((n + 1))
done
log "$TREE: base + $n patches, HEAD $(git -C "$TREE" rev-parse --short=12 HEAD)"
