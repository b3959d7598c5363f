#!/usr/bin/env bash
# qemu-backports.sh: QEMU for the pKVM rows from bookworm-backports, unpacked
# into cache/qemu-<version>/ (never installed: the system's QEMU stays what the
# other rows use). Prints the path of its qemu-system-aarch64.
# Debian 12's QEMU 7.2 may not run a pKVM host under TCG; bookworm-backports
# serves a newer one built for Debian 12's libraries. Fetched through the
# private apt configuration of scripts/debian-apt.sh (the machine's own mirror,
# its apt sources untouched).
#   PKVM_QEMU_VERSION  default the newest that bookworm-backports serves
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/debian-apt.sh"
suite=bookworm-backports
pkgs=(qemu-system-arm qemu-system-common qemu-system-data)

apt_suite "$suite" >&2 || die "cannot read the $suite lists"
ver=${PKVM_QEMU_VERSION:-$(apt_versions qemu-system-arm | tail -n1)}
[ -n "$ver" ] || die "$suite serves no qemu-system-arm"
dir=$CACHE/qemu-${ver#*:}
bin=$dir/usr/bin/qemu-system-aarch64
if [ ! -x "$bin" ]; then
	log "QEMU $ver from $suite into ${dir#$TOP/}"
	rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
	for p in "${pkgs[@]}"; do
		deb=$(apt_fetch "$p" "$ver") || die "download of $p=$ver failed"
		dpkg-deb -x "$deb" "$dir.tmp"
	done
	rm -rf "$dir"; mv "$dir.tmp" "$dir"
fi
# Its shared libraries are the system's: say so now if one is missing.
missing=$(ldd "$bin" | awk '/not found/ {print $1}' | paste -sd' ')
[ -z "$missing" ] || die "$bin needs libraries this machine lacks: $missing"
"$bin" --version | head -n1 >&2
echo "$bin"
