#!/usr/bin/env bash
# make coccicheck MODE=report on the touched directories, with every semantic
# patch of the series tree (including any the series adds). A report that the
# stock base does not also give fails; so does coccicheck itself failing.
#
# Only what can report differently is checked file by file: a file of a
# touched directory that the series changes or that includes a changed header
# with a local #include "..." (which most semantic patches parse), plus the
# headers beside those .c files (local includes must resolve) and the headers
# the series changes. They are copied, base and series side, into scratch
# directories that coccicheck reads with M=. Every other file is the same on
# both sides and gives the same reports. Semantic patches the series adds or
# changes run on the whole directories instead, base and series: they can
# report on files the series does not touch. So do those that parse every
# include (--all-includes, --recursive-includes), when the series changes or
# removes a line of a header: that can change their reports anywhere. When
# it only adds lines to headers, a file can report differently only if it
# uses what was added, and only the files the series changes can (the rest
# compiled before the additions existed); they are in the file-by-file set.
# (drivers/net whole, with unsigned_lesser_than_zero.cocci, is more than 16
# minutes per side here.)
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
mapfile -t dirs < <(touched_dirs)
base_wt=$("$TOP/scripts/basetree.sh" coco-base) || die "cannot create the base worktree"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/coco-cocci.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mapfile -t changed < <(series_files)
hdrs=$(printf '%s\n' "${changed[@]}" | grep -E '\.h$' | xargs -r -n1 basename | sort -u)
# Changed headers with a line removed or changed: the numstat of a header
# whose lines were only added says 0 deleted.
hdrs_rewritten=$(git -C "$TREE" diff --numstat coco-base..HEAD -- '*.h' | awk '$2 != 0 { print $3 }')
mapfile -t include_rules < <(cd "$TREE" && grep -rlE '^// Options:.*--(all|recursive)-includes' --include='*.cocci' scripts/coccinelle | sort)
mapfile -t wide_rules < <({
	printf '%s\n' "${changed[@]}" | grep -E '^scripts/coccinelle/.*\.cocci$' | while read -r f; do [ -f "$TREE/$f" ] && echo "$f"; done
	[ -z "$hdrs_rewritten" ] || printf '%s\n' "${include_rules[@]}"
} | sort -u)
if [ -z "$hdrs_rewritten" ]; then
	log "coccicheck: the series only adds lines to headers: the semantic patches that parse every include run on the files it changes, not on whole directories"
else
	log "coccicheck: the series changes lines of $(echo $hdrs_rewritten): the semantic patches that parse every include also run on whole directories"
fi

# affected DIR: the files of DIR (relative to the tree) that can report
# differently, and the headers beside them.
affected() {
	local d=$1 files
	files=$({
		printf '%s\n' "${changed[@]}" | grep -E "^$d/.*\.[ch]$" | while read -r f; do [ -f "$TREE/$f" ] && echo "$f"; done
		[ -z "$hdrs" ] || (cd "$TREE" && grep -rlE "^#[[:space:]]*include[[:space:]]*\"([^\"]*/)?($(echo $hdrs | tr ' ' '|' | sed 's/\./\\./g'))\"" --include='*.[ch]' "$d")
	})
	{
		echo "$files"
		echo "$files" | grep '\.c$' | xargs -r -n1 dirname | sort -u |
			while read -r cd; do (cd "$TREE" && find "$cd" -maxdepth 1 -name '*.h'); done
	} | grep . | sort -u
}

# reports SIDE KTREE DIR [COCCI]: normalised report lines (no line numbers) on
# stdout; fails when coccicheck fails or spatch is missing. With COCCI, DIR is
# scanned as it is in KTREE; without, DIR is "affected" and the scratch copy of
# the files listed in $scratch/files-SIDE is scanned in one run.
reports() {
	local side=$1 kt=$2 d=$3 cocci=${4:-} b=$BUILD/cocci-$1 raw m f
	raw=$(logfile "cocci-$side-${cocci:+$d-}$(basename "${cocci:-all}" .cocci)")
	mkdir -p "$b"
	command -v spatch >/dev/null || { echo "spatch is not installed" > "$raw"; return 1; }
	if [ -n "$cocci" ]; then
		m=$kt/$d
	else
		m=$scratch/$side
		rm -rf "$m"; mkdir -p "$m"
		while read -r f; do
			[ -f "$kt/$f" ] || continue
			mkdir -p "$m/$(dirname "$f")" && cp "$kt/$f" "$m/$f"
		done < "$scratch/files-$side"
	fi
	# M= must be absolute with O= (scripts/coccicheck runs in the build dir).
	make -C "$kt" O="$b" coccicheck MODE=report J="$JOBS" M="$m" ${cocci:+COCCI="$kt/$cocci"} > "$raw" 2>&1 || return 1
	{ grep -E '^/?[^ ]+:[0-9]+:[0-9]+(-[0-9]+)?: ' "$raw" || true; } |
		sed -e "s|^$kt/||" -e "s|^$scratch/$side/||" -e 's|:[0-9][0-9]*:[0-9-]*:|:|' | sort
}

