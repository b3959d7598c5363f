#!/usr/bin/env bash
# bench.sh: make bench. Series vs stock 6.12 in the same run, alternating:
# code size (bloat-o-meter, KUnit seams with CONFIG_KUNIT=n), dma_map_benchmark
# latency in the x86_64 and arm64 guests, virtio-blk throughput through the
# restricted pool (arm64). Writes out/bench.md and out/bench.json; see
# bench/README.md. Builds the matrix kernels with scripts/build.sh (under the
# build lock); QEMU runs one guest at a time, TCG.
# Env: BENCH_SMOKE=1 (one iteration, out/bench-smoke.{md,json}), BENCH_* knobs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
exec python3 "$TOP/bench/run.py" "$@"
