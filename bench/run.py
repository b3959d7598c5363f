#!/usr/bin/env python3
"""coco-dma benchmark runner: `make bench` (python3 stdlib only).

Series vs stock 6.12, measured in the same run, the two kernels alternating:

1. size:    the kernel's scripts/bloat-o-meter between the stock and series
            vmlinux of the x86_64 and arm64 guest kernels (the matrix kernels),
            the DMA map/unmap hot-path functions (size in vmlinux and their
            object code), kunit symbols in the series vmlinux;
   seams:   kernel/dma (and drivers/virtio) objects built with the guest config
            (CONFIG_KUNIT=n) from the commits before and after the KUnit seam
            patches: section sizes and normalised disassembly must not change;
2. latency: CONFIG_DMA_MAP_BENCHMARK with the kernel's own
            tools/testing/selftests/dma/dma_map_benchmark in both guests, direct
            and bounced (x86_64 swiotlb=force, arm64 restricted DMA pool);
3. blk:     virtio-blk sequential O_DIRECT read/write MiB/s in the arm64 guest
            with and without a restricted pool and ACCESS_PLATFORM, plus the
            guest's memcpy bandwidth.

Outputs out/bench.md and out/bench.json (every raw sample, the QEMU command
lines, the kernel revisions); logs and DTBs in out/bench/.  Exit status 1 when
something could not be measured (a build, a boot, a missing sample, a DMA path
other than the expected one).  See bench/README.md for the environment knobs.
The kernels, initramfs, QEMU command lines and DTBs are the matrix's, from the
library lib/cocodma/.
"""
import difflib
import functools
import json
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from cocodma import agent, arches, dtb, env, initramfs, kernels, qemu  # noqa: E402

env.PROG = 'bench'
SMOKE = os.environ.get('BENCH_SMOKE') == '1'
NAME = 'bench-smoke' if SMOKE else 'bench'
BDIR = os.path.join(env.OUT, NAME)
LOGS = os.path.join(BDIR, 'logs')
WT = os.path.join(env.WT, 'bench')


def knob(name, full, smoke):
    return int(os.environ.get(name, smoke if SMOKE else full))


# Latency (dma_map_benchmark).  icount: QEMU's virtual clock advances 2^shift ns
# per guest instruction, so the tool's ktime deltas count guest instructions
# (TCG wall time does not resolve the direct path: see bench/README.md).
ICOUNT_SHIFT = knob('BENCH_ICOUNT_SHIFT', 7, 7)
LAT_BOOTS = knob('BENCH_LAT_BOOTS', 6, 1)        # per side and cell
LAT_RUNS = knob('BENCH_LAT_RUNS', 6, 1)          # per boot, after one warm-up run
LAT_SECONDS = knob('BENCH_LAT_SECONDS', 5, 1)    # dma_map_benchmark -s (guest seconds)
RT_BOOTS = knob('BENCH_RT_BOOTS', 2, 0)          # wall-clock TCG reference: boots per side,
RT_RUNS = knob('BENCH_RT_RUNS', 3, 1)            # runs per boot,
RT_SECONDS = knob('BENCH_RT_SECONDS', 1, 1)      # seconds per run
# virtio-blk throughput (arm64, wall-clock TCG).
BLK_BOOTS = knob('BENCH_BLK_BOOTS', 8, 1)
# pool-ap, the bounced ratio the shared-pool budget is judged by, gets more:
# a boot's throughput moves by +-20 % with the host (bench/README.md), so 8
# pairs leave the median ratio uncertain by about 0.1.
BLK_POOL_BOOTS = knob('BENCH_BLK_POOL_BOOTS', 40, 1)
BOOTSTRAP = 2000                                 # resamples for the ratio's 95 % interval
BLK_MIB = knob('BENCH_BLK_MIB', 256, 16)
BLK_PASSES = knob('BENCH_BLK_PASSES', 5, 2)      # pass 0 is a warm-up
MEMCPY_MIB = knob('BENCH_MEMCPY_MIB', 128, 16)
SEAMS = knob('BENCH_SEAMS', 1, 0)
TIMEOUT = knob('BENCH_TIMEOUT', 180, 120)
POOL = '0x70000000:0x1000000'                    # 16 MiB, as in the matrix rows

ARCHES = ('x86_64', 'arm64')
SIDES = ('series', 'stock')
# The benchmark device: a driverless PCI function on q35, the first (empty)
# virtio-mmio slot on virt, left unbound by virtio_mmio (device ID 0).
DMADEV = {'x86_64': 'pci:0000:00:08.0', 'arm64': 'platform:a000000.virtio_mmio'}

# Functions on the map/unmap hot path: growth must be 0 bytes.
HOT = ['dma_map_page_attrs', 'dma_unmap_page_attrs', 'dma_direct_map_page',
       'dma_direct_unmap_page', 'dma_map_sg_attrs', 'dma_unmap_sg_attrs', '__dma_map_sg_attrs',
       'dma_map_sgtable', 'dma_direct_map_sg', 'dma_direct_unmap_sg',
       'dma_map_resource', 'dma_direct_map_resource']
# Watched, not required to stay the same: bounce and virtio ring paths.
WATCH = ['swiotlb_map', 'swiotlb_tbl_map_single', 'swiotlb_tbl_unmap_single',
         'swiotlb_bounce', 'is_swiotlb_active', 'dma_direct_max_mapping_size',
         'vring_use_dma_api', 'vring_map_one_sg', 'virtqueue_add_split',
         'virtqueue_add_packed', 'detach_buf_split', 'virtqueue_get_buf_ctx_split',
         'virtqueue_add_sgs', 'virtqueue_add_outbuf', 'virtqueue_add_inbuf']
# (subject, directories whose objects must not change with KUNIT=n); the
# patch number is where the subject sits in the base's series (6.12: 0006 and
# 0019 since the first patch was added, 7.3: 0009 and 0012).
SEAM_PATCHES = [(r'^dma-direct: add KUnit seams', ['kernel/dma']),
                (r'^swiotlb: add a KUnit helper', ['kernel/dma'])]
SEAM_SYMS = ['dma_direct_force_unencrypted', 'dma_direct_set_memory_decrypted',
             'dma_direct_set_memory_encrypted', 'dma_direct_encode', 'dma_direct_decode',
             'dma_direct_pgprot_decrypted', 'dma_direct_pgprot']

problems = []     # could not measure: exit 1
findings = []     # measured, and not what the issue expects


# stderr apart: the tools' warnings must not reach the output that is parsed.
sh = functools.partial(env.sh, stderr=subprocess.PIPE)


def problem(msg):
    problems.append(msg)
    env.log('PROBLEM: ' + msg)


def kenv():
    """Debian's python modules first for the kernel's python tools."""
    return dict(os.environ, PATH='/usr/bin:' + os.environ.get('PATH', ''))


def med(v):
    return statistics.median(v) if v else None


def fmt(x, nd=2):
    return '-' if x is None else ('%.*f' % (nd, x))


def git(tree, *args):
    return sh(['git', '-C', tree] + list(args)).stdout.strip()


# ------------------------------------------------------------------ size

def nm_syms(arch, vmlinux):
    """name -> (size, type) of defined text symbols; .constprop/.isra copies summed."""
    r = sh([arches.tool(arch, 'nm'), '-S', '--defined-only', vmlinux])
    out = {}
    for line in r.stdout.split('\n'):
        p = line.split()
        if len(p) == 4 and p[2] in 'tTwW':
            base = p[3].split('.')[0]
            size, _ = out.get(base, (0, p[2]))
            out[base] = (size + int(p[1], 16), p[2])
    return out, r.returncode


_objdump = {}


