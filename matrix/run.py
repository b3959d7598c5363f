#!/usr/bin/env python3
"""coco-dma QEMU boot matrix runner (python3 stdlib only).

Rows are data: matrix/rows/*.row (key=value, see matrix/README.md).  For every
selected row and every side (series = work/linux-<base> with the patches,
stock = the unmodified base worktree from scripts/basetree.sh) the runner boots
the kernel with guest/agent.c as /init, parses the agent's KTAP and
"# counter k=v" lines, and checks them against the row's expectations for that
side.  Hardware rows (kind=hw) validate their QEMU command line against the
local QEMU and run only when the host has the hardware; otherwise they report
SKIP with the reason.

Outputs: out/matrix.ktap, out/matrix.junit.xml, out/matrix.md,
out/matrix/results.json, logs in out/matrix/logs/.  Exit status 1 if any
result is FAIL.

Environment: ROWS (space-separated globs, default all), SIDES ("series stock"),
TIMEOUT (seconds per boot, default 120), MATRIX_JOBS (parallel boots, default
1), MATRIX_NO_BUILD=1 (use existing kernels, fail if missing), ACCEL (auto:
KVM for guests of the host's arch when a probe shows KVM runs vCPUs, else TCG;
or tcg, or kvm to insist).

What the matrix shares with bench/run.py (kernels, initramfs, QEMU command
lines, DTBs, row files) is the library lib/cocodma/.
"""
import concurrent.futures
import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from cocodma import agent, checkers, dtb, env, hw, initramfs, kernels, pkvm, qemu, rowfile  # noqa: E402

env.PROG = 'matrix'
MX = os.path.join(env.OUT, 'matrix')
LOGS = os.path.join(MX, 'logs')
TIMEOUT = int(os.environ.get('TIMEOUT', '120'))
SIDES = os.environ.get('SIDES', 'series stock').split()
JOBS = int(os.environ.get('MATRIX_JOBS', '1'))
# The pkvm rows nest a guest in a TCG-emulated pKVM host: make matrix runs
# them all (MATRIX_PKVM=1), make check the ones bases/<base>.env names
# (GATE_PKVM_ROWS, passed as MATRIX_PKVM="row ..."); 0 runs none
# (docs/dev-log/pkvm-rows.md).
PKVM_SEL = os.environ.get('MATRIX_PKVM', '0').split()


def pkvm_selected(row):
    """Whether this run boots the pkvm row (MATRIX_PKVM: 1, 0 or row globs)."""
    if PKVM_SEL in ([], ['0']):
        return False
    return PKVM_SEL == ['1'] or any(fnmatch.fnmatch(row['name'], g) for g in PKVM_SEL)
# MATRIX_VARIANT=debug (make matrix-debug): the debug guest kernels, the rows
# marked debug=1 (those that bounce or remap), every checker's reports
# counted and expected at 0 (lib/cocodma/checkers.py, kmemleak from the agent).
DEBUG = kernels.VARIANT == 'debug'

# Kernel lines quoted in matrix.md for each boot (row key "report" overrides).
DEFAULT_REPORT = (r'created restricted DMA pool|is too small|assigned reserved memory|swiotlb buffer is full|'
                  r'failed to initiali[sz]e|restricted DMA|shared DMA|must be accessible|'
                  r'matching fail|Reserved memory:|DMAR: IOMMU enabled|device must provide|'
                  r'Kernel panic|WARNING:|BUG:|Unable to handle')


# ------------------------------------------------------------------ boots

def path_taken(c):
    def i(k):
        try:
            return int(c.get(k, '-1'))
        except ValueError:
            return -1
    if c.get('agent_done') != '1':
        return 'kernel panic' if c.get('panic') == '1' else 'unknown (agent did not finish)'
    if i('iommu_groups') > 0:
        p = 'dma-iommu (%d groups)' % i('iommu_groups')
    elif i('pool_hiwater') > 0:
        p = 'restricted pool bounce'
    elif i('swiotlb_hiwater') > 0:
        p = 'swiotlb bounce'
    elif i('access_platform') == 0:
        p = 'virtio bypasses DMA API (no ACCESS_PLATFORM)'
    else:
        p = 'dma-direct, no bounce'
    if i('remap_other') > 0:
        p += ' + coherent remap'
    return p


