#!/usr/bin/env python3
"""summary.py OUT_DIR [--expect NAME.ktap ...]
summary.py --merge OUT_ROOT BASE...

One table for `make check`: every named check (out/results/check-*.res), every
KUnit case (out/kunit-<arch>.ktap) and every matrix row (out/matrix.ktap), then
the plain line "N passed, N failed[, N skipped]". INFO lines (reports that
gate nothing, such as a Debian 6.12.y the series does not promise to apply
to) are listed and counted nowhere. An expected KTAP file that is
missing counts as a failure. Writes OUT_DIR/check-summary.txt and the rows,
one per line, to OUT_DIR/check-rows.tsv. Exit status is 1 when anything
failed.

--merge: the summary of make check over several bases
(scripts/check-bases.sh): every row of OUT_ROOT/<base>/check-rows.tsv, named
with its base ("7.3: kunit-x86_64"), the wall time of each base, and one
"N passed, N failed[, N skipped]" line over all of them. A base without rows
(its check did not run to the end) is a failure.
"""
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktap  # noqa: E402


def table(rows):
    w = max([len(r[0]) for r in rows] + [4])
    lines = [f'{"step":<{w}}  result  detail', f'{"-" * w}  ------  ------']
    lines += [f'{n:<{w}}  {r:<6}  {d}' for n, r, d, *_ in rows]
    return lines


def totals(rows):
    P = sum(r[3] for r in rows)
    F = sum(r[4] for r in rows)
    S = sum(r[5] for r in rows)
    return P, F, S, f'{P} passed, {F} failed' + (f', {S} skipped' if S else '')


def times_block(title, times):
    """The wall times of title's steps or bases, one line each."""
    if not times:
        return ''
    w = max(len(n) for n, _ in times)
    return f'{title}:\n' + ''.join(
        f'  {n:<{w}}  {int(v) // 60:3d} min {int(v) % 60:02d} s\n' for n, v in times) + '\n'


def write_summary(out, text, rows, failed):
    """Write out/check-summary.txt, print it; the exit status."""
    with open(os.path.join(out, 'check-summary.txt'), 'w') as f:
        f.write(text)
    sys.stdout.write('\n' + text)
    return 1 if failed or not rows else 0


def merge(root, bases):
    rows, times, disk = [], [], []
    for b in bases:
        path = os.path.join(root, b, 'check-rows.tsv')
        if not os.path.exists(path):
            rows.append((f'{b}: check', 'FAIL', f'{path} missing: make check of {b} did not run to the end', 0, 1, 0))
            continue
        with open(path) as f:
            for line in f:
                n, r, d, p, fl, sk = line.rstrip('\n').split('\t')
                rows.append((f'{b}: {n}', r, d, int(p), int(fl), int(sk)))
        tpath = os.path.join(root, b, 'check-times.txt')
        if os.path.exists(tpath):
            t = dict(l.rstrip('\n').split('\t') for l in open(tpath) if l.strip())
            if 'total' in t:
                times.append((b, int(t['total'])))
        dpath = os.path.join(root, b, 'check-disk.txt')
        if os.path.exists(dpath):
            d = dict(l.rstrip('\n').split('\t') for l in open(dpath) if l.strip())
            disk.append(f"  {b:<6}  grew by up to {int(d['grew_kib']) / 1048576:.1f} GiB,"
                        f" reusing {int(d['reused_kib']) / 1048576:.1f} GiB\n")
    rows.sort(key=lambda r: r[1] == 'INFO')
    _, F, _, total = totals(rows)
    text = '\n'.join(table(rows)) + '\n\n'
    text += times_block('wall time per base (out/<base>/check-times.txt)', times)
    if disk:
        text += 'disk use per base (out/<base>/check-disk.txt, df sampled):\n' + ''.join(disk) + '\n'
    return write_summary(root, text + total + '\n', rows, F)


def main(argv):
    if len(argv) > 1 and argv[1] == '--merge':
        return merge(argv[2], argv[3:])
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
    with open(os.path.join(out, 'check-rows.tsv'), 'w') as f:
        f.writelines('\t'.join(str(x).replace('\t', ' ').replace('\n', ' ') for x in r) + '\n' for r in rows)
    _, F, _, total = totals(rows)
    text = '\n'.join(table(rows)) + '\n\n'
    times = os.path.join(out, 'check-times.txt')
    if os.path.exists(times):
        with open(times) as f:
            t = [l.rstrip('\n').split('\t') for l in f if l.strip()][1:]
        text += times_block(f'wall time per step ({os.path.relpath(out)}/check-times.txt)', t)
    return write_summary(out, text + total + '\n', rows, F)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
