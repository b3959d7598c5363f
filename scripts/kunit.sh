#!/usr/bin/env bash
# kunit.sh ARCH...: run the kernel's kunit.py on the series tree for each ARCH
# (x86_64, arm64; UML cannot build SWIOTLB). Writes out/kunit-<arch>.ktap,
# out/kunit-<arch>.junit.xml and out/kunit-<arch>.log (and, when kunit.py run
# builds the kernel, out/kunit-<arch>.json).
# The kunitconfigs are configs/kunit/{common,<arch>}.kunitconfig plus every
# .kunitconfig the series ships under kernel/dma and drivers/virtio.
#
# When the bisect check has just built the series' last commit
# (work/build/<base>/kunit-bisect-<arch>/.coco-stamp is the tree's HEAD and the tree has no
# uncommitted change), that kernel already carries every suite: kunit.py exec
# boots it once per suite of kernel/dma and drivers/virtio, after checking that
# its .config has every kunitconfig line. Otherwise kunit.py run configures
# and builds work/build/<base>/kunit-<arch> from the tree as it is (uncommitted edits
# included). KUNIT_BUILD=1 always builds.
#
# kunit.sh --build-at WORKTREE BUILD_DIR ARCH: one step of the bisect check
# (scripts/checks/bisect.sh): configure BUILD_DIR (scripts/build.sh, variant
# kunit: allnoconfig + configs/kunit/<arch>-base.config + the kunitconfigs
# present in WORKTREE), then compile the touched directories, or with
# KUNIT_FINAL=1 build the boot image kunit.py exec runs, with KUNIT_LINK=1
# vmlinux (every object, and the link).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

mkdir -p "$OUT"
export CCACHE_BASEDIR=$TOP/work CCACHE_NOHASHDIR=1

# kunit_make_opts ARCH: the compilers kunit.py run passes to make, the same
# (ccache) ones scripts/lib.sh's kmake uses.
kunit_make_opts() {
	local cross
	cross=$(cross_prefix "$1")
	if command -v ccache >/dev/null; then
		printf '%s\n' "CC=ccache ${cross}gcc" "HOSTCC=ccache gcc"
	else
		printf '%s\n' "CC=${cross}gcc" "HOSTCC=gcc"
	fi
}

# kunit_arch NAME: the kernel arch of a KUnit run: NAME, or the arch NAME is
# a variant of (arm64-64k: arm64 with 64 KiB pages; x86_64-debug, arm64-debug:
# the checkers of configs/kunit/debug.kunitconfig).
kunit_arch() { local a=${1%-debug}; echo "${a%-64k}"; }

# kunitconfigs TREE NAME: the kunitconfig files for the KUnit run NAME in
# TREE: common, the arch's, the variant's (if NAME is one), the base's (if
# configs/kunit/base-<base>.kunitconfig exists), the series'.
kunitconfigs() {
	local k a
	a=$(kunit_arch "$2")
	printf '%s\n' "$TOP/configs/kunit/common.kunitconfig" "$TOP/configs/kunit/$a.kunitconfig"
	if [ "$a" != "$2" ]; then
		# A variant's own file (arm64-64k.kunitconfig), or one that every
		# arch shares (debug.kunitconfig for x86_64-debug and arm64-debug).
		[ -f "$TOP/configs/kunit/$2.kunitconfig" ] && echo "$TOP/configs/kunit/$2.kunitconfig" ||
			echo "$TOP/configs/kunit/${2#"$a"-}.kunitconfig"
		# and what of it only this base has (debug-6.12.kunitconfig)
		[ ! -f "$TOP/configs/kunit/${2#"$a"-}-$BASE.kunitconfig" ] ||
			echo "$TOP/configs/kunit/${2#"$a"-}-$BASE.kunitconfig"
	fi
	[ ! -f "$TOP/configs/kunit/base-$BASE.kunitconfig" ] || echo "$TOP/configs/kunit/base-$BASE.kunitconfig"
	for k in kernel/dma/.kunitconfig drivers/virtio/.kunitconfig; do
		[ ! -f "$1/$k" ] || echo "$1/$k"
	done
}

if [ "${1:-}" = --build-at ]; then
	wt=$2 b=$3 arch=$4
	# allnoconfig + configs/kunit/<arch>-base.config + the kunitconfigs
	# (scripts/build.sh checks that every line survives Kconfig).
	mapfile -t cfgs < <(kunitconfigs "$wt" "$arch" | tail -n +3)
	if [ "${KUNIT_FINAL:-0}" = 1 ]; then
		target=$(image_target "$arch"); [ "$arch" != arm64 ] || target=Image.gz
		set -- "$target"
	elif [ "${KUNIT_LINK:-0}" = 1 ]; then
		# Every object and the link: the patch builds, whatever its
		# headers reach (bisect without the guest kernel).
		set -- vmlinux
	else
		mapfile -t dirs < <(touched_dirs "$wt" | sed 's|$|/|')
		set -- "${dirs[@]}"
	fi
	EXTRA_FRAGS="${cfgs[*]}" KTREE=$wt BUILD_DIR=$b "$TOP/scripts/build.sh" "$arch" kunit "$@" ||
		die "the KUnit kernel does not build at $(git -C "$wt" log -1 --format=%h) (${b#$TOP/}/build.log)"
	exit 0
