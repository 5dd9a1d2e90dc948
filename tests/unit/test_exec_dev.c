/* test_exec_dev.c - the host end of exec's port channel (src/dev/exec_dev.c)
 * driven as a guest would, and as a hostile one would: output bytes in
 * order to two pipes, the exit status (cut to 8 bits, the first report
 * wins), init's setup failure, unknown events and sizes ignored, stdin
 * handed out in fills that never block, end of file; no device at all
 * without machine_config.exec. */
#include "dev_fake.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "exec/exec.h"
#include "exec/exec_port.h"

struct t {
	struct bus bus;
	struct fake_host fh;
	struct machine_config cfg;
	struct exec_channel ch;
	int out[2], err[2], in[2];
	void *dev;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	assert_int_equal(pipe(t->out), 0);
	assert_int_equal(pipe(t->err), 0);
	assert_int_equal(pipe(t->in), 0);
	bus_init(&t->bus);
	fake_host_init(&t->fh, NULL, -1, -1);
	machine_config_defaults(&t->cfg);
	t->ch.out_fd = t->out[1];
	t->ch.err_fd = t->err[1];
	t->ch.in_fd = t->in[0];
	t->cfg.exec = &t->ch;
	t->dev = fake_device_init("exec", &t->bus, &t->fh, &t->cfg);
	assert_non_null(t->dev);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	fake_device_fini("exec", t->dev);
	for (int i = 0; i < 2; i++) {
		close(t->out[i]);
		close(t->err[i]);
		if (t->in[i] >= 0)
			close(t->in[i]);
	}
	free(t);
	return 0;
}

static void outl_(struct bus *b, uint16_t port, uint32_t v)
{
	uint8_t d[4];
	dev_data_put(d, 4, v);
	bus_pio_out(b, port, d, 4);
}

static uint32_t inl_(struct bus *b, uint16_t port)
{
	uint8_t d[4] = { 0 };
	bus_pio_in(b, port, d, 4);
	return dev_data_get(d, 4);
}

static void put_str(struct bus *b, uint16_t port, const char *s)
{
	for (; *s; s++)
		fake_outb(b, port, (uint8_t)*s);
}

static void expect_pipe(int fd, const char *want)
{
	char buf[256] = { 0 };
	fcntl(fd, F_SETFL, O_NONBLOCK);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	assert_string_equal(buf, want);
}

static void test_output_and_exit(void **state)
{
	struct t *t = *state;
	assert_int_equal(inl_(&t->bus, EXEC_PORT_EVENT), EXEC_MAGIC);
	put_str(&t->bus, EXEC_PORT_STDOUT, "out\n");
	put_str(&t->bus, EXEC_PORT_STDERR, "err\n");
	outl_(&t->bus, EXEC_PORT_EVENT, EXEC_EV_STARTED << 16);
	assert_true(atomic_load(&t->ch.started));
	assert_int_equal(t->fh.nstop, 0);
	/* hostile: an unknown event, a byte-sized event write, a dword to a
	 * data port (its first byte counts) */
	outl_(&t->bus, EXEC_PORT_EVENT, 0x77u << 16);
	fake_outb(&t->bus, EXEC_PORT_EVENT, 2);
	assert_int_equal(t->fh.nstop, 0);
	/* status 0x1234 from a broken init: cut to 8 bits (0x34) */
	outl_(&t->bus, EXEC_PORT_EVENT, (EXEC_EV_EXIT << 16) | 0x1234);
	assert_int_equal(t->fh.nstop, 1);
	assert_int_equal(t->fh.stop_why, DEV_STOP_EXIT);
	assert_int_equal(t->fh.stop_status, 0x34);
	assert_int_equal(atomic_load(&t->ch.report), EXEC_REPORT_EXIT);
	assert_int_equal(t->ch.status, 0x34);
	/* a second report changes nothing */
	outl_(&t->bus, EXEC_PORT_EVENT, (EXEC_EV_EXIT << 16) | 7);
	outl_(&t->bus, EXEC_PORT_EVENT, (EXEC_EV_SETUP << 16) | 1);
	assert_int_equal(t->fh.nstop, 1);
	assert_int_equal(t->ch.status, 0x34);
	expect_pipe(t->out[0], "out\n");
	expect_pipe(t->err[0], "err\n");
}

static void test_setup_failure(void **state)
{
	struct t *t = *state;
	outl_(&t->bus, EXEC_PORT_EVENT, (EXEC_EV_SETUP << 16) | EXEC_SETUP_MOUNT);
	assert_int_equal(t->fh.nstop, 1);
	assert_int_equal(t->fh.stop_status, NB_EXIT_EXEC_SETUP);
	assert_int_equal(atomic_load(&t->ch.report), EXEC_REPORT_SETUP);
	assert_int_equal(t->ch.setup_code, EXEC_SETUP_MOUNT);
}

static void test_stdin(void **state)
{
	struct t *t = *state;
	/* nothing yet: 0, at once */
	assert_int_equal(inl_(&t->bus, EXEC_PORT_STDIN_FILL), 0);
	assert_int_equal(write(t->in[1], "hello", 5), 5);
	assert_int_equal(inl_(&t->bus, EXEC_PORT_STDIN_FILL), 5);
	/* a second fill before the bytes were taken: the same 5 */
	assert_int_equal(inl_(&t->bus, EXEC_PORT_STDIN_FILL), 5);
	char got[6] = { 0 };
	for (int i = 0; i < 5; i++)
		got[i] = (char)fake_inb(&t->bus, EXEC_PORT_STDIN);
	assert_string_equal(got, "hello");
	/* reading past what was filled gives 0, not stale bytes */
	assert_int_equal(fake_inb(&t->bus, EXEC_PORT_STDIN), 0);
	close(t->in[1]);
	t->in[1] = -1;
	assert_int_equal(inl_(&t->bus, EXEC_PORT_STDIN_FILL), EXEC_STDIN_EOF);
	assert_int_equal(inl_(&t->bus, EXEC_PORT_STDIN_FILL), EXEC_STDIN_EOF);
}

static void test_closed_output(void **state)
{
	struct t *t = *state;
	/* the reader went away: output is dropped, the status still counts */
	close(t->out[0]);
	t->out[0] = open("/dev/null", O_RDONLY);
	assert_true(t->out[0] >= 0);
	signal(SIGPIPE, SIG_IGN);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	t->ch.out_fd = fds[1];
	put_str(&t->bus, EXEC_PORT_STDOUT, "lost");
	outl_(&t->bus, EXEC_PORT_EVENT, (EXEC_EV_EXIT << 16) | 3);
	assert_int_equal(t->fh.stop_status, 3);
	close(fds[1]);
}

/* Without machine_config.exec there are no exec ports. */
static void test_absent(void **state)
{
	(void)state;
	struct bus b;
	struct fake_host fh;
	struct machine_config cfg;
	bus_init(&b);
	fake_host_init(&fh, NULL, -1, -1);
	machine_config_defaults(&cfg);
	const struct device *d = fake_find_device("exec");
	assert_non_null(d);
	void *st = NULL;
	assert_int_equal(d->init(&b, &fh.host, &cfg, &st), 0);
	assert_null(st);
	uint8_t v[4] = { 0 };
	assert_false(bus_pio_in(&b, EXEC_PORT_EVENT, v, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_output_and_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setup_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_output, setup, teardown),
		cmocka_unit_test(test_absent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
