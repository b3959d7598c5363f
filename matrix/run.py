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
"""
import concurrent.futures
import fnmatch
import glob
import json
import os
import re
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
BASE = os.environ.get('BASE', '6.12')
OUT = os.environ.get('OUT', os.path.join(TOP, 'out'))
MX = os.path.join(OUT, 'matrix')
LOGS = os.path.join(MX, 'logs')
BUILD = os.path.join(TOP, 'work', 'build')
TREE = os.path.join(TOP, 'work', 'linux-' + BASE)
TIMEOUT = int(os.environ.get('TIMEOUT', '120'))
SIDES = os.environ.get('SIDES', 'series stock').split()
JOBS = int(os.environ.get('MATRIX_JOBS', '1'))
ACCEL = os.environ.get('ACCEL', 'auto')
HOST_ARCH = {'x86_64': 'x86_64', 'aarch64': 'arm64'}.get(os.uname().machine)

ARCH = {
    'arm64': dict(qemu='qemu-system-aarch64', cc='aarch64-linux-gnu-gcc',
                  image='arch/arm64/boot/Image', console='ttyAMA0',
                  machine='virt', cpu='cortex-a57', mem='1024'),
    'x86_64': dict(qemu='qemu-system-x86_64', cc='gcc',
                   image='arch/x86/boot/bzImage', console='ttyS0',
                   machine='q35', cpu='qemu64', mem='512'),
}
TAG = {'series': 'series', 'stock': 'base'}

# Checked on every boot row unless the row overrides the key.
DEFAULT_EXPECT = {
    'poweroff': '1', 'agent_done': '1', 'disk': 'pass', 'net': 'pass',
    'kmsg_warn': '0', 'kmsg_bug': '0', 'kmsg_swiotlb_full': '0',
    'kmsg_dma_err': '0', 'kmsg_io_err': '0', 'kmsg_access_platform_refused': '0',
    'kmsg_pool_too_small': '0',
}
# Kernel lines quoted in matrix.md for each boot (row key "report" overrides).
DEFAULT_REPORT = (r'created restricted DMA pool|is too small|assigned reserved memory|swiotlb buffer is full|'
                  r'failed to initiali[sz]e|restricted DMA|shared DMA|must be accessible|'
                  r'matching fail|Reserved memory:|DMAR: IOMMU enabled|device must provide|'
                  r'Kernel panic|WARNING:|BUG:|Unable to handle')


def log(msg):
    print('[matrix %s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kw)


# ------------------------------------------------------------------ rows

def load_rows():
    rows = []
    for path in sorted(glob.glob(os.path.join(TOP, 'matrix', 'rows', '*.row'))):
        row = {'name': os.path.basename(path)[:-4], 'file': path}
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith('#'):
                    continue
                if '=' not in line:
                    sys.exit('%s:%d: not key=value: %s' % (path, n, line))
                k, v = line.split('=', 1)
                row[k.strip()] = v.strip()
        row.setdefault('kind', 'boot')
        rows.append(row)
    rows.sort(key=lambda r: (r['kind'] == 'hw', r['name']))  # emulable rows first
    sel = os.environ.get('ROWS', '').split()
    if sel:
        rows = [r for r in rows if any(fnmatch.fnmatch(r['name'], g) for g in sel)]
    return rows


def expectations(row, side):
    exp = dict(DEFAULT_EXPECT) if row['kind'] == 'boot' else {}
    for pref in ('expect.', 'expect.%s.' % side):
        for k, v in row.items():
            if k.startswith(pref):
                key = k[len(pref):]
                if key.split('.')[0] in ('series', 'stock'):
                    continue
                exp[key] = v
    return exp


def check_value(spec, val):
    """spec: '*' | alternatives 'a|b' of N, >N, >=N, <N, <=N, !=N or a literal."""
    if spec == '*':
        return True
    if val is None:
        return False
    for alt in spec.split('|'):
        m = re.match(r'^(>=|<=|!=|>|<)(-?\d+)$', alt)
        if m:
            try:
                v = int(val)
            except ValueError:
                continue
            n = int(m.group(2))
            if {'>=': v >= n, '<=': v <= n, '!=': v != n, '>': v > n, '<': v < n}[m.group(1)]:
                return True
        elif alt == val:
            return True
    return False


# --------------------------------------------------------------- kernels

def build_kernels(arches):
    """The guest kernels of every side and arch, from scripts/guest-kernel.sh
    (stock: coco-base; series: the tree's HEAD, or the tree itself when it has
    uncommitted changes). With MATRIX_NO_BUILD=1, the existing build dirs."""
    kern = {}
    for side in SIDES:
        for arch in arches:
            bdir = os.path.join(BUILD, '%s-%s' % (TAG[side], arch))
            info = dict(tree=TREE, build=bdir, error=None)
            if os.environ.get('MATRIX_NO_BUILD') != '1':
                log('kernel %s/%s (scripts/guest-kernel.sh, builds under the build lock)' % (side, arch))
                blog = os.path.join(MX, 'build-%s-%s.log' % (side, arch))
                with open(blog, 'w') as f:
                    r = subprocess.run(['bash', os.path.join(TOP, 'scripts', 'guest-kernel.sh'), side, arch],
                                       stdout=subprocess.PIPE, stderr=f, universal_newlines=True)
                if r.returncode:
                    info['error'] = 'scripts/guest-kernel.sh %s %s failed (rc=%d), see %s' % (
                        side, arch, r.returncode, os.path.relpath(blog, TOP))
                else:
                    info['build'] = bdir = r.stdout.strip().splitlines()[-1]
            info['image'] = os.path.join(bdir, ARCH[arch]['image'])
            if not info['error'] and not os.path.exists(info['image']):
                info['error'] = 'no kernel image %s' % os.path.relpath(info['image'], TOP)
            # The commit a stamped build dir was built from (its worktree may
            # have moved on since); the tree itself for an unstamped one.
            stamp = os.path.join(bdir, '.coco-stamp')
            rev = open(stamp).read().split()[0] if os.path.exists(stamp) else None
            info['commit'] = rev
            r = sh(['git', '-C', TREE, 'describe', '--always'] + ([rev] if rev else ['--dirty']))
            n = sh(['git', '-C', TREE, 'rev-list', '--count', 'coco-base..%s' % (rev or 'HEAD')])
            info['rev'] = '%s (%s patches on coco-base)' % (r.stdout.strip(), n.stdout.strip() or '?')
            kern[(side, arch)] = info
    return kern


def gen_init_cpio():
    tool = os.path.join(MX, 'gen_init_cpio')
    src = os.path.join(TREE, 'usr', 'gen_init_cpio.c')
    for cand in glob.glob(os.path.join(BUILD, 'series-*', 'usr', 'gen_init_cpio')):
        if os.access(cand, os.X_OK):
            return cand
    if not os.path.exists(tool) or os.path.getmtime(tool) < os.path.getmtime(src):
        r = sh(['gcc', '-O2', '-o', tool, src])
        if r.returncode:
            raise RuntimeError('gen_init_cpio: ' + r.stdout)
    return tool


def build_initramfs(arch):
    src = os.path.join(TOP, 'guest', 'agent.c')
    agent = os.path.join(MX, 'agent-%s' % arch)
    cpio = os.path.join(MX, 'initramfs-%s.cpio' % arch)
    r = sh([ARCH[arch]['cc'], '-static', '-O2', '-Wall', '-Wno-format-truncation',
            '-o', agent, src])
    if r.returncode:
        raise RuntimeError('agent build failed for %s:\n%s' % (arch, r.stdout))
    lst = os.path.join(MX, 'initramfs-%s.list' % arch)
    with open(lst, 'w') as f:
        f.write('dir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\n'
                'dir /proc 0755 0 0\ndir /sys 0755 0 0\n'
                'file /init %s 0755 0 0\n' % agent)
    with open(cpio, 'wb') as f:
        if subprocess.call([gen_init_cpio(), lst], stdout=f):
            raise RuntimeError('gen_init_cpio failed for ' + arch)
    return cpio


# ------------------------------------------------------------ qemu + DT

def devices(row, disk):
    """QEMU device args; order matters on virtio-mmio: blk lands on a003e00,
    net0 on a003c00, net1 on a003a00.  PCI functions sit at 05.0/06.0/07.0."""
    pci = row.get('transport', 'mmio') == 'pci'
    suf = '-pci' if pci else '-device'
    args = ['-drive', 'if=none,id=d0,file=%s,format=raw' % disk,
            '-device', 'virtio-blk%s,drive=d0%s%s' % (suf, ',addr=05.0' if pci else '',
                                                       row.get('blk', ''))]
    for i in range(int(row.get('nics', '2'))):
        args += ['-netdev', 'hubport,id=n%d,hubid=0' % i,
                 '-device', 'virtio-net%s,netdev=n%d,mac=52:54:00:00:00:%02x%s%s' % (
                     suf, i, i + 1, ',addr=%02x.0' % (6 + i) if pci else '', row.get('net', ''))]
    return args


_accel = {}


def probe_kvm(arch, image):
    """(True, detail) when KVM runs this arch's guest kernel here.  Nested KVM
    on some CI hosts runs the firmware (SeaBIOS prints its banner) and then
    hangs once the kernel starts, so the probe boots the guest kernel itself
    and waits for its banner on the console."""
    if arch != HOST_ARCH:
        return False, 'guest arch %s differs from the host' % arch
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return False, 'no usable /dev/kvm'
    if not image or not os.path.exists(image):
        return False, 'no guest kernel to probe KVM with'
    a = ARCH[arch]
    cmd = [a['qemu'], '-accel', 'kvm', '-M', a['machine'], '-cpu', 'host', '-m', '256',
           '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio', '-kernel', image,
           '-append', 'console=%s panic=-1' % a['console']]
    t0 = time.time()
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=30).stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or b''
    out = out.decode(errors='replace')
    if 'Linux version' in out:
        return True, 'KVM probe: guest kernel printed its banner after %.1fs' % (time.time() - t0)
    return False, 'KVM probe: no kernel banner within 30s under KVM (nested vCPUs hang), using TCG'


def accel_for(arch, image=None):
    """(accelerator, why) for boot rows of this arch, probed once."""
    if arch not in _accel:
        if ACCEL in ('tcg', 'kvm'):
            _accel[arch] = (ACCEL, 'ACCEL=%s' % ACCEL)
        else:
            ok, why = probe_kvm(arch, image)
            _accel[arch] = ('kvm' if ok else 'tcg', why)
        log('accel %s: %s (%s)' % (arch, _accel[arch][0], _accel[arch][1]))
    return _accel[arch]


def machine_args(row):
    a = ARCH[row['arch']]
    return (['-M', row.get('machine', a['machine']), '-cpu', row.get('cpu', a['cpu']),
             '-smp', row.get('smp', '1'), '-m', row.get('mem', a['mem']),
             '-nographic', '-no-reboot', '-nic', 'none'] + shlex.split(row.get('qemu_extra', '')))


MMIO_NODE = {'blk': 'a003e00', 'net0': 'a003c00', 'net1': 'a003a00'}
PCI_DEV = {'blk': 5, 'net0': 6, 'net1': 7}


def node_span(lines, header_re):
    """(start, end) line indexes of the first node whose header matches."""
    for i, l in enumerate(lines):
        if re.match(r'^\s*' + header_re + r'\s*\{\s*$', l):
            depth = 0
            for j in range(i, len(lines)):
                depth += lines[j].count('{') - lines[j].count('}')
                if depth == 0:
                    return i, j
    raise RuntimeError('DT node %s not found' % header_re)


def make_dtb(row, disk):
    """QEMU dumpdtb with the row's exact machine/cpu/smp/mem/devices, dtc
    round-trip (never the raw dump: pitfall 3), then the row's DT edits."""
    if not any(k.startswith('dt.') for k in row):
        return None, []
    d = os.path.join(MX, 'dtb')
    os.makedirs(d, exist_ok=True)
    raw, dts, out = (os.path.join(d, row['name'] + s) for s in ('.raw.dtb', '.dts', '.dtb'))
    cmd = ([ARCH[row['arch']]['qemu']] + machine_args(row) + devices(row, disk) +
           ['-machine', 'dumpdtb=' + raw])
    r = sh(cmd, stdin=subprocess.DEVNULL, timeout=60)
    if r.returncode or not os.path.exists(raw):
        raise RuntimeError('dumpdtb failed: %s\n%s' % (' '.join(cmd), r.stdout))
    r = sh(['dtc', '-q', '-I', 'dtb', '-O', 'dts', '-o', dts, raw])
    if r.returncode:
        raise RuntimeError('dtc decompile: ' + r.stdout)
    lines = open(dts).read().split('\n')
    edits = []
    _, root_end = node_span(lines, r'/')  # subnodes must follow properties: append at the end
    if 'dt.pool' in row:
        base, size = (int(x, 0) for x in row['dt.pool'].split(':'))
        name = 'restricted-dma@%x' % base
        props = [p.strip() + ';' for p in row.get('dt.pool_props', '').split(';') if p.strip()]
        node = ['\treserved-memory {', '\t\t#address-cells = <0x02>;', '\t\t#size-cells = <0x02>;',
                '\t\tranges;', '\t\tmxpool: %s {' % name,
                '\t\t\tcompatible = "restricted-dma-pool";',
                '\t\t\treg = <0x%x 0x%x 0x%x 0x%x>;' % (base >> 32, base & 0xffffffff,
                                                        size >> 32, size & 0xffffffff)]
        node += ['\t\t\t' + p for p in props] + ['\t\t};', '\t};']
        lines[root_end:root_end] = node
        edits.append('pool %s size 0x%x%s' % (name, size, (' ' + ' '.join(props)) if props else ''))
        targets = [t for t in row.get('dt.pool_on', 'blk').split(',') if t]
        for t in targets:
            if t == 'host':
                s, _ = node_span(lines, r'pcie@10000000')
                lines.insert(s + 1, '\t\tmemory-region = <&mxpool>;')
                edits.append('memory-region on pcie@10000000 (host bridge)')
            elif row.get('transport', 'mmio') == 'pci':
                s, e = node_span(lines, r'pcie@10000000')
                dev = PCI_DEV[t]
                lines[e:e] = ['\t\tpci@%x,0 {' % dev,
                              '\t\t\treg = <0x%x 0x00 0x00 0x00 0x00>;' % (dev << 11),
                              '\t\t\tmemory-region = <&mxpool>;', '\t\t};']
                edits.append('memory-region on pci@%x,0 (%s)' % (dev, t))
            else:
                s, _ = node_span(lines, r'virtio_mmio@' + MMIO_NODE[t])
                lines.insert(s + 1, '\t\tmemory-region = <&mxpool>;')
                edits.append('memory-region on virtio_mmio@%s (%s)' % (MMIO_NODE[t], t))
    for t in [t for t in row.get('dt.noncoherent', '').split(',') if t]:
        s, e = node_span(lines, r'virtio_mmio@' + MMIO_NODE[t])
        body = [l for l in lines[s + 1:e] if l.strip() != 'dma-coherent;']
        if len(body) != e - s - 2:
            raise RuntimeError('dma-coherent not found exactly once in ' + MMIO_NODE[t])
        lines[s + 1:e] = ['\t\tdma-noncoherent;'] + body  # pitfall 6: delete dma-coherent
        edits.append('virtio_mmio@%s (%s): dma-coherent deleted, dma-noncoherent added' % (
            MMIO_NODE[t], t))
    with open(dts, 'w') as f:
        f.write('\n'.join(lines))
    r = sh(['dtc', '-q', '-I', 'dts', '-O', 'dtb', '-o', out, dts])
    if r.returncode:
        raise RuntimeError('dtc compile: ' + r.stdout)
    os.unlink(raw)
    return out, edits


