#!/usr/bin/env bash
# Config variants that must keep building and linking: no SWIOTLB (i386
# without PAE), no restricted DMA pools (arm64), and virtio as modules
# (exported symbols must resolve in modpost).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
while read -r variant arch targets; do
	name=variant/$variant
	log "$name: $arch [$targets]"
	# shellcheck disable=SC2086
	if "$TOP/scripts/build.sh" "$arch" "$variant" $targets >"$OUT/logs/variant-$variant.log" 2>&1; then
		record "$name" PASS "$arch $targets"
	else
		record "$name" FAIL "$(grep -m1 -E 'error|undefined|dropped' "$OUT/logs/variant-$variant.log" "$BUILD/series-$arch-$variant/build.log" 2>/dev/null | cut -c1-160)"
	fi
done <<'LIST'
swiotlb-n i386 bzImage
restricted-pool-n arm64 Image
virtio-m x86_64 bzImage modules
LIST
