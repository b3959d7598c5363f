#!/usr/bin/env bash
# deps.sh: install, non-interactively, the Debian packages the tooling needs
# and that are missing. Does nothing (and needs no network) when all are there.
set -euo pipefail
pkgs=(
	build-essential flex bison bc libssl-dev libelf-dev cpio kmod rsync ccache git xz-utils
	python3 perl
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	gcc-powerpc64le-linux-gnu gcc-s390x-linux-gnu gcc-riscv64-linux-gnu
	sparse coccinelle ocaml-nox
	qemu-system-x86 qemu-system-arm qemu-utils seabios ipxe-qemu device-tree-compiler
	python3-sphinx python3-sphinx-rtd-theme python3-yaml python3-ply python3-git
	util-linux coreutils
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
