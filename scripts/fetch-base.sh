#!/usr/bin/env bash
# fetch-base.sh: produce a bare git repository $CACHE/linux-$BASE.git whose tag
# coco-base is the base of the series.
#
# Default: download the pinned linux-source-$BASE .deb from the Debian suite named
# in bases/$BASE.env through a private apt configuration (own sources list, lists
# and cache dirs) that reuses the mirror of the machine's own apt sources, check
# its sha256, extract it and import it as one commit.
#
# KERNEL_SRC=/path/to/linux: use that tree instead, a git tree (its HEAD is the
# base) or a plain tree (imported as one commit). It must be $BASE.y.
#
# The import of a pinned .deb is kept beside ccache as well (BASE_CACHE,
# default ~/.cache/coco-dma/bases/<sha256 of the .deb>.git): the import is
# deterministic (fixed author, committer and dates), so a new checkout takes
# that repository (git clone --local: hard links) instead of downloading,
# extracting and adding 90,000 files again. BASE_CACHE= (empty) turns it off.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$TOP/bases/$BASE.env"
. "$TOP/scripts/debian-apt.sh"

REPO=$CACHE/linux-$BASE.git
mkdir -p "$CACHE" "$OUT"
BASE_CACHE=${BASE_CACHE-$HOME/.cache/coco-dma/bases}
shared=${BASE_CACHE:+${BASE_SHA256:+$BASE_CACHE/$BASE_SHA256.git}}

check_version() {	# $1: tree with a top-level Makefile
	local v p
	v=$(sed -n 's/^VERSION = //p' "$1/Makefile" | head -n1)
	p=$(sed -n 's/^PATCHLEVEL = //p' "$1/Makefile" | head -n1)
	[ "$v.$p" = "$BASE" ] || die "$1 is Linux $v.$p, not $BASE.y"
}

kernel_release() {	# $1: tree
	local v p s
	v=$(sed -n 's/^VERSION = //p' "$1/Makefile" | head -n1)
	p=$(sed -n 's/^PATCHLEVEL = //p' "$1/Makefile" | head -n1)
	s=$(sed -n 's/^SUBLEVEL = //p' "$1/Makefile" | head -n1)
	echo "$v.$p.$s"
}

