#!/usr/bin/env bash
# make coccicheck MODE=report on the touched directories, with every semantic
# patch of the series tree (including any the series adds). A report that the
# stock base does not also give fails; so does coccicheck itself failing.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
mapfile -t dirs < <(touched_dirs)
base_wt=$("$TOP/scripts/basetree.sh" coco-base) || die "cannot create the base worktree"

# reports SIDE KTREE DIR: normalised report lines (no line numbers) on stdout;
# fails when coccicheck fails or spatch is missing.
reports() {
	local side=$1 kt=$2 d=$3
	local b=$BUILD/cocci-$side raw
	raw=$(logfile "cocci-$side-$d")
	mkdir -p "$b"
	command -v spatch >/dev/null || { echo "spatch is not installed" > "$raw"; return 1; }
	# M= must be absolute with O= (scripts/coccicheck runs in the build dir).
	make -C "$kt" O="$b" coccicheck MODE=report J="$JOBS" M="$kt/$d" > "$raw" 2>&1 || return 1
	{ grep -E '^/?[^ ]+:[0-9]+:[0-9]+(-[0-9]+)?: ' "$raw" || true; } |
		sed -e "s|^$kt/||" -e 's|:[0-9][0-9]*:[0-9-]*:|:|' | sort
}

for d in "${dirs[@]}"; do
	name=coccicheck/$d
	log "$name"
	if ! reports series "$TREE" "$d" > "$OUT/logs/cocci-series-${d//\//_}.txt"; then
		record "$name" FAIL "coccicheck failed, see $(logfile "cocci-series-$d" | sed "s|$TOP/||")"
		continue
	fi
	nscripts=$(grep -c ' --cocci-file ' "$(logfile "cocci-series-$d")" || true)
	if [ ! -s "$OUT/logs/cocci-series-${d//\//_}.txt" ]; then
		record "$name" PASS "no reports from $nscripts semantic patches"
		continue
	fi
	if ! reports base "$base_wt" "$d" > "$OUT/logs/cocci-base-${d//\//_}.txt"; then
		record "$name" FAIL "coccicheck failed on the base"
		continue
	fi
	new=$(comm -13 "$OUT/logs/cocci-base-${d//\//_}.txt" "$OUT/logs/cocci-series-${d//\//_}.txt")
	if [ -n "$new" ]; then
		record "$name" FAIL "$(echo "$new" | wc -l) new reports"
		echo "$new" | sed 's/^/    /' >&2
	else
		record "$name" PASS "no new reports ($(wc -l < "$OUT/logs/cocci-series-${d//\//_}.txt") also in the base)"
	fi
done
