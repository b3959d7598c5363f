#!/usr/bin/env bash
# Compile-only of the touched directories on powerpc (with POWER SVM, a CoCo
# platform with an inline force_dma_unencrypted()), s390 (protected
# virtualisation) and riscv, with Debian's cross compilers. What is compiled
# is check_targets' (scripts/lib.sh): kernel/dma and drivers/virtio whole,
# and of drivers/block and drivers/net the files that the series can change.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
export CCACHE_BASEDIR=$TOP/work CCACHE_NOHASHDIR=1
mapfile -t dirs < <(touched_dirs)
mapfile -t targets < <(check_targets)
build_lock
for arch in powerpc s390 riscv; do
	name=cross/$arch
	b=$BUILD/cross-$arch
	case $arch in
	powerpc) defconfig=ppc64le_defconfig; extra=(--enable PPC_SVM --enable VIRTIO_PCI --enable VIRTIO_BLK --enable VIRTIO_NET) ;;
	s390)    defconfig=defconfig;         extra=(--enable VIRTIO_BLK --enable VIRTIO_NET) ;;
	riscv)   defconfig=defconfig;         extra=(--enable VIRTIO_PCI --enable VIRTIO_BLK --enable VIRTIO_NET) ;;
	esac
	if ! command -v "$(cross_prefix $arch)gcc" >/dev/null; then
		record "$name" FAIL "no cross compiler $(cross_prefix $arch)gcc (run 'make deps')"
		continue
	fi
	mkdir -p "$b"
	if [ ! -f "$b/.config" ]; then
		log "$name: $defconfig"
		if ! { kmake "$arch" "$b" "$defconfig" && "$TREE/scripts/config" --file "$b/.config" "${extra[@]}" &&
		       kmake "$arch" "$b" olddefconfig; } >"$OUT/logs/cross-$arch.log" 2>&1; then
			record "$name" FAIL "configuration failed, see out/logs/cross-$arch.log"; rm -f "$b/.config"; continue
		fi
	fi
	# The options that make the arch interesting must have survived olddefconfig.
	lost=
	for ((i = 1; i < ${#extra[@]}; i += 2)); do
		grep -q "^CONFIG_${extra[i]}=[ym]" "$b/.config" || lost+=" ${extra[i]}"
	done
	if [ -n "$lost" ]; then
		record "$name" FAIL "Kconfig dropped:$lost"; rm -f "$b/.config"; continue
	fi
	mapfile -t objs < <(configured_targets "$b" "${targets[@]}")
	unset=$(printf '%s\n' "${targets[@]}" | grep -vxFf <(printf '%s\n' "${objs[@]}") | paste -sd' ')
	log "$name: compiling ${objs[*]}${unset:+ (not configured: $unset)}"
	if run_logged "$OUT/logs/cross-$arch.log" kmake "$arch" "$b" "${objs[@]}"; then
		nobj=$(for t in "${objs[@]}"; do
			case $t in */) find "$b/$t" -name '*.o' ! -name '*.mod.o' 2>/dev/null ;; *) ls "$b/$t" 2>/dev/null ;; esac
		done | wc -l)
		record "$name" PASS "$nobj objects of ${dirs[*]}${unset:+; not configured: $unset}"
	else
		record "$name" FAIL "compile error, see out/logs/cross-$arch.log"
	fi
done
