#!/usr/bin/env bash
# check.sh [STEP...]: the maintainer's gate. Runs the named checks (default:
# all), KUnit on x86_64 and arm64, and the emulable boot-matrix rows when the
# matrix exists, then prints one summary table ending in "N passed, N failed".
#   CHECKS="checkpatch bisect static cocci htmldocs cross variants tools-virtio bench-smoke"
# Every step's wall time goes to out/check-times.txt and into the summary.
#   KUNIT_ARCHS="x86_64 arm64"
#   MATRIX=0 skips the boot matrix (reported as skipped, not passed).
#   PARALLEL=0 runs every check in order, none in the side lane beside bisect.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/memo.sh"

# What make check gates for a base is in bases/<base>.env: GATE_CHECKS (the
# checks, default all), GATE_MATRIX=0 (no boot matrix) and GATE_BISECT_GUEST=0
# (bisect walks the KUnit kernel alone), GATE_BISECT_WALK (the arches bisect
# builds at every patch; the others at HEAD). A check the base does not gate is a
# SKIP that says so; CHECKS, MATRIX and BISECT_GUEST given by the caller win.
ALL_CHECKS="checkpatch applies bisect static cocci htmldocs cross variants tools-virtio bench-smoke"
GATE_CHECKS=$(. "$TOP/bases/$BASE.env"; echo "${GATE_CHECKS:-$ALL_CHECKS}")
GATE_MATRIX=$(. "$TOP/bases/$BASE.env"; echo "${GATE_MATRIX:-1}")
export BISECT_GUEST=${BISECT_GUEST:-$(. "$TOP/bases/$BASE.env"; echo "${GATE_BISECT_GUEST:-1}")}
export BISECT_WALK_ARCHS=${BISECT_WALK_ARCHS:-$(. "$TOP/bases/$BASE.env"; echo "${GATE_BISECT_WALK:-}")}
CHECKS=${CHECKS:-$GATE_CHECKS}
KUNIT_ARCHS=${KUNIT_ARCHS-x86_64 arm64}
rm -rf "$RESULTS" "$OUT"/kunit-*.ktap "$OUT/matrix.ktap" "$OUT/check-summary.txt"
mkdir -p "$RESULTS" "$OUT/logs"
TIMES=$OUT/check-times.txt
printf 'step\tseconds\n' > "$TIMES"
[ -z "${CI_DEPS_SECONDS:-}" ] || printf 'deps\t%d\n' "$CI_DEPS_SECONDS" >> "$TIMES"
# timed NAME CMD...: run CMD, append its wall time to out/check-times.txt.
timed() {
	local name=$1 t=$SECONDS rc=0; shift
	"$@" || rc=$?
	printf '%s\t%d\n' "$name" $(( SECONDS - t )) >> "$TIMES"
	return $rc
}

# finish: the summary, also when a step makes the rest pointless.
finish() {
	printf 'total\t%d\n' "$SECONDS" >> "$TIMES"
	log "=== summary (${SECONDS}s)"
	python3 "$TOP/scripts/summary.py" "$OUT" "${expect[@]}"
}
expect=()

# A full disk fails a run late and far from its cause (tar, ld or ccache
# failing to write), so say it first. GATE_DISK_GIB in bases/<base>.env is
# how far a cold run of the base grew the disk use (sampled below; docs/
# dev-log/ci-budget.md) with a margin; what this base's run reuses (its tree,
# worktrees, build dirs, cache/, and the 7.3 tree and build dirs when it
# boots pkvm rows) counts towards it. Another base's tree and build dirs do
# not: make check in CI removes them once that base is done
# (scripts/check-bases.sh).
need_gib=${CHECK_DISK_GIB:-$(. "$TOP/bases/$BASE.env"; echo "${GATE_DISK_GIB:-12}")}
mkdir -p "$WORK" "$CACHE"
reused=("$TREE" "$WTS" "$BUILD" "$CACHE" "$OUT")
[ "$(. "$TOP/bases/$BASE.env"; echo "${GATE_PKVM_ROWS:-0}")" = 0 ] ||
	reused+=("$WORK/linux-7.3" "$WORK/wt/7.3" "$WORK/build/7.3")
