#!/usr/bin/env bash
# Bisect build: the base and then every patch in turn, incrementally, for
# x86_64 and arm64, in the guest config (scripts/guest-kernel.sh): every
# patch compiles and links vmlinux. The base step is the stock guest kernel
# (work/build/<base>/base-<arch>); its build dir is copied and walked through the
# patches to the series guest kernel (work/build/<base>/series-<arch>), so the matrix
# and bench-smoke steps build nothing more.
#
# KUnit at every step: the KUnit kernel's build dir
# (work/build/<base>/kunit-bisect-<arch>: allnoconfig, configs/kunit/<arch>-base.config
# and the kunitconfigs present at that step) follows the same walk and compiles the
# touched directories, the series' test code among them; at the last step it
# links the whole KUnit kernel, which scripts/kunit.sh boots instead of
# building another one.
#
# A patch that built before with the same commit (its sha names its content
# and everything below it), the same build scripts and configs (memo_inputs
# in scripts/memo.sh) and the same packages is not built again (MEMO=0
# builds every step): the base and HEAD are always built, since bench-smoke,
# KUnit and the matrix boot them.
#
# The arches share one worktree (work/wt/<base>/guest, guest_wt in
# scripts/lib.sh) and are done one after the other. BISECT_PARALLEL=1 gives
# each arch a worktree of its own (guest-<arch>) and starts the walk of an
# arch as soon as its stock kernel is built, beside the next arch's stock
# kernel: a patch
# step is mostly a tree walk and a link on one core. On the 2-core CI
# machine that was slower cold (docs/dev-log/ci-budget.md: the builds that
# overlapped took twice as long), so it is not the default. Bisect takes
# the build lock once: it is one build job, and the walks inherit the lock.
#   BISECT_ARCHS="x86_64 arm64"
#   BISECT_WALK_ARCHS="arm64": the arches built at every patch (default:
#   all of BISECT_ARCHS; "none": no arch); the others at the base (the stock
#   guest kernel, when there is one) and at HEAD, for bench-smoke, KUnit and
#   the matrix. make check walks no arch (GATE_BISECT_WALK=none in
#   bases/<base>.env): a cold make check of both bases walking one arch each
#   took 90 min 22 s on the CI machine, over its 90 minutes. make check-full
#   walks every arch of every base (docs/dev-log/ci-budget.md).
#   BISECT_GUEST=0 walks the KUnit kernel alone, compiled and linked
#   (vmlinux) at every patch: every file the series touches must be in its
#   config (configs/kunit/base-<base>.kunitconfig adds what the suites do
#   not need). The guest kernels are then built when bench-smoke and the
#   matrix ask for them (scripts/guest-kernel.sh: the stock one, and the
#   series from a copy of it). 7.3 does this (GATE_BISECT_GUEST=0 in
#   bases/7.3.env: make check builds no 7.3 guest kernel); 6.12 walks the
#   guest kernel, which was faster cold than walking the KUnit kernel and
#   building the guest kernels afterwards (docs/dev-log/ci-budget.md).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$TOP/scripts/memo.sh"
export CCACHE_BASEDIR=$TOP/work CCACHE_NOHASHDIR=1
commits=$(git -C "$TREE" rev-list --reverse coco-base..HEAD)
head=$(git -C "$TREE" rev-parse HEAD)
base=$(git -C "$TREE" rev-parse coco-base)
mapfile -t dirs < <(touched_dirs)
# make check holds its heavier side checks until the first stock guest
# kernel is built (scripts/check.sh); say so however this script ends.
side_go() { [ -z "${SIDE_GO:-}" ] || touch "$SIDE_GO"; }
trap side_go EXIT

# base_step ARCH: the stock guest kernel of ARCH (built, or already built
# from coco-base with the same config); fails, recorded, if it does not build.
base_step() {
	local arch=$1 name=bisect/$1 lf steps t
	lf=$(logfile "$name")
	steps=$OUT/logs/bisect-$arch-steps.txt
	: > "$lf"; : > "$steps"
	[ "$guest" = 1 ] || { side_go; return 0; }
	t=$SECONDS
	log "$name: base (the stock guest kernel)"
	if ! "$TOP/scripts/guest-kernel.sh" stock "$arch" >>"$lf" 2>&1; then
		side_go
		record "$name" FAIL "the base does not build, see ${lf#$TOP/}"
		return 1
	fi
	echo "step 0: $(( SECONDS - t ))s: base (guest)" >> "$steps"
	side_go
}

