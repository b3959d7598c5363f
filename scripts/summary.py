#!/usr/bin/env python3
"""summary.py OUT_DIR [--expect NAME.ktap ...]

One table for `make check`: every named check (out/results/check-*.res), every
KUnit case (out/kunit-<arch>.ktap) and every matrix row (out/matrix.ktap), then
the plain line "N passed, N failed[, N skipped]". INFO lines (reports that
gate nothing, such as a Debian 6.12.y the series does not promise to apply
to) are listed and counted nowhere. An expected KTAP file that is
missing counts as a failure. Writes OUT_DIR/check-summary.txt too. Exit status
is 1 when anything failed.
"""
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktap  # noqa: E402


def main(argv):
    out = argv[1]
    expect = [argv[i + 1] for i, a in enumerate(argv) if a == '--expect']
    rows = []  # (name, result, detail, passed, failed, skipped)
    # in the order the steps ran
    for path in sorted(glob.glob(os.path.join(out, 'results', 'check-*.res')), key=os.path.getmtime):
        with open(path) as f:
            res, name, detail = (f.read().rstrip('\n').split('\t') + ['', ''])[:3]
        rows.append((name, res, detail, int(res == 'PASS'), int(res == 'FAIL'), int(res == 'SKIP')))
    for name in expect:
        path = os.path.join(out, name)
        label = name.rsplit('.', 1)[0]
        if not os.path.exists(path):
            rows.append((label, 'FAIL', f'{name} missing: the step did not run to the end', 0, 1, 0))
            continue
        p, f, s, leaves, problems = ktap.count(path)
        failed = [n for n, st, _ in leaves if st == 'fail'] + problems
        detail = f'{p + f + s} results: {p} passed, {f} failed, {s} skipped'
        if failed:
            detail += '; failed: ' + ', '.join(failed[:6]) + (' ...' if len(failed) > 6 else '')
        if p + f + s == 0:  # "1..0 # SKIP reason": the step had nothing to run
            reason = ' '.join(l.split('# SKIP', 1)[1].strip() for l in open(path) if '# SKIP' in l)
            rows.append((label, 'SKIP', reason or 'no results', 0, 0, 1))
            continue
        rows.append((label, 'FAIL' if f else ('PASS' if p else 'SKIP'), detail, p, f, s))

    rows.sort(key=lambda r: r[1] == 'INFO')  # reports after results
    w = max([len(r[0]) for r in rows] + [4])
    lines = [f'{"step":<{w}}  result  detail', f'{"-" * w}  ------  ------']
    lines += [f'{n:<{w}}  {r:<6}  {d}' for n, r, d, *_ in rows]
    P = sum(r[3] for r in rows)
    F = sum(r[4] for r in rows)
    S = sum(r[5] for r in rows)
    total = f'{P} passed, {F} failed' + (f', {S} skipped' if S else '')
    text = '\n'.join(lines) + '\n\n'
    times = os.path.join(out, 'check-times.txt')
    if os.path.exists(times):
        with open(times) as f:
            t = [l.rstrip('\n').split('\t') for l in f if l.strip()][1:]
        if t:
            tw = max(len(n) for n, _ in t)
            text += 'wall time per step (out/check-times.txt):\n' + ''.join(
                f'  {n:<{tw}}  {int(v) // 60:3d} min {int(v) % 60:02d} s\n' for n, v in t) + '\n'
    text += total + '\n'
    with open(os.path.join(out, 'check-summary.txt'), 'w') as f:
        f.write(text)
    sys.stdout.write('\n' + text)
    return 1 if F or not rows else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