def boot(row, side, kern, cpio):
    name = '%s:%s' % (row['name'], side)
    res = dict(name=name, row=row['name'], side=side, result='FAIL', why=[], counters={},
               boot_s=None, messages=[], dt_edits=[])
    if kern['error']:
        res['why'].append(kern['error'])
        return res
    disk = os.path.join(MX, 'disk-%s-%s.img' % (row['name'], side))
    with open(disk, 'wb') as f:
        f.truncate(int(row.get('disk_mib', '16')) << 20)
    try:
        dtb_path, res['dt_edits'] = dtb.make_dtb(row, disk, MX)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        res['why'].append('DTB: %s' % e)
        return res
    cmd = qemu.boot_cmd(row, ['-accel', qemu.accel_for(row['arch'])[0]], kern['image'], cpio,
                        agent.guest_cmdline(row) + agent.agent_args(row, TIMEOUT), dtb_path, disk)
    run_and_check(row, side, cmd, res)
    os.unlink(disk)
    return res


def run_and_check(row, side, cmd, res, parse=agent.parse_log, timeout=TIMEOUT, skip_if=None):
    """Boot cmd with the timeout, save the log, parse it with parse and
    check expectations.  skip_if(counters, text) may return why the boot
    could not test the row (a SKIP)."""
    logf = os.path.join(LOGS, '%s-%s.log' % (row['name'], side))
    text, rc, wall = qemu.run(cmd, timeout)
    timed_out = rc is None
    res['boot_s'] = round(wall, 1)
    qemu.save_log(logf, cmd, text, '\n# qemu rc=%s timed_out=%s wall=%ss\n' % (rc, timed_out, res['boot_s']))
    res['log'] = os.path.relpath(logf, env.TOP)
    c = parse(text)
    c['timed_out'] = '1' if timed_out else '0'
    c['qemu_rc'] = str(rc)
    res['counters'] = c
    res['path'] = path_taken(c)
    rep = re.compile(row.get('report', DEFAULT_REPORT))
    seen = set()
    for l in text.split('\n'):
        l2 = re.sub(r'^\[\s*\d+\.\d+\] ', '', l)
        if l.startswith('# kmsg:') or l2 in seen or not rep.search(l2):
            continue
        seen.add(l2)
        if len(res['messages']) < 6:
            res['messages'].append(l2.strip())
    skip = skip_if and skip_if(c, text)
    if skip:
        res.update(result='SKIP', skip=skip)
        return res
    if timed_out:
        res['why'].append('QEMU killed after TIMEOUT=%ss' % timeout)
    elif rc != 0:
        res['why'].append('QEMU exited with rc=%s' % rc)
    exp = rowfile.expectations(row, side)
    if DEBUG:
        res['reports'] = checkers.scan(text)
        for name, lines in res['reports'].items():
            c[checkers.counter_key(name)] = str(len(lines))
            exp[checkers.counter_key(name)] = '0'
        # kmemleak: the agent's count; its reports' backtrace frames name them.
        res['reports']['kmemleak'] = [l[len('# kmemleak: '):] for l in text.split('\n')
                                      if l.startswith('# kmemleak: ') and '+0x' in l]
        if 'kmemleak' in c:
            c['chk_kmemleak'] = c['kmemleak']
        exp['chk_kmemleak'] = '0'
    for k, spec in sorted(exp.items()):
        if k.split('.')[0] == 'log':
            if not re.search(spec, text, re.M):
                res['why'].append('log lacks /%s/' % spec)
        elif k.split('.')[0] == 'nolog':
            m = re.search(spec, text, re.M)
            if m:
                res['why'].append('log has /%s/: %s' % (spec, m.group(0)[:80]))
        elif not rowfile.check_value(spec, c.get(k)):
            res['why'].append('%s=%s, expected %s' % (k, c.get(k, '(not reported)'), spec))
    res['result'] = 'FAIL' if res['why'] else 'PASS'
    # known_bug.<side>=text: a bug the series does not fix yet. Its failure is
    # reported as a KTAP TODO (counted as skipped, with the text), and a pass
    # fails the row so that a stale known_bug cannot hide anything.
    kb = row.get('known_bug.' + side)
    if kb and res['result'] == 'FAIL':
        res['result'] = 'XFAIL'
        res['skip'] = 'known bug, not fixed by the series yet: ' + kb
    elif kb:
        res['result'] = 'FAIL'
        res['why'].append('unexpected pass: known_bug.%s no longer applies, remove it' % side)
    return res