def agent_args(row):
    a = ['agent.timeout=%s' % row.get('agent_timeout', '15'),
         'agent.watchdog=%s' % row.get('agent_watchdog', str(max(30, TIMEOUT - 20)))]
    for k in ('decision', 'decision_exclude'):
        if k in row:
            a.append('agent.%s="%s"' % (k, row[k]))
    return a


def parse_log(text):
    c = {}
    for m in re.finditer(r'^# counter ([a-z0-9_]+)=(\S+)$', text, re.M):
        c[m.group(1)] = m.group(2)
    c['agent_done'] = '1' if re.search(r'^# agent: done', text, re.M) else '0'
    c['poweroff'] = '1' if re.search(r'reboot: (Power down|Restarting system)', text) else '0'
    c['panic'] = '1' if 'Kernel panic' in text else '0'
    return c


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
        dtb, res['dt_edits'] = make_dtb(row, disk)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        res['why'].append('DTB: %s' % e)
        return res
    a = ARCH[row['arch']]
    append = ' '.join(['console=%s' % a['console'], 'panic=-1', row.get('cmdline', '')] +
                      agent_args(row)).replace('  ', ' ')
    cmd = ([a['qemu'], '-accel', accel_for(row['arch'])[0]] + machine_args(row) +
           ['-kernel', kern['image'], '-initrd', cpio, '-append', append] +
           (['-dtb', dtb] if dtb else []) + devices(row, disk))
    run_and_check(row, side, cmd, res)
    os.unlink(disk)
    return res


