/* sandbox.c - the seccomp-bpf allow-list (sandbox.h), built with libseccomp
 * from the needs every module registered in the "nb_sandbox" section.
 *
 * Why these choices:
 *  - Refused calls trap (SECCOMP_RET_TRAP): the SIGSYS handler can say which
 *    call it was and restore the terminal, which a kill cannot.  Taking over
 *    the handler gains an attacker nothing: the call itself never runs.
 *  - TSYNC: the filter covers the threads that already run (the UART's
 *    console reader, the gdb monitor, the hang watcher) at once, and fails
 *    rather than leave one out.
 *  - clone3 fails with ENOSYS: its flags are in memory, where a filter
 *    cannot look; glibc then falls back to clone, whose flags it can.
 *  - Filters stack and only ever get stricter: a temporary need (loading a
 *    library after the guest started) ends by stacking a second filter
 *    without it. */
#include "util/sandbox.h"

#include <errno.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"

extern const struct sandbox_need *const __start_nb_sandbox[];
extern const struct sandbox_need *const __stop_nb_sandbox[];

size_t sandbox_needs(const struct sandbox_need **out, size_t max)
{
	/* counted by address, as bus.c counts the devices */
	size_t count = ((uintptr_t)__stop_nb_sandbox - (uintptr_t)__start_nb_sandbox) /
		       sizeof(__start_nb_sandbox[0]);
	size_t n = 0;
	for (size_t i = 0; i < count && n < max; i++)
		out[n++] = __start_nb_sandbox[i];
	return n;
}

/* ---- what every thread of any C program needs: the runtime's own calls */

/* Memory may be mapped and protected, but not executable: a taken-over
 * process gets no fresh code pages (the completion engine, which generates
 * code, asks for PROT_EXEC itself, on the hosts that use it). */
#define PROT_EXEC_BIT 0x4u
/* clone: threads and the teardown child, never new namespaces (an
 * unprivileged user namespace is a large kernel attack surface). */
#define CLONE_NEW_ANY 0x7E020000u /* NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET */
#define AT_EMPTY_PATH_FLAG 0x1000u

SANDBOX_NEEDS(runtime_needs, "C runtime: memory, threads, signals, exit", 0,
	SB_ALLOW(read), SB_ALLOW(write), SB_ALLOW(readv), SB_ALLOW(writev), SB_ALLOW(close),
	SB_ALLOW(lseek), SB_ALLOW(fstat),
	/* glibc's fstat() is newfstatat(fd, "", AT_EMPTY_PATH): no path lookup */
	SB_ARG_EQ(newfstatat, 3, AT_EMPTY_PATH_FLAG),
	SB_ARG_NONE(mmap, 2, PROT_EXEC_BIT), SB_ARG_NONE(mprotect, 2, PROT_EXEC_BIT),
	SB_ALLOW(munmap), SB_ALLOW(mremap), SB_ALLOW(madvise), SB_ALLOW(brk),
	SB_ALLOW(futex), SB_ALLOW(set_robust_list), SB_ALLOW(rseq), SB_ALLOW(sched_yield),
	SB_ARG_NONE(clone, 0, CLONE_NEW_ANY), SB_ERRNO(clone3, ENOSYS),
	SB_ALLOW(exit), SB_ALLOW(exit_group),
	SB_ALLOW(rt_sigreturn), SB_ALLOW(rt_sigprocmask), SB_ALLOW(rt_sigaction),
	SB_ALLOW(restart_syscall), SB_SELF_PID(tgkill, 0), SB_ALLOW(gettid), SB_ALLOW(getpid),
	SB_ALLOW(clock_gettime), SB_ALLOW(clock_nanosleep), SB_ALLOW(nanosleep),
	SB_ALLOW(gettimeofday), SB_ALLOW(getrandom));

/* While a temporary grant is in force, the stricter filter that ends it
 * must still be loadable: libseccomp sets no_new_privs (already set) and
 * calls seccomp(SECCOMP_SET_MODE_FILTER).  A filter added by anyone else
 * can only refuse more: the kernel takes the strictest answer of all. */
#define PR_SET_NO_NEW_PRIVS_OP 38
#define SECCOMP_SET_MODE_FILTER_OP 1
static const struct sandbox_rule restack_rules[] = {
	SB_ARG_EQ(prctl, 0, PR_SET_NO_NEW_PRIVS_OP),
	SB_ARG_EQ(seccomp, 0, SECCOMP_SET_MODE_FILTER_OP),
};
static const struct sandbox_need restack_need = {
	.who = "sandbox: the stricter filter that ends temporary grants", .flags = 0,
	.rules = restack_rules, .nrules = sizeof(restack_rules) / sizeof(restack_rules[0]),
};

/* Sanitizer builds (make check-asan, the fuzzers) only: ASan gives threads
 * an alternate signal stack and asks for the CPU mask; LeakSanitizer's check
 * at exit stops the world with a ptrace()ing helper (clone, prctl, ptrace,
 * wait4) that lists /proc/self/task (an O_DIRECTORY open and getdents64).
 * The product build never has these. */
