#!/usr/bin/env bash
# make htmldocs SPHINXDIRS=core-api when the series touches Documentation/:
# fails on any warning the series adds (compared with the base, without line
# numbers). Uses Debian's sphinx (/usr/bin), not a python on PATH without it.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
name=htmldocs/core-api
if ! series_files | grep -q '^Documentation/'; then
	record "$name" SKIP "the series does not touch Documentation/"
	exit 0
fi
export PATH=/usr/bin:$PATH
base_wt=$("$TOP/scripts/basetree.sh" coco-base) || die "cannot create the base worktree"
docs() {	# SIDE KTREE
	local b=$BUILD/htmldocs-$1
	rm -rf "$b/Documentation/output"
	make -C "$2" O="$b" SPHINXDIRS=core-api htmldocs >"$OUT/logs/htmldocs-$1.log" 2>&1 || return 1
	{ grep -E 'WARNING|ERROR' "$OUT/logs/htmldocs-$1.log" || true; } | sed -e "s|$2/||g" -e 's/:[0-9]*: / /' | sort
}
# Not under the build lock: sphinx builds no kernel, and make check runs it
# beside the kernel builds.
log "$name: base"
docs base "$base_wt" > "$OUT/logs/htmldocs-base.txt" || { record "$name" FAIL "base htmldocs failed, see out/logs/htmldocs-base.log"; exit 0; }
log "$name: series"
if ! docs series "$TREE" > "$OUT/logs/htmldocs-series.txt"; then
	record "$name" FAIL "htmldocs failed, see out/logs/htmldocs-series.log"; exit 0
fi
new=$(comm -13 "$OUT/logs/htmldocs-base.txt" "$OUT/logs/htmldocs-series.txt")
if [ -n "$new" ]; then
	record "$name" FAIL "$(echo "$new" | wc -l) new warnings"; echo "$new" | sed 's/^/    /' >&2
else
	record "$name" PASS "no new warnings"
fi