def objdump(arch, obj):
    """objdump -dr of an object, normalised so that only code changes show:
    offsets dropped, section-relative relocations resolved to the function at
    that offset (or the offset masked), relocations kept (they name the call
    targets).  Returns (lines, {function: lines})."""
    if obj in _objdump:
        return _objdump[obj]
    text = sh([arches.tool(arch, 'objdump'), '-dr', '--no-show-raw-insn', obj]).stdout
    starts = {}
    sec = None
    for l in text.split('\n'):
        m = re.match(r'^Disassembly of section (\S+):', l)
        if m:
            sec = m.group(1)
        m = re.match(r'^([0-9a-f]+) <([^>]+)>:$', l)
        if m:
            starts[(sec, int(m.group(1), 16))] = m.group(2)

    def secrel(m):
        name = starts.get((m.group(1), int(m.group(2), 16)))
        return name if name else m.group(1) + '+OFF'

    lines, funcs, cur = [], {}, None
    for l in text.split('\n')[3:]:
        if not l.strip():
            continue
        m = re.match(r'^[0-9a-f]+ <([^>]+)>:$', l)
        if m:
            cur = funcs.setdefault(m.group(1), [])
            lines.append(m.group(1) + ':')
            continue
        l = re.sub(r'^\s*[0-9a-f]+:\s*', '', l)
        l = re.sub(r'\b[0-9a-f]+ <', '<', l)
        l = re.sub(r'(\.[A-Za-z0-9_.]+)\+0x([0-9a-f]+)', secrel, l)
        # A string's place in a merged string section (.rodata.str1.8) moves
        # when another string of the object comes or goes; the first one has
        # no "+0x" at all. Which string it is does not show here either way.
        l = re.sub(r'(\.rodata\.str[0-9.]+)(\+OFF)?$', r'\1+OFF', l)
        l = re.sub(r'\s+', ' ', l).strip()
        lines.append(l)
        if cur is not None:
            cur.append(l)
    _objdump[obj] = (lines, funcs)
    return _objdump[obj]


def disasm(arch, obj, sym):
    funcs = objdump(arch, obj)[1]
    for name in sorted(funcs):
        if name == sym or re.match(r'^%s\.\w+\.\d+$' % re.escape(sym), name):
            return funcs[name]
    return []


NOP = re.compile(r'^((data16 |cs )*nop[lw]?\b.*|xchg %ax,%ax)$')


def same_but_padding(a, b):
    """True when two normalised functions differ only by alignment padding
    (nops) and the branch offsets the padding shifts."""
    def strip(lines):
        return [re.sub(r'<([^>+]+)\+0x[0-9a-f]+>', r'<\1+X>', l) for l in lines if not NOP.match(l)]
    return strip(a) == strip(b)


def find_obj(arch, build, sym, dirs=('kernel/dma', 'drivers/virtio')):
    for d in dirs:
        p = os.path.join(build, d)
        for f in sorted(os.listdir(p)) if os.path.isdir(p) else []:
            if f.endswith('.o') and not f.endswith('.mod.o'):
                r = sh([arches.tool(arch, 'nm'), '--defined-only', os.path.join(p, f)])
                if re.search(r' [tTwW] %s(\.\w+\.\d+)?$' % re.escape(sym), r.stdout, re.M):
                    return os.path.join(d, f)
    return None


def size_bench(kern):
    res = {}
    bom = os.path.join(env.TREE, 'scripts', 'bloat-o-meter')
    for arch in ARCHES:
        ks, kb = kern[('series', arch)], kern[('stock', arch)]
        a = dict(arch=arch, functions=[], hot=[], watch=[], kunit_syms=None, seam_syms=None)
        res[arch] = a
        if ks['error'] or kb['error']:
            problem('size %s: no kernels (%s)' % (arch, ks['error'] or kb['error']))
            continue
        vs, vb = (os.path.join(k['build'], 'vmlinux') for k in (ks, kb))
        cross = arches.ARCH[arch]['cross']
        cmd = ['python3', bom, '-c'] + (['-p', cross] if cross else []) + [vb, vs]
        r = sh(cmd, env=kenv())
        a['bloat_o_meter_cmd'] = ' '.join(shlex.quote(os.path.relpath(x, env.TOP) if x.startswith(env.TOP) else x)
                                          for x in cmd)
        a['bloat_o_meter'] = r.stdout
        section = None
        for line in r.stdout.split('\n'):
            m = re.match(r'^(Function|Data|RO Data)\s+old\s+new\s+delta', line)
            if m:
                section = m.group(1)
                continue
            if line.startswith('add/remove:'):
                a.setdefault('summary', []).append(line)
            m = re.match(r'^(\S+)\s+(\S+)\s+(\S+)\s+([+-]\d+)$', line)
            if m and section:
                a.setdefault('functions' if section == 'Function' else 'data', []).append(dict(
                    section=section, name=m.group(1), old=m.group(2), new=m.group(3),
                    delta=int(m.group(4))))
        if r.returncode or not a.get('summary'):
            problem('size %s: bloat-o-meter failed (rc=%d): %s' % (arch, r.returncode, r.stderr[-300:]))
        ss, rc1 = nm_syms(arch, vs)
        sb, rc2 = nm_syms(arch, vb)
        if rc1 or rc2 or not ss or not sb:
            problem('size %s: nm failed' % arch)
        for lst, names in (('hot', HOT), ('watch', WATCH)):
            for n in names:
                e = dict(name=n, stock=sb.get(n, (None,))[0], series=ss.get(n, (None,))[0])
                if e['stock'] is not None and e['series'] is not None:
                    e['delta'] = e['series'] - e['stock']
                objs = find_obj(arch, ks['build'], n), find_obj(arch, kb['build'], n)
                if objs[0] and objs[0] == objs[1]:
                    ds = disasm(arch, os.path.join(ks['build'], objs[0]), n)
                    db = disasm(arch, os.path.join(kb['build'], objs[1]), n)
                    e['object'] = objs[0]
                    e['lines'] = [len(db), len(ds)]
                    e['code_identical'] = bool(ds) and ds == db
                    e['padding_only'] = bool(ds) and ds != db and same_but_padding(db, ds)
                a[lst].append(e)
                if lst == 'hot' and e.get('delta'):
                    findings.append('%s: %s grew by %+d bytes' % (arch, n, e['delta']) if e['delta'] > 0 else
                                    '%s: %s changed by %+d bytes' % (arch, n, e['delta']))
                if lst == 'hot' and e.get('code_identical') is False:
                    findings.append('%s: object code of %s differs (%s%s)' % (
                        arch, n, e['object'], ', alignment padding only' if e['padding_only'] else ''))
        # kunit symbols: the linker script's empty __kunit_suites_* section
        # markers exist in every vmlinux; anything the series adds is a finding.
        ku = {}
        for side, v in (('series', vs), ('stock', vb)):
            r = sh([arches.tool(arch, 'nm'), v])
            ku[side] = sorted(set(l.split()[-1] for l in r.stdout.split('\n') if 'kunit' in l.lower() and l.strip()))
            if side == 'series':
                a['seam_syms'] = sorted(s for s in SEAM_SYMS if re.search(r' %s$' % s, r.stdout, re.M))
        a['kunit_syms'], a['kunit_syms_stock'] = ku['series'], ku['stock']
        a['kunit_syms_new'] = sorted(set(ku['series']) - set(ku['stock']))
        if a['kunit_syms_new'] or a['seam_syms']:
            findings.append('%s: series vmlinux has kunit/seam symbols stock does not: %s' % (
                arch, ' '.join((a['kunit_syms_new'] + a['seam_syms'])[:10])))
        env.log('size %s: %s' % (arch, ' | '.join(a.get('summary', ['?']))))
    return res


# ----------------------------------------------------------------- seams

