#!/usr/bin/env bash
# check.sh [STEP...]: the maintainer's gate. Runs the named checks (default:
# all), KUnit on x86_64 and arm64, and the emulable boot-matrix rows when the
# matrix exists, then prints one summary table ending in "N passed, N failed".
#   CHECKS="checkpatch bisect static cocci htmldocs cross variants tools-virtio bench-smoke"
# Every step's wall time goes to out/check-times.txt and into the summary.
#   KUNIT_ARCHS="x86_64 arm64"
#   MATRIX=0 skips the boot matrix (reported as skipped, not passed).
#   PARALLEL=0 runs the checks that build no kernel in order, not beside the builds.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

CHECKS=${CHECKS:-checkpatch applies bisect static cocci htmldocs cross variants tools-virtio bench-smoke}
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

# tree.sh fetches and imports the base first when cache/ has none.
timed tree "$TOP/scripts/tree.sh" || die "cannot prepare the series tree"
n=$(npatches)
log "series: $n patches on $(git -C "$TREE" log -1 --format='%h %s' coco-base)"
[ "$n" -gt 0 ] || log "0 patches: every step runs on the base tree"

expect=()
if [ "${QUICK:-0}" = 1 ]; then
	for step in applies bisect static cocci htmldocs cross variants tools-virtio bench-smoke; do
		record "$step" SKIP "make check-quick does not run it; make check does"
	done
fi
run_check() {
	local step=$1 s=$TOP/scripts/checks/$1.sh
	[ -x "$s" ] || { record "$step" FAIL "no such check script: scripts/checks/$step.sh"; return; }
	log "=== check: $step"
	timed "$step" "$s" || record "$step" FAIL "scripts/checks/$step.sh exited $? before recording its result"
}
# The checks that build no kernel (checkpatch, applies, coccicheck, htmldocs,
# tools/virtio) run one after the other beside the kernel builds: a build
# leaves a core idle while it configures, links and walks the tree, and these
# fill it. PARALLEL=0 runs everything in order.
side=() main=()
for step in $CHECKS; do
	case $step in
	checkpatch|applies|cocci|htmldocs|tools-virtio) [ "${PARALLEL:-1}" = 0 ] && main+=("$step") || side+=("$step") ;;
	*) main+=("$step") ;;
	esac
done
side_pid=
if [ ${#side[@]} -gt 0 ]; then
	( export JOBS=1; for step in "${side[@]}"; do run_check "$step"; done ) &
	side_pid=$!
	log "in the background (PID $side_pid): ${side[*]}"
fi
for step in "${main[@]}"; do run_check "$step"; done
if [ -n "$side_pid" ]; then
	log "waiting for ${side[*]}"
	wait "$side_pid"
fi

if [ -n "$KUNIT_ARCHS" ]; then
	log "=== kunit: $KUNIT_ARCHS"
	timed kunit "$TOP/scripts/kunit.sh" $KUNIT_ARCHS || true
	for a in $KUNIT_ARCHS; do expect+=(--expect "kunit-$a.ktap"); done
fi

if [ -x "$TOP/scripts/matrix.sh" ] && [ "${MATRIX:-1}" != 0 ]; then
	log "=== matrix: emulable rows"
	timed matrix "$TOP/scripts/matrix.sh" || true
	expect+=(--expect matrix.ktap)
elif [ -x "$TOP/scripts/matrix.sh" ]; then
	record matrix SKIP "MATRIX=0 was given"
fi

printf 'total\t%d\n' "$SECONDS" >> "$TIMES"
log "=== summary (${SECONDS}s)"
python3 "$TOP/scripts/summary.py" "$OUT" "${expect[@]}"