def on_stock_too(results):
    """Debug guests: a checker report of the series that the stock kernel
    printed too, on the same row, is not the series' doing. When such
    reports are all that failed a series boot, it is an XFAIL that names
    them; a stock boot failed by checker reports alone is an XFAIL too (an
    upstream report, named). Anything else still fails."""
    by = {(r['row'], r['side']): r for r in results}
    for (row, side), r in by.items():
        if r['result'] != 'FAIL' or 'reports' not in r:
            continue
        mine = [w for w in r['why'] if w.startswith('chk_')]
        if len(mine) != len(r['why']):
            continue
        reps = {checkers.normalise(l) for ls in r['reports'].values() for l in ls}
        if side == 'stock':
            r.update(result='XFAIL', skip='checker reports on the stock kernel (upstream, not the series): %s' % (
                '; '.join(sorted(reps))[:300]))
            continue
        st = by.get((row, 'stock'))
        theirs = {checkers.normalise(l) for ls in (st or {}).get('reports', {}).values() for l in ls}
        if reps and reps <= theirs:
            r.update(result='XFAIL', skip='checker reports that the stock kernel has too: %s' % (
                '; '.join(sorted(reps))[:300]))


# --------------------------------------------------------- hardware rows

def hw_row(row, kern, cpio):
    """Results for a hardware row: the command-line check, then one per side
    (run when the host has the hardware and the guest kernel the options)."""
    out = []
    ok, detail, missing = hw.validate_hw(row, MX)
    v = dict(name='%s:cmdline' % row['name'], row=row['name'], side='cmdline',
             result='PASS' if ok else 'FAIL', why=[] if ok else [detail], detail=detail,
             counters={}, messages=[], dt_edits=[])
    if ok and missing:  # the rest checked out, but part of it cannot be checked here
        v.update(result='SKIP', skip='only partly validated (%s); not checkable with the local QEMU: %s' % (
            detail, missing))
    # The guest kernels must be ready for the day a host has the hardware.
    for side in SIDES:
        k = kern.get((side, row['arch']))
        if not k or k['error'] or v['result'] == 'FAIL':
            continue
        cfg = open(os.path.join(k['build'], '.config')).read()
        need = [o for o in row.get('guest_config', '').split() if '\n%s=y' % o not in cfg]
        if need:
            v.update(result='FAIL', why=['%s guest kernel lacks %s (add to configs/)' % (
                side, ' '.join(need))])
        elif row.get('guest_config'):
            v['detail'] += '; %s guest has %s' % (side, row['guest_config'])
    out.append(v)
    have, why = hw.host_has(row['require'])
    if missing:
        have, why = False, missing + ('; ' + why if why else '')
    for side in SIDES:
        r = dict(name='%s:%s' % (row['name'], side), row=row['name'], side=side, counters={},
                 messages=[], dt_edits=[], why=[])
        out.append(r)
        if not have:
            r.update(result='SKIP', skip=why)
            continue
        k = kern.get((side, row['arch']))
        if not k or k['error']:
            r.update(result='FAIL', why=[k['error'] if k else 'no kernel built'])
            continue
        cfg = open(os.path.join(k['build'], '.config')).read()
        need = [o for o in row.get('guest_config', '').split() if '\n%s=y' % o not in cfg]
        if need:
            r.update(result='SKIP', skip='host has %s but the guest kernel lacks %s (add to configs/)' % (
                row['require'], ' '.join(need)))
            continue
        disk = os.path.join(MX, 'disk-%s-%s.img' % (row['name'], side))
        with open(disk, 'wb') as f:
            f.truncate(16 << 20)
        args = shlex.split(row['qemu'].replace('{kernel}', k['image']).replace(
            '{initrd}', cpio[row['arch']]).replace('{disk}', disk))
        if '-append' in args:
            j = args.index('-append') + 1
            args[j] = ' '.join([args[j]] + agent.guest_cmdline(row) + agent.agent_args(row, TIMEOUT))
        run_and_check(row, side, [row['qemu_bin']] + args, r)
        os.unlink(disk)
    return out


