#!/usr/bin/env bash
# kvmtool.sh: build kvmtool's lkvm-static for arm64, the VMM of the pKVM rows
# (a protected VM needs a VMM that asks KVM_CREATE_VM for one; QEMU does not).
# Prints the path of the binary.
#
# Source, in this order:
#   KVMTOOL_SRC=DIR       a kvmtool checkout of the user's own (copied, never modified)
#   KVMTOOL_TARBALL=FILE  default ../shared/vendor/kvmtool-b48735e.tar.gz, checked
#                         against its sha256 (../shared/vendor/README.md)
# With neither, it exits 3 with the reason on stderr: the rows that need it SKIP.
# The project's changes to kvmtool are its own patch files, tools/kvmtool/patches/,
# applied at build time. libfdt is compiled from the base tree's scripts/dtc/libfdt.
# work/build/kvmtool-arm64/.coco-stamp names the source, the patches and the libfdt
# tree the binary was built from; a matching stamp is used as it is.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
KVMTOOL_TARBALL=${KVMTOOL_TARBALL:-$TOP/../shared/vendor/kvmtool-b48735e.tar.gz}
KVMTOOL_SHA256=a4a5b9113b3517fb4bd70656742c025a1b2dec0130c63e5ff602e173ccdbe370
patches=("$TOP"/tools/kvmtool/patches/*.patch)
b=$WORK/build/kvmtool-arm64
cc=$(cross_prefix arm64)

if [ -n "${KVMTOOL_SRC:-}" ]; then
	[ -f "$KVMTOOL_SRC/builtin-run.c" ] || { echo "KVMTOOL_SRC=$KVMTOOL_SRC is not a kvmtool source tree" >&2; exit 3; }
	src_id="src:$(cd "$KVMTOOL_SRC" && git rev-parse HEAD 2>/dev/null || find . -name '*.[ch]' -newer Makefile | wc -l)"
elif [ -f "$KVMTOOL_TARBALL" ]; then
	sum=$(sha256sum "$KVMTOOL_TARBALL" | cut -d' ' -f1)
	[ "$sum" = "$KVMTOOL_SHA256" ] || die "$KVMTOOL_TARBALL: sha256 $sum, expected $KVMTOOL_SHA256"
	src_id="tarball:$sum"
else
	echo "no kvmtool source: neither KVMTOOL_SRC nor $KVMTOOL_TARBALL" >&2
	exit 3
fi
[ -d "$TREE/scripts/dtc/libfdt" ] || die "no kernel tree at $TREE for libfdt: run make tree BASE=$BASE"
command -v "${cc}gcc" >/dev/null || die "${cc}gcc not found: run make deps"

stamp="$src_id $(cat "${patches[@]}" | sha256sum | cut -c1-16) libfdt:$(cat "$TREE"/scripts/dtc/libfdt/*.[ch] | sha256sum | cut -c1-16)"
if [ -x "$b/lkvm-static" ] && [ "$(cat "$b/.coco-stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "$b/lkvm-static"; exit 0
fi

rm -rf "$b"; mkdir -p "$b/libfdt"
log "kvmtool: libfdt from ${TREE#$TOP/}/scripts/dtc/libfdt"
for f in "$TREE"/scripts/dtc/libfdt/*.c; do
	"${cc}gcc" -O2 -I"$TREE/scripts/dtc/libfdt" -c "$f" -o "$b/libfdt/$(basename "$f" .c).o"
done
"${cc}ar" rcs "$b/libfdt/libfdt.a" "$b"/libfdt/*.o
cp "$TREE"/scripts/dtc/libfdt/{libfdt.h,fdt.h,libfdt_env.h} "$b/libfdt/"

log "kvmtool: ${src_id%%:*} + ${#patches[@]} patches of tools/kvmtool/patches"
if [ -n "${KVMTOOL_SRC:-}" ]; then
	mkdir -p "$b/src"
	(cd "$KVMTOOL_SRC" && tar --exclude=.git -cf - .) | tar -xf - -C "$b/src" || die "cannot copy $KVMTOOL_SRC"
else
	tar -xzf "$KVMTOOL_TARBALL" -C "$b" || die "cannot extract $KVMTOOL_TARBALL"
	mv "$b"/kvmtool-* "$b/src"
fi
for p in "${patches[@]}"; do
	# A user's tree may carry some of them already.
	if patch -d "$b/src" -p1 -R --dry-run --quiet --force < "$p" >/dev/null 2>&1; then
		log "kvmtool: $(basename "$p") is already in the source, not applied again"
		continue
	fi
	patch -d "$b/src" -p1 --quiet --forward < "$p" || die "tools/kvmtool/patches/$(basename "$p") does not apply to this kvmtool"
done
build_lock
run_logged "$b/build.log" make -C "$b/src" ARCH=arm64 CROSS_COMPILE="$cc" \
	LIBFDT_DIR="$b/libfdt" WERROR=0 -j"$JOBS" lkvm-static ||
	die "kvmtool did not build, see ${b#$TOP/}/build.log"
cp "$b/src/lkvm-static" "$b/lkvm-static"
echo "$stamp" > "$b/.coco-stamp"
echo "$b/lkvm-static"