# import_plain DIR DESC: one deterministic commit of every file under DIR.
# Debian's top-level .gitignore ignores everything, so add with -f.
import_plain() {
	local dir=$1 desc=$2 name email
	name=${BASE_COMMIT_IDENT% <*}; email=${BASE_COMMIT_IDENT##*<}; email=${email%>}
	rm -rf "$REPO.tmp"
	git init -q --bare "$REPO.tmp"
	log "importing $dir into git (one commit, force-added)"
	# zlib level 1: importing 90,000 files at the default level costs tens of
	# seconds of CPU for a few hundred MB of disk.
	git --git-dir="$REPO.tmp" --work-tree="$dir" -c core.looseCompression=1 add -f -A .
	GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email GIT_AUTHOR_DATE=$BASE_COMMIT_DATE \
	GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email GIT_COMMITTER_DATE=$BASE_COMMIT_DATE \
		git --git-dir="$REPO.tmp" --work-tree="$dir" commit -q -m "Linux $(kernel_release "$dir") base: $desc" \
		-m "Imported unmodified by coco-dma scripts/fetch-base.sh."
	git --git-dir="$REPO.tmp" tag coco-base
	if [ -d "$REPO" ]; then
		git --git-dir="$REPO" fetch -q "$REPO.tmp" "+refs/tags/coco-base:refs/tags/coco-base"
		rm -rf "$REPO.tmp"
	else
		mv "$REPO.tmp" "$REPO"
	fi
}

# The pinned version only: a newer 6.12.y in the archive never replaces it
# (make check's applies/ rows say whether the series applies there). If the
# archive no longer serves the pin, stop and say what it serves instead.
fetch_deb() {
	local sha suite found=
	for suite in $BASE_SUITE ${BASE_APPLY_SUITES:-}; do
		log "private apt: updating the $suite lists (the system's apt sources are not touched)"
		apt_suite "$suite" || die "cannot read the $suite lists"
		if apt_versions "$BASE_PACKAGE" | grep -qxF "$BASE_VERSION"; then
			found=$suite; break
		fi
	done
	if [ -z "$found" ]; then
		apt_suite "$BASE_SUITE" || true
		loud "$BASE_PACKAGE $BASE_VERSION (the pin in bases/$BASE.env) is no longer served by Debian"
		die "$BASE_SUITE serves: $(apt_versions "$BASE_PACKAGE" | tr '\n' ' ')
Pin one of them in bases/$BASE.env (version and sha256) once the series applies to it
(make check reports that in its applies/ rows), or give KERNEL_SRC=/path/to/linux-$BASE.y."
	fi
	log "downloading $BASE_PACKAGE $BASE_VERSION from $found"
	DEB=$(apt_fetch "$BASE_PACKAGE" "$BASE_VERSION") || die "download of $BASE_PACKAGE=$BASE_VERSION failed"
	sha=$(sha256sum "$DEB" | cut -d' ' -f1)
	if [ -n "$BASE_SHA256" ] && [ "$sha" != "$BASE_SHA256" ]; then
		rm -f "$DEB"
		die "sha256 mismatch for $BASE_PACKAGE $BASE_VERSION: got $sha, pinned $BASE_SHA256 (the .deb was removed)"
	fi
	[ -n "$BASE_SHA256" ] || log "note: no sha256 pinned in bases/$BASE.env; this .deb is $sha"
	printf 'BASE_PACKAGE=%s\nBASE_VERSION_USED=%s\nBASE_SHA256_USED=%s\n' "$BASE_PACKAGE" "$BASE_VERSION" "$sha" > "$CACHE/base-used-$BASE.env.tmp"
}

extract_deb() {
	local x=$CACHE/extract-$BASE tarball
	rm -rf "$x"; mkdir -p "$x"
	log "extracting $(basename "$DEB")"
	dpkg-deb -x "$DEB" "$x/deb"
	tarball=$(ls "$x"/deb/usr/src/linux-source-*.tar.* | head -n1)
	[ -n "$tarball" ] || die "no source tarball in $DEB"
	tar -C "$x" -xf "$tarball"
	rm -rf "$x/deb"
	SRCDIR=$(ls -d "$x"/linux-source-* | head -n1)
	check_version "$SRCDIR"
}

# Caches made before there were two bases kept 6.12's record as base-used.env.
[ "$BASE" != 6.12 ] || [ -f "$CACHE/base-used-$BASE.env" ] || [ ! -f "$CACHE/base-used.env" ] ||
	mv "$CACHE/base-used.env" "$CACHE/base-used-$BASE.env"
if [ -d "$REPO" ] && git --git-dir="$REPO" rev-parse -q --verify coco-base >/dev/null; then
	cached=$(sed -n 's/^BASE_VERSION_USED=//p' "$CACHE/base-used-$BASE.env" 2>/dev/null)
	if [ -n "${KERNEL_SRC:-}" ] || grep -qx BASE_SOURCE=KERNEL_SRC "$CACHE/base-used-$BASE.env" 2>/dev/null ||
	   [ "$cached" = "$BASE_VERSION" ]; then
		log "base already cached: $REPO ($(git --git-dir="$REPO" log -1 --format=%s coco-base))"
		exit 0
	fi
	# bases/$BASE.env pins another version than the cached import. Trees
	# made from the old base borrow its objects (git clone --shared): keep
	# it under a tag of its own and import the pin into the same repository.
	log "the cached base is ${cached:-unknown}, bases/$BASE.env pins $BASE_VERSION: importing the pin"
	git --git-dir="$REPO" tag -f "base-${cached:-old}" coco-base >/dev/null
fi

if [ -n "${KERNEL_SRC:-}" ]; then
	[ -f "$KERNEL_SRC/Makefile" ] || die "KERNEL_SRC=$KERNEL_SRC has no Makefile"
	check_version "$KERNEL_SRC"
	if git -C "$KERNEL_SRC" rev-parse --git-dir >/dev/null 2>&1 && [ -z "$(git -C "$KERNEL_SRC" status --porcelain --untracked-files=no)" ]; then
		log "using the git tree $KERNEL_SRC at $(git -C "$KERNEL_SRC" rev-parse --short=12 HEAD) as the base"
		rm -rf "$REPO"
		git clone -q --bare --shared "$KERNEL_SRC" "$REPO"
		git --git-dir="$REPO" tag -f coco-base "$(git -C "$KERNEL_SRC" rev-parse HEAD)" >/dev/null
	else
		import_plain "$KERNEL_SRC" "KERNEL_SRC tree $(kernel_release "$KERNEL_SRC")"
	fi
	printf 'BASE_SOURCE=KERNEL_SRC\nBASE_VERSION_USED=%s\n' "$(kernel_release "$KERNEL_SRC")" > "$CACHE/base-used-$BASE.env"
elif [ -n "$shared" ] && [ ! -d "$REPO" ] && [ -f "$shared/base-used.env" ] &&
     git --git-dir="$shared" rev-parse -q --verify coco-base >/dev/null; then
	log "the import of $BASE_PACKAGE $BASE_VERSION (sha256 ${BASE_SHA256:0:12}) is kept in $shared: cloning it"
	rm -rf "$REPO.tmp"
	git clone -q --bare --local "$shared" "$REPO.tmp"
	git --git-dir="$REPO.tmp" rev-parse -q --verify coco-base >/dev/null || die "$shared has no coco-base tag"
	mv "$REPO.tmp" "$REPO"
	grep -v '^BASE_COMMIT=' "$shared/base-used.env" > "$CACHE/base-used-$BASE.env"
else
	fetch_deb
	extract_deb
	import_plain "$SRCDIR" "Debian $BASE_PACKAGE $(sed -n 's/^BASE_VERSION_USED=//p' "$CACHE/base-used-$BASE.env.tmp")"
	rm -rf "$CACHE/extract-$BASE"
	mv "$CACHE/base-used-$BASE.env.tmp" "$CACHE/base-used-$BASE.env"
	if [ -n "$shared" ] && [ ! -d "$shared" ]; then
		mkdir -p "$BASE_CACHE"
		rm -rf "$shared.tmp"
		git clone -q --bare --local "$REPO" "$shared.tmp" &&
		git --git-dir="$shared.tmp" rev-parse -q --verify coco-base >/dev/null &&
		cp "$CACHE/base-used-$BASE.env" "$shared.tmp/base-used.env" &&
		mv "$shared.tmp" "$shared" && log "kept the import in $shared for other checkouts" ||
			{ rm -rf "$shared.tmp"; log "note: could not keep the import in $BASE_CACHE"; }
	fi
fi
echo "BASE_COMMIT=$(git --git-dir="$REPO" rev-parse coco-base)" >> "$CACHE/base-used-$BASE.env"
cp "$CACHE/base-used-$BASE.env" "$OUT/base-used-$BASE.env"
log "base ready: $(git --git-dir="$REPO" rev-parse --short=12 coco-base) $(git --git-dir="$REPO" log -1 --format=%s coco-base)"
