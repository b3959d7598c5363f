#!/usr/bin/env bash
# export.sh: regenerate patches/<base>/ from the commits on top of coco-base in
# $TREE with git format-patch: the numbered patches, a cover letter whose subject
# and text are kept (patches/<base>/cover-letter.txt, else the previous export),
# and a quilt-style 'series' file.
# The output is deterministic, so re-exporting an unchanged tree gives no diff.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$TREE/.git" ] || die "no tree at $TREE: run 'make tree' first"
[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] ||
	die "$TREE has uncommitted changes: commit them first (nothing was exported)"

dst=$TOP/patches/$BASE
old_cover=$dst/0000-cover-letter.patch
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=$(git -C "$TREE" rev-list --count coco-base..HEAD)

if [ "$n" -gt 0 ]; then
	# core.abbrev fixed: "auto" follows the object count, which differs
	# between a fresh import and a tree that kept an older base.
	git -C "$TREE" -c core.abbrev=12 format-patch -q --cover-letter --base=coco-base --zero-commit \
		--no-signature --subject-prefix=PATCH -o "$tmp" coco-base..HEAD
	cover=$tmp/0000-cover-letter.patch
	# The cover letter's subject and text come from patches/<base>/cover-letter.txt
	# (first line: subject; then a blank line and the text), which is edited by
	# hand; without it, from the previous export's cover letter (its text ends at
	# the shortlog, the first "Name (N):" line).
	subject="coco-dma: memory encryption fixes for dma-direct and virtio (6.12)"
	blurb=$tmp/blurb; : > "$blurb"
	if [ -f "$dst/cover-letter.txt" ]; then
		subject=$(head -n1 "$dst/cover-letter.txt")
		tail -n +3 "$dst/cover-letter.txt" > "$blurb"
	elif [ -f "$old_cover" ]; then
		subject=$(sed -n 's/^Subject: \[PATCH[^]]*\] //p' "$old_cover" | head -n1)
		awk 'body && /^[^ ].* \([0-9]+\):$/ { exit } body { print } /^$/ && !body { body = 1 }' \
			"$old_cover" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' > "$blurb"
	fi
	[ -s "$blurb" ] || echo "*** BLURB HERE ***" > "$blurb"
	# Date the cover letter like the newest commit, not "now".
	date=$(git -C "$TREE" log -1 --format=%aD HEAD)
	awk -v subj="$subject" -v blurbf="$blurb" -v date="$date" '
		/^Date: / && !done_date { print "Date: " date; done_date = 1; next }
		/\*\*\* SUBJECT HERE \*\*\*/ { sub(/\*\*\* SUBJECT HERE \*\*\*/, subj) }
		/^\*\*\* BLURB HERE \*\*\*$/ { while ((getline l < blurbf) > 0) print l; next }
		{ print }' "$cover" > "$cover.new"
	mv "$cover.new" "$cover"
fi
(cd "$tmp" && ls [0-9][0-9][0-9][0-9]-*.patch 2>/dev/null | grep -v '^0000-' || true) > "$tmp/series"

mkdir -p "$dst"
# Replace the old export: stale patch files go, everything else in patches/ stays.
# With no commits there is no new cover letter: keep the old one.
for f in "$dst"/[0-9][0-9][0-9][0-9]-*.patch; do
	[ -e "$f" ] || continue
	[ "$n" -eq 0 ] && [ "$f" = "$old_cover" ] && continue
	rm -f "$f"
done
cp "$tmp"/*.patch "$dst"/ 2>/dev/null || true
cp "$tmp/series" "$dst/series"
log "exported $n patches to patches/$BASE (base $(git -C "$TREE" rev-parse --short=12 coco-base))"
