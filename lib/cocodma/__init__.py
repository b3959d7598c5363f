"""cocodma: what the boot matrix (matrix/run.py) and the benchmark
(bench/run.py) share, python3 stdlib only.  A front end puts lib/ on sys.path
and imports the modules it needs; each module does one job:

  env        paths of the kernel base (BASE), OUT, the log prefix, log(), sh()
  arches     the guest arches: QEMU binary, image, console, machine, toolchain
  kernels    the stock and series guest kernels (scripts/guest-kernel.sh)
  initramfs  gen_init_cpio and the initramfs with guest/agent.c as /init
  agent      the agent's kernel arguments and the counters it prints
  rowfile    matrix/rows/*.row: loading, expectations, check_value()
  qemu       machine and device arguments, the boot command line, running a
             boot, accelerator choice (KVM probe), QEMU version and help
  dtb        dumpdtb with a boot's exact machine, restricted-dma-pool edits
  hw         hardware rows: does the host have it, does the local QEMU
             accept the row's command line
"""