# ------------------------------------------------------------ pKVM rows

def pkvm_not_up(c, text):
    """Why a pKVM host boot could not test the row: the host's /init said
    that pKVM did not come up (anything else that went wrong is a FAIL)."""
    if c.get('host_pkvm') != '0':
        return None
    lines = [l for l in pkvm.host_lines(text) if re.search(r'kvm \[|KVM|[Pp]rotected|GIC', l)]
    return 'pKVM did not initialise in the TCG host: %s' % (
        ' / '.join(lines[-4:]) if lines else 'no KVM line from the host (see the log)')


def pkvm_row(row, kern):
    """One result per side: the host boots, runs the row's guest in kvmtool."""
    out = []
    run = pkvm_selected(row)
    t = pkvm.tools() if run else None
    for side in SIDES:
        r = dict(name='%s:%s' % (row['name'], side), row=row['name'], side=side, result='FAIL',
                 why=[], counters={}, messages=[], dt_edits=[])
        out.append(r)
        if not run:
            r.update(result='SKIP', skip='nested pKVM rows run in make matrix (MATRIX_PKVM=1); make check '
                     'boots only %s (GATE_PKVM_ROWS in bases/%s.env): each needs the 7.3 host kernel and '
                     'kvmtool' % (' '.join(g for g in PKVM_SEL if g != '0') or 'none of them', env.BASE))
            continue
        if t['skip']:
            r.update(result='SKIP', skip=t['skip'])
            continue
        k = kern.get((side, 'arm64'))
        if t['error'] or not k or k['error']:
            r['why'].append(t['error'] or (k['error'] if k else 'no guest kernel'))
            continue
        try:
            cpio, inner = pkvm.host_initramfs(row, side, k['image'], MX)
        except RuntimeError as e:
            r['why'].append(str(e))
            continue
        cmd = pkvm.host_cmd(row, cpio, inner)

        def parse(text):
            c = pkvm.parse(text)
            c['failure'] = pkvm.failure(c)
            return c
        run_and_check(row, side, cmd, r, parse=parse,
                      timeout=inner + int(row.get('host_timeout', '300')), skip_if=pkvm_not_up)
        r['path'] = 'pVM' if row.get('vm', 'protected') == 'protected' else 'normal VM'
        r['path'] += ', failure=%s' % r['counters'].get('failure')
    return out


# ---------------------------------------------------------------- output

