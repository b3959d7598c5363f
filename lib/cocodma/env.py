"""Where things are for one kernel base, and the helpers every runner uses.

BASE (environment, default 6.12) picks the base: its tree work/linux-<BASE>,
its build dirs work/build/<BASE>/... and worktrees work/wt/<BASE>/..., as
scripts/lib.sh.  OUT (environment, default out/<BASE>/) takes the reports.
"""
import os
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BASE = os.environ.get('BASE', '6.12')
OUT = os.environ.get('OUT', os.path.join(TOP, 'out', BASE))
BUILD = os.path.join(TOP, 'work', 'build', BASE)
WT = os.path.join(TOP, 'work', 'wt', BASE)
TREE = os.path.join(TOP, 'work', 'linux-' + BASE)
PROG = 'cocodma'  # the log prefix: each front end sets its name


def base_setting(name, default=''):
    """A setting of bases/<BASE>.env (a shell file: bash reads it, as
    scripts/lib.sh does)."""
    f = os.path.join(TOP, 'bases', BASE + '.env')
    if not os.path.exists(f):
        return default
    r = subprocess.run(['bash', '-c', '. "$1"; printf "%%s" "${%s-}"' % name, 'base', f],
                       stdout=subprocess.PIPE, universal_newlines=True)
    return r.stdout if r.returncode == 0 and r.stdout else default


def log(msg):
    print('[%s %s] %s' % (PROG, time.strftime('%H:%M:%S'), msg), file=sys.stderr, flush=True)


def lock_fds():
    """The build lock's descriptor when this process inherited it held
    (scripts/lib.sh build_lock: fd 9 and COCO_BUILD_LOCK_HELD), for
    pass_fds= of a script that builds: without it subprocess closes fd 9,
    and the script waits for the lock its own caller holds."""
    if not os.environ.get('COCO_BUILD_LOCK_HELD'):
        return ()
    try:
        os.fstat(9)
    except OSError:
        return ()
    return (9,)


def sh(cmd, stderr=subprocess.STDOUT, **kw):
    """Run cmd, its output as text; stderr goes into stdout unless the caller
    passes stderr=subprocess.PIPE to read it apart."""
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=stderr,
                          universal_newlines=True, **kw)
