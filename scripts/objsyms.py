#!/usr/bin/env python3
"""objsyms.py: what a link of the touched directories needs from the rest of
the kernel, to tell whether a config variant can fail to link.

  objsyms.py dump NM BUILD_DIR DIR... > side.json
      Objects of each DIR (kbuild's built-in.a members and the objects of
      every module, from its .mod file): the global symbols built-in code
      leaves undefined and defines, the same for module code, and the symbols
      exported (__export_symbol_<sym>).
  objsyms.py new BASE.json SERIES.json
      The external symbols the series needs and the base did not: a built-in
      undefined symbol that no touched built-in object defines, and a module
      undefined symbol that no touched object exports. Prints them, one per
      line, and exits 1 when there are any: only then can the series' link
      fail where the base's succeeds, so only then must the variant link all
      of vmlinux (and run modpost).
"""
import json
import os
import subprocess
import sys


def nm(nmbin, objs):
    """(undefined set, defined-global set) over objs. EXPORT_SYMBOL()'s
    __export_symbol_<sym> is a local label: it counts as defined too."""
    undef, defd = set(), set()
    objs = [o for o in objs if os.path.exists(o)]
    for i in range(0, len(objs), 200):
        out = subprocess.run([nmbin] + objs[i:i + 200], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, universal_newlines=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) == 2 and f[0] == 'U':
                undef.add(f[1])
            elif len(f) == 3 and (f[1].isupper() and f[1] not in ('U', 'W', 'V')
                                  or f[2].startswith('__export_symbol_')):
                defd.add(f[2])
    return undef, defd


def dump(nmbin, build, dirs):
    builtin, modules = [], []
    for d in dirs:
        top = os.path.join(build, d)
        for root, _, files in os.walk(top):
            for f in files:
                p = os.path.join(root, f)
                if f == 'built-in.a':
                    r = subprocess.run(['ar', 't', os.path.abspath(p)], stdout=subprocess.PIPE, universal_newlines=True, cwd=build)
                    builtin += [m if os.path.isabs(m) else os.path.join(build, m) for m in r.stdout.split()]
                elif f.endswith('.mod'):
                    with open(p) as fh:
                        modules += [m if os.path.isabs(m) else os.path.join(build, m) for m in fh.read().split()]
    # built-in.a of a directory also lists its subdirectories' archives' members
    builtin = sorted(set(m for m in builtin if m.endswith('.o')))
    modules = sorted(set(modules))
    bu, bd = nm(nmbin, builtin)
    mu, md = nm(nmbin, modules)
    exported = sorted(s[len('__export_symbol_'):] for s in bd | md if s.startswith('__export_symbol_'))
    return dict(builtin_objs=len(builtin), module_objs=len(modules),
                builtin_undef=sorted(bu - bd), builtin_def=sorted(bd),
                module_undef=sorted(mu - md), exported=exported)


def new(base, series):
    need = []
    for s in sorted(set(series['builtin_undef']) - set(base['builtin_undef'])):
        need.append('%s (built-in code calls it)' % s)
    exported = set(series['exported'])
    for s in sorted(set(series['module_undef']) - set(base['module_undef']) - exported):
        need.append('%s (module code calls it%s)' % (
            s, ', a touched built-in object defines it without exporting it' if s in series['builtin_def'] else ''))
    return need


def main(argv):
    if len(argv) >= 4 and argv[1] == 'dump':
        json.dump(dump(argv[2], argv[3], argv[4:]), sys.stdout, indent=1)
        return 0
    if len(argv) == 4 and argv[1] == 'new':
        with open(argv[2]) as a, open(argv[3]) as b:
            need = new(json.load(a), json.load(b))
        print('\n'.join(need))
        return 1 if need else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
