#!/usr/bin/env bash
# kunit.sh ARCH...: run the kernel's kunit.py on the series tree for each ARCH
# (x86_64, arm64; UML cannot build SWIOTLB). Writes out/kunit-<arch>.ktap,
# out/kunit-<arch>.junit.xml, out/kunit-<arch>.json and out/kunit-<arch>.log.
# The kunitconfigs are configs/kunit/{common,<arch>}.kunitconfig plus every
# .kunitconfig the series ships under kernel/dma and drivers/virtio.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || set -- x86_64 arm64
[ -d "$TREE/.git" ] || die "no tree at $TREE: run 'make tree' first"
mkdir -p "$OUT"
export CCACHE_BASEDIR=$TOP/work CCACHE_NOHASHDIR=1
rc=0
for arch in "$@"; do
	cfgs=(--kunitconfig="$TOP/configs/kunit/common.kunitconfig" --kunitconfig="$TOP/configs/kunit/$arch.kunitconfig")
	for k in kernel/dma/.kunitconfig drivers/virtio/.kunitconfig; do
		[ -f "$TREE/$k" ] && cfgs+=(--kunitconfig="$k")
	done
	if [ ${#cfgs[@]} -eq 2 ]; then
		printf 'KTAP version 1\n1..0 # SKIP the series ships no .kunitconfig under kernel/dma or drivers/virtio\n' > "$OUT/kunit-$arch.ktap"
		log "kunit $arch: skipped, the series ships no KUnit suite"
		continue
	fi
	cross=$(cross_prefix "$arch")
	args=(run --arch="$arch" --build_dir="$BUILD/kunit-$arch" --jobs="$JOBS" "${cfgs[@]}"
	      --make_options "CC=ccache ${cross}gcc" --json="$OUT/kunit-$arch.json")
	[ -z "$cross" ] || args+=(--cross_compile="$cross")
	log "kunit $arch: kunit.py ${args[*]}"
	touch "$OUT/.kunit-$arch.stamp"
	(
		build_lock
		cd "$TREE" && run_logged "$OUT/kunit-$arch.log" ./tools/testing/kunit/kunit.py "${args[@]}"
	)
	krc=$?
	# kunit.py keeps the raw console in <build_dir>/test.log; keep only KTAP.
	if [ "$BUILD/kunit-$arch/test.log" -nt "$OUT/.kunit-$arch.stamp" ]; then
		KUNIT_DIR=$TREE/tools/testing/kunit python3 "$TOP/scripts/ktap.py" extract "$BUILD/kunit-$arch/test.log" "$OUT/kunit-$arch.ktap"
	else
		echo "not ok 1 kunit-$arch # build or boot failed, see out/kunit-$arch.log" > "$OUT/kunit-$arch.ktap"
	fi
	[ $krc -eq 0 ] || ! grep -q "^ok\|^not ok" "$OUT/kunit-$arch.ktap" ||
		grep -q "^not ok" "$OUT/kunit-$arch.ktap" ||
		echo "not ok 999 kunit.py-exit # kunit.py exited $krc, see out/kunit-$arch.log" >> "$OUT/kunit-$arch.ktap"
	python3 "$TOP/scripts/ktap.py" junit "$OUT/kunit-$arch.ktap" "$OUT/kunit-$arch.junit.xml" "kunit-$arch"
	read -r p f s < <(python3 "$TOP/scripts/ktap.py" count "$OUT/kunit-$arch.ktap")
	log "kunit $arch: $p passed, $f failed, $s skipped (kunit.py rc=$krc)"
	grep -E '^\[..:..:..\] (Testing complete|Elapsed time)' "$OUT/kunit-$arch.log" >&2 || true
	[ "$krc" -eq 0 ] && [ "$f" -eq 0 ] || rc=1
done
exit $rc
