/* test_sandbox.c - the seccomp allow-list (src/util/sandbox.c) with the
 * needs every module of libnobios registers, installed for real in a child
 * process per test: forbidden calls (execve, openat, socket, signalling
 * another process, a clone into new namespaces, executable memory) end the
 * child with the refusal status and a line naming the call; what the run
 * loop, devices and threads do still works; the filter reaches threads
 * started before it; and the completion engine loads libunicorn under its
 * temporary grant, completes an SSE instruction, after which opening files
 * is refused again.  No KVM needed: seccomp is the kernel's, not KVM's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "emul/emul.h"
#include "mem/mem.h"
#include "util/err.h"
#include "util/sandbox.h"

#define REFUSED 42 /* the status a refusal ends the child with */

struct outcome {
	int status;    /* exit status, or 128 + signal */
	char err[512]; /* the child's stderr */
};

/* Run fn in a child with its stderr captured. */
static struct outcome in_child(int (*fn)(void))
{
	struct outcome o;
	memset(&o, 0, sizeof(o));
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		_exit(fn());
	}
	close(p[1]);
	size_t n = 0;
	ssize_t k;
	while (n + 1 < sizeof(o.err) && (k = read(p[0], o.err + n, sizeof(o.err) - 1 - n)) > 0)
		n += (size_t)k;
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	o.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return o;
}

static void expect_refused(int (*fn)(void), const char *call)
{
	struct outcome o = in_child(fn);
	if (o.status != REFUSED)
		fail_msg("status %d, want %d (refused %s); stderr: %s", o.status, REFUSED, call, o.err);
	char want[64];
	snprintf(want, sizeof(want), "(%s)", call);
	if (!strstr(o.err, "nobios: sandbox: refused system call") || !strstr(o.err, want))
		fail_msg("stderr does not name %s: %s", call, o.err);
}

static void expect_fine(int (*fn)(void))
{
	struct outcome o = in_child(fn);
	if (o.status != 0)
		fail_msg("status %d; stderr: %s", o.status, o.err);
}

static int enter(unsigned features)
{
	if (sandbox_enter(features, REFUSED, NULL) < 0) {
		fprintf(stderr, "sandbox_enter: %s\n", nb_errmsg());
		_exit(3);
	}
	return 0;
}

/* ---- forbidden */

static int do_execve(void)
{
	enter(0);
	char *none[] = { NULL };
	syscall(SYS_execve, "/bin/true", none, none);
	return 1; /* not reached */
}

static int do_openat(void)
{
	enter(0);
	int fd = open("/etc/passwd", O_RDONLY);
	return fd >= 0 ? 1 : 2;
}

static int do_socket(void)
{
	enter(0);
	socket(AF_INET, SOCK_STREAM, 0);
	return 1;
}

static int do_kill_other(void)
{
	pid_t parent = getppid();
	enter(0);
	syscall(SYS_tgkill, parent, parent, 0); /* signal 0: only a probe */
	return 1;
}

static int do_clone_newuser(void)
{
	enter(0);
	syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
	return 1;
}

static int do_exec_memory(void)
{
	enter(0);
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? 2 : 1;
}

static void test_forbidden(void **state)
{
	(void)state;
	expect_refused(do_execve, "execve");
	expect_refused(do_openat, "openat");
	expect_refused(do_socket, "socket");
	expect_refused(do_kill_other, "tgkill");
	expect_refused(do_clone_newuser, "clone");
	/* mmap is refused inside the allocator's calls: named by number */
	struct outcome o = in_child(do_exec_memory);
	assert_int_equal(o.status, REFUSED);
	assert_non_null(strstr(o.err, "refused system call 9")); /* __NR_mmap */
}

/* ---- allowed: what the running machine does */

static void *thread_main(void *arg)
{
	*(int *)arg = 7;
	return NULL;
}

