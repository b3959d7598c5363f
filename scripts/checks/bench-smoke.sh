#!/usr/bin/env bash
# bench-smoke: one iteration of `make bench` (BENCH_SMOKE=1) so that the
# benchmark cannot rot: the kernels and dma_map_benchmark build, bloat-o-meter
# runs on both arches, every latency cell and blk configuration yields parsed
# samples on both kernels and takes the DMA path it should. Code size is
# judged (no growth of the map/unmap hot path, no KUnit symbol in a KUNIT=n
# vmlinux); the timings are not (one iteration measures nothing).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
lf=$(logfile bench-smoke)
log "bench-smoke: BENCH_SMOKE=1 scripts/bench.sh (log ${lf#"$TOP"/})"
if ! run_logged "$lf" env BENCH_SMOKE=1 "$TOP/scripts/bench.sh"; then
	record bench-smoke FAIL "scripts/bench.sh failed: $(grep -m3 'PROBLEM' "$lf" | cut -c1-300 | tr '\n' ' ')"
	exit 0
fi
if why=$(python3 - "$OUT/bench-smoke.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = []
for arch in ('x86_64', 'arm64'):
    s = d['size'].get(arch) or {}
    if not s.get('summary') or not any(h['series'] is not None for h in s.get('hot', [])):
        bad.append('bloat-o-meter/nm gave nothing for %s' % arch)
    # Code size is deterministic, unlike the timings: judge it here.
    grown = ['%s %+d B' % (h['name'], h['delta']) for h in s.get('hot', []) if (h.get('delta') or 0) > 0]
    if grown:
        bad.append('%s hot-path growth: %s' % (arch, ', '.join(grown)))
    if s.get('kunit_syms_new') or s.get('seam_syms'):
        bad.append('%s series vmlinux has KUnit symbols: %s' % (
            arch, ' '.join((s.get('kunit_syms_new') or []) + (s.get('seam_syms') or []))))
cells = d['latency']['cells']
if len(cells) < 4:
    bad.append('%d latency cells' % len(cells))
for c in cells:
    for side in ('series', 'stock'):
        if not c.get('map', {}).get(side, {}).get('n'):
            bad.append('no %s samples for latency %s/%s/%s' % (side, c['arch'], c['path'], c['clock']))
kinds = set((s['cfg'], s['kind'], s['side']) for s in d['blk']['samples'])
for cfg in d['blk']['configs']:
    for k in ('read', 'write', 'memcpy'):
        for side in ('series', 'stock'):
            if (cfg['name'], k, side) not in kinds:
                bad.append('no %s %s samples for blk %s' % (side, k, cfg['name']))
if len(d['blk']['configs']) < 5:
    bad.append('%d blk configs' % len(d['blk']['configs']))
bad += d['problems']
print('; '.join(bad)[:400])
sys.exit(1 if bad else 0)
PY
); then
	record bench-smoke PASS "out/bench-smoke.md: $(grep -c '^| ' "$OUT/bench-smoke.md") table rows"
else
	record bench-smoke FAIL "${why:-out/bench-smoke.json unreadable}"
fi