fi

# make kunit runs arm64 with 64 KiB pages too; make check (scripts/check.sh)
# asks for x86_64 and arm64, the kernels its bisect step already built.
[ $# -gt 0 ] || set -- x86_64 arm64 arm64-64k
[ -d "$TREE/.git" ] || die "no tree at $TREE: run 'make tree' first"

# The KUnit suites of the series' test files, by name.
suites() {
	(cd "$TREE" && grep -l 'kunit_test_suite' kernel/dma/*.c drivers/virtio/*.c 2>/dev/null) |
	while read -r f; do
		awk '/^static struct kunit_suite [a-z0-9_]+ = \{/ { s = 1 }
		     s && match($0, /\.name = "[^"]+"/) { print substr($0, RSTART + 9, RLENGTH - 10); s = 0 }' "$TREE/$f"
	done
}

# bisect_kernel ARCH: the bisect build dir when it holds the tree's HEAD.
bisect_kernel() {
	local b=$BUILD/kunit-bisect-$1
	[ "${KUNIT_BUILD:-0}" != 1 ] || return 1
	[ -f "$b/.coco-stamp" ] && [ -f "$b/.config" ] || return 1
	[ "$(cat "$b/.coco-stamp")" = "$(git -C "$TREE" rev-parse HEAD)" ] || return 1
	[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] || return 1
	echo "$b"
}

# variant_kernel NAME: a variant run (arm64-64k) builds the bisect step's
# small KUnit kernel (allnoconfig, configs/kunit/<arch>-base.config and the
# kunitconfigs, the variant's among them) from the tree as it is, uncommitted
# edits included, rather than kunit.py run's larger olddefconfig kernel.
# Prints its build dir; fails when it does not build.
variant_kernel() {
	local name=$1 a b target
	a=$(kunit_arch "$name"); b=$BUILD/kunit-$name
	mapfile -t extra < <(kunitconfigs "$TREE" "$name" | tail -n +3)
	target=$(image_target "$a"); [ "$a" != arm64 ] || target=Image.gz
	log "kunit $name: building the small KUnit kernel in ${b#$TOP/}"
	EXTRA_FRAGS="${extra[*]}" KTREE=$TREE BUILD_DIR=$b \
		"$TOP/scripts/build.sh" "$a" kunit "$target" >&2 || return 1
	echo "$b"
}

# The checkers of a debug run (x86_64-debug, arm64-debug), NAME=ERE of the
# report each prints (configs/checkers.txt, which the matrix reads too). A
# report fails the run even when every case passed.
mapfile -t CHECKERS < <(grep -v -e '^#' -e '^$' "$TOP/configs/checkers.txt" | sed 's/\t/=/')

# checker_scan CONSOLE_LOG TALLY: add each checker's reports in the raw
# console of one suite to TALLY (lines: NAME<TAB>REPORT).
checker_scan() {
	local c name re
	for c in "${CHECKERS[@]}"; do
		name=${c%%=*} re=${c#*=}
		grep -aE "$re" "$1" | sed "s/^/$name\t/" >> "$2" || true
	done
}

# checker_ktap TALLY KTAP: a "checkers" suite, one case per checker: ok when
# it reported nothing, not ok with the count and the first report.
checker_ktap() {
	local c name n first i=0
	{
		echo "KTAP version 1"; echo "1..1"
		echo "    KTAP version 1"; echo "    # Subtest: checkers"; echo "    1..$(( ${#CHECKERS[@]} + 1 ))"
		for c in "${CHECKERS[@]}"; do
			name=${c%%=*} i=$((i + 1))
			n=$(grep -c "^$name	" "$1" || true)
			first=$(grep -m1 "^$name	" "$1" | cut -f2- | sed 's/^\[[ 0-9.]*\] //' | cut -c1-160)
			if [ "$n" -gt 0 ]; then
				echo "    not ok $i $name # $n reports, first: $first"
			else
				echo "    ok $i $name"
			fi
		done
		echo "    ok $((i + 1)) kmemleak # SKIP kmemleak scans 60 s after boot at the earliest, after a KUnit boot has ended"
		grep -q . "$1" && echo "not ok 1 checkers" || echo "ok 1 checkers"
	} > "$2"
}

rc=0 tp=0 tf=0 ts=0
for arch in "$@"; do
	karch=$(kunit_arch "$arch")
	case $karch in x86_64|arm64) ;; *) die "kunit.sh: no KUnit run named $arch (x86_64, arm64, arm64-64k, x86_64-debug, arm64-debug)" ;; esac
	nproj=2; [ "$karch" = "$arch" ] || nproj=3
	mapfile -t cfgs < <(kunitconfigs "$TREE" "$arch")
	if [ ${#cfgs[@]} -eq "$nproj" ]; then
		printf 'KTAP version 1\n1..0 # SKIP the series ships no .kunitconfig under kernel/dma or drivers/virtio\n' > "$OUT/kunit-$arch.ktap"
		log "kunit $arch: skipped, the series ships no KUnit suite"
		continue
	fi
	cross=$(cross_prefix "$karch")
	# Per-suite parts live in a directory of the run's own: a glob on
	# kunit-arm64-* would also take the arm64-64k and arm64-debug runs' files.
	parts_dir=$OUT/kunit-parts/$arch
	rm -rf "$OUT/kunit-$arch.ktap" "$parts_dir"; mkdir -p "$parts_dir"
	: > "$OUT/kunit-$arch.log"
	b=
	if [ "$karch" != "$arch" ] && ! b=$(variant_kernel "$arch"); then
		echo "not ok 1 kunit-$arch # the KUnit kernel does not build, see ${BUILD#$TOP/}/kunit-$arch/build.log" > "$OUT/kunit-$arch.ktap"
		krc=1
	elif [ -n "$b" ] || b=$(bisect_kernel "$arch"); then
		missing=$(cat "${cfgs[@]}" | grep -E '^CONFIG_' | while read -r l; do grep -qxF "$l" "$b/.config" || echo "$l"; done)
		if [ -n "$missing" ]; then
			echo "not ok 1 kunit-$arch # the bisect kernel's .config lacks: $(echo $missing)" > "$OUT/kunit-$arch.ktap"
			krc=1
		else
			mapfile -t names < <(suites)
			log "kunit $arch: kunit.py exec on ${b#$TOP/} ($(git -C "$TREE" log -1 --format=%h)), suites: ${names[*]}"
			krc=0 parts=()
			: > "$OUT/kunit-$arch-checkers.txt"
			for s in "${names[@]}"; do
				args=(exec --arch="$karch" --build_dir="$b" --timeout=600 "$s")
				# KASAN reports only its first bug unless told otherwise: a
				# second one would hide behind the first (a fix reverted
				# showed its report in another suite's case first).
				[ "${arch%-debug}" = "$arch" ] || args+=(--kernel_args=kasan_multi_shot)
				[ -z "$cross" ] || args+=(--cross_compile="$cross")
				touch "$OUT/.kunit-$arch.stamp"
				(cd "$TREE" && run_logged "$OUT/kunit-$arch-$s.log" ./tools/testing/kunit/kunit.py "${args[@]}") || krc=$?
				cat "$OUT/kunit-$arch-$s.log" >> "$OUT/kunit-$arch.log"
				if [ "$b/test.log" -nt "$OUT/.kunit-$arch.stamp" ]; then
					KUNIT_DIR=$TREE/tools/testing/kunit python3 "$TOP/scripts/ktap.py" extract "$b/test.log" "$parts_dir/$s.ktap"
					[ "${arch%-debug}" = "$arch" ] || checker_scan "$b/test.log" "$OUT/kunit-$arch-checkers.txt"
				fi
				parts+=("$s=$parts_dir/$s.ktap")
			done
			if [ "${arch%-debug}" != "$arch" ]; then
				checker_ktap "$OUT/kunit-$arch-checkers.txt" "$parts_dir/checkers.ktap"
				parts+=("checkers=$parts_dir/checkers.ktap")
			fi
			python3 "$TOP/scripts/ktap.py" merge "$OUT/kunit-$arch.ktap" "${parts[@]}"
			rm -rf "$parts_dir"
		fi
	else
		mkdir -p "$BUILD"	# kunit.py makes the build dir, not its parents
		args=(run --arch="$karch" --build_dir="$BUILD/kunit-$arch" --jobs="$JOBS")
		for c in "${cfgs[@]}"; do args+=(--kunitconfig="$c"); done
		mapfile -t mopts < <(kunit_make_opts "$karch")
		args+=("${mopts[@]/#/--make_options=}" --json="$OUT/kunit-$arch.json")
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
	fi
	[ $krc -eq 0 ] || ! grep -q "^ok\|^not ok" "$OUT/kunit-$arch.ktap" ||
		grep -q "^not ok" "$OUT/kunit-$arch.ktap" ||
		echo "not ok 999 kunit.py-exit # kunit.py exited $krc, see out/kunit-$arch.log" >> "$OUT/kunit-$arch.ktap"
	python3 "$TOP/scripts/ktap.py" junit "$OUT/kunit-$arch.ktap" "$OUT/kunit-$arch.junit.xml" "kunit-$arch"
	read -r p f s < <(python3 "$TOP/scripts/ktap.py" count "$OUT/kunit-$arch.ktap")
	log "kunit $arch: $p passed, $f failed, $s skipped (kunit.py rc=$krc)"
	grep -E '^\[..:..:..\] (Testing complete|Elapsed time)' "$OUT/kunit-$arch.log" >&2 || true
	[ "$krc" -eq 0 ] && [ "$f" -eq 0 ] || rc=1
	tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
done
# The summary line of make kunit (check.sh counts the KTAP files itself).
echo "$tp passed, $tf failed, $ts skipped"
exit $rc