def run_and_check(row, side, cmd, res):
    """Boot cmd with the TIMEOUT, save the log, parse and check expectations."""
    logf = os.path.join(LOGS, '%s-%s.log' % (row['name'], side))
    t0 = time.time()
    timed_out = False
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=TIMEOUT)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out, rc, timed_out = e.stdout or b'', None, True
    res['boot_s'] = round(time.time() - t0, 1)
    text = out.decode('utf-8', 'replace').replace('\r', '')
    with open(logf, 'w') as f:
        f.write('# ' + ' '.join(shlex.quote(x) for x in cmd) + '\n' + text)
        f.write('\n# qemu rc=%s timed_out=%s wall=%ss\n' % (rc, timed_out, res['boot_s']))
    res['log'] = os.path.relpath(logf, TOP)
    c = parse_log(text)
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
    if timed_out:
        res['why'].append('QEMU killed after TIMEOUT=%ss' % TIMEOUT)
    elif rc != 0:
        res['why'].append('QEMU exited with rc=%s' % rc)
    for k, spec in sorted(expectations(row, side).items()):
        if k.split('.')[0] == 'log':
            if not re.search(spec, text, re.M):
                res['why'].append('log lacks /%s/' % spec)
        elif k.split('.')[0] == 'nolog':
            m = re.search(spec, text, re.M)
            if m:
                res['why'].append('log has /%s/: %s' % (spec, m.group(0)[:80]))
        elif not check_value(spec, c.get(k)):
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


