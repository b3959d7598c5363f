#!/usr/bin/env bash
# build.sh ARCH [VARIANT] [make targets...]: configure (allnoconfig + the config
# fragments) and build a minimal guest kernel out of tree with ccache.
#   ARCH     x86_64 | arm64 | i386
#   VARIANT  none, or a configs/variants/<name>.config to add
# Environment: KTREE (source tree, default the series tree), BUILD_DIR (default
# work/build/<base>/<tag>-<arch>[-<variant>], TAG=series|base).
# Every line of the fragments is checked against the final .config, so an option
# that Kconfig silently drops fails the build instead of hiding.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

arch=${1:?usage: build.sh ARCH [VARIANT] [targets...]}; shift
variant=${1:-none}; [ $# -gt 0 ] && shift
KTREE=${KTREE:-$TREE}
tag=${TAG:-series}
b=${BUILD_DIR:-$BUILD/$tag-$arch${variant:+$( [ "$variant" = none ] || echo "-$variant")}}
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=("$(image_target "$arch")")
[ -f "$KTREE/Makefile" ] || die "no kernel tree at $KTREE (run 'make tree')"

mapfile -t frags < <(config_frags "$arch" "$variant")
for f in "${frags[@]}"; do [ -f "$f" ] || die "missing config fragment $f"; done

mkdir -p "$b"
cat "${frags[@]}" > "$b/fragment.config"
export CCACHE_BASEDIR=$TOP/work CCACHE_NOHASHDIR=1

# What .config is made of: the fragments, every Kconfig file of the tree, the
# tree, the arch and the compiler (Kconfig asks it). allnoconfig runs again
# only when one of them changed (a bisect step that touches no Kconfig skips
# it), or when a Kconfig file has uncommitted changes.
config_sig() {
	[ -z "$(git -C "$KTREE" status --porcelain -- '*Kconfig*' 2>/dev/null)" ] || { date +%s%N; return; }
	{ cat "$b/fragment.config"; git -C "$KTREE" ls-files -s -- '*Kconfig*' 2>/dev/null || date +%s%N
	  echo "$KTREE $arch"; "$(cross_prefix "$arch")gcc" --version | head -1; } | sha256sum | cut -c1-32
}

build_locked() {
	local sig
	sig=$(config_sig)
	if [ -f "$b/.config" ] && [ "$(cat "$b/.coco-config-sig" 2>/dev/null)" = "$sig" ]; then
		log "$arch/$variant: .config is up to date (same fragments and Kconfig files)"
	else
		rm -f "$b/.coco-config-sig"
		kmake "$arch" "$b" KCONFIG_ALLCONFIG="$b/fragment.config" allnoconfig >"$b/config.log" 2>&1 ||
			{ cat "$b/config.log" >&2; die "allnoconfig failed for $arch"; }
	fi
	# Later fragments win: check each option's last setting.
	local missing
	missing=$(awk '/^CONFIG_[A-Z0-9_]+=/ { split($0, a, "="); want[a[1]] = $0 }
		/^# CONFIG_[A-Z0-9_]+ is not set/ { want[$2] = $0 }
		END { for (k in want) print want[k] }' "$b/fragment.config" |
		while IFS= read -r line; do
			case $line in
			"# "*) opt=${line#\# }; opt=${opt%% *}
			       ! grep -q "^$opt=" "$b/.config" || echo "$line" ;;
			*)     grep -qxF "$line" "$b/.config" || echo "$line" ;;
			esac
		done)
	[ -z "$missing" ] || die "Kconfig dropped fragment lines for $arch/$variant:
$missing"
	echo "$sig" > "$b/.coco-config-sig"
	log "building $arch/$variant [${targets[*]}] in ${b#$TOP/}"
	run_logged "$b/build.log" kmake "$arch" "$b" "${targets[@]}"
}
start=$SECONDS
build_lock
build_locked || die "build failed: $arch/$variant, see ${b#$TOP/}/build.log"
log "built $arch/$variant in $(( SECONDS - start ))s: ${b#$TOP/}"
