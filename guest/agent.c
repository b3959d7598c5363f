// SPDX-License-Identifier: GPL-2.0
/*
 * coco-dma boot-matrix guest agent: runs as /init from an initramfs made
 * with the kernel's usr/gen_init_cpio (no busybox).
 *
 * It mounts proc/sys/debugfs/devtmpfs, then runs each test in a child
 * process with its own timeout (so I/O stuck in D state is reported, not
 * waited for):
 *   disk  pattern written to the first virtio-blk disk (O_DIRECT and
 *         buffered+fsync), caches dropped, read back with O_DIRECT, checksums
 *         compared;
 *   net   raw frames (AF_PACKET, ethertype 0x88b5) passed both ways between
 *         the two virtio-net NICs joined by a QEMU hubport hub;
 * then reads the swiotlb debugfs counters (default pool and every restricted
 * pool), /proc/vmallocinfo and the kernel log, prints KTAP plus
 * "# counter key=value" lines on the console, and powers off.
 *
 * Parameters come from /proc/cmdline (dotted names are ignored by the
 * kernel): agent.timeout=S (per test, default 15), agent.watchdog=S
 * (whole run, default 90), agent.disk_kib=N (default 4096),
 * agent.frames=N (default 64), agent.decision="ERE" (series decision line),
 * agent.decision_exclude="ERE", agent.off=poweroff|reboot,
 * agent.concurrent=1 (the disk and network tests at the same time).
 *
 * agent.mode=bench (make bench, see bench/README.md) replaces the tests:
 *   agent.dmamap=BUS:DEV  bind BUS (platform|pci) device DEV to the
 *         dma_map_benchmark driver (driver_override) and run the kernel's
 *         tools/testing/selftests/dma/dma_map_benchmark (/dma_map_benchmark)
 *         agent.dmamap_runs times with agent.dmamap_args;
 *   agent.blk_mib=N  sequential O_DIRECT write, then read, of N MiB of the
 *         first virtio-blk disk in agent.blk_chunk_kib requests,
 *         agent.blk_passes times (agent.blk_max_sectors_kb=N caps the
 *         block layer's requests first);
 *   agent.memcpy_mib=N  memcpy bandwidth, agent.memcpy_passes times;
 * each sample is one "# bench KEY ..." line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/reboot.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ETH_P_AGENT 0x88b5	/* IEEE 802 local experimental ethertype */
#define FRAME_LEN 1400

static char cmdline[4096];
static int test_no;
static int failures;

/* One write() per line so kernel console output does not split it. */
static void say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(1, buf, n) < 0)
		return;
}

static void result(int ok, const char *name, const char *fmt, ...)
{
	char why[512] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!ok)
		failures++;
	say("%s %d %s%s%s", ok ? "ok" : "not ok", ++test_no, name,
	    why[0] ? " # " : "", why);
}

static void power_off(void)
{
	const char *how = strstr(cmdline, "agent.off=reboot") ? "reboot" :
			  strstr(cmdline, "agent.off=poweroff") ? "poweroff" :
#ifdef __x86_64__
			  "reboot";	/* no ACPI needed; QEMU runs -no-reboot */
#else
			  "poweroff";	/* PSCI SYSTEM_OFF */
#endif
	say("# agent: %s", how);
	reboot(strcmp(how, "reboot") ? RB_POWER_OFF : RB_AUTOBOOT);
	for (;;)
		pause();
}

static void watchdog(int sig)
{
	(void)sig;
	say("Bail out! agent watchdog expired");
	power_off();
}

/* agent.KEY=VALUE or agent.KEY="VALUE WITH SPACES" from /proc/cmdline. */
static const char *param(const char *key, const char *def)
{
	static char val[8][512];
	static int slot;
	char pat[64];
	const char *p;
	char *v = val[slot++ & 7];
	size_t n = 0;

	snprintf(pat, sizeof(pat), "agent.%s=", key);
	for (p = cmdline; (p = strstr(p, pat)); p++)
		if (p == cmdline || p[-1] == ' ')
			break;
	if (!p)
		return def;
	p += strlen(pat);
	if (*p == '"') {
		for (p++; *p && *p != '"' && n < 511; p++)
			v[n++] = *p;
	} else {
		for (; *p && *p != ' ' && *p != '\n' && n < 511; p++)
			v[n++] = *p;
	}
	v[n] = 0;
	return v;
}

