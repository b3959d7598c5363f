#!/usr/bin/env bash
# matrix-selftest.sh: quick checks that the matrix runner's checks can fail:
# expectation matching, and QEMU command-line validation of hardware rows
# (a typo in an object property, a machine property or a device property
# must be a FAIL, the real rows must validate).  No kernel, ~2 s.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
exec python3 - "$TOP" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(sys.argv[1], 'lib'))
os.environ.setdefault('OUT', '/tmp/coco-dma-matrix-selftest')
from cocodma import env, hw, rowfile
workdir = os.path.join(env.OUT, 'matrix')
os.makedirs(workdir, exist_ok=True)
bad = 0
def check(cond, what):
    global bad
    print('%s - %s' % ('ok' if cond else 'not ok', what))
    bad += not cond
cv = rowfile.check_value
check(cv('>0', '5') and not cv('>0', '0') and not cv('>0', '-1'), 'expect >0')
check(cv('0', '0') and not cv('0', '1') and not cv('0', None), 'expect literal, missing counter fails')
check(cv('pass|fail', 'fail') and not cv('pass|fail', 'timeout'), 'expect alternatives')
check(cv('*', None) and cv('>=2', '2') and not cv('!=0', '0'), 'expect *, >=, !=')
rows = {r['name']: r for r in rowfile.load_rows()}
# The base's guest arguments follow the row's: 7.3 asks for the swiotlb
# high watermark (GUEST_CMDLINE), 6.12 counts it without being asked.
from cocodma import agent
for b, want in (('7.3', ['swiotlb=force', 'swiotlb=track_hiwater']), ('6.12', ['swiotlb=force'])):
    env.BASE = b
    got = agent.guest_cmdline({'cmdline': 'swiotlb=force'})
    check(got == want, 'guest arguments of base %s: %s' % (b, ' '.join(got)))
env.BASE = os.environ.get('BASE', '6.12')
for name in ('hw-01-x86-sev', 'hw-05-x86-coco-iommu-off', 'hw-07-arm64-cca'):
    ok, detail, missing = hw.validate_hw(rows[name], workdir)
    check(ok, 'real row %s validates (%s)' % (name, detail))
base = rows['hw-01-x86-sev']
for old, new in (('reduced-phys-bits=1', 'reduced-phys-bitz=1'),
                 ('confidential-guest-support=', 'confidental-guest-support='),
                 ('iommu_platform=on', 'iommu_platfrom=on'),
                 ('-object sev-guest,', '-object sev-gest,')):
    row = dict(base, qemu=base['qemu'].replace(old, new))
    ok, detail, missing = hw.validate_hw(row, workdir)
    check(not ok, 'typo %s is a FAIL: %s' % (new, detail))
cca = dict(rows['hw-07-arm64-cca'])
cca['validate_tcg'] = cca['validate_tcg'].replace('x-rme=on', 'x-rmee=on')
ok, detail, missing = hw.validate_hw(cca, workdir)
check(not ok, 'cpu property typo x-rmee is a FAIL, not "QEMU too old": %s' % detail)
from cocodma import pkvm
host = ('# host: kvm [1]: Protected hVHE mode initialized successfully\n# counter host_pkvm=1\n'
        '# pkvm: guest start\n%s# pkvm: guest end\n# counter lkvm_exit=%s\n'
        '# host: kvm: protected VMs are experimental and for development only, tainting kernel\n'
        'reboot: Power down\n')
ok_guest = ('Linux version 7.3\n# counter disk=pass\n# counter net=pass\n# counter kmsg_io_err=0\n'
            '# agent: done\nreboot: Power down\n')
c = pkvm.parse(host % (ok_guest, '0'))
check(c['host_pkvm'] == '1' and c['host_pvm_created'] == '1' and c['poweroff'] == '1' and
      pkvm.failure(c) == 'none', 'pkvm: a guest that passed is failure=none (%s)' % pkvm.failure(c))