def seams_bench():
    """kernel/dma (+ drivers/virtio) objects before/after the seam patches,
    guest config (CONFIG_KUNIT=n), in work/wt/bench with O=work/build/bench-seams-ARCH."""
    res = dict(patches=[], arches={})
    log_ = git(env.TREE, 'log', '--reverse', '--format=%H %s', 'coco-base..HEAD')
    commits = [l.split(' ', 1) for l in log_.split('\n') if l]
    for rx, dirs in SEAM_PATCHES:
        hit = [(i, h, s) for i, (h, s) in enumerate(commits, 1) if re.search(rx, s)]
        if len(hit) != 1:
            problem('seams: /%s/ found %d times in the series' % (rx, len(hit)))
            return res
        n, h, s = hit[0]
        num = '%04d' % n
        res['patches'].append(dict(num=num, subject=s, after=h[:12],
                                   before=git(env.TREE, 'rev-parse', '--short=12', h + '^'),
                                   dirs=dirs))
    if not os.path.exists(os.path.join(WT, '.git')):
        git(env.TREE, 'worktree', 'prune')
        r = sh(['git', '-C', env.TREE, 'worktree', 'add', '-q', '--detach', WT, 'coco-base'])
        if r.returncode:
            problem('seams: git worktree add failed: ' + r.stderr)
            return res
    for arch in ARCHES:
        b = os.path.join(env.BUILD, 'bench-seams-' + arch)
        snap = os.path.join(BDIR, 'seams', arch)
        shutil.rmtree(snap, ignore_errors=True)
        os.makedirs(b, exist_ok=True)
        cfg = os.path.join(env.BUILD, 'series-' + arch, '.config')
        # One build-lock hold per arch: check out, configure, build, copy the objects.
        script = ['set -e', '. scripts/lib.sh', 'build_lock', 'export KTREE=%s' % shlex.quote(WT)]
        for p in res['patches']:
            for label in ('before', 'after'):
                key = '%s-%s' % (p['num'], label)
                script += ['log "seams %s: %s %s"' % (arch, key, p[label]),
                           'git -C "$KTREE" checkout -q --detach %s' % p[label],
                           'cp %s %s/.config' % (shlex.quote(cfg), shlex.quote(b)),
                           'kmake %s %s olddefconfig' % (arch, shlex.quote(b)),
                           'kmake %s %s %s' % (arch, shlex.quote(b), ' '.join(d + '/' for d in p['dirs'])),
                           'grep -E "^(CONFIG_KUNIT=|# CONFIG_KUNIT is not set)" %s/.config > %s.kunit || '
                           'echo "no CONFIG_KUNIT line" > %s.kunit' % (b, os.path.join(snap, key),
                                                                       os.path.join(snap, key))]
                for d in p['dirs']:
                    dst = os.path.join(snap, key, d)
                    script += ['mkdir -p %s' % dst, 'cp %s/%s/*.o %s/' % (b, d, dst)]
        os.makedirs(snap)
        blog = os.path.join(BDIR, 'seams-%s.log' % arch)
        t0 = time.time()
        with open(blog, 'w') as f:
            rc = subprocess.call(['bash', '-c', '\n'.join(script)], cwd=env.TOP, stdout=f, stderr=subprocess.STDOUT,
                                 env=dict(os.environ, CCACHE_BASEDIR=os.path.join(env.TOP, 'work'),
                                          CCACHE_NOHASHDIR='1'))
        env.log('seams %s: 4 builds of %s in %.0fs' % (arch, '+'.join(res['patches'][-1]['dirs']), time.time() - t0))
        if rc:
            problem('seams %s: build failed, see %s' % (arch, os.path.relpath(blog, env.TOP)))
            return res
        objs, kunit = {}, set()
        for p in res['patches']:
            for label in ('before', 'after'):
                key = '%s-%s' % (p['num'], label)
                objs[key] = snapshot(arch, os.path.join(snap, key), p['dirs'])
                kunit.add(open(os.path.join(snap, key + '.kunit')).read().strip())
        if kunit != {'# CONFIG_KUNIT is not set'}:
            problem('seams %s: the guest config is not CONFIG_KUNIT=n: %s' % (arch, ' / '.join(sorted(kunit))))
        cmp_ = []
        for p in res['patches']:
            bef, aft = objs['%s-before' % p['num']], objs['%s-after' % p['num']]
            for o in sorted(set(bef) | set(aft)):
                e = dict(patch=p['num'], object=o)
                if o not in bef or o not in aft:
                    e['status'] = 'only %s' % ('after' if o in aft else 'before')
                else:
                    e['sections_before'], e['sections_after'] = bef[o]['sections'], aft[o]['sections']
                    e['text_before'], e['text_after'] = bef[o]['text'], aft[o]['text']
                    e['sections_same'] = bef[o]['sections'] == aft[o]['sections']
                    e['disasm_same'] = bef[o]['disasm'] == aft[o]['disasm']
                    e['disasm_lines'] = len(aft[o]['disasm'])
                    e['diff_lines'] = sum(1 for l in difflib.unified_diff(bef[o]['disasm'], aft[o]['disasm'],
                                                                          lineterm='', n=0)
                                          if l[:1] in '+-' and l[:3] not in ('+++', '---'))
                    if e['diff_lines']:
                        e['diff'] = list(difflib.unified_diff(bef[o]['disasm'], aft[o]['disasm'],
                                                              lineterm='', n=2))[:200]
                        fb, fa = bef[o]['funcs'], aft[o]['funcs']
                        e['functions'] = [dict(name=f, size_before=bef[o]['sizes'].get(f),
                                               size_after=aft[o]['sizes'].get(f),
                                               padding_only=same_but_padding(fb.get(f, []), fa.get(f, [])),
                                               hot=f.split('.')[0] in HOT)
                                          for f in sorted(set(fb) | set(fa)) if fb.get(f) != fa.get(f)]
                    e['status'] = 'identical' if e['sections_same'] and e['disasm_same'] else 'differs'
                    if e['status'] != 'identical':
                        fns = e.get('functions', [])
                        findings.append('seams %s: patch %s changes the code of %s with CONFIG_KUNIT=n (%s): %s' % (
                            arch, p['num'], o, 'hot path affected' if any(x['hot'] for x in fns) else
                            'no seam symbol or call is emitted, none on the map/unmap hot path',
                            ', '.join(fn_delta(x) for x in fns) or
                            'sections %s' % ' '.join(k for k in set(e['sections_before']) | set(e['sections_after'])
                                                     if e['sections_before'].get(k) != e['sections_after'].get(k))))
                if not e['status'].startswith('only') or 'kunit' not in o:
                    cmp_.append(e)
        res['arches'][arch] = dict(build=os.path.relpath(b, env.TOP), objects=cmp_, kunit=' / '.join(sorted(kunit)))
    return res


def fn_delta(x):
    sb, sa = x.get('size_before'), x.get('size_after')
    d = '%d→%d B' % (sb, sa) if sb is not None and sa is not None else 'new' if sb is None else 'gone'
    return '%s%s (%s%s)' % ('**HOT** ' if x.get('hot') else '', x['name'], d,
                            ', padding only' if x.get('padding_only') else '')


def snapshot(arch, b, dirs):
    """Section sizes (alloc sections) and normalised objdump -dr of every built-in object."""
    out = {}
    for d in dirs:
        p = os.path.join(b, d)
        for f in sorted(os.listdir(p)):
            if not f.endswith('.o') or f.endswith('.mod.o') or f == 'built-in.o':
                continue
            o = os.path.join(p, f)
            r = sh([arches.tool(arch, 'readelf'), '-SW', o])
            secs = {}
            # [Nr] Name Type Address Off Size ES Flg ...: allocated (A) sections
            for m in re.finditer(r'^\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+[0-9a-f]+\s+[0-9a-f]+\s+'
                                 r'([0-9a-f]+)\s+\S+\s+(\S*A\S*)', r.stdout, re.M):
                secs[m.group(1)] = int(m.group(3), 16)
            _objdump.pop(o, None)
            sizes = {}
            for l in sh([arches.tool(arch, 'nm'), '-S', '--defined-only', o]).stdout.split('\n'):
                q = l.split()
                if len(q) == 4 and q[2] in 'tTwW':
                    sizes[q[3]] = int(q[1], 16)
            out[os.path.join(d, f)] = dict(sections=secs, disasm=objdump(arch, o)[0], funcs=objdump(arch, o)[1],
                                           sizes=sizes,
                                           text=sum(v for k, v in secs.items() if k.startswith('.text')))
    return out


# ------------------------------------------------------------- guest side

