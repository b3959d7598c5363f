#!/usr/bin/env bash
# tools/virtio: the userspace build of drivers/virtio/virtio_ring.c (and
# drivers/vhost/vringh.c) must keep building, and vringh_test, which needs no
# kernel module, must pass in all its modes. Built in a scratch copy of the
# series tree with the tree's own sanitised uapi headers (headers_install).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/coco-tools-virtio.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
hdr=$BUILD/headers

log "tools-virtio: headers_install"
if ! kmake x86_64 "$hdr" headers_install INSTALL_HDR_PATH="$hdr/usr" >"$(logfile tools-virtio-headers)" 2>&1; then
	record tools-virtio/build-vringh_test FAIL "headers_install failed, see out/logs/tools-virtio-headers.log"
	exit 0
fi
git -C "$TREE" archive HEAD tools include drivers/virtio drivers/vhost arch/x86/include | tar -x -C "$scratch"
mkdir -p "$scratch/usr" && cp -r "$hdr/usr/include" "$scratch/usr/include"

# first_error: the first error line of a build's output, without its path.
first_error() {
	grep -m1 -E 'error|redefined' | sed 's/^[^ ]*: //'
}

# base_tree DIR: the base's (coco-base) sources that tools/virtio builds
# from, with the same installed headers, in DIR.
base_tree() {
	mkdir -p "$1/usr"
	git -C "$TREE" archive coco-base tools include drivers/virtio drivers/vhost arch/x86/include |
		tar -x -C "$1"
	cp -r "$hdr/usr/include" "$1/usr/include"
}

# base_error TEST: the first error of TEST built from the base, or nothing
# when the base builds it.
base_error() {
	[ -d "$scratch/base" ] || base_tree "$scratch/base"
	make -s -C "$scratch/base/tools/virtio" "$1" 2>&1 | first_error
}

# base_vringh_test ARGS...: vringh_test of the base's drivers/virtio and
# drivers/vhost, built with this tree's tools/virtio (its stubs may be what
# lets the base build at all), run with ARGS: its exit status, or 125 when
# it cannot be built (then nothing is known of the base).
base_vringh_test() {
	local d=$scratch/base-run
	if [ ! -x "$d/tools/virtio/vringh_test" ]; then
		rm -rf "$d" && base_tree "$d"
		rm -rf "$d/tools/virtio" && cp -r "$scratch/tools/virtio" "$d/tools/virtio"
		make -s -C "$d/tools/virtio" clean >/dev/null 2>&1
		make -s -C "$d/tools/virtio" vringh_test >/dev/null 2>&1 || return 125
	fi
	(cd "$d/tools/virtio" && timeout 120 ./vringh_test "$@")
}

# A test that fails with the error the base fails with is skipped (7.3:
# tools/virtio lacks <linux/device-id/virtio.h>, base and series alike).
# On 6.12, <linux/vhost.h> from usr/include defines __user before the
# kernel's compiler_types.h does; the base fails earlier, on the
# compiler-context-analysis.h that the series' tools/virtio patch provides.
# Any other failure fails.
for t in vringh_test virtio_test vhost_net_test; do
	lf=$(logfile "tools-virtio-build-$t")
	if make -s -C "$scratch/tools/virtio" "$t" >"$lf" 2>&1; then
		record "tools-virtio/build-$t" PASS
		continue
	fi
	err=$(first_error < "$lf")
	if [ -n "$err" ] && [ "$err" = "$(base_error "$t")" ]; then
		record "tools-virtio/build-$t" SKIP "fails on the $BASE base with the same error: $err"
	elif [ "$t" != vringh_test ] && grep -q '"__user" redefined' "$lf"; then
		record "tools-virtio/build-$t" SKIP "does not build on the 6.12 base either (\"__user\" redefined via <linux/vhost.h>)"
	else
		record "tools-virtio/build-$t" FAIL "see ${lf#$TOP/}"
	fi
done

if [ ! -x "$scratch/tools/virtio/vringh_test" ]; then
	record tools-virtio/vringh_test SKIP "vringh_test was not built (tools-virtio/build-vringh_test)"
else
	for args in "" "--indirect" "--eventidx" "--parallel" "--parallel --indirect --eventidx"; do
		name="tools-virtio/vringh_test${args:+ ${args// /,}}"
		# shellcheck disable=SC2086
		(cd "$scratch/tools/virtio" && timeout 120 ./vringh_test $args) >"$(logfile "tools-virtio-run$args")" 2>&1
		rc=$?
		if [ "$rc" = 0 ]; then
			record "$name" PASS
			continue
		fi
		# shellcheck disable=SC2086
		base_vringh_test $args >/dev/null 2>&1
		case $? in
		0) record "$name" FAIL "rc $rc, the base passes; see out/logs/" ;;
		125) record "$name" FAIL "rc $rc; the base's vringh_test could not be built to compare; see out/logs/" ;;
		*) record "$name" SKIP "rc $rc, and the base's virtio_ring.c and vringh.c fail the same mode (built with this tree's tools/virtio)" ;;
		esac
	done
fi
if [ -e /dev/vhost-test ]; then
	if (cd "$scratch/tools/virtio" && timeout 120 ./virtio_test) >"$(logfile tools-virtio-virtio_test)" 2>&1; then
		record tools-virtio/virtio_test PASS
	else
		record tools-virtio/virtio_test FAIL "see out/logs/tools-virtio-virtio_test.log"
	fi
else
	record tools-virtio/virtio_test SKIP "needs /dev/vhost-test (the vhost_test module of a host kernel)"
fi
