"""The guest agent (guest/agent.c) at boot: its kernel command-line
arguments, and the counters it prints on the console."""
import re

from . import env


def guest_cmdline(row):
    """The row's own kernel arguments, then the base's (GUEST_CMDLINE in
    bases/<base>.env: 7.3 counts the swiotlb high watermark only when asked,
    swiotlb=track_hiwater, and the rows judge the pools by it)."""
    return [a for a in (row.get('cmdline', ''), env.base_setting('GUEST_CMDLINE')) if a]


def agent_args(row, timeout):
    """agent.* arguments of a row; the watchdog fires before QEMU is killed
    after timeout seconds."""
    a = ['agent.timeout=%s' % row.get('agent_timeout', '15'),
         'agent.watchdog=%s' % row.get('agent_watchdog', str(max(30, timeout - 20)))]
    for k in ('decision', 'decision_exclude'):
        if k in row:
            a.append('agent.%s="%s"' % (k, row[k]))
    return a


def parse_log(text):
    """The "# counter k=v" lines, and agent_done, poweroff and panic."""
    c = {}
    for m in re.finditer(r'^# counter ([a-z0-9_]+)=(\S+)$', text, re.M):
        c[m.group(1)] = m.group(2)
    c['agent_done'] = '1' if re.search(r'^# agent: done', text, re.M) else '0'
    c['poweroff'] = '1' if re.search(r'reboot: (Power down|Restarting system)', text) else '0'
    c['panic'] = '1' if 'Kernel panic' in text else '0'
    return c