# Where the tree keeps dma_map_benchmark: 7.3 has it in tools/dma/ and its
# header in include/uapi/linux/; 6.12 in tools/testing/selftests/dma/ and
# include/linux/.
BENCH_TOOL_DIRS = (('tools', 'dma'), ('tools', 'testing', 'selftests', 'dma'))


def benchmark_dir():
    for d in BENCH_TOOL_DIRS:
        if os.path.exists(os.path.join(env.TREE, *d, 'dma_map_benchmark.c')):
            return os.path.join(*d)
    return os.path.join(*BENCH_TOOL_DIRS[-1])


def build_tools():
    """dma_map_benchmark from the tree (static, Debian's cross gcc) and an
    initramfs per arch: the agent as /init and the tool as /dma_map_benchmark."""
    src = os.path.join(env.TREE, benchmark_dir(), 'dma_map_benchmark.c')
    inc = ['-idirafter', os.path.join(env.TREE, 'include'),
           '-idirafter', os.path.join(env.TREE, 'include', 'uapi')]
    cpio = {}
    for arch in ARCHES:
        exe = os.path.join(BDIR, 'dma_map_benchmark-' + arch)
        # -idirafter: <linux/map_benchmark.h> from the tree, the uapi headers from the toolchain
        cmd = [arches.tool(arch, 'gcc'), '-static', '-O2', '-Wall'] + inc + ['-o', exe, src]
        r = sh(cmd)
        if r.returncode:
            problem('dma_map_benchmark build failed for %s: %s' % (arch, r.stderr[-500:]))
            continue
        try:
            cpio[arch] = initramfs.build_initramfs(arch, BDIR, [('/dma_map_benchmark', exe)])
        except RuntimeError as e:
            problem('initramfs %s: %s' % (arch, e))
    return cpio, '%s -static -O2 -Wall %s -o dma_map_benchmark-ARCH %s' % (
        ' | '.join(arches.tool(a, 'gcc') for a in ARCHES),
        ' '.join(x if x.startswith('-') else os.path.relpath(x, env.TOP) for x in inc),
        os.path.relpath(src, env.TOP))


def boot(tag, row, side, kern, cpio, append, accel, disk=None, dtb_path=None, extra=()):
    """One QEMU boot; returns (log text, counters, command, wall seconds, log path)."""
    # agent.guest_cmdline(): the base's kernel arguments too (7.3 counts the
    # swiotlb high watermark, by which a boot is judged, only when asked)
    cmd = qemu.boot_cmd(row, accel, kern['image'], cpio,
                        ['agent.mode=bench'] + append + agent.guest_cmdline(row), dtb_path, disk, extra)
    logf = os.path.join(LOGS, '%s-%s.log' % (tag, side))
    load0 = open('/proc/loadavg').read().split()[0]
    text, rc, wall = qemu.run(cmd, TIMEOUT)
    if rc is None:
        rc = 'timeout'
    text += '\n# host loadavg before the boot: %s\n' % load0
    qemu.save_log(logf, cmd, text, '\n# qemu rc=%s wall=%.1fs\n' % (rc, wall))
    c = agent.parse_log(text)
    c['qemu_rc'] = str(rc)
    bad = [l for l in text.split('\n') if re.match(r'^not ok ', l)]
    if rc != 0 or c['agent_done'] != '1' or bad:
        problem('%s %s: qemu rc=%s agent_done=%s %s (log %s)' % (
            tag, side, rc, c['agent_done'], '; '.join(bad)[:200], os.path.relpath(logf, env.TOP)))
    c['loadavg'] = float(load0)
    return text, c, cmd, wall, os.path.relpath(logf, env.TOP)


# --------------------------------------------------------------- latency

LAT_RE = re.compile(r'^# bench dmamap run=(\d+): average (map|unmap) latency\(us\):([\d.]+) '
                    r'standard deviation:([\d.]+)', re.M)


def lat_cells():
    cells = []
    for clock, boots, runs, secs in (('icount', LAT_BOOTS, LAT_RUNS, LAT_SECONDS),
                                     ('wallclock', RT_BOOTS, RT_RUNS, RT_SECONDS)):
        if boots <= 0:
            continue
        for arch in ARCHES:
            for path in ('direct', 'bounce'):
                cells.append(dict(clock=clock, arch=arch, path=path, boots=boots, runs=runs, seconds=secs))
    return cells


def lat_bench(kern, cpio, cmds):
    samples, cells = [], lat_cells()
    for cell in cells:
        arch, path, clock = cell['arch'], cell['path'], cell['clock']
        tag = 'lat-%s-%s-%s' % (arch, path, clock)
        row = dict(arch=arch, name=tag, nics='0')
        accel = ['-accel', 'tcg'] + (['-icount', 'shift=%d,sleep=off' % ICOUNT_SHIFT] if clock == 'icount' else [])
        append = ['agent.dmamap=%s' % DMADEV[arch], 'agent.dmamap_runs=%d' % (cell['runs'] + 1),
                  'agent.dmamap_args="-s %d"' % cell['seconds'],
                  'agent.watchdog=%d' % (TIMEOUT - 10)]
        dtb_path, extra, edits, disk = None, [], [], None
        if arch == 'x86_64':
            extra = ['-device', 'pci-testdev,addr=08.0']
            if path == 'bounce':
                append.insert(0, 'swiotlb=force')
        else:  # the matrix guest's legacy virtio-blk (idle; no DMA API) on a 1 MiB disk
            disk = os.path.join(BDIR, 'lat-disk.img')
            with open(disk, 'wb') as f:
                f.truncate(1 << 20)
            if path == 'bounce':
                try:
                    dtb_path, edits = dtb.make_dtb(dict(row, **{'dt.pool': POOL, 'dt.pool_on': 'dmamap'}), disk, BDIR)
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    problem('%s: DTB: %s' % (tag, str(e)[-300:]))
                    continue
        cell.update(dt_edits=edits, dtb=os.path.relpath(dtb_path, env.TOP) if dtb_path else None)
        if not (kern[('series', arch)]['error'] is None and kern[('stock', arch)]['error'] is None
                and arch in cpio):
            problem('%s: no kernels or initramfs' % tag)
            continue
        for i in range(cell['boots']):
            for side in (SIDES if i % 2 == 0 else SIDES[::-1]):   # S B B S S B ...
                text, c, cmd, wall, logf = boot('%s-%d' % (tag, i), row, side, kern[(side, arch)],
                                                cpio[arch], append, accel, disk=disk, dtb_path=dtb_path, extra=extra)
                cmds.setdefault(tag, {}).setdefault(side, ' '.join(shlex.quote(x) for x in cmd))
                got = {}
                for m in LAT_RE.finditer(text):
                    got.setdefault(int(m.group(1)), {})[m.group(2)] = (float(m.group(3)), float(m.group(4)))
                for run, v in sorted(got.items()):
                    if 'map' not in v or 'unmap' not in v:
                        continue
                    samples.append(dict(clock=clock, arch=arch, path=path, side=side, boot=i, run=run,
                                        warmup=run == 0, map_us=v['map'][0], map_sd_us=v['map'][1],
                                        unmap_us=v['unmap'][0], unmap_sd_us=v['unmap'][1],
                                        swiotlb_hiwater=int(c.get('swiotlb_hiwater', -9)),
                                        pool_hiwater=int(c.get('pool_hiwater', -9)), log=logf,
                                        wall_s=round(wall, 1), loadavg=c['loadavg']))
                n = sum(1 for r in got.values() if 'map' in r and 'unmap' in r)
                if n != cell['runs'] + 1:
                    problem('%s boot %d %s: %d of %d dma_map_benchmark runs parsed (%s)' % (
                        tag, i, side, n, cell['runs'] + 1, logf))
                bounced = max(int(c.get('swiotlb_hiwater', -1)), int(c.get('pool_hiwater', -1))) > 0
                if bounced != (path == 'bounce'):
                    problem('%s boot %d %s: expected %s, counters swiotlb_hiwater=%s pool_hiwater=%s' % (
                        tag, i, side, 'bouncing' if path == 'bounce' else 'no bouncing',
                        c.get('swiotlb_hiwater'), c.get('pool_hiwater')))
                env.log('%s boot %d %-6s %.1fs: %s' % (tag, i, side, wall, ' '.join(
                    '%.1f/%.1f' % (r['map'][0], r['unmap'][0]) for _, r in sorted(got.items())
                    if 'map' in r and 'unmap' in r)))
        if disk:
            os.unlink(disk)
    return cells, samples


