"""QEMU: a row's machine and devices, the boot command line, running a boot,
the accelerator (KVM when a probe shows it runs the guest, else TCG), and
what the local QEMU is (version, help, instantiating objects)."""
import os
import re
import shlex
import subprocess
import time

from cocodma import env
from cocodma.arches import ARCH, HOST_ARCH

ACCEL = os.environ.get('ACCEL', 'auto')
accels = {}  # arch -> (accelerator, why), chosen once by accel_for()


def machine_args(row):
    a = ARCH[row['arch']]
    return (['-M', row.get('machine', a['machine']), '-cpu', row.get('cpu', a['cpu']),
             '-smp', row.get('smp', '1'), '-m', row.get('mem', a['mem']),
             '-nographic', '-no-reboot', '-nic', 'none'] + shlex.split(row.get('qemu_extra', '')))


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


def boot_cmd(row, accel, image, initrd, append, dtb=None, disk=None, extra=()):
    """Boot image with initrd on the row's machine: accel is the -accel
    arguments, append what follows console= panic=-1 on the kernel command
    line, then the DTB, the row's devices on disk, and extra arguments."""
    a = ARCH[row['arch']]
    # An empty argument (a row without cmdline=) would leave a double space.
    kcmd = ' '.join(['console=%s' % a['console'], 'panic=-1'] + append).replace('  ', ' ')
    return ([a['qemu']] + accel + machine_args(row) +
            ['-kernel', image, '-initrd', initrd, '-append', kcmd] +
            (['-dtb', dtb] if dtb else []) + (devices(row, disk) if disk else []) + list(extra))


def run(cmd, timeout):
    """Boot cmd, killed after timeout seconds: (console text, exit status or
    None when it was killed, wall seconds)."""
    t0 = time.time()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = e.stdout or b'', None
    return out.decode('utf-8', 'replace').replace('\r', ''), rc, time.time() - t0


def save_log(path, cmd, text, tail):
    """A boot's log: its exact command first, then the console and tail."""
    with open(path, 'w') as f:
        f.write('# ' + ' '.join(shlex.quote(x) for x in cmd) + '\n' + text + tail)


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
    if arch not in accels:
        if ACCEL in ('tcg', 'kvm'):
            accels[arch] = (ACCEL, 'ACCEL=%s' % ACCEL)
        else:
            ok, why = probe_kvm(arch, image)
            accels[arch] = ('kvm' if ok else 'tcg', why)
        env.log('accel %s: %s (%s)' % (arch, accels[arch][0], accels[arch][1]))
    return accels[arch]


def version(binary):
    r = env.sh([binary, '--version'])
    m = re.search(r'version (\d+)\.(\d+)\.(\d+)', r.stdout)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


def help_text(binary, *args):
    r = env.sh([binary] + list(args), stdin=subprocess.DEVNULL, timeout=30)
    return r.returncode, r.stdout


def instantiate(binary, args):
    """Create the objects/machine without running a guest: QEMU parses and
    realizes them, then the monitor's 'quit' ends it.  (rc, last error line)"""
    r = subprocess.run([binary, '-display', 'none', '-nodefaults', '-monitor', 'stdio', '-S'] + args,
                       input='quit\n', stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=60)
    err = [l for l in r.stdout.split('\n') if l.startswith(os.path.basename(binary) + ':')]
    return r.returncode, (err[-1] if err else r.stdout.strip().split('\n')[-1])[:200]