static long read_long(const char *path, long def)
{
	char buf[64];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return def;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return def;
	buf[n] = 0;
	return strtol(buf, NULL, 0);
}

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	buf[0] = 0;
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return 0;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Start fn() in a child; its PID, or -1. */
static pid_t start_child(int (*fn)(void))
{
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		_exit(fn());
	}
	return pid;
}

/*
 * Wait until time @end for the child @pid; return its exit code, or -1 on
 * timeout (the child is left behind: a task stuck in D state cannot be
 * killed anyway).
 */
static int wait_child(pid_t pid, double end)
{
	int st;

	if (pid < 0)
		return 99;
	while (now() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 98;
		usleep(20000);
	}
	kill(pid, SIGKILL);
	return -1;
}

/* Run fn() in a child; its exit code, or -1 after @timeout seconds. */
static int run_child(int (*fn)(void), int timeout)
{
	return wait_child(start_child(fn), now() + timeout);
}

/* ---------------------------------------------------------------- disk */

static char disk[64];

static uint64_t fnv64(const unsigned char *p, size_t n, uint64_t h)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static void fill(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
	size_t i;

	for (i = 0; i < n; i += 8) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
}

static int disk_test(void)
{
	size_t len = (size_t)atol(param("disk_kib", "4096")) * 1024;
	size_t chunk = 256 * 1024, off;
	unsigned char *buf;
	uint64_t want[2] = { 0xcbf29ce484222325ULL, 0xcbf29ce484222325ULL };
	uint64_t got[2] = { want[0], want[1] };
	int fd, half;

	if (posix_memalign((void **)&buf, 4096, chunk))
		return 2;
	/* First half: O_DIRECT writes.  Second half: buffered + fsync. */
	for (half = 0; half < 2; half++) {
		fd = open(disk, O_WRONLY | (half ? 0 : O_DIRECT));
		if (fd < 0) {
			say("# disk: open %s: %s", disk, strerror(errno));
			return 2;
		}
		for (off = 0; off < len / 2; off += chunk) {
			fill(buf, chunk, half * 100000 + off / chunk);
			want[half] = fnv64(buf, chunk, want[half]);
			if (pwrite(fd, buf, chunk, half * len / 2 + off) != (ssize_t)chunk) {
				say("# disk: write at %zu: %s", half * len / 2 + off, strerror(errno));
				return 2;
			}
		}
		if (fsync(fd)) {
			say("# disk: fsync: %s", strerror(errno));
			return 2;
		}
		close(fd);
	}
	sync();
	if (write_str("/proc/sys/vm/drop_caches", "3"))
		say("# disk: drop_caches failed: %s", strerror(errno));
	fd = open(disk, O_RDONLY | O_DIRECT);
	if (fd < 0)
		return 2;
	for (half = 0; half < 2; half++)
		for (off = 0; off < len / 2; off += chunk) {
			if (pread(fd, buf, chunk, half * len / 2 + off) != (ssize_t)chunk) {
				say("# disk: read at %zu: %s", half * len / 2 + off, strerror(errno));
				return 2;
			}
			got[half] = fnv64(buf, chunk, got[half]);
		}
	close(fd);
	say("# disk: %s %zu KiB direct want %016llx got %016llx, buffered want %016llx got %016llx",
	    disk, len / 1024, (unsigned long long)want[0], (unsigned long long)got[0],
	    (unsigned long long)want[1], (unsigned long long)got[1]);
	return (want[0] == got[0] && want[1] == got[1]) ? 0 : 1;
}

/* ----------------------------------------------------------------- net */

static char nic[2][IFNAMSIZ];

/*
 * An AF_PACKET socket: the guest kernels have no INET, and the interface
 * ioctls reach dev_ioctl() from a socket of any family.
 */
static int if_up(const char *name)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_PACKET, SOCK_DGRAM, 0), rc;

	if (s < 0)
		return -1;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	rc = ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!rc)
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	close(s);
	return rc;
}

