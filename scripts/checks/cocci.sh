#!/usr/bin/env bash
# make coccicheck MODE=report on the touched directories (every semantic patch
# of the series tree, including any the series adds). A report that the stock
# base does not also give fails.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
mapfile -t dirs < <(touched_dirs)
base_wt=$("$TOP/scripts/basetree.sh" coco-base) || die "cannot create the base worktree"

reports() {	# KTREE DIR -> normalised report lines
	local kt=$1 d=$2 b=$BUILD/cocci-$(basename "$kt")
	mkdir -p "$b"
	# M= must be absolute with O= (scripts/coccicheck runs in the build dir).
	make -s -C "$kt" O="$b" coccicheck MODE=report J="$JOBS" M="$kt/$d" 2>/dev/null |
		grep -E '^[^ ]+:[0-9]+:[0-9]+-[0-9]+: |^[^ ]+:[0-9]+:[0-9]+: ' |
		sed -e "s|$kt/||; s|:[0-9][0-9]*:[0-9-]*:|:|" | sort
}

for d in "${dirs[@]}"; do
	name=coccicheck/$d
	log "$name"
	reports "$TREE" "$d" > "$OUT/logs/cocci-series-${d//\//_}.txt"
	if [ ! -s "$OUT/logs/cocci-series-${d//\//_}.txt" ]; then
		record "$name" PASS "no reports"
		continue
	fi
	reports "$base_wt" "$d" > "$OUT/logs/cocci-base-${d//\//_}.txt"
	new=$(comm -13 "$OUT/logs/cocci-base-${d//\//_}.txt" "$OUT/logs/cocci-series-${d//\//_}.txt")
	if [ -n "$new" ]; then
		record "$name" FAIL "$(echo "$new" | wc -l) new reports"
		echo "$new" | sed 's/^/    /' >&2
	else
		record "$name" PASS "no new reports ($(wc -l < "$OUT/logs/cocci-series-${d//\//_}.txt") also in the base)"
	fi
done
