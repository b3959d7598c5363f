"""matrix/rows/*.row (key=value, see matrix/README.md): loading, and the
expectations of a row on each side."""
import fnmatch
import glob
import os
import re
import sys

from cocodma import env

# Checked on every boot row unless the row overrides the key.
DEFAULT_EXPECT = {
    'poweroff': '1', 'agent_done': '1', 'disk': 'pass', 'net': 'pass',
    'kmsg_warn': '0', 'kmsg_bug': '0', 'kmsg_swiotlb_full': '0',
    'kmsg_dma_err': '0', 'kmsg_io_err': '0', 'kmsg_access_platform_refused': '0',
    'kmsg_pool_too_small': '0', 'kmsg_cvq_err': '0',
}


def load_rows():
    """Every row, emulable ones first, or those whose name matches a glob of ROWS."""
    rows = []
    for path in sorted(glob.glob(os.path.join(env.TOP, 'matrix', 'rows', '*.row'))):
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
    """The row's expectations for side: DEFAULT_EXPECT for boot and pkvm
    rows, unless the row lists side in no_defaults= (the side of a negative
    pkvm row that must fail), then the row's expect.* and expect.<side>.*."""
    exp = {}
    if row['kind'] in ('boot', 'pkvm') and side not in row.get('no_defaults', '').split():
        exp = dict(DEFAULT_EXPECT)
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