# --------------------------------------------------------- hardware rows

def qemu_version(binary):
    r = sh([binary, '--version'])
    m = re.search(r'version (\d+)\.(\d+)\.(\d+)', r.stdout)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


def qemu_help(binary, *args):
    r = sh([binary] + list(args), stdin=subprocess.DEVNULL, timeout=30)
    return r.returncode, r.stdout


def instantiate(binary, args):
    """Create the objects/machine without running a guest: QEMU parses and
    realizes them, then the monitor's 'quit' ends it.  (rc, last error line)"""
    r = subprocess.run([binary, '-display', 'none', '-nodefaults', '-monitor', 'stdio', '-S'] + args,
                       input='quit\n', stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=60)
    err = [l for l in r.stdout.split('\n') if l.startswith(os.path.basename(binary) + ':')]
    return r.returncode, (err[-1] if err else r.stdout.strip().split('\n')[-1])[:200]


def validate_hw(row):
    """Check the row's QEMU command line against the local QEMU without
    booting.  Returns (ok, detail, missing): ok=False means a real error in
    the command line (typo, unknown property); missing is the reason to SKIP
    when the local QEMU is too old for an object type or property."""
    binary = row['qemu_bin']
    ver = '.'.join(map(str, qemu_version(binary)))
    args = shlex.split(row['qemu'])
    notes, missing, errors = [], [], []
    i = 0
    while i < len(args):
        opt, val = args[i], args[i + 1] if i + 1 < len(args) else ''
        if opt == '-object':
            typ = json.loads(val)['qom-type'] if val.startswith('{') else val.split(',')[0]
            rc, err = instantiate(binary, ['-M', 'none', '-object', val])
            if rc == 0:
                notes.append('-object %s created' % typ)
            elif ('invalid object type' in err or "'qom-type' does not accept value" in err) and \
                    typ in row.get('newer_objects', '').split(','):
                missing.append('QEMU %s has no -object %s (%s)' % (ver, typ, err))
            else:
                errors.append('-object %s: %s' % (typ, err))
            i += 2
        elif opt in ('-device', '-machine', '-M'):
            hopt = '-machine' if opt == '-M' else opt
            typ, _, props = val.partition(',')
            if '=' in typ:  # "-M acpi=off": properties of the machine given earlier
                typ, props = row.get('machine', ARCH[row['arch']]['machine']), val
            kv = dict((p + '=').split('=')[:2] for p in props.split(',') if p)
            keys = list(kv)
            rc, hl = qemu_help(binary, hopt, typ + ',help')
            known = set(k.replace('_', '-') for k in re.findall(r'^\s*([A-Za-z0-9_.-]+)=', hl, re.M))
            if not known:
                errors.append('%s %s: unknown type (%s)' % (hopt, typ, hl.strip().split('\n')[-1][:120]))
            else:
                bad = [k for k in keys if k.replace('_', '-') not in known]
                if hopt == '-machine':  # accelerator sugar (kernel_irqchip=...) is not in ,help
                    bad = [k for k in bad if instantiate(
                        binary, ['-accel', 'tcg', '-M', '%s,%s=%s' % (typ, k, kv[k])])[0] != 0]
                if bad:
                    errors.append('%s %s: unknown properties %s' % (hopt, typ, ','.join(bad)))
                else:
                    notes.append('%s %s: %d properties known' % (hopt, typ, len(keys)))
            i += 2
        elif opt == '-cpu' and row['arch'] == 'x86_64':
            rc, hl = qemu_help(binary, '-cpu', 'help')
            model = val.split(',')[0]
            if model != 'host' and not re.search(r'\b%s\b' % re.escape(model), hl):
                if model in row.get('newer_cpus', '').split(','):
                    missing.append('QEMU %s has no CPU model %s' % (ver, model))
                else:
                    errors.append('unknown CPU model %s' % model)
            i += 2
        else:
            i += 1
    if row.get('validate_tcg'):  # instantiate machine+cpu under TCG (dumpdtb, no boot)
        tmp = os.path.join(MX, row['name'] + '.validate.dtb')
        cmd = [binary, '-accel', 'tcg'] + shlex.split(row['validate_tcg']) + ['-machine', 'dumpdtb=' + tmp]
        r = sh(cmd, stdin=subprocess.DEVNULL, timeout=60)
        newer = row.get('validate_tcg_newer')
        if r.returncode:
            msg = r.stdout.strip().split('\n')[-1][:200]
            if newer and re.search(r"[.']%s' not found" % re.escape(newer), msg):
                missing.append('QEMU %s lacks %s: %s' % (ver, newer, msg))
            else:
                errors.append('TCG instantiation failed: %s' % msg)
        else:
            notes.append('machine+cpu instantiated under TCG')
            os.unlink(tmp)
    if errors:
        return False, '; '.join(errors + notes), '; '.join(missing) or None
    return True, '; '.join(notes) or 'nothing to check', '; '.join(missing) or None


