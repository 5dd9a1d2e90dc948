/* nobios-init.c - PID 1 of `nobios exec`'s initramfs (built static by
 * src/exec/exec.mk and embedded in nobios).  It mounts the usual file
 * systems (/dev, /proc, /sys, /dev/pts), reads /nobios/exec.conf (argv,
 * environment, directory, uid/gid, shares, modules), loads the packed
 * modules, mounts the host's files (its / over virtio-9p with a tmpfs
 * overlay, the --rw directories; mount_shares), runs CMD chrooted there
 * with its stdout and stderr on two pipes, forwards both to the
 * host through nobios's exec ports (exec_port.h) in the order CMD wrote
 * them, and reports CMD's exit status there.  nobios ends the VM at that
 * report, so init never returns (PID 1 exiting would panic the kernel).
 *
 * Order: init runs SCHED_FIFO and CMD SCHED_OTHER, so a write that wakes
 * init preempts the writer on its way back to user space and init forwards
 * each write before CMD can make the next one: stdout and stderr reach the
 * host in CMD's order even where the host merges them (2>&1). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/exec_port.h"

#define MAX_ARGS 4096
#define MAX_ENV 4096

/* No exec ports (another VMM booted this initramfs, as bench/run.py's
 * QEMU comparison does): CMD writes to the console and init reboots after
 * it; nothing touches a port. */
static int standalone;

static void port_bytes(unsigned port, const void *buf, size_t len)
{
	/* rep outsb: KVM hands the whole string to nobios, a page per exit. */
	const unsigned char *p = buf;
	if (standalone) {
		if (write(2, buf, len) < 0) {
			/* the console is all there is */
		}
		return;
	}
	while (len) {
		size_t n = len > 4096 ? 4096 : len;
		const void *si = p;
		size_t cx = n;
		__asm__ volatile("rep outsb" : "+S"(si), "+c"(cx) : "d"((uint16_t)port) : "memory");
		p += n;
		len -= n;
	}
}

/* rep insb: len bytes of host stdin, as the last fill announced.  Each
 * byte read is consumed in nobios, and a page fault on buf in the middle
 * of the instruction makes KVM run it again from the start: so buf is
 * written first (and init's memory is locked), never faulted here. */
static void port_read(unsigned port, void *buf, size_t len)
{
	memset(buf, 0, len);
	void *di = buf;
	size_t cx = len;
	__asm__ volatile("rep insb" : "+D"(di), "+c"(cx) : "d"((uint16_t)port) : "memory");
}

static void event(unsigned ev, unsigned value)
{
	if (standalone) {
		if (ev != EXEC_EV_STARTED)
			reboot(RB_AUTOBOOT);
		return;
	}
	outl((ev << 16) | (value & 0xFFFF), EXEC_PORT_EVENT);
}

static void msg(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(buf, sizeof(buf), "nobios-init: ");
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	port_bytes(EXEC_PORT_STDERR, buf, (size_t)n);
}

/* "nobios-init: WHAT: strerror(errno)" on the host's stderr, then the
 * setup failure (nobios ends with NB_EXIT_EXEC_SETUP). */
static void __attribute__((noreturn)) fail(unsigned code, const char *what)
{
	msg("%s: %s", what, strerror(errno));
	event(EXEC_EV_SETUP, code);
	for (;;)
		pause();
}

static void mount_fs(const char *src, const char *dir, const char *type, unsigned long flags)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, flags, NULL) < 0 && errno != EBUSY)
		fail(EXEC_SETUP_MOUNT, dir);
}

static char *conf_buf;
static char *argv_[MAX_ARGS + 1], *envp_[MAX_ENV + 1];
static const char *cwd = "/";
static int cwd_soft;            /* the host's directory: "/" if the guest has none */
static int root_share, packed;
static const char *rw_[EXEC_MAX_RW];
static unsigned nrw;
static const char *mods_[64], *missing_[8];
static unsigned nmods, nmissing;
static const char *kver, *kmoddir;
/* CMD's root: the overlay over the host's / when it could be mounted. */
#define NEW_ROOT "/nobios/root"
static int new_root;
/* Why the host's files are not there (the kernel lacks 9p), or NULL. */
static char no_share_why[512];
static uid_t uid;
static gid_t gid;
static int stdin_fwd;