#if defined(__SANITIZE_ADDRESS__)
#define NB_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NB_SANITIZER 1
#endif
#endif
#ifdef NB_SANITIZER
#define O_DIRECTORY_BIT 0x10000u
SANDBOX_NEEDS(sanitizer_needs, "sanitizer runtime: ASan, LeakSanitizer (test builds only)", 0,
	SB_ALLOW(sigaltstack), SB_ALLOW(sched_getaffinity), SB_ALLOW(prctl), SB_ALLOW(ptrace),
	SB_ALLOW(wait4), SB_ARG_ALL(openat, 2, O_DIRECTORY_BIT), SB_ALLOW(getdents64),
	SB_ALLOW(prlimit64));
#endif

/* ---- state */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool active;
static unsigned active_features;
static bool temp_in_force; /* the filter in force still has temporary grants */
static int refusal_status = 1;
#define MAX_READY 8
static const char *ready_names[MAX_READY]; /* temporary needs no longer needed */
static size_t nready;
#define MAX_HOOKS 4
static void (*hooks[MAX_HOOKS])(void);
static volatile sig_atomic_t nhooks;

static bool is_ready(const char *who)
{
	for (size_t i = 0; i < nready; i++)
		if (strcmp(ready_names[i], who) == 0)
			return true;
	return false;
}

bool sandbox_active(void)
{
	return active;
}

void sandbox_on_refusal(void (*fn)(void))
{
	pthread_mutex_lock(&lock);
	for (sig_atomic_t i = 0; i < nhooks; i++)
		if (hooks[i] == fn) {
			pthread_mutex_unlock(&lock);
			return;
		}
	if (nhooks < MAX_HOOKS) {
		hooks[nhooks] = fn;
		nhooks = nhooks + 1;
	}
	pthread_mutex_unlock(&lock);
}

/* ---- a refused call */

static size_t put(char *buf, size_t at, size_t len, const char *s)
{
	while (*s && at + 1 < len)
		buf[at++] = *s++;
	buf[at] = 0;
	return at;
}

static size_t put_uint(char *buf, size_t at, size_t len, unsigned long v)
{
	char d[24];
	size_t n = 0;
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(d));
	while (n && at + 1 < len)
		buf[at++] = d[--n];
	buf[at] = 0;
	return at;
}

/* The calls malloc itself may make: if one of these was refused inside
 * malloc, asking libseccomp for its name (which allocates) could deadlock. */
static bool from_allocator(int nr)
{
	return nr == __NR_mmap || nr == __NR_munmap || nr == __NR_mremap || nr == __NR_madvise ||
	       nr == __NR_mprotect || nr == __NR_brk || nr == __NR_getrandom || nr == __NR_prctl;
}

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	/* First what must happen whatever else fails: the terminal back. */
	for (sig_atomic_t i = 0; i < nhooks; i++)
		hooks[i]();
	int nr = si->si_syscall;
	char msg[256];
	size_t n = put(msg, 0, sizeof(msg), "nobios: sandbox: refused system call ");
	n = put_uint(msg, n, sizeof(msg), (unsigned long)(unsigned)nr);
	char *name = from_allocator(nr) ? NULL
					 : seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	if (name) {
		n = put(msg, n, sizeof(msg), " (");
		n = put(msg, n, sizeof(msg), name);
		n = put(msg, n, sizeof(msg), ")");
	}
	n = put(msg, n, sizeof(msg), ": nobios never makes it while a guest runs, so this is a "
		"bug or an attack; --no-sandbox runs without the filter\n");
	ssize_t w = write(STDERR_FILENO, msg, n);
	(void)w;
	/* The system call itself, not _exit(): a sanitizer build intercepts
	 * _exit to check for leaks, which takes calls the filter refuses. */
	syscall(SYS_exit_group, refusal_status);
}

/* ---- building and loading a filter */

/* Whether a need goes into a filter for these features; temporary needs
 * only while with_temp and not yet ready. */
static bool applies(const struct sandbox_need *nd, unsigned features, bool with_temp)
{
	if ((nd->when & features) != nd->when)
		return false;
	if (nd->flags & SANDBOX_UNTIL_READY)
		return with_temp && !is_ready(nd->who);
	return true;
}

/* Whether any temporary need applies (and is not ready). */
static bool any_temp(unsigned features)
{
	const struct sandbox_need *needs[256];
	size_t n = sandbox_needs(needs, 256);
	for (size_t i = 0; i < n; i++)
		if ((needs[i]->flags & SANDBOX_UNTIL_READY) && applies(needs[i], features, true))
			return true;
	return false;
}