def ab_stats(sel, key, nboots):
    """Series vs stock over samples sel (dicts with side, boot, key): per side
    the median (min–max) over all samples and the per-boot medians; the
    series/stock ratio of each boot pair, their median and min–max; and the A/A
    ratio of each kernel against itself (median of even boots / median of odd
    boots), the noise floor."""
    per = {}
    for side in SIDES:
        v = [s[key] for s in sel if s['side'] == side]
        boots = [med([s[key] for s in sel if s['side'] == side and s['boot'] == b]) for b in range(nboots)]
        boots = [b for b in boots if b is not None]
        per[side] = dict(n=len(v), median=med(v), min=min(v) if v else None, max=max(v) if v else None,
                         boots=boots)
    o = dict(series=per['series'], stock=per['stock'], aa=[])
    s_, b_ = per['series'], per['stock']
    if s_['median'] and b_['median']:
        # paired: boot i of each kernel ran back to back (S B B S ...), so their
        # ratio cancels slow drift of the host; the headline is the median pair.
        pr = [x / y for x, y in zip(s_['boots'], b_['boots']) if y]
        o['ratio_of_medians'] = s_['median'] / b_['median']
        o['pairs'] = pr
        o['ratio'] = med(pr) if pr else o['ratio_of_medians']
        o['ratio_min'], o['ratio_max'] = (min(pr), max(pr)) if pr else (None, None)
        for side in SIDES:
            bt = per[side]['boots']
            if len(bt) >= 2 and med(bt[1::2]):
                o['aa'].append(med(bt[0::2]) / med(bt[1::2]))
    return o


def lat_stats(cells, samples):
    out = []
    for cell in cells:
        sel = [s for s in samples if s['clock'] == cell['clock'] and s['arch'] == cell['arch']
               and s['path'] == cell['path'] and not s['warmup']]
        st = dict(cell)
        for op in ('map', 'unmap'):
            o = ab_stats(sel, op + '_us', cell['boots'])
            if o['stock']['median']:
                o['resolution'] = 0.1 / o['stock']['median']   # the tool prints 0.1 us steps
            elif o['stock']['median'] == 0 and o['series']['median'] == 0:
                o['ratio'] = None
                o['note'] = 'both 0.0 us: below the tool\'s 0.1 us resolution'
            st[op] = o
        if cell['path'] == 'direct' and cell['clock'] == 'icount' and not SMOKE:
            for op in ('map', 'unmap'):
                r = st[op].get('ratio')
                if r is not None and abs(r - 1) > 0.02:
                    findings.append('latency %s %s %s: series/stock %s ratio %.3f is outside 1.00 +- 0.02' % (
                        cell['arch'], cell['path'], cell['clock'], op, r))
        out.append(st)
    return out


# ------------------------------------------------------------------- blk

BLK_CFGS = [
    # name, AP, pool, description, extra agent arguments
    ('nopool-ap', True, False, 'no pool, ACCESS_PLATFORM (dma-direct, no bounce)', []),
    ('pool-ap', True, True, 'restricted pool, ACCESS_PLATFORM (bounce)', []),
    ('pool-ap-256k', True, True, 'as pool-ap, requests capped at 256 KiB in both kernels '
     '(max_sectors_kb=256: a control for the request limits)', ['agent.blk_max_sectors_kb=256']),
    ('nopool-noap', False, False, 'no pool, no ACCESS_PLATFORM (virtio bypasses the DMA API)', []),
    ('pool-noap', False, True, 'restricted pool, no ACCESS_PLATFORM (stock bypasses the pool, series bounces)', []),
]
# Configurations where the series takes another DMA path than stock on purpose.
BY_DESIGN = {'pool-noap': 'by design: the series bounces through the pool, stock bypasses it'}
# Boots per kernel of each configuration (BLK_BOOTS unless named here).
BLK_CFG_BOOTS = {'pool-ap': BLK_POOL_BOOTS}
BOUNCE_REF = {'pool-ap': 'nopool-ap', 'pool-ap-256k': 'nopool-ap', 'pool-noap': 'nopool-noap'}
BLK_LIMITS = ('max_hw_sectors_kb', 'max_sectors_kb', 'max_segment_size', 'max_segments')
BLK_RE = re.compile(r'^# bench blk pass=(\d+) op=(\w+) bytes=\d+ chunk=\d+ seconds=([\d.]+) mib_s=([\d.]+)', re.M)
MEMCPY_RE = re.compile(r'^# bench memcpy pass=(\d+) bytes=\d+ chunk=\d+ seconds=([\d.]+) mib_s=([\d.]+)', re.M)


def blk_bench(kern, cpio, cmds):
    samples, cfgs = [], []
    arch = 'arm64'
    if kern[('series', arch)]['error'] or kern[('stock', arch)]['error'] or arch not in cpio:
        problem('blk: no arm64 kernels or initramfs')
        return cfgs, samples
    for name, ap, pool, desc, extra_args in BLK_CFGS:
        tag = 'blk-' + name
        row = {'arch': arch, 'name': tag, 'nics': '0',
               'qemu_extra': '-global virtio-mmio.force-legacy=false'}
        if ap:
            row['blk'] = ',iommu_platform=on'
        if pool:
            row.update({'dt.pool': POOL, 'dt.pool_on': 'blk'})
        disk = os.path.join(BDIR, 'disk-%s.img' % name)
        with open(disk, 'wb') as f:
            f.truncate((BLK_MIB + 1) << 20)
        try:
            dtb_path, edits = dtb.make_dtb(row, disk, BDIR) if pool else (None, [])
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            problem('%s: DTB: %s' % (tag, str(e)[-300:]))
            os.unlink(disk)
            continue
        nboots = BLK_CFG_BOOTS.get(name, BLK_BOOTS)
        cfg = dict(name=name, ap=ap, pool=pool, desc=desc, dt_edits=edits, boots=nboots,
                   dtb=os.path.relpath(dtb_path, env.TOP) if dtb_path else None, qemu_extra=row['qemu_extra'],
                   blk=row.get('blk', ''))
        cfgs.append(cfg)
        append = ['agent.blk_mib=%d' % BLK_MIB, 'agent.blk_passes=%d' % BLK_PASSES,
                  'agent.memcpy_mib=%d' % MEMCPY_MIB, 'agent.memcpy_passes=%d' % BLK_PASSES,
                  'agent.watchdog=%d' % (TIMEOUT - 10)] + extra_args
        for i in range(nboots):
            for side in (SIDES if i % 2 == 0 else SIDES[::-1]):
                text, c, cmd, wall, logf = boot('%s-%d' % (tag, i), row, side, kern[(side, arch)],
                                                cpio[arch], append, ['-accel', 'tcg'], disk=disk, dtb_path=dtb_path)
                cmds.setdefault(tag, {}).setdefault(side, ' '.join(shlex.quote(x) for x in cmd))
                lim = {k: c.get('blk_' + k) for k in BLK_LIMITS}
                cfg.setdefault('limits', {}).setdefault(side, lim)
                if cfg['limits'][side] != lim:
                    problem('%s %s: request limits changed between boots: %s / %s' % (
                        tag, side, cfg['limits'][side], lim))
                base = dict(cfg=name, side=side, boot=i, log=logf, loadavg=c['loadavg'],
                            pool_hiwater=int(c.get('pool_hiwater', -9)),
                            access_platform=int(c.get('access_platform', -9)))
                n = 0
                for m in BLK_RE.finditer(text):
                    samples.append(dict(base, kind=m.group(2), run=int(m.group(1)), warmup=m.group(1) == '0',
                                        seconds=float(m.group(3)), mib_s=float(m.group(4))))
                    n += 1
                for m in MEMCPY_RE.finditer(text):
                    samples.append(dict(base, kind='memcpy', run=int(m.group(1)), warmup=m.group(1) == '0',
                                        seconds=float(m.group(2)), mib_s=float(m.group(3))))
                    n += 1
                if n != 3 * BLK_PASSES:
                    problem('%s boot %d %s: %d of %d samples parsed (%s)' % (tag, i, side, n, 3 * BLK_PASSES, logf))
                want_bounce = pool and (ap or side == 'series')
                bounced = int(c.get('pool_hiwater', -1)) > 0
                if bounced != want_bounce or int(c.get('access_platform', -1)) != int(ap):
                    problem('%s boot %d %s: expected %s and access_platform=%d, got pool_hiwater=%s '
                            'access_platform=%s' % (tag, i, side, 'bouncing' if want_bounce else 'no bouncing',
                                                    int(ap), c.get('pool_hiwater'), c.get('access_platform')))
                got = ['%s %.0f' % (m.group(2)[0], float(m.group(4))) for m in BLK_RE.finditer(text)]
                env.log('%s boot %d %-6s %.1fs: %s' % (tag, i, side, wall, ' '.join(got)))
        os.unlink(disk)
    return cfgs, samples


