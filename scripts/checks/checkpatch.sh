#!/usr/bin/env bash
# checkpatch --strict on every patch of the series: one named result per patch.
#
# Two checkpatch types are judged here instead, because this tree cannot
# answer them the way a maintainer's tree does:
#  - UNKNOWN_COMMIT_ID: the base is a release tarball with no upstream history,
#    so every Fixes: sha is "unknown". Instead the tag's form is checked (12+
#    hex digits and the ("subject") part), by checkpatch's GIT_COMMIT_ID rule,
#    which stays on.
#  - FILE_PATH_CHANGES ("does MAINTAINERS need updating?"): instead, every file
#    the series adds must be covered by a MAINTAINERS entry, asked of the
#    patched tree with get_maintainer.pl (checkpatch/maintainers below).
# One more is judged per patch: MACRO_ARG_UNUSED, in a patch that changes
# only tools/virtio/linux/. Those headers are userspace stand-ins for kernel
# headers, and a stand-in that defines a kernel macro away must drop its
# argument (tools/virtio/linux/build_bug.h: "#define BUILD_BUG_ON(x)";
# mainline's own MODULE_DESCRIPTION() stand-in). Anywhere else it still fails.
# spdxcheck.py needs Debian's python3 (ply, git), not another python on PATH.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
export PATH=/usr/bin:$PATH
# only_stand_ins PATCH: does PATCH change files under tools/virtio/linux/ only?
only_stand_ins() {
	local files
	files=$(sed -n 's|^diff --git a/\([^ ]*\) b/.*|\1|p' "$1")
	[ -n "$files" ] && ! grep -qv '^tools/virtio/linux/' <<< "$files"
}

n=0
for p in $(series_patches); do
	name=checkpatch/$(basename "$p" .patch)
	lf=$(logfile "$name")
	ignore=UNKNOWN_COMMIT_ID,FILE_PATH_CHANGES note=
	if only_stand_ins "$p"; then
		ignore+=,MACRO_ARG_UNUSED note=" (tools/virtio/linux stand-ins only: MACRO_ARG_UNUSED not asked)"
	fi
	if (cd "$TREE" && ./scripts/checkpatch.pl --strict --show-types \
		--ignore "$ignore" "$p") > "$lf" 2>&1 &&
	   ! grep -qE '^(Traceback|.*: No such file)' "$lf"; then
		record "$name" PASS "$(grep -E '^total:' "$lf")$note"
	else
		record "$name" FAIL "$(grep -E '^total:' "$lf" || echo 'checkpatch did not finish'), see ${lf#$TOP/}"
		sed 's/^/    /' "$lf" | head -n 40 >&2
	fi
	n=$((n + 1))
done
if [ "$n" -eq 0 ]; then
	record checkpatch SKIP "0 patches: nothing to check"
	exit 0
fi

name=checkpatch/maintainers
lf=$(logfile "$name")
uncovered=
added=$(git -C "$TREE" diff --diff-filter=A --name-only coco-base..HEAD)
for f in $added; do
	m=$(cd "$TREE" && ./scripts/get_maintainer.pl --nogit --nogit-fallback --norolestats --nol --nos -f "$f" 2>/dev/null)
	echo "$f: ${m:-(nobody)}" >> "$lf"
	[ -n "$m" ] || uncovered+=" $f"
done
if [ -n "$uncovered" ]; then
	record "$name" FAIL "files no MAINTAINERS entry covers:$uncovered"
else
	record "$name" PASS "$(echo "$added" | grep -c .) added files, all covered by MAINTAINERS"
fi