# compare NAME SERIES_LIST BASE_LIST WHAT: record the comparison.
compare() {
	local name=$1 s=$2 bl=$3 what=$4 new
	new=$(comm -13 "$bl" "$s")
	if [ -n "$new" ]; then
		record "$name" FAIL "$(echo "$new" | wc -l) new reports"
		echo "$new" | sed 's/^/    /' >&2
	else
		record "$name" PASS "$what"
	fi
}

for d in "${dirs[@]}"; do affected "$d"; done > "$scratch/files"
cp "$scratch/files" "$scratch/files-series"
s=$OUT/logs/cocci-series.txt bl=$OUT/logs/cocci-base.txt
log "coccicheck: $(grep -vc '\.h$' "$scratch/files") .c files of ${dirs[*]} that the series changes or that include a changed local header"
sok=1 bok=1
reports series "$TREE" affected > "$s" || sok=0
nscripts=$(grep -c ' --cocci-file ' "$(logfile cocci-series-all)" || true)
# A series report is new unless the base gives it on the same file: the base
# runs on the files the series reports on (and the headers beside them, for
# their local includes), and not at all when the series reports nothing.
if [ $sok = 1 ] && [ -s "$s" ]; then
	sed -E 's/^([^: ]+):.*/\1/' "$s" | sort -u > "$scratch/reported"
	{ cat "$scratch/reported"; xargs -r -n1 dirname < "$scratch/reported" | sort -u | while read -r d; do grep -E "^$d/[^/]+\.h$" "$scratch/files"; done; } |
		sort -u > "$scratch/files-base"
	log "coccicheck: base side on the $(wc -l < "$scratch/reported") files the series side reports on: $(tr '\n' ' ' < "$scratch/reported")"
	reports base "$base_wt" affected > "$bl" || bok=0
else
	: > "$bl"
fi
for d in "${dirs[@]}"; do
	name=coccicheck/$d
	n=$(grep -c "^$d/[^ ]*\.c$" "$scratch/files" || true)
	if [ $sok = 0 ]; then
		record "$name" FAIL "coccicheck failed, see out/logs/cocci-series-all.log"
	elif [ $bok = 0 ]; then
		record "$name" FAIL "coccicheck failed on the base, see out/logs/cocci-base-all.log"
	else
		compare "$name" <(grep "^$d/" "$s") <(grep "^$d/" "$bl") \
			"no new reports from $nscripts semantic patches on $n .c files ($(grep -c "^$d/" "$bl") also in the base)"
	fi
	if [ -z "$hdrs_rewritten" ]; then
		for r in "${include_rules[@]}"; do
			printf '%s\n' "${wide_rules[@]}" | grep -qxF "$r" ||
				record "coccicheck/$d/$(basename "$r")" SKIP "not on all of $d: the series only adds lines to headers, so only the files it changes can report differently, and coccicheck/$d ran it on them"
		done
	fi
	for r in "${wide_rules[@]}"; do
		name=coccicheck/$d/$(basename "$r")
		if ! reports series "$TREE" "$d" "$r" > "$s.new"; then
			record "$name" FAIL "coccicheck failed, see out/logs/cocci-series-${d//\//-}-$(basename "$r" .cocci).log"
			continue
		fi
		if [ -f "$base_wt/$r" ] && [ -s "$s.new" ]; then	# against the rule as the base has it
			reports base "$base_wt" "$d" "$r" > "$bl.new" || { record "$name" FAIL "coccicheck failed on the base"; continue; }
			compare "$name" "$s.new" "$bl.new" "no new reports on all of $d ($(wc -l < "$s.new") also in the base)"
		elif [ -f "$base_wt/$r" ]; then
			record "$name" PASS "no reports on all of $d"
		else	# a new rule: every report on the whole directory is new
			compare "$name" "$s.new" /dev/null "the series' new semantic patch is silent on all of $d"
		fi
	done
done
