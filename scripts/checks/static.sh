#!/usr/bin/env bash
# sparse (C=2) and W=1 on the touched directories, allmodconfig, x86_64 and
# arm64, for the stock base and for the series: fails on any warning the
# series adds. Warnings are compared without line numbers, as a multiset, so
# moved code does not count as new.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
export CCACHE_BASEDIR=$TOP/work CCACHE_NOHASHDIR=1
base_wt=$("$TOP/scripts/basetree.sh" coco-base) || die "cannot create the base worktree"
mapfile -t dirs < <(touched_dirs)

# warnings SIDE ARCH KTREE: build the dirs with W=1 C=2 and print normalised warnings.
warnings() {
	local side=$1 arch=$2 kt=$3 b=$BUILD/static-$1-$2 d
	mkdir -p "$b"
	if [ ! -f "$b/.config" ]; then
		KTREE=$kt kmake "$arch" "$b" allmodconfig >"$b/config.log" 2>&1 || { tail "$b/config.log" >&2; return 1; }
	fi
	# Force the compiler to run again on every object of the dirs (ccache
	# replays its cached warnings), so no warning hides behind an up-to-date .o.
	for d in "${dirs[@]}"; do [ -d "$b/$d" ] && find "$b/$d" -name '*.o' -delete; done
	KTREE=$kt kmake "$arch" "$b" W=1 C=2 "${dirs[@]/%//}" >"$b/static.log" 2>&1 || { grep -E 'error' "$b/static.log" | head >&2; return 1; }
	sed -e "s|$kt/||g" "$b/static.log" |
		sed -nE 's/^([^ :]+):[0-9]+(:[0-9]+)?: (warning|error): (.*)$/\1: \3: \4/p' | sort
}

for arch in x86_64 arm64; do
	name=static/$arch
	(
		build_lock
		log "$name: allmodconfig W=1 + sparse on ${dirs[*]}: base"
		warnings base "$arch" "$base_wt" > "$OUT/logs/static-base-$arch.txt" || exit 2
		log "$name: series"
		warnings series "$arch" "$TREE" > "$OUT/logs/static-series-$arch.txt" || exit 3
	)
	case $? in
	0) ;;
	2) record "$name" FAIL "the base itself does not build, see work/build/static-base-$arch/static.log"; continue ;;
	*) record "$name" FAIL "the series does not build with W=1, see work/build/static-series-$arch/static.log"; continue ;;
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
