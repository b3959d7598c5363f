#!/usr/bin/env python3
"""ktap.py: small KTAP reader for coco-dma's reports (stdlib only).

  ktap.py extract KERNEL_LOG OUT.ktap   KTAP lines of a kernel log, via the
                                        kernel's own kunit_parser.extract_tap_lines
                                        (needs KUNIT_DIR=tools/testing/kunit)
  ktap.py count IN.ktap                 "passed failed skipped" over leaf results
  ktap.py junit IN.ktap OUT.xml NAME    JUnit XML, one testcase per leaf result
  ktap.py merge OUT.ktap NAME=IN.ktap...
                                        one KTAP document from several runs (one
                                        boot per suite): top-level results are
                                        renumbered; a run that printed no result
                                        becomes "not ok N NAME"

A leaf is a result with no subtests: every KUnit case (every parameter of a
parameterised case) and every matrix row counts once. A missing plan line or
a plan that promised more results than were printed counts as a failure, so a
crashed run can never look green.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

RESULT = re.compile(r'^(\s*)(ok|not ok) (\d+)(?: -)? ?([^#]*?)\s*(?:#\s*(\S+)\s*(.*))?$')
PLAN = re.compile(r'^(\s*)1\.\.(\d+)')
SUBTEST = re.compile(r'^(\s*)# Subtest: (.*)$')


def parse(lines):
    """Return (leaves, problems). leaves: list of (path, status, detail)."""
    leaves, problems = [], []
    stack = [{'name': '', 'plan': None, 'seen': 0, 'children': []}]
    pending_children = {}
    indent_of = lambda s: len(s) - len(s.lstrip(' \t'))
    depth_stack = [0]
    saw_anything = False
    for raw in lines:
        line = raw.rstrip('\n')
        m = RESULT.match(line)
        if m:
            saw_anything = True
            ind = indent_of(line)
            status = 'pass' if m.group(2) == 'ok' else 'fail'
            directive = (m.group(5) or '').upper()
            detail = (m.group(6) or '').strip()
            if directive == 'SKIP':
                status = 'skip' if status == 'pass' else 'fail'
            elif directive == 'TODO':  # a known, expected failure: not a pass
                status = 'skip' if status == 'fail' else 'fail'
                detail = 'TODO ' + detail
            name = m.group(4).strip() or f'test{m.group(3)}'
            key = ind
            # children already reported at a deeper indent belong to this result
            kids = [k for d, k in pending_children.items() if d > ind]
            for d in [d for d in pending_children if d > ind]:
                del pending_children[d]
            kids = [leaf for group in kids for leaf in group]
            if kids:
                prefixed = [(f'{name}.{p}', s, dt) for p, s, dt in kids]
                if status == 'fail' and all(s != 'fail' for _, s, _ in kids):
                    prefixed.append((name, 'fail', 'parent failed: ' + detail))
                pending_children.setdefault(key, []).extend(prefixed)
            else:
                pending_children.setdefault(key, []).append((name, status, detail))
            continue
        m = PLAN.match(line)
        if m:
            stack.append({'indent': indent_of(line), 'plan': int(m.group(2))})
    empty_plan = any(PLAN.match(l) and PLAN.match(l).group(2) == '0' for l in lines)
    if not saw_anything and not empty_plan:
        problems.append('no KTAP results at all')
    top = min(pending_children) if pending_children else 0
    for d in sorted(pending_children):
        if d != top:
            problems.append(f'{len(pending_children[d])} results without a parent at indent {d}')
        leaves.extend(pending_children[d])
    plans = [s['plan'] for s in stack[1:] if s.get('indent', 1) == top]
    if plans:
        tops = sum(1 for raw in lines if RESULT.match(raw.rstrip('\n')) and indent_of(raw.rstrip('\n')) == top)
        if tops < plans[0]:
            problems.append(f'plan promised {plans[0]} results, got {tops}')
    elif saw_anything:
        problems.append('no top-level plan line')
    return leaves, problems


def load(path):
    with open(path, errors='replace') as f:
        return f.readlines()


def count(path):
    leaves, problems = parse(load(path))
    p = sum(1 for _, s, _ in leaves if s == 'pass')
    f = sum(1 for _, s, _ in leaves if s == 'fail') + len(problems)
    s = sum(1 for _, st, _ in leaves if st == 'skip')
    return p, f, s, leaves, problems


def junit(path, out, suite):
    p, f, s, leaves, problems = count(path)
    ts = ET.Element('testsuite', name=suite, tests=str(p + f + s), failures=str(f), skipped=str(s))
    for name, status, detail in leaves:
        tc = ET.SubElement(ts, 'testcase', classname=suite, name=name)
        if status == 'fail':
            ET.SubElement(tc, 'failure', message=detail or 'failed')
        elif status == 'skip':
            ET.SubElement(tc, 'skipped', message=detail)
    for prob in problems:
        tc = ET.SubElement(ts, 'testcase', classname=suite, name='ktap-structure')
        ET.SubElement(tc, 'failure', message=prob)
    root = ET.Element('testsuites')
    root.append(ts)
    ET.ElementTree(root).write(out, encoding='utf-8', xml_declaration=True)


def extract(log, out):
    sys.path.insert(0, os.environ.get('KUNIT_DIR', 'tools/testing/kunit'))
    import kunit_parser  # the kernel's own parser: strips console prefixes
    with open(log, errors='replace') as f:
        stream = kunit_parser.extract_tap_lines(f.readlines())
        lines = []
        while stream:
            lines.append(stream.pop())
    with open(out, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def merge(out, parts):
    body, n = [], 0
    for part in parts:
        name, path = part.split('=', 1)
        lines = load(path) if os.path.exists(path) else []
        top = [i for i, l in enumerate(lines) if RESULT.match(l) and not l[0].isspace()]
        if not top:
            n += 1
            body.append(f'not ok {n} {name} # no KTAP result in {os.path.basename(path)}\n')
            continue
        start = 0
        for i in top:
            n += 1
            chunk = [l for l in lines[start:i] if not l.startswith('KTAP version') and not (PLAN.match(l) and not l[0].isspace())]
            m = RESULT.match(lines[i])
            body += chunk + [f'{m.group(2)} {n}{lines[i][m.end(3):]}']
            start = i + 1
    with open(out, 'w') as f:
        f.write('KTAP version 1\n1..%d\n' % n + ''.join(l if l.endswith('\n') else l + '\n' for l in body))


def main(argv):
    if len(argv) >= 3 and argv[1] == 'count':
        p, f, s, _, problems = count(argv[2])
        for prob in problems:
            print(f'{argv[2]}: {prob}', file=sys.stderr)
        print(p, f, s)
    elif len(argv) == 5 and argv[1] == 'junit':
        junit(argv[2], argv[3], argv[4])
    elif len(argv) >= 4 and argv[1] == 'merge':
        merge(argv[2], argv[3:])
    elif len(argv) == 4 and argv[1] == 'extract':
        extract(argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