def median_ci(v):
    """95 % bootstrap interval of the median of v (fixed seed: the same
    samples give the same interval)."""
    rnd = random.Random(1)
    m = sorted(statistics.median(rnd.choices(v, k=len(v))) for _ in range(BOOTSTRAP))
    return m[int(0.025 * BOOTSTRAP)], m[int(0.975 * BOOTSTRAP) - 1]


def blk_stats(cfgs, samples):
    out = {}
    for cfg in cfgs:
        for kind in ('write', 'read'):
            sel = [x for x in samples if x['cfg'] == cfg['name'] and x['kind'] == kind and not x['warmup']]
            o = out[(cfg['name'], kind)] = ab_stats(sel, 'mib_s', cfg['boots'])
            pr = o.get('pairs') or []
            if len(pr) >= 8:
                o['ci'] = median_ci(pr)
            if cfg['name'] in BY_DESIGN:
                o['note'] = BY_DESIGN[cfg['name']]
            elif cfg['name'] in BLK_CFG_BOOTS and o.get('ci') and o['ci'][1] < 1:
                findings.append('blk %s %s: series/stock %.3f, below 1.00 beyond the noise '
                                '(95 %% interval %.3f–%.3f over %d boot pairs)' % (
                                    cfg['name'], kind, o['ratio'], o['ci'][0], o['ci'][1], len(pr)))
            elif len(pr) >= 3 and abs(o['ratio'] - 1) > 0.02 and (max(pr) < 1 or min(pr) > 1):
                lim = cfg.get('limits', {})
                findings.append('blk %s %s: series/stock %.3f, %s in all %d boot pairs (%.3f–%.3f)%s' % (
                    cfg['name'], kind, o['ratio'], 'slower' if o['ratio'] < 1 else 'faster', len(pr),
                    min(pr), max(pr), '; request limits differ: stock %s, series %s' % (
                        '/'.join(str(lim['stock'].get(k)) for k in BLK_LIMITS),
                        '/'.join(str(lim['series'].get(k)) for k in BLK_LIMITS))
                    if lim.get('stock') and lim.get('series') and lim['stock'] != lim['series'] else ''))
    sel = [dict(x, boot=0) for x in samples if x['kind'] == 'memcpy' and not x['warmup']]
    mem = ab_stats(sel, 'mib_s', 1)
    return out, mem


# ---------------------------------------------------------------- output

def mm(d, nd=1):
    if not d or d.get('median') is None:
        return '-'
    return '%.*f (%.*f–%.*f)' % (nd, d['median'], nd, d['min'], nd, d['max'])


def ratio(o, bold=False):
    r = o.get('ratio')
    if r is None:
        return o.get('note', '-')
    return (('**%.3f**' if bold else '%.3f') % r +
            (' (%.3f–%.3f)' % (o['ratio_min'], o['ratio_max']) if o.get('ratio_min') is not None else '') +
            (', 95 %% interval %.3f–%.3f over %d pairs' % (o['ci'][0], o['ci'][1], len(o['pairs']))
             if o.get('ci') else ''))


def pct(x):
    if x is None:
        return '-'
    x *= 100
    return '%.0f%%' % x if x >= 10 else '%.1f%%' % x if x >= 0.1 else '%.2f%%' % x


def loadavg_range(samples):
    v = [x['loadavg'] for x in samples if x.get('loadavg') is not None]
    return '%.2f–%.2f' % (min(v), max(v)) if v else 'unknown'


def summary(size, seams, latst, blk, blkst, mem):
    """The short table (README "Performance" copies it)."""
    rows = ['| | x86_64 | arm64 |', '|---|---|---|']

    def hot(arch):
        a = size.get(arch) or {}
        h = [e for e in a.get('hot', []) if e['stock'] is not None or e['series'] is not None]
        if not h:
            return '-'
        grow = sum(max(0, e.get('delta') or 0) for e in h)
        same = sum(1 for e in h if e.get('code_identical'))
        return '%s bytes; object code identical in %d of %d functions (%d inlined, no symbol)' % (
            '**%+d**' % grow if grow else '0', same, len(h), len(a['hot']) - len(h))

    def seam(arch):
        a = (seams or {}).get('arches', {}).get(arch)
        if not a:
            return 'not run'
        out = []
        for p in (seams or {}).get('patches', []):
            objs = [e for e in a['objects'] if e['patch'] == p['num'] and not e['status'].startswith('only')]
            diff = [e for e in objs if e['status'] != 'identical']
            if not diff:
                out.append('%s: %d objects identical' % (p['num'], len(objs)))
            else:
                fns = [x for e in diff for x in e.get('functions', [])]
                out.append('%s: %d of %d objects identical; %s: %d functions laid out differently (%s), %s' % (
                    p['num'], len(objs) - len(diff), len(objs), ', '.join(e['object'] for e in diff), len(fns),
                    ', '.join('%+d B' % ((x['size_after'] or 0) - (x['size_before'] or 0)) for x in fns),
                    'none on the hot path' if not any(x['hot'] for x in fns) else '**hot path affected**'))
        return '; '.join(out)

    def kunit(arch):
        a = size.get(arch) or {}
        return 'none new%s' % ('' if not a.get('seam_syms') else ', **seam symbols present**') \
            if a.get('kunit_syms') is not None and not a.get('kunit_syms_new') else '**%s**' % ' '.join(
                a.get('kunit_syms_new') or ['-'])

    rows.append('| hot-path growth (bloat-o-meter) | %s | %s |' % (hot('x86_64'), hot('arm64')))
    rows.append('| KUnit seams, CONFIG_KUNIT=n | %s | %s |' % (seam('x86_64'), seam('arm64')))
    rows.append('| kunit symbols in series vmlinux | %s | %s |' % (kunit('x86_64'), kunit('arm64')))
    for path in ('direct', 'bounce'):
        for op in ('map', 'unmap'):
            cells = {st['arch']: st for st in latst if st['clock'] == 'icount' and st['path'] == path}
            row = []
            for arch in ARCHES:
                o = cells.get(arch, {}).get(op, {})
                row.append('%s µs → %s µs, ratio %s, A/A %s' % (
                    fmt(o.get('stock', {}).get('median'), 1), fmt(o.get('series', {}).get('median'), 1),
                    ratio(o, bold=path == 'direct'), ', '.join('%.3f' % x for x in o.get('aa', [])) or '-')
                           if o else '-')
            rows.append('| %s latency, %s (icount), stock → series | %s | %s |' % (
                op, 'direct' if path == 'direct' else 'bounced', row[0], row[1]))
    rows += ['', '| arm64 virtio-blk O_DIRECT, MiB/s | write: stock → series (ratio) | '
             'read: stock → series (ratio) |', '|---|---|---|']
    for cfg in blk[0]:
        c = []
        for op in ('write', 'read'):
            o = blkst.get((cfg['name'], op), {})
            c.append('%s → %s (%s)' % (fmt(o.get('stock', {}).get('median'), 0),
                                       fmt(o.get('series', {}).get('median'), 0), ratio(o)))
        rows.append('| %s | %s | %s |' % (cfg['desc'], c[0], c[1]))
    ref = BOUNCE_REF
    bu = []
    for cfg, r in sorted(ref.items()):
        for op in ('write', 'read'):
            v = blkst.get((cfg, op), {}).get('series', {}).get('median')
            u = blkst.get((r, op), {}).get('series', {}).get('median')
            if v and u:
                bu.append('%s %s %.2f' % (cfg, op, v / u))
    rows += ['', 'Series, bounced/unbounced: %s. Guest memcpy: %s MiB/s (stock), %s MiB/s (series).' % (
        ', '.join(bu) or '-', mm(mem.get('stock'), 0), mm(mem.get('series'), 0))]
    return rows