static int raw_sock(const char *name, int *ifindex, unsigned char mac[6])
{
	struct sockaddr_ll sll = { 0 };
	char path[128], str[32];
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_AGENT));

	if (s < 0)
		return -1;
	/* From sysfs: glibc's if_nametoindex() wants an AF_INET/AF_UNIX socket. */
	snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", name);
	read_str(path, str, sizeof(str));
	*ifindex = atoi(str);
	if (*ifindex <= 0) {
		close(s);
		return -1;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_AGENT);
	sll.sll_ifindex = *ifindex;
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)))
		return -1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", name);
	read_str(path, str, sizeof(str));
	if (sscanf(str, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		   &mac[2], &mac[3], &mac[4], &mac[5]) != 6)
		return -1;
	return s;
}

/* Send frames one by one from a to b and wait for each one. */
static int pass_frames(int sa, int ia, const unsigned char *maca, int sb,
		       const unsigned char *macb, int frames, int *got)
{
	unsigned char tx[FRAME_LEN], rx[2048];
	struct sockaddr_ll to = { 0 };
	int i;

	to.sll_family = AF_PACKET;
	to.sll_ifindex = ia;
	to.sll_halen = 6;
	memcpy(to.sll_addr, macb, 6);
	*got = 0;
	for (i = 0; i < frames; i++) {
		struct pollfd pfd = { .fd = sb, .events = POLLIN };
		uint16_t type = htons(ETH_P_AGENT);
		double end = now() + 2;

		memcpy(tx, macb, 6);
		memcpy(tx + 6, maca, 6);
		memcpy(tx + 12, &type, 2);
		fill(tx + 14, FRAME_LEN - 14 - 2, 7000 + i);
		tx[FRAME_LEN - 2] = i & 0xff;
		tx[FRAME_LEN - 1] = i >> 8;
		if (sendto(sa, tx, FRAME_LEN, 0, (struct sockaddr *)&to, sizeof(to)) != FRAME_LEN)
			return -1;
		while (now() < end) {
			ssize_t n;

			if (poll(&pfd, 1, 200) <= 0)
				continue;
			n = recv(sb, rx, sizeof(rx), 0);
			if (n == FRAME_LEN && !memcmp(rx, tx, FRAME_LEN)) {
				(*got)++;
				break;
			}
		}
	}
	return 0;
}

static int net_test(void)
{
	int frames = atoi(param("frames", "64"));
	unsigned char mac[2][6];
	int s[2], idx[2], i, got[2] = { 0, 0 };
	char path[128];

	for (i = 0; i < 2; i++) {
		double end = now() + 5;

		if (if_up(nic[i])) {
			say("# net: cannot bring up %s: %s", nic[i], strerror(errno));
			return 2;
		}
		snprintf(path, sizeof(path), "/sys/class/net/%s/carrier", nic[i]);
		while (read_long(path, 0) != 1 && now() < end)
			usleep(20000);
		s[i] = raw_sock(nic[i], &idx[i], mac[i]);
		if (s[i] < 0) {
			say("# net: AF_PACKET socket on %s: %s", nic[i], strerror(errno));
			return 2;
		}
	}
	if (pass_frames(s[0], idx[0], mac[0], s[1], mac[1], frames, &got[0]) ||
	    pass_frames(s[1], idx[1], mac[1], s[0], mac[0], frames, &got[1])) {
		say("# net: sendto: %s", strerror(errno));
		return 2;
	}
	say("# net: %s->%s %d/%d frames, %s->%s %d/%d frames (%d bytes)",
	    nic[0], nic[1], got[0], frames, nic[1], nic[0], got[1], frames, FRAME_LEN);
	return (got[0] == frames && got[1] == frames) ? 0 : 1;
}

/* ------------------------------------------------------------ counters */

static void counter(const char *key, long v)
{
	say("# counter %s=%ld", key, v);
}

