# shellcheck shell=bash
# Sourced after lib.sh: a memo of results that passed, keyed by every input
# they depend on, so that a run on the same inputs does not redo them.
# It is to check results what ccache is to compiler runs; it lives beside
# ccache (MEMO_DIR, default ~/.cache/coco-dma/memo) and MEMO=0 turns it off.
#
# A key covers:
#   - the kernel tree: the commit given (its sha names its content and its
#     whole history) or, by default, coco-base and HEAD of $TREE;
#   - the coco-dma tooling that runs: the git trees of scripts/, configs/,
#     guest/, bases/, matrix/ and bench/ at the repository's HEAD (no memo
#     when any of them has uncommitted changes);
#   - the installed packages and their versions (compilers, binutils,
#     sparse, coccinelle, sphinx, QEMU: any upgrade is a new key);
#   - what the caller names (the step, the arch).
# Only results that passed are kept. A dirty kernel tree is never memoized.
MEMO_DIR=${MEMO_DIR:-$HOME/.cache/coco-dma/memo}

# memo_key WHAT... [--commit SHA]: print the key, or fail when inputs are
# not all committed (then nothing may be memoized).
memo_key() {
	local commit= parts=() tooling pkgs
	[ "${MEMO:-1}" != 0 ] || return 1
	while [ $# -gt 0 ]; do
		case $1 in --commit) commit=$2; shift 2 ;; *) parts+=("$1"); shift ;; esac
	done
	[ -z "$(git -C "$TOP" status --porcelain -- scripts configs guest bases matrix bench 2>/dev/null)" ] || return 1
	tooling=$(git -C "$TOP" rev-parse HEAD:scripts HEAD:configs HEAD:guest HEAD:bases HEAD:matrix HEAD:bench 2>/dev/null) || return 1
	if [ -z "$commit" ]; then
		[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] || return 1
		commit="$(git -C "$TREE" rev-parse coco-base HEAD)" || return 1
	fi
	pkgs=${_memo_pkgs:-$(dpkg-query -W -f '${Package}=${Version}\n' | sha256sum)}
	_memo_pkgs=$pkgs
	printf '%s\n' "${parts[@]}" "$commit" "$tooling" "$pkgs" "BASE=$BASE" | sha256sum | cut -c1-32
}

# memo_get KEY: print what memo_put stored under KEY; fail when there is none.
memo_get() { [ -n "$1" ] && cat "$MEMO_DIR/$1" 2>/dev/null; }

# memo_put KEY TEXT: keep TEXT (the passed result) under KEY.
memo_put() {
	[ -n "$1" ] || return 0
	mkdir -p "$MEMO_DIR" && printf '%s\n' "$2" > "$MEMO_DIR/$1.tmp" && mv "$MEMO_DIR/$1.tmp" "$MEMO_DIR/$1"
}
