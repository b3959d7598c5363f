"""The kernel checkers' reports in a console log (configs/checkers.txt, the
list scripts/kunit.sh reads too): KASAN, lockdep, atomic sleep, DMA-API."""
import os
import re

from . import env


def load():
    """[(name, compiled regex)] from configs/checkers.txt."""
    out = []
    with open(os.path.join(env.TOP, 'configs', 'checkers.txt')) as f:
        for line in f:
            line = line.rstrip('\n')
            if line and not line.startswith('#'):
                name, rx = line.split('\t', 1)
                out.append((name, re.compile(rx)))
    return out


def counter_key(name):
    """The counter of a checker's reports in a matrix row: chk_<name>."""
    return 'chk_' + name.replace('-', '_')


def normalise(line):
    """A report line without what differs between two boots of the same bug
    (timestamp, addresses, numbers), to compare stock with series."""
    line = re.sub(r'^\[\s*\d+\.\d+\]\s*', '', line.strip())
    return re.sub(r'0x[0-9a-f]+|\b[0-9a-f]{8,}\b|\d+', 'N', line)


def scan(text):
    """{name: [report lines]} for every checker, in the order they came."""
    found = {name: [] for name, _ in load_cached()}
    for line in text.split('\n'):
        if line.startswith('# kmsg:'):  # the agent's copy of a kernel line
            continue
        for name, rx in load_cached():
            if rx.search(line):
                found[name].append(line.strip())
    return found


_cache = []


def load_cached():
    """load(), read once per process."""
    if not _cache:
        _cache.extend(load())
    return _cache
