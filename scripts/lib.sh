# shellcheck shell=bash
# Common helpers for the coco-dma tooling. Sourced, never executed.

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BASE=${BASE:-6.12}
CACHE=${CACHE:-$TOP/cache}
WORK=${WORK:-$TOP/work}
# Reports are per base too: out/6.12/, out/7.3/; make check adds the
# summary of every base it gates (scripts/check-bases.sh).
OUT=${OUT:-$TOP/out/$BASE}
TREE=${TREE:-$WORK/linux-$BASE}
# Build dirs and worktrees are per base: 6.12 and 7.3 trees are worked on side
# by side (BASE=7.3 make ...), and a build dir made from one base must never
# be taken for the other's.
BUILD=${BUILD:-$WORK/build/$BASE}
WTS=${WTS:-$WORK/wt/$BASE}
RESULTS=${RESULTS:-$OUT/results}
# guest_wt [ARCH]: the worktree that the guest kernels, the bisect walks and
# the pkvm host kernel are built in: one per base (work/wt/<base>/guest) for
# every arch and commit. Builds take turns under the build lock, and a
# checkout rewrites only the files that differ, which kbuild then rebuilds
# (a build dir keeps the mtimes it was built at). A kernel worktree takes
# 1.7 GiB; one per arch and one for the pkvm host made a cold make check of
# both bases run out of disk on the CI machine. BISECT_PARALLEL=1 walks the
# arches side by side, each in a worktree of its own (guest-ARCH).
guest_wt() {
	if [ "${BISECT_PARALLEL:-0}" = 1 ] && [ -n "${1:-}" ]; then echo "$WTS/guest-$1"; else echo "$WTS/guest"; fi
}
JOBS=${JOBS:-$(nproc)}
# ccache's depend mode: on a miss it compiles once and takes the headers from
# the compiler's -MMD output (kbuild passes -Wp,-MMD), instead of running the
# preprocessor first to hash its output. Compiling kernel/ of the x86_64
# guest kernel with an empty cache took 73 s instead of 103 s (82 s without
# ccache); hits work as in direct mode. A user's own setting wins.
export CCACHE_DEPEND=${CCACHE_DEPEND:-1}
# The CI machine's disk is small: the ccache stays within 2 GiB (ccache's
# own default is 5 GiB); a cold make check of both bases puts a few hundred
# MiB in it (docs/dev-log/ci-budget.md). A user's own setting wins.
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-2G}
export PYTHONDONTWRITEBYTECODE=1
mkdir -p "$OUT/logs"

_t0=${_t0:-$(date +%s)}

log()  { printf '[%s +%4ss] %s\n' "$(date +%H:%M:%S)" "$(( $(date +%s) - _t0 ))" "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }
loud() { printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n!!! %s\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n' "$*" >&2; }

# Run a long command with a heartbeat line every 30 s so CI logs show progress.
# Output goes to $1 (log file); the tail is shown on failure. It returns as
# soon as the command ends: a poll with sleep 5 cost 2.5 s on average per
# call, and bisect makes two calls per patch and arch.
run_logged() {
	local logf=$1; shift
	local start=$SECONDS rc pid hb
	mkdir -p "$(dirname "$logf")"
	"$@" >"$logf" 2>&1 &
	pid=$!
	(
		n=0
		while sleep 30 && kill -0 "$pid" 2>/dev/null; do
			n=$((n + 30))
			log "  ... still running (${n}s): $(tail -n1 "$logf" | cut -c1-100)"
		done
	) &
	hb=$!
	wait "$pid"; rc=$?
	kill "$hb" 2>/dev/null; wait "$hb" 2>/dev/null
	if [ $rc -ne 0 ]; then
		log "  FAILED (rc=$rc) after $(( SECONDS - start ))s; last lines of $logf:"
		tail -n 25 "$logf" >&2
	fi
	return $rc
}

# record NAME RESULT [DETAIL]: one result line per named step, read by scripts/summary.py.
# RESULT is PASS, FAIL or SKIP; a SKIP must carry its reason. INFO is a
# report that gates nothing (listed in the summary, counted nowhere), and
# must carry its text too.
record() {
	local name=$1 res=$2; shift 2
	mkdir -p "$RESULTS"
	case $res in PASS|FAIL|SKIP|INFO) ;; *) die "record: bad result $res";; esac
	[ "$res" = PASS ] || [ "$res" = FAIL ] || [ -n "$*" ] || die "record: $res without a reason for $name"
	local f=$RESULTS/check-$(echo "$name" | tr '/ ' '__').res
	printf '%s\t%s\t%s\n' "$res" "$name" "$*" > "$f"
	# scripts/check.sh: which results this step recorded (for the memo)
	[ -z "${COCO_STEP_LIST:-}" ] || echo "$f" >> "$COCO_STEP_LIST"
	log "$res: $name${*:+ ($*)}"
}