/* Every debugfs dir holding io_tlb_used_hiwater: "swiotlb" or a pool. */
static void swiotlb_counters(const char *when)
{
	const char *root = "/sys/kernel/debug";
	long pool_hw = -1, pool_used = -1, swl_hw = -1, swl_used = -1, pool_devs = -1;
	int pools = 0;
	struct dirent *d;
	DIR *dir = opendir(root);

	while (dir && (d = readdir(dir))) {
		char p[512];
		long nslabs, used, hw, tr, devs;

		if (d->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/io_tlb_used_hiwater", root, d->d_name);
		hw = read_long(p, -2);
		if (hw == -2)
			continue;
		snprintf(p, sizeof(p), "%s/%s/io_tlb_nslabs", root, d->d_name);
		nslabs = read_long(p, -1);
		snprintf(p, sizeof(p), "%s/%s/io_tlb_used", root, d->d_name);
		used = read_long(p, -1);
		snprintf(p, sizeof(p), "%s/%s/io_tlb_transient_nslabs", root, d->d_name);
		tr = read_long(p, -1);
		/* Devices sharing a restricted pool (series kernels only) */
		snprintf(p, sizeof(p), "%s/%s/io_tlb_devices", root, d->d_name);
		devs = read_long(p, -1);
		say("# swiotlb %s %s: nslabs=%ld used=%ld hiwater=%ld transient=%ld devices=%ld",
		    when, d->d_name, nslabs, used, hw, tr, devs);
		if (!strcmp(d->d_name, "swiotlb")) {
			swl_hw = hw;
			swl_used = used;
		} else {
			pools++;
			if (hw > pool_hw)
				pool_hw = hw;
			if (used > pool_used)
				pool_used = used;
			if (devs > pool_devs)
				pool_devs = devs;
		}
	}
	if (dir)
		closedir(dir);
	if (strcmp(when, "after"))
		return;
	/* -1: no such debugfs directory (no default swiotlb / no pool attached). */
	counter("swiotlb_hiwater", swl_hw);
	counter("swiotlb_used", swl_used);
	counter("pool_count", pools);
	counter("pool_hiwater", pool_hw);
	counter("pool_used", pool_used);
	counter("pool_devices", pool_devs);
}

/* Virtio devices: driver, transport and feature bits 32 (VERSION_1), 33 (ACCESS_PLATFORM). */
static void virtio_counters(void)
{
	const char *root = "/sys/bus/virtio/devices";
	int n = 0, ap = 0, v1 = 0;
	struct dirent *d;
	DIR *dir = opendir(root);

	while (dir && (d = readdir(dir))) {
		char p[512], feat[256], drv[512], parent[512];
		ssize_t l;

		if (d->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/features", root, d->d_name);
		if (read_str(p, feat, sizeof(feat)))
			continue;
		snprintf(p, sizeof(p), "%s/%s/driver", root, d->d_name);
		l = readlink(p, drv, sizeof(drv) - 1);
		drv[l > 0 ? l : 0] = 0;
		snprintf(p, sizeof(p), "%s/%s", root, d->d_name);
		l = readlink(p, parent, sizeof(parent) - 1);
		parent[l > 0 ? l : 0] = 0;
		if (strrchr(parent, '/'))
			*strrchr(parent, '/') = 0;
		n++;
		ap += strlen(feat) > 33 && feat[33] == '1';
		v1 += strlen(feat) > 32 && feat[32] == '1';
		say("# virtio %s driver=%s parent=%s VERSION_1=%c ACCESS_PLATFORM=%c",
		    d->d_name, strrchr(drv, '/') ? strrchr(drv, '/') + 1 : "none",
		    strrchr(parent, '/') ? strrchr(parent, '/') + 1 : parent,
		    strlen(feat) > 32 ? feat[32] : '?', strlen(feat) > 33 ? feat[33] : '?');
	}
	if (dir)
		closedir(dir);
	counter("virtio_devices", n);
	counter("access_platform", ap);
	counter("version_1", v1);
}

static void misc_counters(void)
{
	char line[512];
	int remap = 0, other = 0, groups = 0;
	FILE *f = fopen("/proc/vmallocinfo", "r");
	struct dirent *d;
	DIR *dir;

	while (f && fgets(line, sizeof(line), f)) {
		long size = 0;

		if (!strstr(line, "dma_common_contiguous_remap"))
			continue;
		sscanf(line, "%*s %ld", &size);
		remap++;
		/* 135168 = a 128 KiB atomic DMA pool + guard page; others are coherent buffers. */
		other += size != 135168;
	}
	if (f)
		fclose(f);
	counter("remap_total", remap);
	counter("remap_other", other);
	dir = opendir("/sys/kernel/iommu_groups");
	while (dir && (d = readdir(dir)))
		groups += d->d_name[0] != '.';
	if (dir)
		closedir(dir);
	counter("iommu_groups", groups);
}

/* Keep kernel messages off the console (quiet) or let them back. */
static void console_quiet(int quiet)
{
	static int level = -1;
	FILE *f;

	if (quiet) {
		f = fopen("/proc/sys/kernel/printk", "r");
		if (!f || fscanf(f, "%d", &level) != 1)
			level = -1;
		if (f)
			fclose(f);
		klogctl(8, NULL, 1);	/* SYSLOG_ACTION_CONSOLE_LEVEL: emergencies only */
	} else if (level > 0) {
		klogctl(8, NULL, level);
	}
}

/* Scan /dev/kmsg (the whole ring buffer) for problems and the decision line. */
static int kmsg_scan(void)
{
	struct { const char *key, *re; regex_t rx; int n; } pat[] = {
		{ "kmsg_warn", "WARNING:|cut here" },
		{ "kmsg_bug", "BUG:|Oops|Kernel panic|Unable to handle kernel" },
		{ "kmsg_swiotlb_full", "swiotlb buffer is full" },
		/* DMA-API: dma-debug's reports, not its boot lines (configs/checkers.txt) */
		{ "kmsg_dma_err", "DMA-API: ([^ :]+ [^ :]+: |.*(disabl|exceeded|out of memory|ENOMEM))|"
				  "DMA: Out of|swiotlb.*(fail|error)|dma.*mapping error|"
				  "failed to initiali[sz]e .restricted-dma-pool|"
				  "must be accessible within the linear mapping|"
				  "Reserved memory:.*(fail|invalid)|compatible matching fail" },
		{ "kmsg_io_err", "I/O error|blk_update_request|critical medium error" },
		{ "kmsg_access_platform_refused", "device must provide VIRTIO_F_(ACCESS_PLATFORM|VERSION_1)" },
		{ "kmsg_pool_too_small", "restricted DMA pool .* is too small" },
		/* virtio_net's control-queue commands that failed (rx mode, MAC, queues...) */
		{ "kmsg_cvq_err", "^(virtio_net|net) [^ :]+: Fail(ed)? to " },
		{ "kmsg_decision", param("decision", "virtio[0-9]+: using DMA API: DMA is bounced at physical addresses") },
	};
	const int npat = sizeof(pat) / sizeof(pat[0]);
	const char *excl = param("decision_exclude", "assigned reserved memory node");
	regex_t rx_excl;
	char rec[2048];
	int fd, i, shown = 0;

	for (i = 0; i < npat; i++)
		if (regcomp(&pat[i].rx, pat[i].re, REG_EXTENDED | REG_NOSUB)) {
			say("# kmsg: bad regex for %s: %s", pat[i].key, pat[i].re);
			pat[i].key = NULL;
		}
	regcomp(&rx_excl, excl, REG_EXTENDED | REG_NOSUB);
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		say("# kmsg: open /dev/kmsg: %s", strerror(errno));
		return -1;
	}
	/*
	 * A kernel that keeps logging (a pool that stays full) would write its
	 * lines into the middle of ours on the console, and a counter line cut
	 * that way is lost: keep the kernel off the console while we print.
	 * What it logs meanwhile is read from /dev/kmsg below.
	 */
	console_quiet(1);
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *msg, *nl;
		int hit = 0;

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = 0;
		for (i = 0; i < npat; i++) {
			if (!pat[i].key || regexec(&pat[i].rx, msg, 0, NULL, 0))
				continue;
			if (!strcmp(pat[i].key, "kmsg_decision") &&
			    !regexec(&rx_excl, msg, 0, NULL, 0))
				continue;
			pat[i].n++;
			hit = 1;
		}
		if (hit && shown++ < 40)
			say("# kmsg: %s", msg);
	}
	close(fd);
	for (i = 0; i < npat; i++)
		if (pat[i].key)
			counter(pat[i].key, pat[i].n);
	console_quiet(0);
	return 0;
}