def write(meta, size, seams, lat, latst, blk, blkst, mem, cmds):
    data = dict(meta=meta, size=size, seams=seams, latency=dict(cells=latst, samples=lat),
                blk=dict(configs=blk[0], samples=blk[1],
                         stats=[dict(cfg=k[0], op=k[1], **v) for k, v in blkst.items()], memcpy=mem),
                qemu_commands=cmds, problems=problems, findings=findings)
    with open(os.path.join(env.OUT, NAME + '.json'), 'w') as f:
        json.dump(data, f, indent=1, sort_keys=True)
    md = ['# coco-dma benchmark: series vs stock 6.12%s' % (
        ' (SMOKE: one iteration, not a measurement)' if SMOKE else ''), '',
          'Generated %s by `%s` in %.0f s on %s (%d CPUs), QEMU %s, TCG.' % (
              meta['date'], meta['command'], meta['wall_s'], meta['host'], os.cpu_count(), meta['qemu']),
          'Phases (s): %s; the seam builds and kernel builds include waiting for the build lock. '
          'Host load average (1 min) before each boot: %s.' % (', '.join(
              '%s %d' % kv for kv in meta['phases_s'].items()), loadavg_range(lat + blk[1])), '']
    for k in ('series', 'stock'):
        md.append('- %s: `%s`' % (k, meta['rev'][k]))
    md += ['', '## Summary', ''] + summary(size, seams, latst, blk, blkst, mem) + ['']
    md += ['- ' + f for f in findings] or ['- Nothing outside the expectations (hot-path growth 0 bytes, '
                                           'direct-path latency ratio within 1.00 ± 0.02).']
    md += ['- **could not measure:** ' + p for p in problems]
    # --- size
    md += ['', '## 1. Code size (bloat-o-meter, stock → series vmlinux)', '']
    for arch in ARCHES:
        a = size.get(arch) or {}
        md += ['### %s' % arch, '', '`%s`' % a.get('bloat_o_meter_cmd', '-'), '']
        md += ['    %-8s %s' % (lab + ':', l) for lab, l in zip(('text', 'data', 'rodata'), a.get('summary', []))]
        md += ['', 'Hot path (growth must be 0 bytes); size in vmlinux, object code compared with '
               '`objdump -dr` of the function in its object (offsets dropped, relocations kept):', '',
               '| function | stock | series | delta | object code |', '|---|---|---|---|---|']
        for e in a.get('hot', []) + [dict(e, watch=1) for e in a.get('watch', [])]:
            if e['stock'] is None and e['series'] is None:
                code = 'not a symbol in either vmlinux: inlined into its callers'
            elif e.get('code_identical') is not None:
                code = '%s (%s, %d/%d lines)' % (
                    'identical' if e['code_identical'] else
                    'same instructions, alignment padding differs' if e['padding_only'] else '**differs**',
                    e['object'], e['lines'][0], e['lines'][1])
            else:
                code = '-'
            d = e.get('delta')
            md.append('| %s%s | %s | %s | %s | %s |' % (
                e['name'], ' (watched)' if e.get('watch') else '', '-' if e['stock'] is None else e['stock'],
                '-' if e['series'] is None else e['series'],
                '-' if d is None else ('**%+d**' % d if d and not e.get('watch') else '%+d' % d), code))
        md += ['', 'Every changed symbol:', '', '| section | symbol | old | new | delta |', '|---|---|---|---|---|']
        for e in a.get('functions', []) + a.get('data', []):
            md.append('| %s | %s | %s | %s | %+d |' % (e['section'], e['name'], e['old'], e['new'], e['delta']))
        md += ['', '`nm vmlinux | grep -i kunit`: series %s; stock %s; only in series: **%s**; seam functions '
               '(`dma_direct_force_unencrypted` …) in the series vmlinux: **%s**.' % (
                   ', '.join(a.get('kunit_syms') or []) or 'none', ', '.join(a.get('kunit_syms_stock') or []) or 'none',
                   ', '.join(a.get('kunit_syms_new') or []) or 'none',
                   ', '.join(a.get('seam_syms') or []) or 'none'), '']
    md += ['### KUnit seams with CONFIG_KUNIT=n', '']
    if not seams:
        md.append('Not run (%s).' % ('BENCH_SMOKE=1: the seam builds are not part of the smoke' if SMOKE
                                     else 'BENCH_SEAMS=0'))
    else:
        for p in seams.get('patches', []):
            md.append('- patch %s `%s`: %s → %s (%s)' % (p['num'], p['subject'], p['before'], p['after'],
                                                         ', '.join(p['dirs'])))
        md += ['', 'Objects built in `work/wt/bench` with the guest `.config` of each arch; alloc-section '
               'sizes (readelf) and `objdump -dr` with offsets dropped:', '',
               '| arch | patch | object | .text before → after | sections | disassembly |',
               '|---|---|---|---|---|---|']
        for arch, a in sorted(seams.get('arches', {}).items()):
            for e in a['objects']:
                if e['status'].startswith('only'):
                    md.append('| %s | %s | %s | %s | | |' % (arch, e['patch'], e['object'], e['status']))
                    continue
                md.append('| %s | %s | %s | %d → %d | %s | %s |' % (
                    arch, e['patch'], e['object'], e['text_before'], e['text_after'],
                    'same' if e['sections_same'] else '**differ**: ' + ', '.join(
                        '%s %d→%d' % (k, e['sections_before'].get(k, 0), e['sections_after'].get(k, 0))
                        for k in sorted(set(e['sections_before']) | set(e['sections_after']))
                        if e['sections_before'].get(k) != e['sections_after'].get(k)),
                    'identical (%d lines)' % e['disasm_lines'] if e['disasm_same'] else
                    '**%d lines differ** in %s' % (e['diff_lines'],
                                                   ', '.join(fn_delta(x) for x in e.get('functions', [])))))
        md += [''] + ['%s: %s.' % (arch, a['kunit']) for arch, a in sorted(seams.get('arches', {}).items())]
    # --- latency
    md += ['', '## 2. dma_map_benchmark latency (µs per map / unmap of one page)', '',
           'Kernel tool `%s/dma_map_benchmark` (1 thread, 32-bit mask, ' % benchmark_dir() +
           'bidirectional, 1 page), built with `%s`, run in the guest by the agent. Series and stock '
           'boots alternate (S B B S …); each boot runs the tool once as a warm-up (dropped) and then '
           'N times. Median (min–max) over runs; ratio = series/stock of the per-boot medians of each boot '
           'pair (booted back to back), median (min–max) over the pairs; A/A = the same kernel against '
           'itself, median of even boots / median of odd boots, the noise floor; '
           'resolution = the tool\'s 0.1 µs step / stock median.' % meta['tool_cmd'], '',
           '- `icount`: QEMU `-icount shift=%d,sleep=off`: the guest clock advances %d ns per guest '
           'instruction, so X µs ≈ X×1000/%d guest instructions (including one `ktime_get()` inside '
           'each timed interval). %d boots per kernel, %d runs of `-s %d` (guest seconds) per boot.' % (
               ICOUNT_SHIFT, 1 << ICOUNT_SHIFT, 1 << ICOUNT_SHIFT, LAT_BOOTS, LAT_RUNS, LAT_SECONDS),
           '- `wallclock`: plain TCG, host time, for reference only (the direct path is below the '
           'tool\'s 0.1 µs resolution there). %d boot(s) per kernel, %d runs of `-s %d`.' % (
               RT_BOOTS, RT_RUNS, RT_SECONDS), '',
           '| arch | path | clock | op | stock | series | ratio (min–max) | A/A stock, series | resolution |',
           '|---|---|---|---|---|---|---|---|---|']
    for st in latst:
        for op in ('map', 'unmap'):
            o = st.get(op, {})
            md.append('| %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
                st['arch'], st['path'] + (' (swiotlb=force)' if st['path'] == 'bounce' and st['arch'] == 'x86_64'
                                          else ' (restricted pool)' if st['path'] == 'bounce' else ''),
                st['clock'], op, mm(o.get('stock')), mm(o.get('series')),
                ratio(o, bold=st['path'] == 'direct' and st['clock'] == 'icount'),
                ', '.join('%.3f' % x for x in o.get('aa', [])) or '-',
                pct(o.get('resolution'))))
    # --- blk
    md += ['', '## 3. virtio-blk sequential O_DIRECT throughput, arm64 guest (MiB/s)', '',
           'Wall-clock TCG. `-global virtio-mmio.force-legacy=false` everywhere; ACCESS_PLATFORM = '
           '`iommu_platform=on`; pool = `restricted-dma-pool` %s on the virtio-blk node. Per boot: '
           '%d passes of %d MiB in 1 MiB `pread`/`pwrite` at queue depth 1, pass 0 dropped as warm-up; '
           '%d boots per kernel (%s), alternating. Median (min–max) over passes; ratio and A/A as in 2; '
           'with 8 or more boot pairs also the 95 %% bootstrap interval of the median pair ratio '
           '(%d resamples). Host load average (1 min) before these boots: %s.' % (
               POOL, BLK_PASSES, BLK_MIB, BLK_BOOTS,
               ', '.join('%s %d' % kv for kv in sorted(BLK_CFG_BOOTS.items())) or 'all alike',
               BOOTSTRAP, loadavg_range(blk[1])), '',
           '| config | op | stock | series | series/stock (min–max) | A/A stock, series | '
           'bounced/unbounced stock | bounced/unbounced series |',
           '|---|---|---|---|---|---|---|---|']
    ref = BOUNCE_REF
    for cfg in blk[0]:
        for op in ('write', 'read'):
            o = blkst.get((cfg['name'], op), {})
            bu = []
            for side in ('stock', 'series'):
                rr = blkst.get((ref.get(cfg['name']), op), {}).get(side, {}).get('median')
                v = o.get(side, {}).get('median')
                bu.append('%.2f' % (v / rr) if rr and v and cfg['name'] in ref else '')
            md.append('| %s | %s | %s | %s | %s | %s | %s | %s |' % (
                cfg['name'], op, mm(o.get('stock'), 0), mm(o.get('series'), 0), ratio(o),
                ', '.join('%.3f' % x for x in o.get('aa', [])) or '-', bu[0], bu[1]))
    md += ['', 'Guest memcpy (glibc, 256 KiB blocks over %d MiB), the ceiling a bounced transfer cannot beat '
           '(each bounced byte is copied once): stock %s, series %s MiB/s.' % (
               MEMCPY_MIB, mm(mem.get('stock'), 0), mm(mem.get('series'), 0)), '']
    md += ['Request limits of the disk in the guest (`/sys/block/vda/queue/`: max_hw_sectors_kb / '
           'max_sectors_kb / max_segment_size / max_segments), the 1 MiB `pread`/`pwrite` is split by them:', '']
    for cfg in blk[0]:
        lim = cfg.get('limits', {})
        md.append('- %s: %s%s; limits stock %s, series %s' % (
            cfg['name'], cfg['desc'], ('; DT: ' + '; '.join(cfg['dt_edits'])) if cfg['dt_edits'] else '',
            *('/'.join(str(lim.get(side, {}).get(k)) for k in BLK_LIMITS) for side in ('stock', 'series'))))
    md += ['', '## QEMU command lines', '',
           'The first line of every log in `out/%s/logs/` is its exact command.' % NAME, '']
    for tag in sorted(cmds):
        for side in SIDES:
            if side in cmds[tag]:
                md += ['- %s, %s:' % (tag, side), '', '      ' + cmds[tag][side], '']
    md += ['Built: `%s` (guest configs, `scripts/build.sh`).' % '`, `'.join(
        '%s/%s %s' % (s, a, meta['images'][s][a]) for s in SIDES for a in ARCHES)]
    with open(os.path.join(env.OUT, NAME + '.md'), 'w') as f:
        f.write('\n'.join(md) + '\n')