def write_outputs(results, rows, kern, wall):
    os.makedirs(env.OUT, exist_ok=True)
    with open(os.path.join(env.OUT, 'matrix.ktap'), 'w') as f:
        f.write('KTAP version 1\n1..%d\n' % len(results))
        for n, r in enumerate(results, 1):
            if r['result'] == 'SKIP':
                f.write('ok %d %s # SKIP %s\n' % (n, r['name'], r['skip']))
                continue
            c = r.get('counters') or {}
            if c:
                f.write('# %s: path=%s; %s\n' % (r['name'], r.get('path'), ' '.join(
                    '%s=%s' % (k, c[k]) for k in sorted(c))))
            elif r.get('detail'):
                f.write('# %s: %s\n' % (r['name'], r['detail']))
            for w in r['why']:
                f.write('# %s: %s\n' % (r['name'], w))
            if r['result'] == 'XFAIL':
                f.write('not ok %d %s # TODO %s\n' % (n, r['name'], r['skip']))
                continue
            f.write('%s %d %s\n' % ('ok' if r['result'] == 'PASS' else 'not ok', n, r['name']))
    suite = ET.Element('testsuite', name='coco-dma-matrix', tests=str(len(results)),
                       failures=str(sum(r['result'] == 'FAIL' for r in results)),
                       skipped=str(sum(r['result'] == 'SKIP' for r in results)),
                       time='%.1f' % wall)
    for r in results:
        tc = ET.SubElement(suite, 'testcase', classname='matrix.' + r['row'], name=r['side'],
                           time=str(r.get('boot_s') or 0))
        if r['result'] in ('SKIP', 'XFAIL'):
            ET.SubElement(tc, 'skipped', message=r['skip'])
        elif r['result'] == 'FAIL':
            ET.SubElement(tc, 'failure', message='; '.join(r['why'])[:1000]).text = '\n'.join(r['why'])
        so = ET.SubElement(tc, 'system-out')
        so.text = json.dumps(r.get('counters', {}), sort_keys=True) + ('\nlog: ' + r['log'] if r.get('log') else '')
    ET.ElementTree(suite).write(os.path.join(env.OUT, 'matrix.junit.xml'), encoding='unicode',
                                xml_declaration=True)
    with open(os.path.join(MX, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1, sort_keys=True)

    by = {(r['row'], r['side']): r for r in results}
    keys = ('access_platform', 'pool_hiwater', 'swiotlb_hiwater', 'remap_other', 'iommu_groups',
            'disk', 'blk_max_hw_kb', 'net', 'kmsg_swiotlb_full', 'kmsg_decision',
            'host_pkvm', 'host_pvm_created', 'guest_pvm', 'lkvm_exit', 'failure')
    if DEBUG:
        keys += tuple(checkers.counter_key(n) for n, _ in checkers.load_cached()) + ('chk_kmemleak',)
    short = {'access_platform': 'AP', 'pool_hiwater': 'pool_hw', 'swiotlb_hiwater': 'swl_hw',
             'remap_other': 'remap', 'iommu_groups': 'iommu', 'kmsg_swiotlb_full': 'full',
             'kmsg_decision': 'decision', 'blk_max_hw_kb': 'blk_kb', 'host_pkvm': 'pkvm',
             'host_pvm_created': 'pvm_created', 'guest_pvm': 'pvm_guest', 'lkvm_exit': 'lkvm'}

    def cell(r):
        if not r:
            return '-'
        if r['result'] == 'SKIP':
            return 'SKIP: ' + r['skip'].replace('|', '\\|')
        if r['result'] == 'XFAIL':
            return ('XFAIL (%s): ' % r['skip'] + '; '.join(r['why'])).replace('|', '\\|')
        s = '**%s**' % r['result']
        if r['why']:
            s += ': ' + '; '.join(r['why'])
        return s.replace('|', '\\|')

    def counters(r):
        if not r or not r.get('counters'):
            return r.get('detail', '-') if r else '-'
        c = r['counters']
        extra = ['%s=%s' % (k, c[k]) for k in ('panic', 'timed_out') if c.get(k) == '1']
        if c.get('poweroff') != '1':
            extra.append('poweroff=0')
        return ' '.join(['%s=%s' % (short.get(k, k), c[k]) for k in keys if k in c] + extra)

    md = ['# coco-dma QEMU boot matrix' + (' (debug guests: KASAN, lockdep, atomic sleep, DMA-API debug, kmemleak)'
                                          if DEBUG else ''), '',
          'Generated %s by scripts/matrix.sh; total wall time %.0f s; QEMU %s; accel %s; TIMEOUT=%ss.' % (
              time.strftime('%Y-%m-%d %H:%M:%S'), wall,
              '.'.join(map(str, qemu.version('qemu-system-x86_64'))),
              ', '.join('%s=%s (%s)' % (k, v[0], v[1]) for k, v in sorted(qemu.accels.items())) or qemu.ACCEL,
              TIMEOUT), '']
    for (side, arch), k in sorted(kern.items()):
        md.append('- %s/%s: %s, %s%s' % (side, arch, os.path.relpath(k['image'], env.TOP), k.get('rev', ''),
                                         (' **' + k['error'] + '**') if k['error'] else ''))
    md += ['', 'Totals: %d PASS, %d FAIL, %d SKIP, %d XFAIL (known bugs).' % tuple(
        sum(r['result'] == x for r in results) for x in ('PASS', 'FAIL', 'SKIP', 'XFAIL')), '',
        '| row | series | stock | expected path | path taken (series / stock) | counters series | counters stock | boot s (series/stock) | kernel messages (bad-input rows) |',
        '|---|---|---|---|---|---|---|---|---|']
    for row in rows:
        n = row['name']
        s, k = by.get((n, 'series')), by.get((n, 'stock'))
        if row['kind'] == 'hw':
            v = by.get((n, 'cmdline'))
            ks = cell(k)
            if s and k and s['result'] == k['result'] == 'SKIP' and s['skip'] == k['skip']:
                ks = 'SKIP: same reason'
            md.append('| %s | %s | %s | %s | cmdline check: %s | %s | | | |' % (
                n, cell(s), ks, row.get('path', ''), cell(v) if v['result'] != 'PASS' else '**PASS**',
                v.get('detail', '').replace('|', '\\|')))
            continue
        msgs = ''
        if '-bad-' in n:
            parts = []
            for side, r in (('series', s), ('stock', k)):
                if r and r.get('messages'):
                    parts.append('%s: %s' % (side, '<br>'.join(
                        '`%s`' % m.replace('`', "'").replace('|', '/')[:140] for m in r['messages'][:4])))
            msgs = '<br>'.join(parts)
        md.append('| %s | %s | %s | %s | %s / %s | %s | %s | %s / %s | %s |' % (
            n, cell(s), cell(k), row.get('path', ''), s.get('path', '-') if s else '-',
            k.get('path', '-') if k else '-', counters(s), counters(k),
            s.get('boot_s') if s else '-', k.get('boot_s') if k else '-', msgs))
    md += ['', '## Kernel messages and DT edits per row', '']
    for row in rows:
        if row['kind'] == 'hw':
            continue
        n = row['name']
        md.append('### %s' % n)
        if row.get('desc'):
            md.append(row['desc'])
        first = by.get((n, SIDES[0]))
        if first and first.get('dt_edits'):
            md.append('- DT: ' + '; '.join(first['dt_edits']))
        for side in SIDES:
            r = by.get((n, side))
            if not r:
                continue
            md.append('- %s (%s):' % (side, r.get('log', 'no log')))
            for m in r['messages']:
                md.append('  - `%s`' % m.replace('`', "'"))
        md.append('')
    md.append('Counters: AP = virtio devices with VIRTIO_F_ACCESS_PLATFORM; pool_hw / swl_hw = '
              'io_tlb_used_hiwater of the restricted pool / default swiotlb after I/O (2 KiB slots, '
              '-1 = no such debugfs dir); remap = dma_common_contiguous_remap vmalloc areas other than '
              'the 128 KiB atomic pools; iommu = /sys/kernel/iommu_groups entries; full = '
              '"swiotlb buffer is full" lines; decision = series decision lines (row regex); blk_kb = '
              'max_hw_sectors_kb of the virtio-blk disk (largest request).')
    with open(os.path.join(env.OUT, 'matrix.md'), 'w') as f:
        f.write('\n'.join(md) + '\n')


def main():
    t0 = time.time()
    os.makedirs(LOGS, exist_ok=True)
    rows = rowfile.load_rows()
    if not rows:
        sys.exit('no rows match ROWS=%s' % os.environ.get('ROWS', ''))
    if DEBUG:
        rows = [r for r in rows if r.get('debug') == '1']
        if not rows:
            sys.exit('MATRIX_VARIANT=debug: no row marked debug=1 matches ROWS=%s' % os.environ.get('ROWS', ''))
        env.log('debug guests: %d rows marked debug=1' % len(rows))
    # A row may hold for some bases only (bases=6.12, bases_why=...): on the
    # others it is a SKIP that says why, and nothing is built or booted for it.
    other_base = [r for r in rows if env.BASE not in r.get('bases', env.BASE).split()]
    rows = [r for r in rows if r not in other_base]
    boot_rows = [r for r in rows if r['kind'] == 'boot']
    hw_run = [r for r in rows if r['kind'] == 'hw' and hw.host_has(r['require'])[0]]
    pkvm_run = [r for r in rows if r['kind'] == 'pkvm' and pkvm_selected(r)]
    arches = sorted(set(r['arch'] for r in boot_rows + hw_run + pkvm_run))
    kern = kernels.build_kernels(SIDES, arches, MX) if arches else {}
    cpio = {a: initramfs.build_initramfs(a, MX) for a in arches}
    for a in arches:
        k = kern.get((SIDES[0], a))
        qemu.accel_for(a, k['image'] if k and not k['error'] else None)
    jobs = []
    for row in boot_rows:
        for side in SIDES:
            jobs.append((row, side))
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as ex:
        fut = {ex.submit(boot, row, side, kern[(side, row['arch'])], cpio[row['arch']]): (row['name'], side)
               for row, side in jobs}
        for f in concurrent.futures.as_completed(fut):
            r = f.result()
            results[fut[f]] = r
            env.log('%-4s %s (%ss)%s' % (r['result'], r['name'], r.get('boot_s'),
                                     (': ' + '; '.join(r['why'])) if r['why'] else ''))
    ordered = []
    for row in other_base:
        why = 'row is for Linux %s, not %s: %s' % (row['bases'], env.BASE, row.get('bases_why', 'see the row file'))
        for side in SIDES:
            r = dict(name='%s:%s' % (row['name'], side), row=row['name'], side=side, result='SKIP',
                     skip=why, why=[], counters={}, messages=[], dt_edits=[])
            env.log('SKIP %s %s' % (r['name'], why))
            ordered.append(r)
    for row in rows:
        if row['kind'] in ('hw', 'pkvm'):
            for r in hw_row(row, kern, cpio) if row['kind'] == 'hw' else pkvm_row(row, kern):
                env.log('%-4s %s%s %s' % (r['result'], r['name'],
                                          ' (%ss)' % r['boot_s'] if r.get('boot_s') else '',
                                          r.get('skip') or '; '.join(r['why'])))
                ordered.append(r)
        else:
            ordered += [results[(row['name'], s)] for s in SIDES]
    if DEBUG:
        on_stock_too(ordered)
    wall = time.time() - t0
    write_outputs(ordered, rows + other_base, kern, wall)
    nfail = sum(r['result'] == 'FAIL' for r in ordered)
    env.log('%d results: %d PASS, %d FAIL, %d SKIP in %.0fs -> out/matrix.{ktap,junit.xml,md}' % (
        len(ordered), sum(r['result'] == 'PASS' for r in ordered), nfail,
        sum(r['result'] == 'SKIP' for r in ordered), wall))
    return 1 if nfail else 0


if __name__ == '__main__':
    sys.exit(main())