/*
 * The debug guests (CONFIG_DEBUG_KMEMLEAK, make matrix-debug): leaks once
 * the I/O is done. kmemleak reports an object that two scans in a row found
 * unreferenced and unchanged, and that is older than 5 s: hence the wait
 * and the two scans. Other kernels have no such file and print nothing.
 */
static void kmemleak_counter(void)
{
	static const char path[] = "/sys/kernel/debug/kmemleak";
	char line[256];
	int n = 0, shown = 0;
	FILE *f;

	if (access(path, W_OK))
		return;
	sleep(6);
	if (write_str(path, "scan") || write_str(path, "scan")) {
		say("# kmemleak: scan: %s", strerror(errno));
		counter("kmemleak", -1);
		return;
	}
	f = fopen(path, "r");
	if (!f) {
		say("# kmemleak: %s: %s", path, strerror(errno));
		counter("kmemleak", -1);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "unreferenced object", 19))
			n++;
		if (n && shown++ < 30)
			say("# kmemleak: %s", line);
	}
	fclose(f);
	counter("kmemleak", n);
}

/* --------------------------------------------------------------- bench */

/* Bind /sys/bus/BUS/devices/DEV to the dma_map_benchmark driver. */
static int dmamap_bind(const char *spec)
{
	char bus[16], dev[64], p[256];
	const char *c = strchr(spec, ':');

	if (!c || c - spec >= (long)sizeof(bus))
		return -1;
	snprintf(bus, sizeof(bus), "%.*s", (int)(c - spec), spec);
	snprintf(dev, sizeof(dev), "%s", c + 1);
	snprintf(p, sizeof(p), "/sys/bus/%s/devices/%s/driver_override", bus, dev);
	if (write_str(p, "dma_map_benchmark")) {
		say("# bench dmamap: %s: %s", p, strerror(errno));
		return -1;
	}
	snprintf(p, sizeof(p), "/sys/bus/%s/drivers/dma_map_benchmark/bind", bus);
	if (write_str(p, dev)) {
		say("# bench dmamap: bind %s via %s: %s", dev, p, strerror(errno));
		return -1;
	}
	return access("/sys/kernel/debug/dma_map_benchmark", F_OK);
}