have_kib=$(du -sk "${reused[@]}" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
free_kib=$(df -Pk "$WORK" | awk 'NR == 2 { print $4 }')
log "disk: $(( free_kib / 1048576 )) GiB free on the file system of $WORK, $(( have_kib / 1048576 )) GiB reused; a cold run of $BASE needs $need_gib GiB"
if [ $(( free_kib + have_kib )) -lt $(( need_gib * 1048576 )) ]; then
	record disk FAIL "$(( free_kib / 1048576 )) GiB free on the file system of $WORK; make check of $BASE needs $need_gib GiB there, counting the $(( have_kib / 1048576 )) GiB it reuses of work/ and cache/ (GATE_DISK_GIB in bases/$BASE.env; CHECK_DISK_GIB= sets it)"
	finish
	exit 1
fi
# How far the run grows the use of that file system (df, sampled every
# DISK_SAMPLE seconds, default 15; a du of work/ and the caches takes seconds
# of a core, df none): its peak goes to out/<base>/check-disk.txt and into
# the summary. It counts whatever else writes to the file system meanwhile.
DISK=$OUT/check-disk.txt
disk_sampler() {
	local start now peak=0
	start=$(df -Pk "$WORK" | awk 'NR == 2 { print $3 }')
	while kill -0 $$ 2>/dev/null; do
		now=$(( $(df -Pk "$WORK" | awk 'NR == 2 { print $3 }') - start ))
		[ "$now" -le "$peak" ] || { peak=$now; printf 'grew_kib\t%d\nreused_kib\t%d\n' "$peak" "$have_kib" > "$DISK"; }
		sleep "${DISK_SAMPLE:-15}" & wait $!
	done
}
rm -f "$DISK"
disk_sampler &
disk_pid=$!
trap 'kill $disk_pid 2>/dev/null' EXIT
# tree.sh fetches and imports the base first when cache/ has none.
if ! timed tree "$TOP/scripts/tree.sh"; then
	record tree FAIL "cannot prepare the series tree: $OUT/logs has the details, the output above the summary says which step"
	finish
	exit 1
fi
n=$(npatches)
log "series: $n patches on $(git -C "$TREE" log -1 --format='%h %s' coco-base)"
[ "$n" -gt 0 ] || log "0 patches: every step runs on the base tree"

if [ "$CHECKS" = "$GATE_CHECKS" ]; then
	for step in $ALL_CHECKS; do
		[[ " $GATE_CHECKS " == *" $step "* ]] ||
			record "$step" SKIP "not gated for Linux $BASE (GATE_CHECKS in bases/$BASE.env): make check-full runs it, as does CHECKS=$step BASES=$BASE make check"
	done
fi
if [ "${QUICK:-0}" = 1 ]; then
	for step in applies bisect static cocci htmldocs cross variants tools-virtio bench-smoke; do
		record "$step" SKIP "make check-quick does not run it; make check does"
	done
fi
# The steps whose results are a function of their inputs alone (the kernel
# tree, the scripts and configs they read, the installed packages): when the
# same inputs passed before, scripts/memo.sh gives the results back instead
# of running them.
# bisect has a memo of its own, per patch; applies (the Debian archive
# changes), tools-virtio, bench-smoke, KUnit and the matrix (they run code)
# always run.
MEMO_STEPS=${MEMO_STEPS-checkpatch cocci htmldocs static cross variants}
run_check() {
	local step=$1 s=$TOP/scripts/checks/$1.sh key= stored res name detail when f list ok
	[ -x "$s" ] || { record "$step" FAIL "no such check script: scripts/checks/$step.sh"; return; }
	if [[ " $MEMO_STEPS " == *" $step "* ]] && key=$(memo_key "$step" check); then
		if stored=$(memo_get "$key"); then
			log "=== check: $step: these inputs passed or were skipped before (memo ${key:0:12}), not run again"
			while IFS=$'\t' read -r res name detail when; do
				case $res in
				PASS|SKIP) ;;
				# Kept before SKIPs were: name, detail, date, all passed.
				*) when=$detail detail=$name name=$res res=PASS ;;
				esac
				record "$name" "$res" "$detail [memo: $([ "$res" = PASS ] && echo passed || echo skipped) $when on the same inputs]"
			done <<< "$stored"
			printf '%s\t%d\n' "$step" 0 >> "$TIMES"
			return
		fi
	fi
	log "=== check: $step"
	list=$RESULTS/.step-$step; : > "$list"
	export COCO_STEP_LIST=$list
	timed "$step" "$s" || record "$step" FAIL "scripts/checks/$step.sh exited $? before recording its result"
	unset COCO_STEP_LIST
	# Keep the results, each with its PASS or SKIP (a SKIP keeps its reason),
	# when the step recorded some and none of them failed.
	[ -n "$key" ] && [ -s "$list" ] || return 0
	ok=1 stored=
	while read -r f; do
		IFS=$'\t' read -r res name detail < "$f"
		case $res in PASS|SKIP) ;; *) ok=0 ;; esac
		stored+="$res"$'\t'"$name"$'\t'"$detail"$'\t'"$(date -u +%Y-%m-%dT%H:%MZ)"$'\n'
	done < <(sort -u "$list")
	[ "$ok" = 0 ] || memo_put "$key" "${stored%$'\n'}"
}
# Two lanes. bisect (the KUnit kernels of both arches, and the guest kernels
# where bases/<base>.env asks for them) and bench-smoke (which builds the
# guest kernels if bisect did not, and boots them) run in the main lane;
# every other check runs one after the other in the side lane, beside it:
# bisect's patch steps are mostly single-threaded tree walks and links, and
# the side lane fills the core they leave idle. make check is one build job:
# it takes the build lock once, and both lanes inherit it. PARALLEL=0 runs
# everything in order.
# A stock guest kernel, when bisect builds one first, keeps both cores busy
# (make -j, nothing to link until the end). So checkpatch and applies start
# at once, and the rest wait until bisect says its first base step is done
# (SIDE_GO), or until the main lane is over when bisect does not run. The
# checks that build no kernel come first, then static, cross and variants,
# which build with make -j1 while the main lane runs (bisect, bench-smoke,
# then KUnit and the matrix) and with make -j$JOBS once it is over
# (MAIN_DONE).
build_lock
export SIDE_GO=$WORK/.side-go-$BASE MAIN_DONE=$WORK/.main-done-$BASE
rm -f "$SIDE_GO" "$MAIN_DONE"
[[ " $CHECKS " == *" bisect "* ]] || touch "$SIDE_GO"
side=() main=()
for step in checkpatch applies cocci htmldocs tools-virtio static cross variants; do
	[[ " $CHECKS " == *" $step "* ]] || continue
	[ "${PARALLEL:-1}" = 0 ] || side+=("$step")