# Cross toolchain prefix per kernel ARCH, from Debian's gcc-<triplet> packages.
cross_prefix() {
	case $1 in
	x86_64|x86|i386) echo "" ;;
	arm64)       echo aarch64-linux-gnu- ;;
	powerpc)     echo powerpc64le-linux-gnu- ;;
	s390)        echo s390x-linux-gnu- ;;
	riscv)       echo riscv64-linux-gnu- ;;
	*) die "no cross compiler known for ARCH=$1" ;;
	esac
}

# kmake ARCH BUILDDIR make-args...: make in the patched tree with O=, ccache and the cross compiler.
kmake() {
	local arch=$1 b=$2; shift 2
	local cc=gcc hostcc=gcc cross
	cross=$(cross_prefix "$arch")
	# Host programs (fixdep, kconfig, objtool, modpost, ...) are built again
	# in every build dir: ccache serves them too.
	if command -v ccache >/dev/null; then cc="ccache ${cross}gcc" hostcc="ccache gcc"; else cc="${cross}gcc"; fi
	make -C "${KTREE:-$TREE}" O="$b" ARCH="$arch" CROSS_COMPILE="$cross" CC="$cc" \
		HOSTCC="${HOSTCC:-$hostcc}" -j"$JOBS" "$@"
}

# The base commit of the kernel tree: the root commit.
base_commit() { git -C "${1:-$TREE}" rev-list --max-parents=0 HEAD | tail -n1; }

# Series patches, in order, without the cover letter.
series_patches() { ls "$TOP/patches/$BASE"/[0-9][0-9][0-9][0-9]-*.patch 2>/dev/null | grep -v '/0000-' || true; }

# Only one kernel build at a time on this machine (2 cores), across every
# engineer and tool: every build takes this lock.
BUILD_LOCK=${BUILD_LOCK:-/tmp/coco-dma-build.lock}
# build_lock: hold the lock until the calling script exits (fd 9).
# A child of a lock holder inherits fd 9, the same open file and so the same
# lock: it goes on without waiting for itself.
# copy_build_dir SRC DST: DST becomes a copy of the kernel build dir SRC that
# builds on incrementally. kbuild records paths relative to the build dir,
# but the tools it builds (objtool, libsubcmd) record absolute ones in their
# .cmd files: in a plain copy their command lines differ, objtool is built
# again, and on x86, where every object depends on objtool, so is every
# object (a patch step of 106-205 s instead of about 20). The copies' .cmd
# files are given DST's path and keep their mtimes.
copy_build_dir() {
	local src=$1 dst=$2 f
	src=$(realpath "$src")
	cp -a "$src" "$dst" || return
	dst=$(realpath "$dst")
	[ -d "$dst/tools" ] || return 0
	grep -rlF --include='.*.cmd' "$src" "$dst/tools" | while IFS= read -r f; do
		touch -r "$f" "$f.coco-mtime" && sed -i "s|$src|$dst|g" "$f" &&
			touch -r "$f.coco-mtime" "$f" && rm -f "$f.coco-mtime" || return
	done
}

build_lock() {
	if [ "${COCO_BUILD_LOCK_HELD:-}" = "$BUILD_LOCK" ] && { : >&9; } 2>/dev/null; then
		return 0
	fi
	exec 9>"$BUILD_LOCK"
	flock -n 9 || { log "waiting for the build lock ($BUILD_LOCK)"; flock 9; }
	export COCO_BUILD_LOCK_HELD=$BUILD_LOCK
}

# Kernel ARCH used for make, per build arch name (i386 is x86 32-bit).
image_target() {
	case $1 in
	x86_64|i386) echo bzImage ;;
	arm64) echo Image ;;
	*) echo vmlinux ;;
	esac
}

# Files the series touches (relative to the tree), and the directories whose
# objects the checks compile: kernel/dma and drivers/virtio always, plus the
# directory of every touched .c/.h file that has a Makefile. Documentation and
# scripts/ are checked by their own steps.
series_files() { git -C "${1:-$TREE}" diff --name-only coco-base..HEAD; }
touched_dirs() {
	local t=${1:-$TREE}
	{ echo kernel/dma; echo drivers/virtio
	  series_files "$t" | grep -E '\.[ch]$' | grep -vE '^(include|scripts|tools|Documentation)/' | xargs -r -n1 dirname
	} | sort -u | while read -r d; do [ -f "$t/$d/Makefile" ] && echo "$d"; done
}
npatches() { series_patches | wc -l; }

