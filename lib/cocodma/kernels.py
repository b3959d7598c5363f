"""The guest kernels, one per side (series, stock) and arch."""
import os
import subprocess

from cocodma import env
from cocodma.arches import ARCH

TAG = {'series': 'series', 'stock': 'base'}  # the build dir name of each side
# MATRIX_VARIANT=debug: the guest kernels with the kernel's checkers
# (configs/variants/debug.config), in build dirs of their own.
VARIANT = os.environ.get('MATRIX_VARIANT', 'none') or 'none'


def build_kernels(sides, arches, logdir):
    """The guest kernels of every side and arch, from scripts/guest-kernel.sh
    (stock: coco-base; series: the tree's HEAD, or the tree itself when it has
    uncommitted changes), its log in logdir. With MATRIX_NO_BUILD=1, the
    existing build dirs."""
    kern = {}
    for side in sides:
        for arch in arches:
            bdir = os.path.join(env.BUILD, '%s-%s%s' % (TAG[side], '' if VARIANT == 'none' else VARIANT + '-', arch))
            info = dict(tree=env.TREE, build=bdir, error=None)
            if os.environ.get('MATRIX_NO_BUILD') != '1':
                env.log('kernel %s/%s%s (scripts/guest-kernel.sh, builds under the build lock)' % (
                    side, arch, '' if VARIANT == 'none' else ' ' + VARIANT))
                blog = os.path.join(logdir, 'build-%s-%s.log' % (side, arch))
                with open(blog, 'w') as f:
                    r = subprocess.run(['bash', os.path.join(env.TOP, 'scripts', 'guest-kernel.sh'), side, arch, VARIANT],
                                       stdout=subprocess.PIPE, stderr=f, universal_newlines=True,
                                       pass_fds=env.lock_fds())
                if r.returncode:
                    info['error'] = 'scripts/guest-kernel.sh %s %s failed (rc=%d), see %s' % (
                        side, arch, r.returncode, os.path.relpath(blog, env.TOP))
                else:
                    info['build'] = bdir = r.stdout.strip().splitlines()[-1]
            info['image'] = os.path.join(bdir, ARCH[arch]['image'])
            if not info['error'] and not os.path.exists(info['image']):
                info['error'] = 'no kernel image %s' % os.path.relpath(info['image'], env.TOP)
            # The commit a stamped build dir was built from (its worktree may
            # have moved on since); the tree itself for an unstamped one.
            stamp = os.path.join(bdir, '.coco-stamp')
            rev = open(stamp).read().split()[0] if os.path.exists(stamp) else None
            info['commit'] = rev
            r = env.sh(['git', '-C', env.TREE, 'describe', '--always'] + ([rev] if rev else ['--dirty']))
            n = env.sh(['git', '-C', env.TREE, 'rev-list', '--count', 'coco-base..%s' % (rev or 'HEAD')])
            info['rev'] = '%s (%s patches on coco-base)' % (r.stdout.strip(), n.stdout.strip() or '?')
            kern[(side, arch)] = info
    return kern
