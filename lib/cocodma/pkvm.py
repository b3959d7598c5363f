"""pKVM rows (kind=pkvm): a stock Linux 7.3 arm64 host, booted by QEMU TCG at
EL2 with kvm-arm.mode=protected, runs the row's guest kernel in kvmtool, as a
protected VM or as a normal one, with a restricted DMA pool or without.

The host's /init is guest/pkvm-host.c; its initramfs carries kvmtool (/lkvm),
the guest kernel (/Image), the guest agent's initramfs (/guest.cpio) and
kvmtool's arguments (/lkvm.args).  See docs/dev-log/pkvm-rows.md.
"""
import os
import re
import shutil
import subprocess

from cocodma import agent, env, initramfs
from cocodma.arches import tool

# loglevel=4: the host's own messages would split the guest's console lines;
# /init replays the host's KVM records from /dev/kmsg instead.
HOST_APPEND = ['console=ttyAMA0', 'panic=-1', 'loglevel=4', 'kvm-arm.mode=protected']
# The guest's SMCCC line: a pKVM protected VM is offered MEM_SHARE and
# MEM_UNSHARE (bits 3 and 4 of the last word), a normal VM is not.
PVM_LINE = re.compile(r'hypervisor services detected \(0x[0-9a-f]{8} 0x[0-9a-f]{8} '
                      r'0x[0-9a-f]{8} 0x[0-9a-f]{6}[13579bdf][89a-f]\)')
_tools = {}


def _script(name, extra_env=None):
    """Run scripts/NAME: (path it printed, None) or (None, why)."""
    e = dict(os.environ, **(extra_env or {}))
    r = subprocess.run(['bash', os.path.join(env.TOP, 'scripts', name)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, env=e, pass_fds=env.lock_fds())
    if r.returncode:
        lines = [l for l in r.stderr.strip().split('\n') if l.strip()]
        return None, r.returncode, (lines[-1] if lines else 'rc=%d' % r.returncode)
    return r.stdout.strip().split('\n')[-1], 0, None


def qemu_binary():
    """PKVM_QEMU= (a path, or 'backports' for bookworm-backports' QEMU,
    scripts/qemu-backports.sh), default the system's qemu-system-aarch64."""
    want = os.environ.get('PKVM_QEMU', '')
    if want == 'backports':
        path, rc, why = _script('qemu-backports.sh')
        if not path:
            raise RuntimeError('scripts/qemu-backports.sh: ' + why)
        return path
    return want or 'qemu-system-aarch64'


def tools():
    """The host kernel, kvmtool and QEMU, built or fetched once:
    dict(host=Image, lkvm=path, qemu=binary, skip=None, error=None).  skip
    says why the rows cannot run here (no kvmtool source); error, what
    failed to build."""
    if _tools:
        return _tools
    _tools.update(host=None, lkvm=None, qemu=None, skip=None, error=None)
    env.log('pkvm: kvmtool (scripts/kvmtool.sh)')
    lkvm, rc, why = _script('kvmtool.sh')
    if rc == 3:
        _tools['skip'] = 'kvmtool cannot be built here: ' + why
        return _tools
    if not lkvm:
        _tools['error'] = 'scripts/kvmtool.sh failed: ' + why
        return _tools
    env.log('pkvm: the stock 7.3 host kernel (scripts/pkvm-host.sh, under the build lock)')
    host, rc, why = _script('pkvm-host.sh')
    if not host:
        _tools['error'] = 'scripts/pkvm-host.sh failed: ' + why
        return _tools
    try:
        q = qemu_binary()
    except RuntimeError as e:
        _tools['error'] = str(e)
        return _tools
    _tools.update(host=os.path.join(host, 'arch', 'arm64', 'boot', 'Image'), lkvm=lkvm, qemu=q)
    return _tools


def host_init(workdir):
    """guest/pkvm-host.c, static for arm64."""
    out = os.path.join(workdir, 'pkvm-host-init')
    r = env.sh([tool('arm64', 'gcc'), '-static', '-O2', '-Wall', '-o', out,
                os.path.join(env.TOP, 'guest', 'pkvm-host.c')])
    if r.returncode:
        raise RuntimeError('guest/pkvm-host.c: ' + r.stdout)
    return out


def lkvm_args(row, guest_append):
    """kvmtool's arguments for the row: virtio-mmio (modern, no
    ACCESS_PLATFORM: kvmtool never offers it), a disk, two NICs on taps."""
    a = ['run', '-k', '/Image', '-i', '/guest.cpio', '-m', row.get('guest_mem', '512'),
         '-c', row.get('guest_cpus', '1'), '--nodefaults', '--virtio-transport', 'mmio',
         '--irqchip', 'gicv3', '-p', ' '.join(['console=ttyS0', 'panic=-1'] + guest_append),
         '-d', '/tmp/disk.img']
    for i in range(int(row.get('nics', '2'))):
        a += ['-n', 'mode=tap,tapif=tap%d' % i]
    if row.get('vm', 'protected') == 'protected':
        a.append('--protected')
    if row.get('pool'):
        a += ['--restricted-dma-pool', row['pool']]
    return a


def host_initramfs(row, side, guest_image, workdir):
    """The host's initramfs for one row and side."""
    t = tools()
    d = os.path.join(workdir, 'pkvm-%s-%s' % (row['name'], side))
    os.makedirs(d, exist_ok=True)
    guest_cpio = initramfs.build_initramfs('arm64', d)
    inner = int(row.get('inner_timeout', '90'))
    guest_append = agent.guest_cmdline(row) + agent.agent_args(row, inner)
    with open(os.path.join(d, 'lkvm.args'), 'w') as f:
        f.write('\n'.join(x for x in lkvm_args(row, [g for g in guest_append if g])) + '\n')
    lst = os.path.join(d, 'host.list')
    with open(lst, 'w') as f:
        f.write('dir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\n'
                'dir /proc 0755 0 0\ndir /sys 0755 0 0\ndir /tmp 1777 0 0\n'
                'file /init %s 0755 0 0\nfile /lkvm %s 0755 0 0\n'
                'file /Image %s 0644 0 0\nfile /guest.cpio %s 0644 0 0\n'
                'file /lkvm.args %s 0644 0 0\n' % (
                    host_init(d), t['lkvm'], guest_image, guest_cpio, os.path.join(d, 'lkvm.args')))
    cpio = os.path.join(d, 'host.cpio')
    with open(cpio, 'wb') as f:
        if subprocess.call([initramfs.gen_init_cpio(workdir), lst], stdout=f):
            raise RuntimeError('gen_init_cpio failed for the pKVM host')
    return cpio, inner


def host_cmd(row, cpio, inner):
    """QEMU TCG with EL2 and GICv3 (pKVM refuses GICv2) booting the host."""
    t = tools()
    cmd = [t['qemu'], '-accel', 'tcg', '-M', 'virt,virtualization=on,gic-version=3',
           '-cpu', row.get('host_cpu', 'max,pauth-impdef=on'), '-smp', row.get('host_smp', '2'),
           '-m', row.get('host_mem', '2048'), '-nographic', '-no-reboot', '-nic', 'none',
           '-kernel', t['host'], '-initrd', cpio,
           '-append', ' '.join(HOST_APPEND + row.get('host_cmdline', '').split() +
                               ['host.timeout=%d' % inner])]
    share = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(shutil.which(t['qemu']) or t['qemu']))),
                         'share', 'qemu')
    if os.path.isdir(share) and not share.startswith('/usr/'):
        cmd += ['-L', share]
    return cmd