static int do_allowed(void)
{
	/* the pipes first: pipe2 after the guest is the front end's need
	 * (src/cli/main.c), which the library under test does not carry */
	int p[2], q[2];
	if (pipe(p) < 0 || pipe(q) < 0)
		return 10;
	enter(0);
	void *big = malloc(64 << 20); /* mmap */
	if (!big)
		return 11;
	memset(big, 1, 1 << 20);
	free(big);
	char *small = malloc(100);
	free(small);
	if (write(p[1], "x", 1) != 1)
		return 12;
	char c;
	if (read(p[0], &c, 1) != 1 || c != 'x')
		return 13;
	pthread_t t;
	int v = 0;
	if (pthread_create(&t, NULL, thread_main, &v) != 0 || pthread_join(t, NULL) != 0 || v != 7)
		return 14;
	struct timespec ts = { 0, 1000000 };
	if (nanosleep(&ts, NULL) != 0 || clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 15;
	struct stat st;
	if (fstat(p[0], &st) != 0)
		return 16;
	fprintf(stderr, "stdio works %d\n", 1);
	/* clone3 says ENOSYS (glibc falls back to clone, as pthread_create did) */
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		return 17;
	/* signals to ourselves (raise, pthread_kill) */
	signal(SIGUSR1, SIG_IGN);
	if (raise(SIGUSR1) != 0)
		return 18;
	/* the teardown child of src/cli/main.c: fork, read, _exit */
	pid_t pid = fork();
	if (pid == 0) {
		close(q[1]);
		for (int fd = 0; fd < 3; fd++)
			close(fd);
		while (read(q[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	if (pid < 0)
		return 20;
	close(q[0]);
	return 0;
}

static void test_allowed(void **state)
{
	(void)state;
	expect_fine(do_allowed);
}

/* ---- the filter reaches threads that already run (TSYNC) */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;

static void *early_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	while (!go)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	char *none[] = { NULL };
	syscall(SYS_execve, "/bin/true", none, none);
	return NULL;
}

static int do_tsync(void)
{
	pthread_t t;
	/* a thread that blocks every signal, as the hang watcher does, but
	 * SIGSYS (which the sandbox needs to reach its handler) */
	sigset_t all, old;
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_create(&t, NULL, early_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	enter(0);
	pthread_mutex_lock(&mu);
	go = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(t, NULL);
	return 1; /* not reached: the thread's execve ends the process */
}

static void test_threads_started_before(void **state)
{
	(void)state;
	expect_refused(do_tsync, "execve");
}

/* ---- the completion engine: temporary grant, then tightened */

static int complete_one(void)
{
	static uint8_t ram[4 << 20] __attribute__((aligned(4096)));
	struct guest_mem m;
	mem_init_buf(&m, ram, sizeof(ram));
	static struct emul_vcpu v;
	memset(&v, 0, sizeof(v));
	if (cpu_setup_long(&v.cpu, &m) < 0)
		return 30;
	v.cpu.cr4 |= X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	v.cpu.rip = 0x100000;
	v.fpu_valid = true;
	v.xcr0 = XCR0_X87 | XCR0_SSE;
	memset(v.xsave + FXSAVE_XMM0, 0xAB, 16); /* xmm0 */
	static const uint8_t pxor[] = { 0x66, 0x0F, 0xEF, 0xC0 }; /* pxor xmm0, xmm0 */
	memcpy(ram + 0x100000, pxor, sizeof(pxor));
	struct emul_engine *e;
	if (emul_engine_create(&e) < 0)
		return 31;
	struct emul_result r;
	emul_complete(e, &m, &v, &r);
	if (r.status != EMUL_DONE) {
		fprintf(stderr, "completion: status %d: %s (%s)\n", r.status, r.why, nb_errmsg());
		return 32;
	}
	for (int i = 0; i < 16; i++)
		if (v.xsave[FXSAVE_XMM0 + i] != 0)
			return 33;
	if (v.cpu.rip != 0x100004)
		return 34;
	emul_engine_destroy(e);
	return 0;
}

static int do_completion(void)
{
	enter(SANDBOX_F_COMPLETION);
	int r = complete_one(); /* loads libunicorn under the grant */
	if (r)
		return r;
	if (sandbox_grants("completion engine: loading libunicorn (src/emul/uc_dl.c)"))
		return 35; /* the grant must have ended with the load */
	open("/etc/passwd", O_RDONLY); /* refused now */
	return 36;
}

static int do_completion_preloaded(void)
{
	emul_preload_async(); /* as machine_run does on emulating hosts */
	enter(SANDBOX_F_COMPLETION);
	int r = complete_one();
	if (r)
		return r;
	open("/etc/passwd", O_RDONLY);
	return 36;
}

static int do_completion_not_expected(void)
{
	/* a host that does not emulate: no grant, and a completion that
	 * comes anyway fails with a clear error instead of a refusal */
	enter(0);
	int r = complete_one();
	return r == 32 ? 0 : 40 + r;
}

static void test_completion_engine(void **state)
{
	(void)state;
	if (access("/usr/lib/x86_64-linux-gnu/libunicorn.so.2", F_OK) != 0) {
		printf("SKIPPED test_completion_engine: libunicorn2 is not installed\n");
		skip();
	}
	expect_refused(do_completion, "openat");
	expect_refused(do_completion_preloaded, "openat");
	struct outcome o = in_child(do_completion_not_expected);
	if (o.status != 0 || !strstr(o.err, "not loaded before the sandbox"))
		fail_msg("status %d; stderr: %s", o.status, o.err);
}

static void test_needs_registered(void **state)
{
	(void)state;
	const struct sandbox_need *n[256];
	size_t k = sandbox_needs(n, 256);
	const char *want[] = { "C runtime", "vCPU run loop", "16550A UART", "console terminal",
			       "gdb stub", "instruction completion", "completion engine" };
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		bool found = false;
		for (size_t i = 0; i < k; i++)
			if (strstr(n[i]->who, want[w]))
				found = true;
		if (!found)
			fail_msg("no sandbox need registered for %s", want[w]);
	}
	for (size_t i = 0; i < k; i++) {
		assert_true(n[i]->nrules > 0);
		for (size_t r = 0; r < n[i]->nrules; r++)
			assert_true(n[i]->rules[r].nr >= 0 && n[i]->rules[r].nr < 1024);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_needs_registered),
		cmocka_unit_test(test_forbidden),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_threads_started_before),
		cmocka_unit_test(test_completion_engine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
