// SPDX-License-Identifier: GPL-2.0
/*
 * coco-dma pKVM host init: /init of the initramfs of an arm64 host kernel
 * booted by QEMU at EL2 with kvm-arm.mode=protected. It runs one guest in
 * kvmtool (/lkvm) and reports on the console:
 *
 *   # host: <kmsg record>    the host kernel's KVM records: pKVM up or not,
 *                            protected VM created, splats
 *   # pkvm: guest start      the guest's console follows, as it is
 *   # pkvm: guest end
 *   # counter host_pkvm=0|1  "Protected ... mode initialized successfully"
 *   # counter lkvm_exit=0|rc=N|sig=N|timeout
 *
 * then powers off. The guest gets a 16 MiB raw disk (/tmp/disk.img) and two
 * taps joined by a bridge, so that the guest agent's disk and network tests
 * run as on QEMU. kvmtool's arguments are in /lkvm.args, one per line; the
 * inner timeout (seconds) is host.timeout= on the kernel command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/reboot.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS	64
#define DISK		"/tmp/disk.img"
#define DISK_MIB	16

static regex_t kvm_re, up_re;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/*
 * Print the kmsg records that name KVM, pKVM or a splat; the fd is kept, so
 * a second call prints only what came after the first. Returns whether
 * pKVM reported itself up.
 */
static int replay_kmsg(int fd)
{
	/* A record longer than the buffer would fail the read for good. */
	char rec[8192];
	int up = 0;
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		char *msg, *nl;

		if (n < 0)
			continue;	/* records lost to the ring buffer */
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = 0;
		if (regexec(&kvm_re, msg, 0, NULL, 0))
			continue;
		say("# host: %s", msg);
		if (!regexec(&up_re, msg, 0, NULL, 0))
			up = 1;
	}
	return up;
}

static int cmdline_int(const char *key, int def)
{
	char buf[4096], *p;
	int fd = open("/proc/cmdline", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return def;
	buf[n] = 0;
	p = strstr(buf, key);
	return p ? atoi(p + strlen(key)) : def;
}

static int make_disk(void)
{
	int fd = open(DISK, O_CREAT | O_TRUNC | O_WRONLY, 0600);

	if (fd < 0 || ftruncate(fd, (off_t)DISK_MIB << 20)) {
		say("# pkvm: cannot create %s: %s", DISK, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int if_up(int s, const char *name)
{
	struct ifreq ifr = { 0 };

	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		return -1;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

/* A persistent tap that kvmtool opens by name (tapif=), without a script. */
static int make_tap(const char *name)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR);

	if (fd < 0)
		return -1;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) || ioctl(fd, TUNSETPERSIST, 1)) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * tap0 and tap1 in bridge br0, forwarding at once: the agent passes raw
 * frames between the guest's two NICs, as QEMU's hub does for the other rows.
 */
static int make_network(void)
{
	const char *taps[] = { "tap0", "tap1" };
	char br[IFNAMSIZ] = "br0";	/* the kernel copies IFNAMSIZ bytes */
	int s = socket(AF_UNIX, SOCK_DGRAM, 0), i, fd;

	if (s < 0 || ioctl(s, SIOCBRADDBR, br)) {
		say("# pkvm: bridge br0: %s", strerror(errno));
		return -1;
	}
	fd = open("/sys/class/net/br0/bridge/forward_delay", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "0", 1) != 1)
			say("# pkvm: br0 forward_delay: %s", strerror(errno));
		close(fd);
	}
	for (i = 0; i < 2; i++) {
		struct ifreq ifr = { 0 };

		if (make_tap(taps[i])) {
			say("# pkvm: %s: %s", taps[i], strerror(errno));
			return -1;
		}
		strncpy(ifr.ifr_name, "br0", IFNAMSIZ - 1);
		ifr.ifr_ifindex = if_nametoindex(taps[i]);
		if (!ifr.ifr_ifindex || ioctl(s, SIOCBRADDIF, &ifr) || if_up(s, taps[i])) {
			say("# pkvm: %s into br0: %s", taps[i], strerror(errno));
			return -1;
		}
	}
	if (if_up(s, "br0")) {
		say("# pkvm: br0 up: %s", strerror(errno));
		return -1;
	}
	close(s);
	return 0;
}

static int read_args(char **argv)
{
	static char buf[8192];
	int fd = open("/lkvm.args", O_RDONLY), argc = 0;
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	char *line, *save;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	argv[argc++] = "/lkvm";
	for (line = strtok_r(buf, "\n", &save); line && argc < MAX_ARGS - 1;
	     line = strtok_r(NULL, "\n", &save))
		argv[argc++] = line;
	argv[argc] = NULL;
	return argc;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * Run kvmtool with the console as its stdout and stderr, and kill it after
 * timeout seconds. Its stdin is /dev/null: with a tty on stdin and stdout,
 * kvmtool puts the console in raw mode and polls it for guest input.
 */
static void run_guest(char **argv, int timeout)
{
	struct timespec t0;
	pid_t pid;
	int status = 0, fd;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	say("# pkvm: guest start");
	pid = fork();
	if (pid < 0) {
		say("# pkvm: fork: %s", strerror(errno));
		say("# pkvm: guest end");
		return;
	}
	if (pid == 0) {
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		setenv("HOME", "/tmp", 1);
		execv(argv[0], argv);
		say("# pkvm: exec %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (seconds_since(&t0) >= timeout) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			status = -1;
			break;
		}
		usleep(100000);
	}
	say("# pkvm: guest end");
	say("# pkvm: guest_seconds=%.1f", seconds_since(&t0));
	if (status == -1)
		say("# counter lkvm_exit=timeout");
	else if (WIFSIGNALED(status))
		say("# counter lkvm_exit=sig=%d", WTERMSIG(status));
	else if (WEXITSTATUS(status))
		say("# counter lkvm_exit=rc=%d", WEXITSTATUS(status));
	else
		say("# counter lkvm_exit=0");
}

int main(void)
{
	char *argv[MAX_ARGS];
	int kmsg, up;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mkdir("/tmp", 01777);
	setvbuf(stdout, NULL, _IOLBF, 0);

	regcomp(&kvm_re, "kvm|KVM|pKVM|Protected|protected VM|GIC|BUG|WARNING|Oops|Unable to handle",
		REG_EXTENDED | REG_NOSUB);
	regcomp(&up_re, "Protected [hn]?VHE mode initialized successfully", REG_EXTENDED | REG_NOSUB);
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	up = kmsg >= 0 && replay_kmsg(kmsg);
	say("# counter host_pkvm=%d", up);

	/* Without pKVM there is nothing to test: the runner reports a SKIP. */
	if (up && read_args(argv) < 0)
		say("# pkvm: no /lkvm.args");
	else if (up && !make_disk() && !make_network())
		run_guest(argv, cmdline_int("host.timeout=", 90));
	if (kmsg >= 0)
		replay_kmsg(kmsg);
	say("# pkvm: host end");
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
