#!/usr/bin/env bash
# pkvm-host.sh: the host kernel of the pkvm matrix rows, built when it is
# missing or out of date; prints its build dir. It is always stock Linux 7.3
# for arm64 (protected VMs can be created since 7.1), whichever base the
# guests come from: allnoconfig + the arm64 guest fragments + the pkvm-host
# variant, built from coco-base of work/linux-7.3 in the worktree of the 7.3
# guest kernels (work/wt/7.3/guest, guest_wt in scripts/lib.sh).
set -euo pipefail
export BASE=7.3
unset TREE BUILD WTS OUT
. "$(dirname "$0")/lib.sh"
[ -f "$TREE/Makefile" ] || "$TOP/scripts/tree.sh" >&2
wt=$(guest_wt)
b=$BUILD/pkvm-host-arm64
c=$(git -C "$TREE" rev-parse coco-base)
stamp="$c $(config_frags arm64 pkvm-host | xargs cat | sha256sum | cut -c1-16)"
if [ -f "$b/arch/arm64/boot/Image" ] && [ "$(cat "$b/.coco-stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "$b"; exit 0
fi
build_lock	# the checkout below moves the worktree the guest builds share
# A build dir made from another worktree (an older layout) starts again.
[ ! -e "$b" ] || [ "$(readlink "$b/source" 2>/dev/null)" = "$wt" ] ||
	{ log "removing ${b#$TOP/} (built from $(readlink "$b/source" 2>/dev/null || echo '?'))"; rm -rf "$b"; }
WT=$wt "$TOP/scripts/basetree.sh" coco-base >/dev/null || die "cannot create the worktree ${wt#$TOP/}"
rm -f "$b/.coco-stamp"
log "pKVM host kernel: stock 7.3 ($(git -C "$TREE" log -1 --format=%h coco-base)) in ${b#$TOP/}"
KTREE=$wt BUILD_DIR=$b "$TOP/scripts/build.sh" arm64 pkvm-host >&2
echo "$stamp" > "$b/.coco-stamp"
echo "$b"