static void read_conf(void)
{
	int fd = open(EXEC_CONF_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail(EXEC_SETUP_CONFIG, EXEC_CONF_PATH);
	conf_buf = malloc(EXEC_CONF_MAX + 1);
	if (!conf_buf)
		fail(EXEC_SETUP_CONFIG, "malloc");
	size_t len = 0;
	ssize_t n;
	while (len < EXEC_CONF_MAX && (n = read(fd, conf_buf + len, EXEC_CONF_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	conf_buf[len] = 0;
	unsigned na = 0, ne = 0;
	for (size_t i = 0; i < len;) {
		char tag = conf_buf[i++];
		char *s = conf_buf + i;
		size_t l = strnlen(s, len - i);
		if (i + l >= len + 1)
			break;
		i += l + 1;
		switch (tag) {
		case EXEC_CONF_ARG: if (na < MAX_ARGS) argv_[na++] = s; break;
		case EXEC_CONF_ENV: if (ne < MAX_ENV) envp_[ne++] = s; break;
		case EXEC_CONF_CWD: cwd = s; cwd_soft = 0; break;
		case EXEC_CONF_CWD_SOFT: cwd = s; cwd_soft = 1; break;
		case EXEC_CONF_ROOT: root_share = s[0] == '1'; break;
		case EXEC_CONF_PACKED: packed = s[0] == '1'; break;
		case EXEC_CONF_RW: if (nrw < EXEC_MAX_RW) rw_[nrw++] = s; break;
		case EXEC_CONF_MODULE: if (nmods < 64) mods_[nmods++] = s; break;
		case EXEC_CONF_MISSING: if (nmissing < 8) missing_[nmissing++] = s; break;
		case EXEC_CONF_KVER: kver = s; break;
		case EXEC_CONF_KMODDIR: kmoddir = s; break;
		case EXEC_CONF_UID: uid = (uid_t)strtoul(s, NULL, 10); break;
		case EXEC_CONF_GID: gid = (gid_t)strtoul(s, NULL, 10); break;
		case EXEC_CONF_STDIN: stdin_fwd = s[0] == '1'; break;
		default: break;
		}
	}
	if (na == 0) {
		errno = EINVAL;
		fail(EXEC_SETUP_CONFIG, EXEC_CONF_PATH " has no command");
	}
}

/* The modules nobios packed (dependencies first).  One already there or
 * built in is fine; any other failure is reported and the mounts below
 * say what is missing. */
static void load_modules(void)
{
	for (unsigned i = 0; i < nmods; i++) {
		int fd = open(mods_[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST))
			msg("cannot load the kernel module %s: %s", mods_[i], strerror(errno));
		if (fd >= 0)
			close(fd);
	}
}

static int has_fs(const char *name)
{
	char buf[4096], want[64];
	int fd = open("/proc/filesystems", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1; /* cannot tell: do not blame the kernel */
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	snprintf(want, sizeof(want), "\t%s\n", name);
	return strstr(buf, want) != NULL;
}

/* The kernel options the guest lacks for the host's files, as the host
 * found them (its modules directory) and as this kernel shows them. */
static void missing_options(char *out, size_t len)
{
	struct stat st;
	const char *opt[8];
	unsigned n = 0;
	for (unsigned i = 0; i < nmissing && n < 8; i++)
		opt[n++] = missing_[i];
	const char *seen[] = {
		stat("/sys/bus/platform/drivers/virtio-mmio", &st) == 0 ? NULL : "CONFIG_VIRTIO_MMIO",
		stat("/sys/bus/virtio/drivers/9pnet_virtio", &st) == 0 ? NULL : "CONFIG_NET_9P_VIRTIO",
		has_fs("9p") ? NULL : "CONFIG_9P_FS",
	};
	for (unsigned i = 0; i < 3; i++) {
		int dup = !seen[i];
		for (unsigned j = 0; j < n && !dup; j++)
			dup = strcmp(opt[j], seen[i]) == 0;
		if (!dup && n < 8)
			opt[n++] = seen[i];
	}
	size_t o = 0;
	out[0] = 0;
	for (unsigned i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s", i ? ", " : "", opt[i]);
}

static void mkdir_p(const char *path)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0755);
			*s = '/';
		}
	mkdir(p, 0755);
}

#define P9_OPTS "trans=virtio,version=9p2000.L,msize=512000"

static void __attribute__((noreturn)) share_failed(const char *what, int e)
{
	char why[400];
	missing_options(why, sizeof(why));
	if (why[0])
		msg("cannot mount %s over virtio-9p: %s; the kernel lacks %s (built in, or as "
		    "modules in /lib/modules/%s on the host or --modules DIR); or run without the "
		    "host's files: --no-host-root and --pack FILE",
		    what, strerror(e), why, kver ? kver : "RELEASE");
	else
		msg("cannot mount %s over virtio-9p: %s", what, strerror(e));
	event(EXEC_EV_SETUP, EXEC_SETUP_SHARE);
	for (;;)
		pause();
}

/* The host's files: its / read-only with a tmpfs overlay for what the
 * guest writes (they go when the VM does), each --rw DIR writable at its
 * own path, the kernel's modules at /lib/modules/RELEASE.  CMD then runs
 * chrooted there (child()). */
static void mount_shares(void)
{
	char target[4200];
	if (!root_share) {
		for (unsigned i = 0; i < nrw; i++) {
			char tag[32];
			snprintf(tag, sizeof(tag), EXEC_RW_TAG, i + 1);
			mkdir_p(rw_[i]);
			if (mount(tag, rw_[i], "9p", 0, P9_OPTS ",cache=mmap") < 0)
				share_failed(rw_[i], errno);
		}
		return;
	}
	mkdir_p("/nobios/lower");
	/* cache=loose: the host's programs and libraries do not change
	 * during a run, and uncached lookups dominate process start-up. */
	if (mount(EXEC_ROOT_TAG, "/nobios/lower", "9p", MS_RDONLY, P9_OPTS ",cache=loose") < 0) {
		int e = errno;
		if (!packed || nrw)
			share_failed("the host's /", e);
		/* The files nobios packed are CMD's world (a kernel without 9p). */
		missing_options(no_share_why, sizeof(no_share_why));
		if (!no_share_why[0])
			snprintf(no_share_why, sizeof(no_share_why), "%s", strerror(e));
		return;
	}
	mkdir_p("/nobios/rw");
	if (mount("tmpfs", "/nobios/rw", "tmpfs", 0, "mode=0755") < 0)
		fail(EXEC_SETUP_MOUNT, "/nobios/rw");
	mkdir("/nobios/rw/upper", 0755);
	mkdir("/nobios/rw/work", 0755);
	mkdir_p(NEW_ROOT);
	if (mount("overlay", NEW_ROOT, "overlay", 0,
		  "lowerdir=/nobios/lower,upperdir=/nobios/rw/upper,workdir=/nobios/rw/work") < 0) {
		/* No overlayfs: the host's / as it is, read-only. */
		if (mount("/nobios/lower", NEW_ROOT, NULL, MS_BIND, NULL) < 0)
			fail(EXEC_SETUP_MOUNT, NEW_ROOT);
	}
	static const char *const binds[] = { "/dev", "/proc", "/sys", NULL };
	for (unsigned i = 0; binds[i]; i++) {
		snprintf(target, sizeof(target), NEW_ROOT "%s", binds[i]);
		mkdir_p(target);
		if (mount(binds[i], target, NULL, MS_BIND | MS_REC, NULL) < 0)
			fail(EXEC_SETUP_MOUNT, target);
	}
	mkdir("/dev/shm", 01777);
	mount("tmpfs", NEW_ROOT "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	for (unsigned i = 0; i < nrw; i++) {
		char tag[32];
		snprintf(tag, sizeof(tag), EXEC_RW_TAG, i + 1);
		snprintf(target, sizeof(target), NEW_ROOT "%s", rw_[i]);
		mkdir_p(target);
		if (mount(tag, target, "9p", 0, P9_OPTS ",cache=mmap") < 0)
			share_failed(rw_[i], errno);
	}
	if (kver && kmoddir) {
		char src[4200];
		snprintf(src, sizeof(src), NEW_ROOT "%s", kmoddir);
		snprintf(target, sizeof(target), NEW_ROOT "/lib/modules/%s", kver);
		mkdir_p(target);
		if (mount(src, target, NULL, MS_BIND, NULL) < 0)
			msg("cannot show %s at /lib/modules/%s: %s", kmoddir, kver, strerror(errno));
	}
	new_root = 1;
}

static volatile sig_atomic_t child_done;
static int sigpipe_[2];

static void on_chld(int sig)
{
	(void)sig;
	int e = errno;
	child_done = 1;
	if (write(sigpipe_[1], "x", 1) < 0) {
		/* full pipe: a wake-up is pending already */
	}
	errno = e;
}

/* Forward what fd has now; 0 at EOF. */
static int forward(int fd, unsigned port)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n > 0) {
		port_bytes(port, buf, (size_t)n);
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 1;
	return 0;
}

static void child(int in, int out, int err)
{
	struct sched_param sp = { 0 };
	sched_setscheduler(0, SCHED_OTHER, &sp);
	if (in < 0)
		in = open("/dev/null", O_RDONLY);
	if (in >= 0 && in != 0) {
		dup2(in, 0);
		close(in);
	}
	dup2(out, 1);
	dup2(err, 2);
	if (out > 2)
		close(out);
	if (err > 2)
		close(err);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_DFL); /* init ignores it; CMD must not inherit that */
	setsid();
	if (new_root && (chroot(NEW_ROOT) < 0 || chdir("/") < 0)) {
		fprintf(stderr, "nobios-init: cannot enter the host's files: %s\n", strerror(errno));
		_exit(126);
	}
	if (cwd_soft && chdir(cwd) < 0)
		cwd = "/"; /* the host's directory is not in this guest's world */
	if (chdir(cwd) < 0) {
		fprintf(stderr, "nobios-init: cannot change to directory %s: %s\n", cwd,
			strerror(errno));
		_exit(126);
	}
	if (gid != 0 || uid != 0) {
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
			fprintf(stderr, "nobios-init: cannot become uid %u gid %u: %s\n",
				(unsigned)uid, (unsigned)gid, strerror(errno));
			_exit(126);
		}
	}
	environ = envp_;
	execvp(argv_[0], argv_);
	int e = errno;
	if (e == ENOENT && no_share_why[0])
		fprintf(stderr, "nobios-init: %s: %s (the host's files are not shared: the kernel "
			"lacks %s)\n", argv_[0], strerror(e), no_share_why);
	else
		fprintf(stderr, "nobios-init: %s: %s\n", argv_[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126); /* as sh(1) and env(1) */
}

int main(void)
{
	/* The channel first: every later failure is reported through it. */
	if (ioperm(EXEC_PORT_BASE, EXEC_PORT_LEN, 1) < 0 || inl(EXEC_PORT_EVENT) != EXEC_MAGIC)
		standalone = 1;
	mlockall(MCL_CURRENT | MCL_FUTURE); /* see port_read */
	mount_fs("devtmpfs", "/dev", "devtmpfs", MS_NOSUID);
	if (standalone) { /* the initramfs has no /dev/console: init started without one */
		int c = open("/dev/console", O_RDWR | O_NOCTTY);
		if (c >= 0) {
			dup2(c, 1);
			dup2(c, 2);
		}
	}
	mount_fs("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
	mount_fs("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC);
	/* /tmp and /run stay on the initramfs's own tmpfs, which is writable
	 * already: a tmpfs mounted over them would hide files packed there. */
	mkdir("/dev/pts", 0755);
	mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=620,ptmxmode=666");
	chmod("/tmp", 01777);
	read_conf();
	load_modules();
	if (root_share || nrw)
		mount_shares();

	int out[2], err[2], in[2] = { -1, -1 };
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    pipe2(sigpipe_, O_CLOEXEC | O_NONBLOCK) < 0)
		fail(EXEC_SETUP_PIPE, "pipe");
	/* CMD's stdin: a pipe init fills from the host (never blocking init:
	 * CMD may never read it), else /dev/null. */
	if (standalone)
		stdin_fwd = 0;
	if (stdin_fwd && pipe2(in, O_CLOEXEC) < 0)
		fail(EXEC_SETUP_PIPE, "pipe");
	if (in[1] >= 0)
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN); /* CMD closing its stdin is EPIPE here */
	struct sigaction sa = { .sa_handler = on_chld, .sa_flags = SA_NOCLDSTOP | SA_RESTART };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	struct sched_param sp = { .sched_priority = 1 };
	sched_setscheduler(0, SCHED_FIFO, &sp); /* best effort: ordering, see the top */

	pid_t pid = fork();
	if (pid < 0)
		fail(EXEC_SETUP_FORK, "fork");
	if (pid == 0)
		child(in[0], out[1], err[1]);
	close(out[1]);
	close(err[1]);
	if (in[0] >= 0)
		close(in[0]);
	int in_w = in[1];
	static char ibuf[EXEC_STDIN_CHUNK];
	size_t ilen = 0, ioff = 0;
	event(EXEC_EV_STARTED, 0);

	int status = 0;
	int open_out = 1, open_err = 1, reaped = 0;
	while (!reaped || open_out || open_err) {
		struct pollfd p[4] = {
			{ .fd = open_out ? out[0] : -1, .events = POLLIN },
			{ .fd = open_err ? err[0] : -1, .events = POLLIN },
			{ .fd = sigpipe_[0], .events = POLLIN },
			{ .fd = in_w >= 0 && ioff < ilen ? in_w : -1, .events = POLLOUT },
		};
		/* After CMD ended, what is left in the pipes is forwarded; a
		 * background child holding them open does not keep the VM up.
		 * With stdin to forward and nothing pending, ask the host every
		 * 20 ms (a port read that never blocks: see exec_port.h). */
		int timeout = reaped ? 0 : in_w >= 0 && ioff == ilen ? 20 : -1;
		int n = poll(p, 4, timeout);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0) {
			/* stdout first when both are ready, as a terminal shows a
			 * program that writes both within one scheduling slice */
			if (p[0].revents)
				open_out = forward(out[0], EXEC_PORT_STDOUT);
			if (p[1].revents)
				open_err = forward(err[0], EXEC_PORT_STDERR);
			if (p[2].revents) {
				char c[64];
				while (read(sigpipe_[0], c, sizeof(c)) > 0)
					;
			}
		}
		if (in_w >= 0 && !reaped) {
			if (ioff == ilen) {
				uint32_t avail = inl(EXEC_PORT_STDIN_FILL);
				if (avail == EXEC_STDIN_EOF) {
					close(in_w); /* CMD sees end of file */
					in_w = -1;
				} else if (avail > 0) {
					ilen = avail < sizeof(ibuf) ? avail : sizeof(ibuf);
					ioff = 0;
					port_read(EXEC_PORT_STDIN, ibuf, ilen);
				}
			}
			if (in_w >= 0 && ioff < ilen) {
				ssize_t w = write(in_w, ibuf + ioff, ilen - ioff);
				if (w > 0) {
					ioff += (size_t)w;
				} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
					close(in_w); /* CMD closed its stdin */
					in_w = -1;
				}
			}
		}
		if (reaped && n == 0)
			break;
		if (!reaped && child_done) {
			int st;
			pid_t w;
			while ((w = waitpid(-1, &st, WNOHANG)) > 0)
				if (w == pid) {
					status = st;
					reaped = 1;
				}
		}
	}
	int code = WIFEXITED(status) ? WEXITSTATUS(status)
		   : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
	sync();
	event(EXEC_EV_EXIT, (unsigned)code & 0xFF);
	for (;;)
		pause();
}
