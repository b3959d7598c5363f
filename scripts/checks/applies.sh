#!/usr/bin/env bash
# applies/<version>: for every linux-source-<base> that Debian serves in the
# suites of bases/<base>.env (BASE_SUITE and BASE_APPLY_SUITES), does
# patches/<base> apply with plain git am (no -3, no fuzz)? One row per
# version, naming the patch and the file where it stops.
# The pin (BASE_VERSION) and the versions the series promises to apply to
# (BASE_ALSO_APPLIES) gate: PASS or FAIL. Any other version Debian serves,
# a new 6.12.y among them, is an INFO row, announced loudly when the series
# stops there: it tells the maintainer to rebase without failing unrelated
# work, and make tree keeps building the pin (scripts/fetch-base.sh never
# switches to another version).
# Only the files the series touches are taken from each source tarball: git am
# reads nothing else, so the answer is the one a whole tree would give.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$TOP/bases/$BASE.env"
. "$TOP/scripts/debian-apt.sh"

patches=$(series_patches)
[ -n "$patches" ] || { record applies SKIP "patches/$BASE has no patches"; exit 0; }
# Paths the series reads or writes (a/ and b/ sides of every diff).
mapfile -t paths < <(sed -nE 's#^diff --git a/([^ ]+) b/([^ ]+)$#\1\n\2#p' $patches | sort -u)
scratch=$WORK/applies/$BASE
rm -rf "$scratch"; mkdir -p "$scratch"

# try VERSION DEB: import the series' files of DEB's source tarball into a
# scratch repository and git am the series; print the verdict.
try() {
	local ver=$1 deb=$2 d=$scratch/$1 tarball top n stop z
	mkdir -p "$d"
	tarball=$(dpkg-deb -c "$deb" | awk '{print $NF}' | grep -E "/usr/src/linux-source-$BASE\.tar\.[a-z]+$" | head -n1)
	[ -n "$tarball" ] || { echo "FAIL no source tarball in $(basename "$deb")"; return; }
	top=linux-source-$BASE
	case $tarball in
	*.xz) z=-J ;; *.gz) z=-z ;; *.bz2) z=-j ;; *.zst) z=--zstd ;; *) z= ;;
	esac
	# Files the series creates are not in the tarball: tar says so and
	# exits 2, which is expected; a missing Makefile is not.
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "$tarball" |
		tar -x $z -C "$d" --strip-components=1 "$top/Makefile" "${paths[@]/#/$top/}" 2>/dev/null
	[ -f "$d/Makefile" ] || { echo "FAIL cannot extract $tarball"; return; }
	git -C "$d" init -q && git -C "$d" add -A &&
		git -C "$d" -c user.name=applies -c user.email=applies@invalid commit -q -m "$ver" ||
		{ echo "FAIL cannot import the files of $ver"; return; }
	n=0
	for p in $patches; do
		if ! git -C "$d" -c user.name=applies -c user.email=applies@invalid am -q --keep-cr "$p" >"$d.am.log" 2>&1; then
			stop=$(sed -nE 's/^error: patch failed: ([^:]+):.*/\1/p' "$d.am.log" | head -n1)
			echo "FAIL stops at $(basename "$p" | cut -c1-4) (${stop:-see out/logs/applies-$ver.log}): $n of $(echo "$patches" | wc -w) apply"
			cp "$d.am.log" "$OUT/logs/applies-$ver.log"
			return
		fi
		n=$((n + 1))
	done
	echo "PASS all $n patches apply"
}

for suite in $BASE_SUITE ${BASE_APPLY_SUITES:-}; do
	if ! apt_suite "$suite" 2>"$OUT/logs/applies-$suite.log"; then
		record "applies/$suite" FAIL "cannot read the $suite lists, see out/logs/applies-$suite.log"
		continue
	fi
	for ver in $(apt_versions "$BASE_PACKAGE"); do
		if ! deb=$(apt_fetch "$BASE_PACKAGE" "$ver" 2>"$OUT/logs/applies-$ver.log"); then
			record "applies/$ver" FAIL "$suite serves it but the download failed, see out/logs/applies-$ver.log"
			continue
		fi
		read -r res detail < <(try "$ver" "$deb")
		if [ "$ver" = "$BASE_VERSION" ]; then
			what="$suite, the pin"
		elif [[ " ${BASE_ALSO_APPLIES:-} " == *" $ver "* ]]; then
			what="$suite, promised in bases/$BASE.env"
		else
			what="$suite, not promised"
			[ "$res" = PASS ] || loud "patches/$BASE does not apply to $BASE_PACKAGE $ver ($suite): $detail"
			res=INFO
		fi
		record "applies/$ver" "$res" "$what: $detail"
	done
done
rm -rf "$scratch"