done
for step in $CHECKS; do
	[[ " ${side[*]} " == *" $step "* ]] || main+=("$step")
done
side_pid=
if [ ${#side[@]} -gt 0 ]; then
	(
		jobs_all=$JOBS waited=
		for step in "${side[@]}"; do
			case $step in
			checkpatch|applies) ;;
			*)	if [ -z "$waited" ]; then
					while [ ! -e "$SIDE_GO" ]; do
						kill -0 $$ 2>/dev/null || exit 1	# make check is gone
						sleep 2
					done
					log "side checks: bisect's first base step is done, starting ${step} and the rest"
					waited=1
				fi ;;
			esac
			if [ -e "$MAIN_DONE" ]; then export JOBS=$jobs_all; else export JOBS=1; fi
			run_check "$step"
		done
	) &
	side_pid=$!
	log "in the background (PID $side_pid): ${side[*]}"
fi
for step in "${main[@]}"; do run_check "$step"; done
touch "$SIDE_GO"	# bisect did not run, or failed before it could say so

if [ -n "$KUNIT_ARCHS" ]; then
	log "=== kunit: $KUNIT_ARCHS"
	timed kunit "$TOP/scripts/kunit.sh" $KUNIT_ARCHS || true
	for a in $KUNIT_ARCHS; do expect+=(--expect "kunit-$a.ktap"); done
fi

if [ -z "${MATRIX:-}" ] && [ "$GATE_MATRIX" = 0 ]; then
	record matrix SKIP "not gated for Linux $BASE (GATE_MATRIX=0 in bases/$BASE.env): make matrix${MATRIX_VARIANT:+-$MATRIX_VARIANT} BASE=$BASE boots its rows"
elif [ -x "$TOP/scripts/matrix.sh" ] && [ "${MATRIX:-1}" != 0 ]; then
	log "=== matrix: emulable rows"
	# The pkvm rows the base gates (GATE_PKVM_ROWS: each needs the stock 7.3
	# host kernel and kvmtool, built once); make matrix boots all of them.
	MATRIX_PKVM=${MATRIX_PKVM:-$(. "$TOP/bases/$BASE.env"; echo "${GATE_PKVM_ROWS:-0}")} \
		timed matrix "$TOP/scripts/matrix.sh" || true
	expect+=(--expect matrix.ktap)
elif [ -x "$TOP/scripts/matrix.sh" ]; then
	record matrix SKIP "MATRIX=0 was given"
fi

# KUnit and the matrix boot QEMU on one core each: the side lane may still
# be building beside them.
touch "$MAIN_DONE"
if [ -n "$side_pid" ]; then
	log "waiting for ${side[*]}"
	wait "$side_pid"
fi

finish