/* Run /dma_map_benchmark ARGS; each line of its output becomes "# bench dmamap run=N: LINE". */
static int dmamap_run(int run, const char *args)
{
	static char out[4096];
	char buf[1024], *argv[24], *line, *nl;
	int pfd[2], st, argc = 0;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	snprintf(buf, sizeof(buf), "%s", args);
	argv[argc++] = "/dma_map_benchmark";
	for (line = strtok(buf, " "); line && argc < 23; line = strtok(NULL, " "))
		argv[argc++] = line;
	argv[argc] = NULL;
	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while (len < sizeof(out) - 1 && (n = read(pfd[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += n;
	out[len] = 0;
	close(pfd[0]);
	waitpid(pid, &st, 0);
	for (line = out; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line) - 1;
		else
			*nl = 0;
		if (*line)
			say("# bench dmamap run=%d: %s", run, line);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 98;
}

static int blk_bench(void)
{
	size_t mib = atol(param("blk_mib", "0")), chunk = atol(param("blk_chunk_kib", "1024")) * 1024;
	int passes = atoi(param("blk_passes", "1")), pass, wr, fd;
	size_t total = mib << 20, off;
	unsigned char *buf;

	if (!disk[0] || !chunk || posix_memalign((void **)&buf, 4096, chunk))
		return 2;
	/* agent.blk_max_sectors_kb=N: cap the requests, as a control for the limits. */
	if (atol(param("blk_max_sectors_kb", "0")) > 0) {
		char p[128];

		snprintf(p, sizeof(p), "/sys/block/%s/queue/max_sectors_kb", disk + 5);
		if (write_str(p, param("blk_max_sectors_kb", "0")))
			say("# bench blk: %s: %s", p, strerror(errno));
	}
	/* The request limits the block layer works with: they set how an I/O is split. */
	for (pass = 0; pass < 4; pass++) {
		static const char *const q[] = { "max_hw_sectors_kb", "max_sectors_kb",
						 "max_segment_size", "max_segments" };
		char p[128], key[64];

		snprintf(p, sizeof(p), "/sys/block/%s/queue/%s", disk + 5, q[pass]);
		snprintf(key, sizeof(key), "blk_%s", q[pass]);
		counter(key, read_long(p, -1));
	}
	fill(buf, chunk, 42);
	for (pass = 0; pass < passes; pass++)
		for (wr = 1; wr >= 0; wr--) {
			double t;

			fd = open(disk, (wr ? O_WRONLY : O_RDONLY) | O_DIRECT);
			if (fd < 0)
				return 2;
			t = now();
			for (off = 0; off + chunk <= total; off += chunk)
				if ((wr ? pwrite(fd, buf, chunk, off) : pread(fd, buf, chunk, off)) !=
				    (ssize_t)chunk) {
					say("# bench blk: %s at %zu: %s", wr ? "write" : "read", off,
					    strerror(errno));
					return 1;
				}
			t = now() - t;
			close(fd);
			say("# bench blk pass=%d op=%s bytes=%zu chunk=%zu seconds=%.6f mib_s=%.2f",
			    pass, wr ? "write" : "read", total, chunk, t, total / 1048576.0 / t);
		}
	return 0;
}

static int memcpy_bench(void)
{
	size_t len = (size_t)atol(param("memcpy_mib", "0")) << 20, chunk = 256 * 1024, off;
	int passes = atoi(param("memcpy_passes", "1")), pass;
	unsigned char *src = malloc(len), *dst = malloc(len);

	if (!src || !dst || !len)
		return 2;
	fill(src, len, 1);
	memset(dst, 0, len);
	for (pass = 0; pass < passes; pass++) {
		double t = now();

		for (off = 0; off < len; off += chunk)
			memcpy(dst + off, src + off, chunk);
		t = now() - t;
		say("# bench memcpy pass=%d bytes=%zu chunk=%zu seconds=%.6f mib_s=%.2f",
		    pass, len, chunk, t, len / 1048576.0 / t);
	}
	return memcmp(src, dst, len) ? 1 : 0;
}

/* KTAP plan of bench_main(): mounts, the benchmarks asked for, kmsg_read. */
static int bench_plan(void)
{
	return 2 + (param("dmamap", "")[0] ? 2 : 0) + (atol(param("memcpy_mib", "0")) > 0) +
	       (atol(param("blk_mib", "0")) > 0);
}

/* agent.mode=bench: only the benchmarks asked for, then the counters. */
static void bench_main(void)
{
	const char *dev = param("dmamap", "");
	int rc, i, runs = atoi(param("dmamap_runs", "1"));

	if (dev[0]) {
		char args[512];

		snprintf(args, sizeof(args), "%s", param("dmamap_args", "-s 1"));
		rc = dmamap_bind(dev);
		result(rc == 0, "bench_dmamap_bind", rc ? "%s not bound" : "", dev);
		for (i = 0; rc == 0 && i < runs; i++)
			rc = dmamap_run(i, args);
		result(rc == 0, "bench_dmamap", rc ? "dma_map_benchmark rc=%d" : "", rc);
	}
	if (atol(param("memcpy_mib", "0")) > 0) {
		rc = memcpy_bench();
		result(rc == 0, "bench_memcpy", rc ? "rc=%d" : "", rc);
	}
	if (atol(param("blk_mib", "0")) > 0) {
		rc = disk[0] ? blk_bench() : 2;
		result(rc == 0, "bench_blk", rc ? "rc=%d (disk %s)" : "", rc, disk[0] ? disk : "missing");
	}
	swiotlb_counters("after");
	virtio_counters();
	result(kmsg_scan() == 0, "kmsg_read", "");
}

/* ---------------------------------------------------------------- main */

static void find_devices(void)
{
	struct dirent *d;
	DIR *dir = opendir("/sys/block");
	int n = 0;

	while (dir && (d = readdir(dir)))
		if (!strncmp(d->d_name, "vd", 2) && (!disk[0] || strcmp(d->d_name, disk + 5) < 0))
			snprintf(disk, sizeof(disk), "/dev/%s", d->d_name);
	if (dir)
		closedir(dir);
	dir = opendir("/sys/class/net");
	while (dir && (d = readdir(dir)))
		if (!strncmp(d->d_name, "eth", 3) && n < 2)
			snprintf(nic[n++], IFNAMSIZ, "%s", d->d_name);
	if (dir)
		closedir(dir);
	if (n == 2 && strcmp(nic[0], nic[1]) > 0) {
		char t[IFNAMSIZ];

		memcpy(t, nic[0], IFNAMSIZ);
		memcpy(nic[0], nic[1], IFNAMSIZ);
		memcpy(nic[1], t, IFNAMSIZ);
	}
}

static const char *verdict(int rc)
{
	return rc == 0 ? "pass" : rc < 0 ? "timeout" : "fail";
}

int main(void)
{
	int timeout, fd, bench, concurrent, disk_rc = 99, net_rc = 99;
	pid_t disk_pid = -1, net_pid = -1;
	double t = 0;
	double t0;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	fd = open("/proc/cmdline", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, cmdline, sizeof(cmdline) - 1);

		cmdline[n > 0 ? n : 0] = 0;
		close(fd);
	}
	signal(SIGALRM, watchdog);
	alarm(atoi(param("watchdog", "90")));
	timeout = atoi(param("timeout", "15"));
	t0 = now();

	say("KTAP version 1");
	say("# agent: coco-dma matrix agent, uptime %lds, per-test timeout %ds",
	    read_long("/proc/uptime", 0), timeout);
	bench = !strcmp(param("mode", ""), "bench");
	say("1..%d", bench ? bench_plan() : 4);
	result(access("/sys/kernel/debug/.", F_OK) == 0 && access("/proc/self", F_OK) == 0,
	       "mounts", "");
	find_devices();
	if (bench) {
		bench_main();
		say("# agent: done in %.2fs, %d failed", now() - t0, failures);
		power_off();
	}
	swiotlb_counters("before");

	/*
	 * agent.concurrent=1: the disk and the network tests run at the same
	 * time, so that their devices map buffers of a shared pool together.
	 */
	concurrent = atoi(param("concurrent", "0")) > 0;
	if (concurrent)
		say("# agent: disk and network tests run concurrently");
	if (disk[0]) {
		char p[128];

		/* The largest request the block layer builds for the disk. */
		snprintf(p, sizeof(p), "/sys/block/%s/queue/max_hw_sectors_kb", disk + 5);
		counter("blk_max_hw_kb", read_long(p, -1));
		t = now();
		disk_pid = start_child(disk_test);
		if (!concurrent)
			disk_rc = wait_child(disk_pid, now() + timeout);
	}
	if (nic[1][0]) {
		net_pid = start_child(net_test);
		if (!concurrent)
			net_rc = wait_child(net_pid, now() + timeout);
	}
	if (concurrent) {
		double end = now() + timeout;

		if (disk[0])
			disk_rc = wait_child(disk_pid, end);
		if (nic[1][0])
			net_rc = wait_child(net_pid, end);
	}
	if (!disk[0]) {
		result(0, "disk_rw", "no virtio-blk disk");
		say("# counter disk=missing");
	} else {
		say("# counter disk=%s", verdict(disk_rc));
		result(disk_rc == 0, "disk_rw", disk_rc < 0 ? "timeout after %ds" : disk_rc ? "rc=%d" : "",
		       disk_rc < 0 ? timeout : disk_rc);
		say("# disk: %.2fs", now() - t);
	}
	if (!nic[1][0]) {
		result(0, "net_packets", "need two ethN interfaces, found %s", nic[0][0] ? nic[0] : "none");
		say("# counter net=missing");
	} else {
		say("# counter net=%s", verdict(net_rc));
		result(net_rc == 0, "net_packets", net_rc < 0 ? "timeout after %ds" : net_rc ? "rc=%d" : "",
		       net_rc < 0 ? timeout : net_rc);
	}
	swiotlb_counters("after");
	virtio_counters();
	misc_counters();
	kmemleak_counter();
	/* Judging the log counters is the runner's job (per-row expectations). */
	result(kmsg_scan() == 0, "kmsg_read", "");
	say("# agent: done in %.2fs, %d failed", now() - t0, failures);
	power_off();
	return 0;
}