# walk ARCH: after base_step, every patch for ARCH, recorded as bisect/ARCH.
walk() {
	local arch=$1 name lf steps g k wt bad="" built=0 skipped=() memoized=() i=0 t tg c what key target final fhash
	name=bisect/$arch
	lf=$(logfile "$name")
	steps=$OUT/logs/bisect-$arch-steps.txt
	g=$BUILD/series-$arch
	k=$BUILD/kunit-bisect-$arch
	wt=$(guest_wt "$arch")
	rm -rf "$g" "$k"
	[ "$guest" = 0 ] || { copy_build_dir "$BUILD/base-$arch" "$g" && rm -f "$g/.coco-stamp"; }
	local steps_of=$base" "$commits
	if [ -n "${BISECT_WALK_ARCHS:-}" ] && [[ " $BISECT_WALK_ARCHS " != *" $arch "* ]]; then
		# The stock kernels of the base step, then the series at once.
		steps_of="$base $head"
		[ "$guest" = 1 ] || steps_of=$head
	fi
	for c in $steps_of; do
		git -C "$wt" checkout -q --detach "$c" || { bad="checkout of $c"; break; }
		what=$( [ "$c" = "$base" ] && echo "base" || { [ "$steps_of" = "$base $commits" ] && echo "patch $i: $(git -C "$wt" log -1 --format=%s)"; } || echo "HEAD, the $(wc -w <<< "$commits") patches at once: $(git -C "$wt" log -1 --format=%s)")
		if [ "$c" != "$base" ] && [ "$c" != "$head" ] && nobuild_commit "$wt" "$c"; then
			# Changes no file that a kernel build reads (documentation,
			# semantic patches, tools/virtio, MAINTAINERS): same build as
			# the step before.
			log "$name: $what: touches no kernel build input ($(git -C "$wt" diff --name-only "$c^" "$c" | tr '\n' ' ')), same build as the step before"
			skipped+=("$i"); i=$((i + 1)); continue
		fi
		key=
		if [ "$c" != "$base" ] && [ "$c" != "$head" ] &&
		   key=$(memo_key bisect step "$arch" "guest=$guest" link=$((1 - guest)) --commit "$c") && memo_get "$key" >/dev/null; then
			log "$name: $what: built before with the same commit, build scripts, configs and packages (memo ${key:0:12})"
			echo "step $i: memo: $what" >> "$steps"
			memoized+=("$i"); i=$((i + 1)); continue
		fi
		t=$SECONDS
		if [ "$c" != "$base" ] && [ "$guest" = 1 ]; then
			log "$name: $what: guest kernel"
			target=vmlinux; [ "$c" != "$head" ] || target=$(image_target "$arch")
			KTREE=$wt BUILD_DIR=$g "$TOP/scripts/build.sh" "$arch" none "$target" >>"$lf" 2>&1 || { bad=$what; break; }
		fi
		tg=$(( SECONDS - t )); t=$SECONDS
		final=$([ "$c" = "$head" ] && echo 1 || echo 0)
		log "$name: $what: KUnit kernel ($([ "$final" = 1 ] && echo 'all of it' || { [ "$guest" = 0 ] && echo 'vmlinux'; } || echo "${dirs[*]}"))"
		KUNIT_FINAL=$final KUNIT_LINK=$((1 - guest)) "$TOP/scripts/kunit.sh" --build-at "$wt" "$k" "$arch" >>"$lf" 2>&1 || { bad="$what (KUnit kernel)"; break; }
		echo "step $i: ${tg}s guest, $(( SECONDS - t ))s kunit: $what" >> "$steps"
		memo_put "$key" "built"
		built=$((built + 1)); i=$((i + 1))
	done
	if [ -n "$bad" ]; then
		record "$name" FAIL "build breaks at $bad, see ${lf#$TOP/}"
		return
	fi
	# The walk ends at HEAD: the series guest kernel and the KUnit kernel.
	if [ "$guest" = 1 ]; then
		fhash=$(config_frags "$arch" none | xargs cat | sha256sum | cut -c1-16)
		echo "$head $fhash" > "$g/.coco-stamp"
	fi
	echo "$head" > "$k/.coco-stamp"
	if [ "$steps_of" != "$base $commits" ]; then
		record "$name" PASS "$([ "$guest" = 1 ] && echo 'base and HEAD' || echo 'HEAD') only: $built builds of the $([ "$guest" = 1 ] && echo 'guest and KUnit kernels' || echo 'KUnit kernel'), the $(wc -w <<< "$commits") patches not one by one (BISECT_WALK_ARCHS=$BISECT_WALK_ARCHS; make check-full builds every patch on every arch)"
		return
	fi
	record "$name" PASS "base + $((i - 1)) patches: $built builds of the $([ "$guest" = 1 ] && echo 'guest and KUnit kernels' || echo 'KUnit kernel, vmlinux linked at every patch (BISECT_GUEST=0)')${skipped:+, patches ${skipped[*]} touch no build input}${memoized:+, patches ${memoized[*]} built before on the same inputs (memo)}"
}

build_lock
guest=${BISECT_GUEST:-1}
read -ra archs <<< "${BISECT_ARCHS:-x86_64 arm64}"
# The worktrees first, one at a time: git worktree add writes to the
# tree's own .git, which two walks starting together would race for.
for arch in "${archs[@]}"; do
	WT=$(guest_wt "$arch") "$TOP/scripts/basetree.sh" coco-base >/dev/null ||
		die "cannot create the worktree $(guest_wt "$arch")"
done
if [ "${BISECT_PARALLEL:-0}" = 0 ]; then
	for arch in "${archs[@]}"; do base_step "$arch" && walk "$arch"; done
else
	# The stock kernels one after the other; the walk of an arch starts as
	# soon as its stock kernel is there.
	pids=()
	for arch in "${archs[@]}"; do
		base_step "$arch" || continue
		walk "$arch" &
		pids+=($!)
		log "bisect/$arch: walking the patches in the background (PID $!)"
	done
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
fi
