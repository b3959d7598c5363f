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
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$TOP/bases/$BASE.env"

REPO=$CACHE/linux-$BASE.git
APTDIR=$CACHE/apt-$BASE_SUITE
mkdir -p "$CACHE" "$OUT"

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
	git --git-dir="$REPO.tmp" --work-tree="$dir" add -f -A .
	GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email GIT_AUTHOR_DATE=$BASE_COMMIT_DATE \
	GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email GIT_COMMITTER_DATE=$BASE_COMMIT_DATE \
		git --git-dir="$REPO.tmp" --work-tree="$dir" commit -q -m "Linux $(kernel_release "$dir") base: $desc" \
		-m "Imported unmodified by coco-dma scripts/fetch-base.sh."
	git --git-dir="$REPO.tmp" tag coco-base
	mv "$REPO.tmp" "$REPO"
}

# The URI of the machine's own Debian mirror, read from its apt sources (deb822
# .sources files and one-line .list files). The stanza serving the machine's own
# release (not -security) wins.
system_mirror() {
	local codename f
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v cn="$codename" '
			function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " cn " ") && uris != "") { split(uris, u, " "); print u[1]; found=1; exit } types=suites=uris="" }
			/^[[:space:]]*$/ { flush(); next }
			/^Types:/  { sub(/^Types:[[:space:]]*/, "");  types=$0 }
			/^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites=$0 }
			/^URIs:/   { sub(/^URIs:[[:space:]]*/, "");   uris=$0 }
			END { if (!found) flush() }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		sed -e 's/\[[^]]*\]//' "$f" | awk -v cn="$codename" '$1 == "deb" && $3 == cn { print $2 }'
	done
}

apt_private() {
	apt-get -q \
		-o Dir::Etc::SourceList="$APTDIR/sources.list" \
		-o Dir::Etc::SourceParts="$APTDIR/sources.list.d" \
		-o Dir::Etc::Preferences="$APTDIR/preferences" \
		-o Dir::Etc::PreferencesParts="$APTDIR/preferences.d" \
		-o Dir::State::Lists="$APTDIR/lists" \
		-o Dir::Cache="$APTDIR/cache" \
		-o Debug::NoLocking=1 \
		-o APT::Sandbox::User=root \
		-o Acquire::Languages=none \
		"$@"
}
apt_cache_private() {
	apt-cache \
		-o Dir::Etc::SourceList="$APTDIR/sources.list" \
		-o Dir::Etc::SourceParts="$APTDIR/sources.list.d" \
		-o Dir::Etc::Preferences="$APTDIR/preferences" \
		-o Dir::Etc::PreferencesParts="$APTDIR/preferences.d" \
		-o Dir::State::Lists="$APTDIR/lists" \
		-o Dir::Cache="$APTDIR/cache" \
		"$@"
}

fetch_deb() {
	local mirror keyring used sha deb
	mirror=$(system_mirror | head -n1)
	[ -n "$mirror" ] || die "cannot find the machine's Debian mirror in /etc/apt/sources*"
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	mkdir -p "$APTDIR"/{lists/partial,cache/archives/partial,sources.list.d,preferences.d,debs}
	: > "$APTDIR/preferences"
	echo "deb [signed-by=$keyring] $mirror $BASE_SUITE main" > "$APTDIR/sources.list"
	log "private apt: updating the $BASE_SUITE lists (the system's apt sources are not touched)"
	apt_private update >"$APTDIR/update.log" 2>&1 || { cat "$APTDIR/update.log" >&2; die "apt-get update of $BASE_SUITE failed"; }

	used=$BASE_VERSION
	if ! apt_cache_private madison "$BASE_PACKAGE" | awk '{print $3}' | grep -qx "$BASE_VERSION"; then
		used=$(apt_cache_private madison "$BASE_PACKAGE" | awk '{print $3}' | sort -V | tail -n1)
		[ -n "$used" ] || die "$BASE_PACKAGE is not in $BASE_SUITE at all"
		loud "PINNED $BASE_PACKAGE $BASE_VERSION HAS LEFT $BASE_SUITE: USING $used INSTEAD (recorded in out/base-used.env)"
	fi
	deb=$APTDIR/debs/${BASE_PACKAGE}_${used}_all.deb
	if [ ! -s "$deb" ]; then
		log "downloading $BASE_PACKAGE $used"
		(cd "$APTDIR/debs" && apt_private download "$BASE_PACKAGE=$used" >"$APTDIR/download.log" 2>&1) \
			|| { cat "$APTDIR/download.log" >&2; die "download of $BASE_PACKAGE=$used failed"; }
		deb=$(ls "$APTDIR/debs/${BASE_PACKAGE}_"*"${used#*:}"*_all.deb | head -n1)
	fi
	sha=$(sha256sum "$deb" | cut -d' ' -f1)
	if [ "$used" = "$BASE_VERSION" ] && [ -n "$BASE_SHA256" ] && [ "$sha" != "$BASE_SHA256" ]; then
		rm -f "$deb"
		die "sha256 mismatch for $BASE_PACKAGE $used: got $sha, pinned $BASE_SHA256 (the .deb was removed)"
	fi
	[ -n "$BASE_SHA256" ] || log "note: no sha256 pinned in bases/$BASE.env; this .deb is $sha"
	printf 'BASE_PACKAGE=%s\nBASE_VERSION_USED=%s\nBASE_SHA256_USED=%s\n' "$BASE_PACKAGE" "$used" "$sha" > "$CACHE/base-used.env.tmp"
	DEB=$deb
}

extract_deb() {
	local x=$CACHE/extract tarball
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

if [ -d "$REPO" ] && git --git-dir="$REPO" rev-parse -q --verify coco-base >/dev/null; then
	log "base already cached: $REPO ($(git --git-dir="$REPO" log -1 --format=%s coco-base))"
	exit 0
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
	printf 'BASE_SOURCE=KERNEL_SRC\nBASE_VERSION_USED=%s\n' "$(kernel_release "$KERNEL_SRC")" > "$CACHE/base-used.env"
else
	fetch_deb
	extract_deb
	import_plain "$SRCDIR" "Debian $BASE_PACKAGE $(sed -n 's/^BASE_VERSION_USED=//p' "$CACHE/base-used.env.tmp")"
	rm -rf "$CACHE/extract"
	mv "$CACHE/base-used.env.tmp" "$CACHE/base-used.env"
fi
echo "BASE_COMMIT=$(git --git-dir="$REPO" rev-parse coco-base)" >> "$CACHE/base-used.env"
cp "$CACHE/base-used.env" "$OUT/base-used.env"
log "base ready: $(git --git-dir="$REPO" rev-parse --short=12 coco-base) $(git --git-dir="$REPO" log -1 --format=%s coco-base)"
