# Sourced: a private apt configuration per Debian suite (own sources list,
# lists and cache under $CACHE/apt-<suite>) that reuses the mirror of the
# machine's own apt sources. The system's apt sources are read, never edited,
# and no mirror host name is written into the repository.
#   apt_suite SUITE           select SUITE (sets APTDIR) and update its lists
#   apt_versions PACKAGE      the versions SUITE serves, oldest first
#   apt_fetch PACKAGE VERSION download into $APTDIR/debs (kept), print the path

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

_apt_opts() {
	printf '%s\n' \
		-o "Dir::Etc::SourceList=$APTDIR/sources.list" \
		-o "Dir::Etc::SourceParts=$APTDIR/sources.list.d" \
		-o "Dir::Etc::Preferences=$APTDIR/preferences" \
		-o "Dir::Etc::PreferencesParts=$APTDIR/preferences.d" \
		-o "Dir::State::Lists=$APTDIR/lists" \
		-o "Dir::Cache=$APTDIR/cache"
}
apt_private() {
	local o; mapfile -t o < <(_apt_opts)
	apt-get -q "${o[@]}" -o Debug::NoLocking=1 -o APT::Sandbox::User=root \
		-o Acquire::Languages=none "$@"
}
apt_cache_private() {
	local o; mapfile -t o < <(_apt_opts)
	apt-cache "${o[@]}" "$@"
}

apt_suite() {
	local mirror keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	APTDIR=$CACHE/apt-$1
	mirror=$(system_mirror | head -n1)
	[ -n "$mirror" ] || { echo "cannot find the machine's Debian mirror in /etc/apt/sources*" >&2; return 1; }
	mkdir -p "$APTDIR"/{lists/partial,cache/archives/partial,sources.list.d,preferences.d,debs}
	: > "$APTDIR/preferences"
	echo "deb [signed-by=$keyring] $mirror $1 main" > "$APTDIR/sources.list"
	apt_private update >"$APTDIR/update.log" 2>&1 ||
		{ cat "$APTDIR/update.log" >&2; echo "apt-get update of $1 failed" >&2; return 1; }
}

apt_versions() {
	apt_cache_private madison "$1" | awk -F' *[|] *' '{print $2}' | sort -uV
}

# apt names a download with its epoch quoted: qemu-system-arm_1%3a10.0.2..._amd64.deb.
_apt_deb() { ls "$APTDIR/debs/${1}_${2/:/%3a}_"*.deb 2>/dev/null | head -n1; }
apt_fetch() {
	local pkg=$1 ver=$2 deb
	deb=$(_apt_deb "$pkg" "$ver")
	if [ -z "$deb" ]; then
		(cd "$APTDIR/debs" && apt_private download "$pkg=$ver" >"$APTDIR/download.log" 2>&1) ||
			{ cat "$APTDIR/download.log" >&2; echo "download of $pkg=$ver failed" >&2; return 1; }
		deb=$(_apt_deb "$pkg" "$ver")
		[ -n "$deb" ] || { echo "apt downloaded $pkg=$ver but no .deb of that name is in $APTDIR/debs" >&2; return 1; }
	fi
	echo "$deb"
}
