# shellcheck shell=bash
# Sourced after lib.sh: a memo of results that passed, keyed by every input
# they depend on, so that a run on the same inputs does not redo them.
# It is to check results what ccache is to compiler runs; it lives beside
# ccache (MEMO_DIR, default ~/.cache/coco-dma/memo) and MEMO=0 turns it off.
#
# A key covers:
#   - the kernel tree: the commit given (its sha names its content and its
#     whole history) or, by default, coco-base and HEAD of $TREE;
#   - the coco-dma tooling that the step reads (memo_inputs below): the
#     git objects of those files and directories at the repository's HEAD
#     (no memo when any of them has uncommitted changes), so that a change
#     to the summary, the matrix or bench does not build the series again;
#   - the installed packages and their versions (compilers, binutils,
#     sparse, coccinelle, sphinx, QEMU: any upgrade is a new key);
#   - what the caller names (the step, the arch).
# Only results that passed are kept. A dirty kernel tree is never memoized.
MEMO_DIR=${MEMO_DIR:-$HOME/.cache/coco-dma/memo}

# memo_inputs STEP: the files and directories of the repository that STEP
# reads, besides scripts/lib.sh and scripts/memo.sh, which every step reads.
# A step not named here reads all of the tooling.
memo_inputs() {
	case $1 in
	bisect)     echo scripts/checks/bisect.sh scripts/build.sh scripts/kunit.sh scripts/guest-kernel.sh scripts/basetree.sh configs ;;
	static)     echo scripts/checks/static.sh scripts/basetree.sh ;;
	cross)      echo scripts/checks/cross.sh ;;
	variants)   echo scripts/checks/variants.sh scripts/basetree.sh scripts/build.sh scripts/objsyms.py configs ;;
	cocci)      echo scripts/checks/cocci.sh scripts/basetree.sh ;;
	htmldocs)   echo scripts/checks/htmldocs.sh scripts/basetree.sh ;;
	checkpatch) echo scripts/checks/checkpatch.sh "patches/$BASE" ;;
	*)          echo scripts configs guest bases lib matrix bench ;;
	esac
}

# memo_key STEP WHAT... [--commit SHA]: print the key of STEP's result,
# or fail when its inputs are not all committed (then nothing may be
# memoized).
memo_key() {
	local step=$1 commit= parts=() inputs tooling pkgs; shift
	[ "${MEMO:-1}" != 0 ] || return 1
	while [ $# -gt 0 ]; do
		case $1 in --commit) commit=$2; shift 2 ;; *) parts+=("$1"); shift ;; esac
	done
	read -ra inputs <<< "scripts/lib.sh scripts/memo.sh $(memo_inputs "$step")"
	[ -z "$(git -C "$TOP" status --porcelain -- "${inputs[@]}" 2>/dev/null)" ] || return 1
	tooling=$(for p in "${inputs[@]}"; do printf '%s ' "$p"; git -C "$TOP" rev-parse "HEAD:$p" || exit 1; done 2>/dev/null) || return 1
	if [ -z "$commit" ]; then
		[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] || return 1
		commit="$(git -C "$TREE" rev-parse coco-base HEAD)" || return 1
	fi
	pkgs=${_memo_pkgs:-$(dpkg-query -W -f '${Package}=${Version}\n' | sha256sum)}
	_memo_pkgs=$pkgs
	printf '%s\n' "$step" "${parts[@]}" "$commit" "$tooling" "$pkgs" "BASE=$BASE" | sha256sum | cut -c1-32
}

# memo_get KEY: print what memo_put stored under KEY; fail when there is none.
memo_get() { [ -n "$1" ] && cat "$MEMO_DIR/$1" 2>/dev/null; }

# memo_put KEY TEXT: keep TEXT (the passed result) under KEY.
memo_put() {
	[ -n "$1" ] || return 0
	mkdir -p "$MEMO_DIR" && printf '%s\n' "$2" > "$MEMO_DIR/$1.tmp" && mv "$MEMO_DIR/$1.tmp" "$MEMO_DIR/$1"
}
