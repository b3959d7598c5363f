#!/usr/bin/env bash
# deps.sh: install, non-interactively, the Debian packages the tooling needs
# and that are missing: one line per package group, apt's own output goes to
# out/logs/deps.log. Does nothing (and needs no network) when all are there.
set -euo pipefail
cd "$(dirname "$0")/.."
groups=(
	"kernel build|build-essential flex bison bc libssl-dev libelf-dev cpio kmod rsync ccache git xz-utils python3 perl util-linux coreutils"
	"cross compilers|gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-powerpc64le-linux-gnu gcc-s390x-linux-gnu gcc-riscv64-linux-gnu"
	"static analysis|sparse coccinelle ocaml-nox python3-ply python3-git"
	"QEMU and DT|qemu-system-x86 qemu-system-arm qemu-utils seabios ipxe-qemu device-tree-compiler"
	"documentation|python3-sphinx python3-sphinx-rtd-theme python3-yaml"
)
missing_of() {
	local p
	for p in $1; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
	done
}
mkdir -p out/logs
logf=out/logs/deps.log
: > "$logf"
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
updated=0 total=0 rc=0
for g in "${groups[@]}"; do
	name=${g%%|*} pkgs=${g#*|}
	total=$((total + $(echo $pkgs | wc -w)))
	mapfile -t missing < <(missing_of "$pkgs")
	if [ ${#missing[@]} -eq 0 ]; then
		printf 'deps: %-16s %2d packages present\n' "$name:" "$(echo $pkgs | wc -w)"
		continue
	fi
	if [ $updated = 0 ]; then
		$SUDO apt-get update -qq >>"$logf" 2>&1 || { echo "deps: apt-get update failed, see $logf" >&2; tail -5 "$logf" >&2; exit 1; }
		updated=1
	fi
	t=$SECONDS
	if $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$logf" 2>&1; then
		printf 'deps: %-16s installed %s (%ds)\n' "$name:" "${missing[*]}" $((SECONDS - t))
	else
		printf 'deps: %-16s FAILED to install %s, see %s\n' "$name:" "${missing[*]}" "$logf" >&2
		tail -5 "$logf" >&2
		rc=1
	fi
done
[ $rc -eq 0 ] && echo "deps: all $total packages present"
exit $rc
