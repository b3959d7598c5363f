# coco-dma: the entry points. Every target installs what it needs first.
#   make matrix       the QEMU boot matrix (series and stock kernels)
#   make check        every base (BASES="6.12 7.3"): what bases/<base>.env gates, KUnit on x86_64 + arm64, the emulable matrix rows
#   make check-full   every check of every base, bisect at every patch on both arches
#   make check-debug  KUnit under KASAN, lockdep, atomic-sleep and DMA-API debug, both arches; the debug matrix
#   make matrix-debug the matrix rows that bounce or remap, on debug guests (the checkers above, kmemleak)
#   make check-quick  for iterating: checkpatch, KUnit and the matrix on the tree as it is
# See README.md.

BASE ?= 6.12
ARCH ?= arm64
S := scripts
export BASE

.PHONY: help deps base tree export build kunit checks check check-full check-quick check-debug matrix matrix-debug bench clean distclean

help:
	@sed -n 's/^#   //p' Makefile
	@echo "  make deps | base | tree | export | build ARCH=x86_64|arm64 | kunit | checks | check | check-quick | matrix | bench"

deps:
	@$(S)/deps.sh

base: deps
	@$(S)/fetch-base.sh

tree: base
	@$(S)/tree.sh

export:
	@$(S)/export.sh

build: tree
	@$(S)/build.sh $(ARCH) $(VARIANT)

kunit: tree
	@$(S)/kunit.sh $(KUNIT_ARCHS)

# The static checks alone (no KUnit, no matrix).
checks: deps
	@KUNIT_ARCHS= MATRIX=0 $(S)/check-bases.sh

check: deps
	@$(S)/check-bases.sh

# The quick loop: no applies, bisect, static, cocci, htmldocs, cross, variants,
# tools-virtio or bench-smoke (reported as skipped, with that reason).
check-quick: deps
	@QUICK=1 CHECKS="checkpatch" $(S)/check-bases.sh

# Everything, every base: every check whatever bases/<base>.env gates, the
# boot matrix of every base (7.3's is not in make check: GATE_MATRIX=0), and
# bisect at every patch on every arch (make check walks one arch per base).
check-full: deps
	@BISECT_WALK_ARCHS="x86_64 arm64" MATRIX=$${MATRIX:-1} \
		CHECKS="checkpatch applies bisect static cocci htmldocs cross variants tools-virtio bench-smoke" \
		$(S)/check-bases.sh

# KUnit under KASAN, lockdep, atomic-sleep and DMA-API debug (configs/kunit/
# debug.kunitconfig), x86_64 and arm64, and the debug matrix where a base gates
# the matrix: a checker's report fails the run (configs/checkers.txt).
check-debug: deps
	@OUT_ROOT=$(CURDIR)/out/debug CHECKS=" " MATRIX_VARIANT=debug TIMEOUT=$${TIMEOUT:-300} \
		KUNIT_ARCHS="$${KUNIT_ARCHS:-x86_64-debug arm64-debug}" $(S)/check-bases.sh

# The rows marked debug=1 (those that bounce or remap) on the debug guest
# kernels (configs/variants/debug.config), into out/debug/<base>/.
matrix-debug: tree
	@OUT=$(CURDIR)/out/debug/$(BASE) MATRIX_VARIANT=debug TIMEOUT=$${TIMEOUT:-300} $(S)/matrix.sh

# make matrix also runs the nested pKVM rows (MATRIX_PKVM=0 leaves them out).
matrix: tree
	@MATRIX_PKVM=$${MATRIX_PKVM:-1} $(S)/matrix.sh

bench: tree
	@$(S)/bench.sh

clean:
	rm -rf out work/build work/wt

# Also drops the kernel tree and the downloaded base (not the ccache).
distclean: clean
	rm -rf work cache