def main():
    t0 = time.time()
    for d in (LOGS,):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    env.log('kernels: scripts/build.sh (one build at a time, under the build lock)')
    kern = kernels.build_kernels(SIDES, ARCHES, BDIR)
    for k, v in sorted(kern.items()):
        if v['error']:
            problem('kernel %s/%s: %s' % (k[0], k[1], v['error']))
    tree_rev = {side: os.path.relpath(kern[(side, 'x86_64')]['build'], env.TOP) for side in SIDES}
    same = git(env.TREE, 'diff', '--stat', 'coco-base', '--', 'kernel/dma/map_benchmark.c',
               'include/linux/map_benchmark.h', 'include/uapi/linux/map_benchmark.h', benchmark_dir())
    if same:
        problem('the series changes the benchmark itself: ' + same)
    meta = dict(date=time.strftime('%Y-%m-%d %H:%M:%S'), host=os.uname().machine,
                command='make bench' + (' BENCH_SMOKE=1' if SMOKE else ''),
                qemu='.'.join(map(str, qemu.version('qemu-system-x86_64'))),
                rev=dict(series=tree_rev['series'] + ', ' + kern[('series', 'x86_64')].get('rev', ''),
                         stock=tree_rev['stock'] + ', ' + kern[('stock', 'x86_64')].get('rev', '')),
                images={s: {a: os.path.relpath(kern[(s, a)]['image'], env.TOP) for a in ARCHES} for s in SIDES},
                knobs=dict(icount_shift=ICOUNT_SHIFT, lat_boots=LAT_BOOTS, lat_runs=LAT_RUNS,
                           lat_seconds=LAT_SECONDS, rt_boots=RT_BOOTS, rt_runs=RT_RUNS,
                           rt_seconds=RT_SECONDS, blk_boots=BLK_BOOTS, blk_pool_boots=BLK_POOL_BOOTS,
                           blk_mib=BLK_MIB, blk_passes=BLK_PASSES, memcpy_mib=MEMCPY_MIB, seams=SEAMS))
    phases, t1 = {'kernels': time.time() - t0}, time.time()

    def phase(name):
        nonlocal t1
        phases[name] = time.time() - t1
        t1 = time.time()
    size = size_bench(kern)
    phase('size')
    seams = seams_bench() if SEAMS else {}
    phase('seams')
    cpio, meta['tool_cmd'] = build_tools()
    cmds = {}
    cells, lat = lat_bench(kern, cpio, cmds)
    latst = lat_stats(cells, lat)
    phase('latency')
    blk = blk_bench(kern, cpio, cmds)
    blkst, mem = blk_stats(*blk)
    phase('blk')
    meta['wall_s'] = time.time() - t0
    meta['phases_s'] = {k: round(v) for k, v in phases.items()}
    write(meta, size, seams, lat, latst, blk, blkst, mem, cmds)
    env.log('%d problems, %d findings; %.0fs -> out/%s.md, out/%s.json' % (
        len(problems), len(findings), time.time() - t0, NAME, NAME))
    for f in findings:
        env.log('finding: ' + f)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