c = pkvm.parse((host % (ok_guest, '0')).replace('reboot: Power down\n# pkvm: guest end', '# pkvm: guest end'))
check(c['poweroff'] == '0', "pkvm: the host's own power-off is not the guest's")
c = pkvm.parse(host % ('Linux version 7.3\n', 'sig=11'))
check(pkvm.failure(c) == 'vmm_fault', 'pkvm: kvmtool killed by a signal is vmm_fault (%s)' % pkvm.failure(c))
c = pkvm.parse(host % ('Linux version 7.3\n# counter disk=fail\n# agent: done\n', '0'))
check(pkvm.failure(c) == 'io_error', 'pkvm: a failed disk test is io_error (%s)' % pkvm.failure(c))
c = pkvm.parse(host % ('Linux version 7.3\n', 'timeout'))
check(pkvm.failure(c) == 'timeout', 'pkvm: the inner timeout is timeout (%s)' % pkvm.failure(c))
c = pkvm.parse('# counter host_pkvm=1\n# pkvm: no /lkvm.args\n')
check(pkvm.failure(c) == 'not_run', 'pkvm: kvmtool that never ran is not_run (%s)' % pkvm.failure(c))
svc = 'smccc: KVM: hypervisor services detected (0x00000000 0x00000000 0x00000000 0x%08x)\n'
c = pkvm.parse(host % (svc % 0x1d, '0'))
check(c['guest_pvm'] == '1', 'pkvm: MEM_SHARE and MEM_UNSHARE offered: a protected guest')
c = pkvm.parse(host % (svc % 0x3, '0'))
check(c['guest_pvm'] == '0', 'pkvm: the vendor bitmap of a normal VM: not a protected guest')
check(not rowfile.expectations(rows['pkvm-01-pvm-pool'], 'stock').get('disk') and
      rowfile.expectations(rows['pkvm-01-pvm-pool'], 'series').get('disk') == 'pass',
      'pkvm: no_defaults=stock drops the defaults on the stock side only')
# Debug guests: the checkers' reports are counted, and a series report is
# blamed on stock only when stock printed the same one.
from cocodma import checkers
kasan = '[   %s] BUG: KASAN: slab-use-after-free in swiotlb_tbl_unmap_single+0x%x/0x200\n'
f = checkers.scan(kasan % ('3.1', 0x44) + '# kmsg: BUG: KASAN: a copy\n[ 4.0] DMA-API: virtio-mmio a003e00.virtio_mmio: device driver frees DMA memory with wrong function\n')
f2 = checkers.scan('[ 0.5] DMA-API: preallocated 65556 debug entries\n[ 0.5] DMA-API: debugging enabled by kernel config\n')
check(not f2['dma-api'], "checkers: dma-debug's boot lines are not reports")
check(len(f['kasan']) == 1 and len(f['dma-api']) == 1 and not f['lockdep'],
      "checkers: one KASAN, one DMA-API report, the agent's copies not counted")
sys.path.insert(0, os.path.join(sys.argv[1], 'matrix'))
import run as mrun
def res(side, text, why):
    return dict(row='r', side=side, result='FAIL', why=why, reports=checkers.scan(text))
s1, k1 = res('series', kasan % ('3.1', 0x44), ['chk_kasan=1, expected 0']), res('stock', kasan % ('5.9', 0x48), ['chk_kasan=1, expected 0'])
mrun.on_stock_too([s1, k1])
check(s1['result'] == 'XFAIL' and k1['result'] == 'XFAIL', 'debug: a KASAN report stock has too is not the series\' (%s/%s)' % (s1['result'], k1['result']))
s2, k2 = res('series', kasan % ('3.1', 0x44), ['chk_kasan=1, expected 0']), res('stock', '', [])
k2['result'] = 'PASS'
mrun.on_stock_too([s2, k2])
check(s2['result'] == 'FAIL', 'debug: a KASAN report of the series alone fails it')
s3 = res('series', kasan % ('3.1', 0x44), ['chk_kasan=1, expected 0', 'disk=timeout, expected pass'])
mrun.on_stock_too([s3, dict(k1, result='FAIL')])
check(s3['result'] == 'FAIL', 'debug: a report on stock too does not hide another failure')
# make check boots the pkvm rows a base names (MATRIX_PKVM="row ..."), make matrix all.
for sel, want in (('1', True), ('0', False), ('pkvm-01-pvm-pool', True), ('pkvm-03-*', False)):
    mrun.PKVM_SEL = sel.split()
    check(mrun.pkvm_selected(rows['pkvm-01-pvm-pool']) == want, 'MATRIX_PKVM=%s boots pkvm-01: %s' % (sel, want))
# A script that builds, started from the runner inside make check (which
# holds the build lock), must get the lock's descriptor, not wait for it.
import fcntl, subprocess, tempfile
lockf = tempfile.NamedTemporaryFile(prefix='coco-dma-selftest-lock')
os.dup2(lockf.fileno(), 9)
fcntl.flock(9, fcntl.LOCK_EX)
os.environ.update(COCO_BUILD_LOCK_HELD=lockf.name, BUILD_LOCK=lockf.name)
try:
    r = subprocess.run(['bash', '-c', '. "$1/scripts/lib.sh"; build_lock; echo got-lock', 'x', env.TOP],
                       pass_fds=env.lock_fds(), timeout=20, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    got = r.stdout.strip().endswith('got-lock')
except subprocess.TimeoutExpired:
    got = False
check(got, 'a build script run by the matrix inherits the build lock its caller holds')
os.close(9)
del os.environ['COCO_BUILD_LOCK_HELD'], os.environ['BUILD_LOCK']
print('selftest: %d failed' % bad)
sys.exit(1 if bad else 0)
PY
