"""Hardware rows (kind=hw): whether the host has what a row requires, and
whether the local QEMU accepts the row's command line, without booting."""
import json
import os
import re
import shlex
import shutil
import subprocess

from cocodma import env, qemu
from cocodma.arches import ARCH


def read_param(path):
    try:
        return open(path).read().strip()
    except OSError:
        return None


def host_has(req):
    """(ok, reason) for a hardware requirement."""
    y = ('Y', 'y', '1')
    if req in ('sev', 'sev_es', 'sev_snp'):
        v = read_param('/sys/module/kvm_amd/parameters/' + req)
        if v is None:
            return False, 'host has no /sys/module/kvm_amd/parameters/%s (kvm_amd not loaded: not an AMD SEV host)' % req
        if v not in y:
            return False, '/sys/module/kvm_amd/parameters/%s=%s' % (req, v)
        if not os.path.exists('/dev/sev'):
            return False, 'no /dev/sev'
        return True, ''
    if req == 'tdx':
        v = read_param('/sys/module/kvm_intel/parameters/tdx')
        if v is None:
            return False, 'host has no /sys/module/kvm_intel/parameters/tdx (kvm_intel %s: not a TDX host)' % (
                'loaded' if os.path.isdir('/sys/module/kvm_intel') else 'not loaded')
        return (v in y), '/sys/module/kvm_intel/parameters/tdx=%s' % v
    if req == 'coco':
        reasons = []
        for r in ('sev', 'sev_snp', 'tdx'):
            ok, why = host_has(r)
            if ok:
                return True, ''
            reasons.append(why)
        return False, 'no CoCo host: ' + '; '.join(reasons)
    if req == 'cca':
        flash = os.environ.get('CCA_FLASH')
        why = 'no TF-A+TF-RMM firmware (set CCA_FLASH=flash.bin from the OP-TEE qemu_v8_cca manifest)'
        if flash and os.path.exists(flash):
            why = 'realm launch inside the TCG host needs a CCA host kernel and an rme-guest QEMU/kvmtool, not provided'
        return False, why
    return False, 'unknown requirement %s' % req


def validate_hw(row, workdir):
    """Check the row's QEMU command line against the local QEMU without
    booting.  Returns (ok, detail, missing): ok=False means a real error in
    the command line (typo, unknown property); missing is the reason to SKIP
    when the local QEMU is too old for an object type or property.  The
    TCG check (validate_tcg) dumps its DTB into workdir."""
    binary = row['qemu_bin']
    ver = '.'.join(map(str, qemu.version(binary)))
    args = shlex.split(row['qemu'])
    notes, missing, errors = [], [], []
    i = 0
    while i < len(args):
        opt, val = args[i], args[i + 1] if i + 1 < len(args) else ''
        if opt == '-object':
            typ = json.loads(val)['qom-type'] if val.startswith('{') else val.split(',')[0]
            rc, err = qemu.instantiate(binary, ['-M', 'none', '-object', val])
            if rc == 0:
                notes.append('-object %s created' % typ)
            elif ('invalid object type' in err or "'qom-type' does not accept value" in err) and \
                    typ in row.get('newer_objects', '').split(','):
                missing.append('QEMU %s has no -object %s (%s)' % (ver, typ, err))
            else:
                errors.append('-object %s: %s' % (typ, err))
            i += 2
        elif opt in ('-device', '-machine', '-M'):
            hopt = '-machine' if opt == '-M' else opt
            typ, _, props = val.partition(',')
            if '=' in typ:  # "-M acpi=off": properties of the machine given earlier
                typ, props = row.get('machine', ARCH[row['arch']]['machine']), val
            kv = dict((p + '=').split('=')[:2] for p in props.split(',') if p)
            keys = list(kv)
            rc, hl = qemu.help_text(binary, hopt, typ + ',help')
            known = set(k.replace('_', '-') for k in re.findall(r'^\s*([A-Za-z0-9_.-]+)=', hl, re.M))
            if not known:
                errors.append('%s %s: unknown type (%s)' % (hopt, typ, hl.strip().split('\n')[-1][:120]))
            else:
                bad = [k for k in keys if k.replace('_', '-') not in known]
                if hopt == '-machine':  # accelerator sugar (kernel_irqchip=...) is not in ,help
                    bad = [k for k in bad if qemu.instantiate(
                        binary, ['-accel', 'tcg', '-M', '%s,%s=%s' % (typ, k, kv[k])])[0] != 0]
                if bad:
                    errors.append('%s %s: unknown properties %s' % (hopt, typ, ','.join(bad)))
                else:
                    notes.append('%s %s: %d properties known' % (hopt, typ, len(keys)))
            i += 2
        elif opt == '-cpu' and row['arch'] == 'x86_64':
            rc, hl = qemu.help_text(binary, '-cpu', 'help')
            model = val.split(',')[0]
            if model != 'host' and not re.search(r'\b%s\b' % re.escape(model), hl):
                if model in row.get('newer_cpus', '').split(','):
                    missing.append('QEMU %s has no CPU model %s' % (ver, model))
                else:
                    errors.append('unknown CPU model %s' % model)
            i += 2
        else:
            i += 1
    if row.get('validate_tcg'):  # instantiate machine+cpu under TCG (dumpdtb, no boot)
        tmp = os.path.join(workdir, row['name'] + '.validate.dtb')
        cmd = [binary, '-accel', 'tcg'] + shlex.split(row['validate_tcg']) + ['-machine', 'dumpdtb=' + tmp]
        r = env.sh(cmd, stdin=subprocess.DEVNULL, timeout=60)
        newer = row.get('validate_tcg_newer')
        if r.returncode:
            msg = r.stdout.strip().split('\n')[-1][:200]
            if newer and re.search(r"[.']%s' not found" % re.escape(newer), msg):
                missing.append('QEMU %s lacks %s: %s' % (ver, newer, msg))
            else:
                errors.append('TCG instantiation failed: %s' % msg)
        else:
            notes.append('machine+cpu instantiated under TCG')
            os.unlink(tmp)
    if errors:
        return False, '; '.join(errors + notes), '; '.join(missing) or None
    return True, '; '.join(notes) or 'nothing to check', '; '.join(missing) or None
