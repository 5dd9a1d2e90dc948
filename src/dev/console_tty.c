/* console_tty.c - raw terminal for the guest's console.
 *
 * Decision (README "Console"): like QEMU's -nographic, the terminal is fully
 * raw on input - ISIG off, so Ctrl-C, Ctrl-Z and Ctrl-\ go to the guest (a
 * shell in the guest wants them) - and Ctrl-A x is the way out.  Output
 * post-processing (OPOST/ONLCR) stays on, as QEMU keeps it, so guests that
 * print bare "\n" still start lines at column 0.
 *
 * The saved settings are restored on every exit path: console_tty_restore()
 * from the UART's fini, an atexit() handler, and handlers for the fatal
 * signals that restore and then hand the signal on to whatever handler was
 * installed before (or the default action, re-raised). */
#include "dev/console_tty.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "util/err.h"
#include "util/sandbox.h"

/* The terminal is put back from any thread at exit (tcsetattr), and from
 * the sandbox's refusal path. */
SANDBOX_NEEDS(tty_needs, "console terminal (src/dev/console_tty.c)", 0,
	SB_IOCTL(TCGETS), SB_IOCTL(TCSETS), SB_IOCTL(TCSETSW), SB_IOCTL(TCSETSF),
	SB_IOCTL(TIOCGPGRP));

static struct termios tty_saved;
static volatile sig_atomic_t tty_fd = -1;
static bool hooks_installed;

static const int tty_fatal_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT,
					 SIGSEGV, SIGBUS,  SIGABRT, SIGFPE, SIGILL };
#define NSIGNALS (sizeof(tty_fatal_signals) / sizeof(tty_fatal_signals[0]))
static struct sigaction tty_old_actions[NSIGNALS];

void console_tty_restore(void)
{
	int fd = tty_fd;
	if (fd < 0)
		return;
	tty_fd = -1;
	/* tcsetattr is async-signal-safe; TCSAFLUSH would drop typed-ahead
	 * input meant for the shell after we exit, so use TCSADRAIN. */
	tcsetattr(fd, TCSADRAIN, &tty_saved);
}

bool console_tty_is_raw(void)
{
	return tty_fd >= 0;
}

static void tty_atexit(void)
{
	console_tty_restore();
}

static void tty_signal(int sig, siginfo_t *info, void *ctx)
{
	int saved_errno = errno;
	console_tty_restore();
	for (unsigned i = 0; i < NSIGNALS; i++) {
		if (tty_fatal_signals[i] != sig)
			continue;
		struct sigaction *old = &tty_old_actions[i];
		if (old->sa_flags & SA_SIGINFO) {
			old->sa_sigaction(sig, info, ctx);
		} else if (old->sa_handler == SIG_IGN) {
			/* nothing */
		} else if (old->sa_handler == SIG_DFL) {
			/* Default action: put it back and deliver the signal again so
			 * the exit status (and core dump) are the real ones. */
			sigaction(sig, old, NULL);
			raise(sig);
		} else {
			old->sa_handler(sig);
		}
		break;
	}
	errno = saved_errno;
}

static void tty_install_hooks(void)
{
	if (hooks_installed)
		return;
	hooks_installed = true;
	atexit(tty_atexit);
	for (unsigned i = 0; i < NSIGNALS; i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = tty_signal;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaction(tty_fatal_signals[i], &sa, &tty_old_actions[i]);
	}
}

bool console_tty_background(int fd)
{
	return fd >= 0 && isatty(fd) && tcgetpgrp(fd) != getpgrp();
}

int console_tty_raw(int fd)
{
	if (fd < 0 || !isatty(fd))
		return 0;
	/* A background job changing the terminal would be stopped by SIGTTOU;
	 * leave the terminal alone then (input will not reach us anyway). */
	if (tcgetpgrp(fd) != getpgrp())
		return 0;
	if (tty_fd >= 0)
		return 1;
	struct termios t;
	if (tcgetattr(fd, &t) < 0)
		return nb_err_errno("console: tcgetattr on fd %d", fd);
	tty_saved = t;
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_oflag |= OPOST;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tty_install_hooks();
	sandbox_on_refusal(console_tty_restore);
	tty_fd = fd;
	if (tcsetattr(fd, TCSADRAIN, &t) < 0) {
		tty_fd = -1;
		return nb_err_errno("console: tcsetattr on fd %d", fd);
	}
	return 1;
}