def read_param(path):
    try:
        return open(path).read().strip()
    except OSError:
        return None


def host_has(req):
    """(ok, reason) for a hardware requirement."""
    y = ('Y', 'y', '1')
    if req in ('sev', 'sev_es', 'sev_snp'):
        v = read_param('/sys/module/kvm_amd/parameters/' + req)
        if v is None:
            return False, 'host has no /sys/module/kvm_amd/parameters/%s (kvm_amd not loaded: not an AMD SEV host)' % req
        if v not in y:
            return False, '/sys/module/kvm_amd/parameters/%s=%s' % (req, v)
        if not os.path.exists('/dev/sev'):
            return False, 'no /dev/sev'
        return True, ''
    if req == 'tdx':
        v = read_param('/sys/module/kvm_intel/parameters/tdx')
        if v is None:
            return False, 'host has no /sys/module/kvm_intel/parameters/tdx (kvm_intel %s: not a TDX host)' % (
                'loaded' if os.path.isdir('/sys/module/kvm_intel') else 'not loaded')
        return (v in y), '/sys/module/kvm_intel/parameters/tdx=%s' % v
    if req == 'coco':
        reasons = []
        for r in ('sev', 'sev_snp', 'tdx'):
            ok, why = host_has(r)
            if ok:
                return True, ''
            reasons.append(why)
        return False, 'no CoCo host: ' + '; '.join(reasons)
    if req == 'pkvm':
        if os.uname().machine != 'aarch64':
            why = 'host is %s; pKVM needs an arm64 host kernel in kvm-arm.mode=protected' % os.uname().machine
            why += ' (or a TCG-nested pKVM host kernel with CONFIG_KVM, which this repo does not build)'
        else:
            why = 'arm64 host'
        if not shutil_which('crosvm'):
            why += '; crosvm (needed for --protected-vm-without-firmware) is not installed'
        return False, why
    if req == 'cca':
        flash = os.environ.get('CCA_FLASH')
        why = 'no TF-A+TF-RMM firmware (set CCA_FLASH=flash.bin from the OP-TEE qemu_v8_cca manifest)'
        if flash and os.path.exists(flash):
            why = 'realm launch inside the TCG host needs a CCA host kernel and an rme-guest QEMU/kvmtool, not provided'
        return False, why
    return False, 'unknown requirement %s' % req