# configured_targets BUILD_DIR TARGET...: of check_targets' TARGETs, those
# that BUILD_DIR's .config builds. A file of a directory is dropped when its
# Makefile adds it as obj-$(CONFIG_X) and X is not set: compiled outside its
# configuration it may not even compile (rionet.o needs the
# CONFIG_RIONET_*_SIZE values of its own Kconfig). A file the Makefile does
# not name directly (part of a composite object) and whole directories are
# kept.
configured_targets() {
	local b=$1 t d f opt
	shift
	for t; do
		case $t in */) echo "$t"; continue ;; esac
		d=${t%/*} f=${t##*/}
		opt=$(sed -nE "s/^obj-\\\$\(CONFIG_([A-Za-z0-9_]+)\)[[:space:]]*[+:]?=.*[[:space:]]${f//./\\.}([[:space:]].*)?\$/\1/p" \
			"${KTREE:-$TREE}/$d/Makefile" | head -n1)
		if [ -z "$opt" ] || grep -qE "^CONFIG_$opt=[ym]\$" "$b/.config"; then
			echo "$t"
		fi
	done
}

# check_targets [TREE]: the make targets of the compile checks (static,
# cross), one per line: kernel/dma/ and drivers/virtio/ whole, and of any
# other touched directory (drivers/block, drivers/net) the objects of the
# files that can compile differently: those the series changes and those
# that include a <linux/...> header or a local header the series changes.
# Every other file of such a directory compiles the same with and without
# the series, and drivers/net alone is most of the NIC drivers of a
# defconfig.
check_targets() {
	local t=${1:-$TREE} d f hdrs pub
	local -a changed
	mapfile -t changed < <(series_files "$t")
	pub=$(printf '%s\n' "${changed[@]}" | sed -nE 's|^include/(linux/[^/]+\.h)$|\1|p')
	touched_dirs "$t" | while read -r d; do
		case $d in
		kernel/dma|drivers/virtio) echo "$d/"; continue ;;
		esac
		hdrs=$(printf '%s\n' $pub $(printf '%s\n' "${changed[@]}" | sed -nE "s|^$d/([^/]+\.h)$|\1|p") |
			sed 's/\./\\./g' | paste -sd'|')
		{
			printf '%s\n' "${changed[@]}" | grep -E "^$d/[^/]+\.c$" |
				while read -r f; do [ -f "$t/$f" ] && echo "$f"; done
			[ -z "$hdrs" ] || (cd "$t" && grep -lE "^#[[:space:]]*include[[:space:]]*[<\"]($hdrs)[>\"]" "$d"/*.c 2>/dev/null)
		} | sort -u | sed 's/\.c$/.o/'
	done
}

# logfile NAME: where a check keeps its full output (out/logs/<name with - for />.log).
logfile() { mkdir -p "$OUT/logs"; echo "$OUT/logs/${1//\//-}.log"; }

# nobuild_commit TREE COMMIT: true when COMMIT changes only files that no
# kernel build reads (Documentation/ other than Kconfig, semantic patches,
# tools/virtio, tools/testing, MAINTAINERS).
nobuild_commit() {
	local f n=0
	while read -r f; do
		n=$((n + 1))
		case $f in
		*/Kconfig*|*Makefile|*Kbuild) return 1 ;;
		Documentation/*|scripts/coccinelle/*|tools/virtio/*|tools/testing/*|MAINTAINERS) ;;
		*) return 1 ;;
		esac
	done < <(git -C "$1" diff --name-only "$2^" "$2")
	[ "$n" -gt 0 ]
}

# config_frags ARCH VARIANT: the config fragments of a guest build, in order
# (scripts/build.sh applies them on top of allnoconfig; later ones win).
config_frags() {
	local arch=$1 variant=${2:-none}
	if [ "$variant" = kunit ]; then
		# The KUnit kernel: no guest options; EXTRA_FRAGS adds the
		# .kunitconfig files of the tree being built.
		printf '%s\n' "$TOP/configs/kunit/$arch-base.config" "$TOP/configs/kunit/common.kunitconfig" \
			"$TOP/configs/kunit/$arch.kunitconfig" ${EXTRA_FRAGS:-}
		return
	fi
	echo "$TOP/configs/common-guest.config"
	case $arch in
	x86_64|i386) echo "$TOP/configs/x86_64-guest.config" ;;
	arm64)       echo "$TOP/configs/arm64-virt.config" ;;
	*) die "no guest config for ARCH $arch" ;;
	esac
	# Confidential guest options exist for x86_64 only, not for the i386 variant.
	[ "$arch" != x86_64 ] || echo "$TOP/configs/x86_64-coco.config"
	# The debug guests share the checkers of the debug KUnit kernels.
	if [ "$variant" = debug ]; then
		echo "$TOP/configs/kunit/debug.kunitconfig"
		[ ! -f "$TOP/configs/kunit/debug-$BASE.kunitconfig" ] || echo "$TOP/configs/kunit/debug-$BASE.kunitconfig"
	fi
	[ "$variant" = none ] || echo "$TOP/configs/variants/$variant.config"
}
