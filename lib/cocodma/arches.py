"""The guest architectures: QEMU binary and default machine, kernel image,
console, and the toolchain that builds for them."""
import os

HOST_ARCH = {'x86_64': 'x86_64', 'aarch64': 'arm64'}.get(os.uname().machine)

ARCH = {
    'arm64': dict(qemu='qemu-system-aarch64', cross='aarch64-linux-gnu-',
                  image='arch/arm64/boot/Image', console='ttyAMA0',
                  machine='virt', cpu='cortex-a57', mem='1024'),
    'x86_64': dict(qemu='qemu-system-x86_64', cross='',
                   image='arch/x86/boot/bzImage', console='ttyS0',
                   machine='q35', cpu='qemu64', mem='512'),
}


def tool(arch, name):
    """gcc, nm, objdump... for arch: Debian's cross toolchain, as cross_prefix() in scripts/lib.sh."""
    return ARCH[arch]['cross'] + name
