"""The guest's device tree (arm64 virt): QEMU's own, dumped with a boot's
exact machine and devices, with a row's restricted-dma-pool and dma-coherent
edits."""
import os
import re
import subprocess

from cocodma import env, qemu
from cocodma.arches import ARCH

# The virtio-mmio node of each device qemu.devices() places, and dmamap: the
# first (empty) slot, bench's dma_map_benchmark device (dt.pool_on=dmamap).
MMIO_NODE = {'blk': 'a003e00', 'net0': 'a003c00', 'net1': 'a003a00', 'dmamap': 'a000000'}
PCI_DEV = {'blk': 5, 'net0': 6, 'net1': 7}


def node_span(lines, header_re):
    """(start, end) line indexes of the first node whose header matches."""
    for i, l in enumerate(lines):
        if re.match(r'^\s*' + header_re + r'\s*\{\s*$', l):
            depth = 0
            for j in range(i, len(lines)):
                depth += lines[j].count('{') - lines[j].count('}')
                if depth == 0:
                    return i, j
    raise RuntimeError('DT node %s not found' % header_re)


def make_dtb(row, disk, workdir):
    """QEMU dumpdtb with the row's exact machine/cpu/smp/mem/devices, dtc
    round-trip (never the raw dump: pitfall 3), then the row's DT edits:
    (workdir/dtb/NAME.dtb, the edits), or (None, []) for a row without dt.*."""
    if not any(k.startswith('dt.') for k in row):
        return None, []
    d = os.path.join(workdir, 'dtb')
    os.makedirs(d, exist_ok=True)
    raw, dts, out = (os.path.join(d, row['name'] + s) for s in ('.raw.dtb', '.dts', '.dtb'))
    cmd = ([ARCH[row['arch']]['qemu']] + qemu.machine_args(row) + qemu.devices(row, disk) +
           ['-machine', 'dumpdtb=' + raw])
    r = env.sh(cmd, stdin=subprocess.DEVNULL, timeout=60)
    if r.returncode or not os.path.exists(raw):
        raise RuntimeError('dumpdtb failed: %s\n%s' % (' '.join(cmd), r.stdout))
    r = env.sh(['dtc', '-q', '-I', 'dtb', '-O', 'dts', '-o', dts, raw])
    if r.returncode:
        raise RuntimeError('dtc decompile: ' + r.stdout)
    lines = open(dts).read().split('\n')
    edits = []
    _, root_end = node_span(lines, r'/')  # subnodes must follow properties: append at the end
    if 'dt.pool' in row:
        base, size = (int(x, 0) for x in row['dt.pool'].split(':'))
        name = 'restricted-dma@%x' % base
        props = [p.strip() + ';' for p in row.get('dt.pool_props', '').split(';') if p.strip()]
        node = ['\treserved-memory {', '\t\t#address-cells = <0x02>;', '\t\t#size-cells = <0x02>;',
                '\t\tranges;', '\t\tmxpool: %s {' % name,
                '\t\t\tcompatible = "restricted-dma-pool";',
                '\t\t\treg = <0x%x 0x%x 0x%x 0x%x>;' % (base >> 32, base & 0xffffffff,
                                                        size >> 32, size & 0xffffffff)]
        node += ['\t\t\t' + p for p in props] + ['\t\t};', '\t};']
        lines[root_end:root_end] = node
        edits.append('pool %s size 0x%x%s' % (name, size, (' ' + ' '.join(props)) if props else ''))
        targets = [t for t in row.get('dt.pool_on', 'blk').split(',') if t]
        for t in targets:
            if t == 'host':
                s, _ = node_span(lines, r'pcie@10000000')
                lines.insert(s + 1, '\t\tmemory-region = <&mxpool>;')
                edits.append('memory-region on pcie@10000000 (host bridge)')
            elif row.get('transport', 'mmio') == 'pci':
                s, e = node_span(lines, r'pcie@10000000')
                dev = PCI_DEV[t]
                lines[e:e] = ['\t\tpci@%x,0 {' % dev,
                              '\t\t\treg = <0x%x 0x00 0x00 0x00 0x00>;' % (dev << 11),
                              '\t\t\tmemory-region = <&mxpool>;', '\t\t};']
                edits.append('memory-region on pci@%x,0 (%s)' % (dev, t))
            else:
                s, _ = node_span(lines, r'virtio_mmio@' + MMIO_NODE[t])
                lines.insert(s + 1, '\t\tmemory-region = <&mxpool>;')
                edits.append('memory-region on virtio_mmio@%s (%s)' % (MMIO_NODE[t], t))
    for t in [t for t in row.get('dt.noncoherent', '').split(',') if t]:
        s, e = node_span(lines, r'virtio_mmio@' + MMIO_NODE[t])
        body = [l for l in lines[s + 1:e] if l.strip() != 'dma-coherent;']
        if len(body) != e - s - 2:
            raise RuntimeError('dma-coherent not found exactly once in ' + MMIO_NODE[t])
        lines[s + 1:e] = ['\t\tdma-noncoherent;'] + body  # pitfall 6: delete dma-coherent
        edits.append('virtio_mmio@%s (%s): dma-coherent deleted, dma-noncoherent added' % (
            MMIO_NODE[t], t))
    with open(dts, 'w') as f:
        f.write('\n'.join(lines))
    r = env.sh(['dtc', '-q', '-I', 'dts', '-O', 'dtb', '-o', out, dts])
    if r.returncode:
        raise RuntimeError('dtc compile: ' + r.stdout)
    os.unlink(raw)
    return out, edits
