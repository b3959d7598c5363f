#!/usr/bin/env bash
# guest-kernel.sh SIDE ARCH [VARIANT]: the matrix and bench guest kernel (guest
# config, CONFIG_KUNIT=n) of SIDE (stock|series) for ARCH, built when it is
# missing or out of date; prints its build dir. VARIANT (default none) adds
# configs/variants/VARIANT.config: "debug" is the checkers' kernel of make
# matrix-debug, in build dirs of its own (base-debug-ARCH, series-debug-ARCH).
#   stock   coco-base                 work/build/<base>/base-ARCH
#   series  the tree's HEAD commit    work/build/<base>/series-ARCH
#           the tree with uncommitted changes: work/build/<base>/series-tree-ARCH,
#           built from work/linux-<base> itself
# The committed kernels come from one worktree, work/wt/<base>/guest (guest_wt
# in scripts/lib.sh), checked out under the build lock. The stock
# build dir is copied for the series, so the series build compiles only what
# the series changes (the worktree checkout gives changed files a new mtime,
# and kbuild rebuilds what depends on them). .coco-stamp in a build dir names
# the commit and the fragments it was built from; a build dir whose stamp
# matches is used as it is.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
side=${1:?usage: guest-kernel.sh stock|series ARCH}
arch=${2:?usage: guest-kernel.sh stock|series ARCH}
variant=${3:-none}
vsuf=; [ "$variant" = none ] || vsuf=$variant-
case $side in stock|series) ;; *) die "guest-kernel.sh: SIDE is stock or series, not $side" ;; esac
img=$(image_target "$arch"); case $arch in x86_64|i386) img=arch/x86/boot/$img ;; *) img=arch/$arch/boot/$img ;; esac

if [ "$side" = series ] && [ -n "$(git -C "$TREE" status --porcelain --untracked-files=no)" ]; then
	b=$BUILD/series-tree-$vsuf$arch
	log "guest kernel series/$arch: the tree has uncommitted changes, building it as it is in ${b#$TOP/}"
	KTREE=$TREE BUILD_DIR=$b "$TOP/scripts/build.sh" "$arch" "$variant" >&2
	echo "$b"
	exit 0
fi

wt=$(guest_wt "$arch")
fhash=$(config_frags "$arch" "$variant" | xargs cat | sha256sum | cut -c1-16)
rev() { git -C "$TREE" rev-parse "$1"; }
stamp_of() { echo "$1 $fhash"; }
valid() { [ -f "$1/$img" ] && [ "$(cat "$1/.coco-stamp" 2>/dev/null)" = "$2" ]; }
# A build dir made from another source tree (an older layout) would look up to
# date against the wrong sources: start it again.
own() { [ ! -e "$1" ] || [ "$(readlink "$1/source" 2>/dev/null)" = "$wt" ] || { log "removing ${1#$TOP/} (built from $(readlink "$1/source" 2>/dev/null || echo '?'))"; rm -rf "$1"; }; }

base_b=$BUILD/base-$vsuf$arch
series_b=$BUILD/series-$vsuf$arch
if [ "$side" = stock ]; then b=$base_b; c=$(rev coco-base); else b=$series_b; c=$(rev HEAD); fi
want=$(stamp_of "$c")
if valid "$b" "$want"; then
	log "guest kernel $side/$arch: ${b#$TOP/} is built from $(git -C "$TREE" log -1 --format=%h "$c")"
	echo "$b"; exit 0
fi
# The checkout below moves the worktree that every guest build shares.
build_lock
own "$b"
# The series starts from a copy of the stock build: build that first (a
# caller asking for the series before the stock kernel would otherwise
# build both from scratch).
if [ "$side" = series ] && [ ! -e "$b" ] && ! valid "$base_b" "$(stamp_of "$(rev coco-base)")"; then
	log "guest kernel series/$arch: the stock kernel first, the series starts from a copy of it"
	"$TOP/scripts/guest-kernel.sh" stock "$arch" "$variant" >/dev/null
fi
if [ "$side" = series ] && [ ! -e "$b" ] && valid "$base_b" "$(stamp_of "$(rev coco-base)")"; then
	log "guest kernel series/$arch: starting from a copy of the stock build"
	copy_build_dir "$base_b" "$b"
fi
WT=$wt "$TOP/scripts/basetree.sh" "$c" >/dev/null
rm -f "$b/.coco-stamp"
log "guest kernel $side/$arch: building $(git -C "$TREE" log -1 --format='%h %s' "$c") in ${b#$TOP/}"
KTREE=$wt BUILD_DIR=$b "$TOP/scripts/build.sh" "$arch" "$variant" >&2
echo "$want" > "$b/.coco-stamp"
echo "$b"
