#!/usr/bin/env bash
# Config variants that must keep building and linking: no SWIOTLB (i386
# without PAE), no restricted DMA pools (arm64), and virtio as modules
# (exported symbols must resolve in modpost).
#
# Only the touched directories are compiled, base and then series, in one
# worktree (work/wt/<base>/ab) and one build dir per variant: that catches every
# compile error the variant exists for (a missing stub, code under the wrong
# #ifdef). What a link adds is checked from the objects (scripts/objsyms.py):
# when the series' touched objects need no external symbol that the base's
# did not (built-in code calling outside the touched built-in code, module
# code calling what the touched code does not export), the series links
# wherever the base links. Otherwise the variant links vmlinux (and the
# modules, through modpost) in full. VARIANTS_FULL=1 always links in full.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
export CCACHE_BASEDIR=$TOP/work CCACHE_NOHASHDIR=1
wt=$(WT=$WTS/ab "$TOP/scripts/basetree.sh" coco-base) || die "cannot create the A/B worktree"
head=$(git -C "$TREE" rev-parse HEAD)
mapfile -t dirs < <(touched_dirs)

# side NAME ARCH VARIANT SIDE: configure and compile the dirs at SIDE's commit,
# then dump their symbols to out/logs/variant-NAME-SIDE.json.
side() {
	local name=$1 arch=$2 variant=$3 s=$4 b=$BUILD/variant-$1 rev
	rev=$([ "$s" = base ] && echo coco-base || echo "$head")
	git -C "$wt" checkout -q --detach "$rev" || return 1
	KTREE=$wt BUILD_DIR=$b "$TOP/scripts/build.sh" "$arch" "$variant" "${dirs[@]/%//}" || return 1
	mv "$b/build.log" "$b/build-$s.log"
	python3 "$TOP/scripts/objsyms.py" dump "$(cross_prefix "$arch")nm" "$b" "${dirs[@]}" > "$OUT/logs/variant-$name-$s.json"
}

while read -r variant arch targets; do
	name=variant/$variant
	lf=$OUT/logs/variant-$variant.log
	b=$BUILD/variant-$variant
	log "$name: $arch, ${dirs[*]}"
	(
		build_lock
		side "$variant" "$arch" "$variant" base || exit 2
		side "$variant" "$arch" "$variant" series || exit 3
		if need=$(python3 "$TOP/scripts/objsyms.py" new "$OUT/logs/variant-$variant-base.json" "$OUT/logs/variant-$variant-series.json") &&
		   [ "${VARIANTS_FULL:-0}" != 1 ]; then
			exit 0
		fi
		log "$name: ${need:+the series needs $(echo "$need" | wc -l) external symbols the base did not ($(echo $need | cut -c1-200)); }linking in full [$targets]"
		# shellcheck disable=SC2086
		KTREE=$wt BUILD_DIR=$b "$TOP/scripts/build.sh" "$arch" "$variant" $targets || exit 4
		exit 5
	) >"$lf" 2>&1
	rc=$?
	nobj=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["builtin_objs"] + d["module_objs"])' "$OUT/logs/variant-$variant-series.json" 2>/dev/null || echo '?')
	case $rc in
	0) record "$name" PASS "$arch: $nobj objects of ${dirs[*]} compile; they need no external symbol the base does not, so the link is the base's" ;;
	5) record "$name" PASS "$arch: $nobj objects compile, and $targets link in full" ;;
	2) record "$name" FAIL "the base does not build in this variant: $(grep -m1 -E 'error|undefined|dropped' "$lf" "$b"/build*.log 2>/dev/null | cut -c1-160)" ;;
	# The link failed: the linker's own line, not the step log's "linking in full"
	4) record "$name" FAIL "$(grep -h -m1 -E 'error:|undefined reference|dropped' "$b/build.log" "$lf" 2>/dev/null | head -1 | cut -c1-160)" ;;
	*) record "$name" FAIL "$(grep -h -m1 -E 'error|undefined|dropped' "$lf" "$b/build.log" 2>/dev/null | head -1 | cut -c1-160)" ;;
	esac
done <<'LIST'
swiotlb-n i386 vmlinux
restricted-pool-n arm64 vmlinux
virtio-m x86_64 vmlinux modules
LIST
