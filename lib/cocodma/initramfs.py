"""The guest's initramfs: guest/agent.c as /init, packed with the kernel's
own usr/gen_init_cpio."""
import glob
import os
import subprocess

from cocodma import env
from cocodma.arches import tool


def gen_init_cpio(workdir):
    """The tool from a series build dir, else compiled into workdir."""
    cached = os.path.join(workdir, 'gen_init_cpio')
    src = os.path.join(env.TREE, 'usr', 'gen_init_cpio.c')
    for cand in glob.glob(os.path.join(env.BUILD, 'series-*', 'usr', 'gen_init_cpio')):
        if os.access(cand, os.X_OK):
            return cand
    if not os.path.exists(cached) or os.path.getmtime(cached) < os.path.getmtime(src):
        r = env.sh(['gcc', '-O2', '-o', cached, src])
        if r.returncode:
            raise RuntimeError('gen_init_cpio: ' + r.stdout)
    return cached


def build_initramfs(arch, workdir, extra=()):
    """workdir/initramfs-ARCH.cpio: the agent (static) as /init, /dev/console,
    and the extra files, (name in the guest, path here) pairs."""
    src = os.path.join(env.TOP, 'guest', 'agent.c')
    agent = os.path.join(workdir, 'agent-%s' % arch)
    cpio = os.path.join(workdir, 'initramfs-%s.cpio' % arch)
    r = env.sh([tool(arch, 'gcc'), '-static', '-O2', '-Wall', '-Wno-format-truncation',
                '-o', agent, src])
    if r.returncode:
        raise RuntimeError('agent build failed for %s:\n%s' % (arch, r.stdout))
    lst = os.path.join(workdir, 'initramfs-%s.list' % arch)
    with open(lst, 'w') as f:
        f.write('dir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\n'
                'dir /proc 0755 0 0\ndir /sys 0755 0 0\n'
                'file /init %s 0755 0 0\n' % agent)
        for name, path in extra:
            f.write('file %s %s 0755 0 0\n' % (name, path))
    with open(cpio, 'wb') as f:
        if subprocess.call([gen_init_cpio(workdir), lst], stdout=f):
            raise RuntimeError('gen_init_cpio failed for ' + arch)
    return cpio