static int add_rule(scmp_filter_ctx c, const struct sandbox_need *nd, const struct sandbox_rule *r)
{
	uint32_t action = r->err ? SCMP_ACT_ERRNO((uint32_t)r->err) : SCMP_ACT_ALLOW;
	int rc;
	switch (r->cmp) {
	case SB_ANY:
		rc = seccomp_rule_add(c, action, r->nr, 0);
		break;
	case SB_EQ:
		rc = seccomp_rule_add(c, action, r->nr, 1, SCMP_CMP(r->arg, SCMP_CMP_EQ, r->value));
		break;
	case SB_MASKED_EQ:
		rc = seccomp_rule_add(c, action, r->nr, 1,
				      SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, r->mask, r->value));
		break;
	case SB_SELF:
		rc = seccomp_rule_add(c, action, r->nr, 1,
				      SCMP_CMP(r->arg, SCMP_CMP_EQ, (uint64_t)getpid()));
		break;
	default:
		rc = -EINVAL;
	}
	if (rc < 0)
		return nb_err_internal("sandbox: %s: cannot add a rule for system call %d: %s", nd->who,
				       r->nr, strerror(-rc));
	return 0;
}

/* Build and load one filter: the needs that apply, temporary ones too when
 * with_temp.  libseccomp merges rules for the same call (OR). */
static int load_filter(unsigned features, bool with_temp, FILE *log)
{
	const struct sandbox_need *needs[256];
	size_t n = sandbox_needs(needs, 256);
	scmp_filter_ctx c = seccomp_init(SCMP_ACT_TRAP);
	if (!c)
		return nb_err_internal("sandbox: libseccomp cannot create a filter");
	int rc = seccomp_attr_set(c, SCMP_FLTATR_CTL_TSYNC, 1);
	/* a binary tree of syscall numbers instead of a list: each call
	 * (KVM_RUN on every exit) costs a few comparisons, not a hundred */
	if (rc == 0)
		rc = seccomp_attr_set(c, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (rc < 0) {
		seccomp_release(c);
		return nb_err_internal("sandbox: libseccomp: %s", strerror(-rc));
	}
	/* The hot calls first in the tree's order of preference. */
	seccomp_syscall_priority(c, __NR_ioctl, 255);
	seccomp_syscall_priority(c, __NR_write, 254);
	seccomp_syscall_priority(c, __NR_read, 253);
	seccomp_syscall_priority(c, __NR_futex, 252);
	if (with_temp && any_temp(features) && n < 256)
		needs[n++] = &restack_need;
	for (size_t i = 0; i < n; i++) {
		if (!applies(needs[i], features, with_temp))
			continue;
		if (log)
			fprintf(log, "nobios: sandbox: %zu call rule(s) for %s%s\n", needs[i]->nrules,
				needs[i]->who,
				(needs[i]->flags & SANDBOX_UNTIL_READY) ? " (until it is ready)" : "");
		for (size_t k = 0; k < needs[i]->nrules; k++)
			if (add_rule(c, needs[i], &needs[i]->rules[k]) < 0) {
				seccomp_release(c);
				return -1;
			}
	}
	rc = seccomp_load(c);
	seccomp_release(c);
	if (rc < 0)
		return nb_err_internal("sandbox: cannot install the seccomp filter: %s (run with "
				       "--no-sandbox to go without)", strerror(-rc));
	return 0;
}

int sandbox_enter(unsigned features, int exit_status, FILE *log)
{
	pthread_mutex_lock(&lock);
	if (active) {
		pthread_mutex_unlock(&lock);
		return nb_err_internal("sandbox: already in force");
	}
	refusal_status = exit_status;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	/* A thread that blocks SIGSYS would not run the handler: the kernel
	 * then resets SIGSYS to its default and the process dies without a
	 * word.  Threads that block "every" signal leave SIGSYS out. */
	bool temp = any_temp(features);
	int rc = load_filter(features, true, log);
	if (rc == 0) {
		active = true;
		active_features = features;
		temp_in_force = temp;
		if (log)
			fprintf(log, "nobios: sandbox: in force%s\n",
				temp ? " (with temporary grants until their modules are ready)" : "");
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

bool sandbox_grants(const char *who)
{
	pthread_mutex_lock(&lock);
	bool yes = false;
	if (active && temp_in_force && !is_ready(who)) {
		const struct sandbox_need *needs[256];
		size_t n = sandbox_needs(needs, 256);
		for (size_t i = 0; i < n; i++)
			if ((needs[i]->flags & SANDBOX_UNTIL_READY) && strcmp(needs[i]->who, who) == 0 &&
			    applies(needs[i], active_features, true))
				yes = true;
	}
	pthread_mutex_unlock(&lock);
	return yes;
}

void sandbox_ready(const char *who)
{
	pthread_mutex_lock(&lock);
	if (!is_ready(who) && nready < MAX_READY)
		ready_names[nready++] = who;
	if (active && temp_in_force && !any_temp(active_features)) {
		if (load_filter(active_features, false, NULL) == 0)
			temp_in_force = false;
		else /* the looser filter stays: say so rather than pretend */
			fprintf(stderr, "nobios: %s\n", nb_errmsg());
	}
	pthread_mutex_unlock(&lock);
}
