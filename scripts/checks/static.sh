#!/usr/bin/env bash
# sparse (C=2) and W=1 on the touched directories, allmodconfig, x86_64 and
# arm64, for the stock base and for the series: fails on any warning the
# series adds. Warnings are compared without line numbers, as a multiset, so
# moved code does not count as new.
# Base and series share one worktree (work/wt/<base>/ab) and one prepared build
# dir per arch: the worktree is checked out at coco-base, the dirs are
# compiled, then it is checked out at the series' HEAD and they are compiled
# again. Every object checked (see below) is compiled on both sides; ccache
# replays the objects (and their warnings) that the series does not change.
# The objects checked are check_targets' (scripts/lib.sh): of a touched
# directory other than kernel/dma and drivers/virtio, only the files that
# can warn differently; every other file of it compiles the same on both
# sides.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
export CCACHE_BASEDIR=$TOP/work CCACHE_NOHASHDIR=1
wt=$(WT=$WTS/ab "$TOP/scripts/basetree.sh" coco-base) || die "cannot create the static worktree"
head=$(git -C "$TREE" rev-parse HEAD)
mapfile -t dirs < <(touched_dirs)
mapfile -t targets < <(check_targets)

# warnings SIDE ARCH: check the worktree out at SIDE's commit, build the dirs
# with W=1 C=2 and print normalised warnings.
warnings() {
	local side=$1 arch=$2 b=$BUILD/static-$2 d rev
	rev=$([ "$side" = base ] && echo coco-base || echo "$head")
	git -C "$wt" checkout -q --detach "$rev" || return 1
	mkdir -p "$b"
	# allmodconfig on each side: the series may add options.
	KTREE=$wt kmake "$arch" "$b" allmodconfig >"$b/config-$side.log" 2>&1 || { tail "$b/config-$side.log" >&2; return 1; }
	# Force the compiler to run again on every object of the dirs (ccache
	# replays its cached warnings), so no warning hides behind an up-to-date .o.
	for d in "${dirs[@]}"; do [ -d "$b/$d" ] && find "$b/$d" -name '*.o' -delete; done
	KTREE=$wt kmake "$arch" "$b" W=1 C=2 "${targets[@]}" >"$b/static-$side.log" 2>&1 || { grep -E 'error' "$b/static-$side.log" | head >&2; return 1; }
	sed -e "s|$wt/||g" "$b/static-$side.log" |
		sed -nE 's/^([^ :]+):[0-9]+(:[0-9]+)?: (warning|error): (.*)$/\1: \3: \4/p' | sort
}

for arch in x86_64 arm64; do
	name=static/$arch
	(
		build_lock
		log "$name: allmodconfig W=1 + sparse on ${targets[*]}: base"
		warnings base "$arch" > "$OUT/logs/static-base-$arch.txt" || exit 2
		log "$name: series"
		warnings series "$arch" > "$OUT/logs/static-series-$arch.txt" || exit 3
	)
	case $? in
	0) ;;
	2) record "$name" FAIL "the base itself does not build, see work/build/$BASE/static-$arch/static-base.log"; continue ;;
	*) record "$name" FAIL "the series does not build with W=1, see work/build/$BASE/static-$arch/static-series.log"; continue ;;
	esac
	new=$(comm -13 "$OUT/logs/static-base-$arch.txt" "$OUT/logs/static-series-$arch.txt")
	nbase=$(wc -l < "$OUT/logs/static-base-$arch.txt")
	if [ -n "$new" ]; then
		record "$name" FAIL "$(echo "$new" | wc -l) new sparse/W=1 warnings"
		echo "$new" | sed 's/^/    /' >&2
	else
		record "$name" PASS "no new warnings ($nbase in the base)"
	fi
done