def parse(text):
    """Counters of a pKVM boot: the guest agent's (from the guest's part of
    the console only: the host powers off too) and the host's."""
    m = re.search(r'^# pkvm: guest start$(.*?)^# pkvm: guest end$', text, re.M | re.S)
    guest = m.group(1) if m else ''
    c = agent.parse_log(guest)
    host = '\n'.join(l for l in text.split('\n') if l.startswith('# host: '))
    for k in ('host_pkvm', 'lkvm_exit'):
        h = re.search(r'^# counter %s=(\S+)$' % k, text, re.M)
        c[k] = h.group(1) if h else '(not reported)'
    c['host_pvm_created'] = str(len(re.findall(r'protected VMs are experimental', host)))
    c['host_bug'] = str(len(re.findall(r'BUG:|Oops|Unable to handle|WARNING:', host)))
    # kvmtool's own messages (util/util.c: "  Fatal: ", "  Error: ").
    c['lkvm_fault'] = '1' if re.search(r'^\s+(Fatal|Error): |KVM_RUN failed', guest, re.M) else '0'
    c['guest_started'] = '1' if re.search(r'Linux version', guest) else '0'
    # Printed at PSCI init, before any device probes: there even when the
    # guest dies before its agent reports.
    c['guest_pvm'] = '1' if PVM_LINE.search(guest) else '0'
    return c


def failure(c):
    """How a boot failed: none, vmm_fault, io_error or timeout; not_run
    when kvmtool never ran (the host's /init gave up first)."""
    if c.get('lkvm_exit', '(not reported)') == '(not reported)':
        return 'not_run'
    if c.get('lkvm_exit') == 'timeout':
        return 'timeout'
    if c.get('lkvm_exit', '0') != '0' or c.get('lkvm_fault') == '1':
        return 'vmm_fault'
    if c.get('disk') != 'pass' or c.get('net') != 'pass' or c.get('kmsg_io_err', '0') != '0':
        return 'io_error'
    return 'none'


def host_lines(text):
    return [l[len('# host: '):] for l in text.split('\n') if l.startswith('# host: ')]