def shutil_which(x):
    import shutil
    return shutil.which(x)


def hw_row(row, kern, cpio):
    """Results for a hardware row: the command-line check, then one per side
    (run when the host has the hardware and the guest kernel the options)."""
    out = []
    ok, detail, missing = validate_hw(row)
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
    have, why = host_has(row['require'])
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
            args[j] = ' '.join([args[j]] + agent_args(row))
        run_and_check(row, side, [row['qemu_bin']] + args, r)
        os.unlink(disk)
    return out


# ---------------------------------------------------------------- output

def write_outputs(results, rows, kern, wall):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'matrix.ktap'), 'w') as f:
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
    ET.ElementTree(suite).write(os.path.join(OUT, 'matrix.junit.xml'), encoding='unicode',
                                xml_declaration=True)
    with open(os.path.join(MX, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1, sort_keys=True)

    by = {(r['row'], r['side']): r for r in results}
    keys = ('access_platform', 'pool_hiwater', 'swiotlb_hiwater', 'remap_other', 'iommu_groups',
            'disk', 'blk_max_hw_kb', 'net', 'kmsg_swiotlb_full', 'kmsg_decision')
    short = {'access_platform': 'AP', 'pool_hiwater': 'pool_hw', 'swiotlb_hiwater': 'swl_hw',
             'remap_other': 'remap', 'iommu_groups': 'iommu', 'kmsg_swiotlb_full': 'full',
             'kmsg_decision': 'decision', 'blk_max_hw_kb': 'blk_kb'}

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

    md = ['# coco-dma QEMU boot matrix', '',
          'Generated %s by scripts/matrix.sh; total wall time %.0f s; QEMU %s; accel %s; TIMEOUT=%ss.' % (
              time.strftime('%Y-%m-%d %H:%M:%S'), wall,
              '.'.join(map(str, qemu_version('qemu-system-x86_64'))),
              ', '.join('%s=%s (%s)' % (k, v[0], v[1]) for k, v in sorted(_accel.items())) or ACCEL,
              TIMEOUT), '']
    for (side, arch), k in sorted(kern.items()):
        md.append('- %s/%s: %s, %s%s' % (side, arch, os.path.relpath(k['image'], TOP), k.get('rev', ''),
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
    with open(os.path.join(OUT, 'matrix.md'), 'w') as f:
        f.write('\n'.join(md) + '\n')


def main():
    t0 = time.time()
    os.makedirs(LOGS, exist_ok=True)
    rows = load_rows()
    if not rows:
        sys.exit('no rows match ROWS=%s' % os.environ.get('ROWS', ''))
    boot_rows = [r for r in rows if r['kind'] == 'boot']
    hw_run = [r for r in rows if r['kind'] == 'hw' and host_has(r['require'])[0]]
    arches = sorted(set(r['arch'] for r in boot_rows + hw_run))
    kern = build_kernels(arches) if arches else {}
    cpio = {a: build_initramfs(a) for a in arches}
    for a in arches:
        k = kern.get((SIDES[0], a))
        accel_for(a, k['image'] if k and not k['error'] else None)
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
            log('%-4s %s (%ss)%s' % (r['result'], r['name'], r.get('boot_s'),
                                     (': ' + '; '.join(r['why'])) if r['why'] else ''))
    ordered = []
    for row in rows:
        if row['kind'] == 'hw':
            for r in hw_row(row, kern, cpio):
                log('%-4s %s %s' % (r['result'], r['name'], r.get('skip') or '; '.join(r['why'])))
                ordered.append(r)
        else:
            ordered += [results[(row['name'], s)] for s in SIDES]
    wall = time.time() - t0
    write_outputs(ordered, rows, kern, wall)
    nfail = sum(r['result'] == 'FAIL' for r in ordered)
    log('%d results: %d PASS, %d FAIL, %d SKIP in %.0fs -> out/matrix.{ktap,junit.xml,md}' % (
        len(ordered), sum(r['result'] == 'PASS' for r in ordered), nfail,
        sum(r['result'] == 'SKIP' for r in ordered), wall))
    return 1 if nfail else 0


if __name__ == '__main__':
    sys.exit(main())
