/* test_uart.c - the 16550A register model against a fake dev_host. */
#include "dev_fake.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define COM1 0x3F8
#define RBR (COM1 + 0)
#define THR (COM1 + 0)
#define DLL (COM1 + 0)
#define IER (COM1 + 1)
#define DLM (COM1 + 1)
#define IIR (COM1 + 2)
#define FCR (COM1 + 2)
#define LCR (COM1 + 3)
#define MCR (COM1 + 4)
#define LSR (COM1 + 5)
#define MSR (COM1 + 6)
#define SCR (COM1 + 7)

struct uart_fixture {
	struct bus bus;
	struct fake_host fh;
	struct machine_config cfg;
	void *state;
	int out[2]; /* console_out pipe */
	int in[2];  /* console_in pipe, or -1 */
};

static int setup_common(void **st, bool with_input)
{
	struct uart_fixture *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	bus_init(&t->bus);
	memset(&t->cfg, 0, sizeof(t->cfg));
	assert_int_equal(pipe2(t->out, O_NONBLOCK), 0);
	t->in[0] = t->in[1] = -1;
	if (with_input)
		assert_int_equal(pipe(t->in), 0);
	fake_host_init(&t->fh, NULL, t->in[0], t->out[1]);
	t->state = fake_device_init("uart16550", &t->bus, &t->fh, &t->cfg);
	*st = t;
	return 0;
}

static int setup(void **st) { return setup_common(st, false); }
static int setup_input(void **st) { return setup_common(st, true); }

static int teardown(void **st)
{
	struct uart_fixture *t = *st;
	fake_device_fini("uart16550", t->state);
	close(t->out[0]);
	close(t->out[1]);
	if (t->in[0] >= 0) {
		close(t->in[0]);
		close(t->in[1]);
	}
	free(t);
	return 0;
}

static void test_scratch_and_ier_mask(void **st)
{
	struct uart_fixture *t = *st;
	fake_outb(&t->bus, SCR, 0x5A);
	assert_int_equal(fake_inb(&t->bus, SCR), 0x5A);
	fake_outb(&t->bus, SCR, 0xA5);
	assert_int_equal(fake_inb(&t->bus, SCR), 0xA5);
	/* Linux's autoconfig writes 0x0F and expects 0x0F; bits 4-7 are zero. */
	fake_outb(&t->bus, IER, 0xFF);
	assert_int_equal(fake_inb(&t->bus, IER), 0x0F);
	fake_outb(&t->bus, IER, 0);
	assert_int_equal(fake_inb(&t->bus, IER), 0);
	fake_outb(&t->bus, LCR, 0x1B);
	assert_int_equal(fake_inb(&t->bus, LCR), 0x1B);
}

static void test_dlab(void **st)
{
	struct uart_fixture *t = *st;
	fake_outb(&t->bus, IER, 0x05);
	fake_outb(&t->bus, LCR, 0x83); /* DLAB + 8N1 */
	fake_outb(&t->bus, DLL, 0x01); /* 115200 */
	fake_outb(&t->bus, DLM, 0x00);
	assert_int_equal(fake_inb(&t->bus, DLL), 0x01);
	assert_int_equal(fake_inb(&t->bus, DLM), 0x00);
	fake_outb(&t->bus, LCR, 0x03);
	/* With DLAB clear the same offsets are RBR/IER again, untouched. */
	assert_int_equal(fake_inb(&t->bus, IER), 0x05);
	fake_outb(&t->bus, LCR, 0x83);
	assert_int_equal(fake_inb(&t->bus, DLL), 0x01);
	/* A DLAB write to offset 0 must not transmit. */
	char buf[8];
	assert_int_equal(read(t->out[0], buf, sizeof(buf)), -1);
}

static void test_output_and_lsr(void **st)
{
	struct uart_fixture *t = *st;
	assert_int_equal(fake_inb(&t->bus, LSR), 0x60); /* THRE|TEMT, no DR */
	const char *msg = "hi\n";
	for (const char *p = msg; *p; p++) {
		assert_true(fake_inb(&t->bus, LSR) & 0x20);
		fake_outb(&t->bus, THR, (uint8_t)*p);
	}
	assert_int_equal(fake_inb(&t->bus, LSR) & 0x61, 0x60);
	char buf[16] = { 0 };
	assert_int_equal(read(t->out[0], buf, sizeof(buf)), 3);
	assert_string_equal(buf, "hi\n");
	assert_int_equal(t->fh.nmilestone, 1);
	assert_string_equal(t->fh.milestone, "first console byte");
}

static void test_thre_interrupt(void **st)
{
	struct uart_fixture *t = *st;
	assert_int_equal(fake_inb(&t->bus, IIR), 0x01);
	fake_outb(&t->bus, FCR, 0x07);
	assert_int_equal(fake_inb(&t->bus, IIR), 0xC1); /* FIFOs enabled, none pending */
	assert_int_equal(t->fh.level[4], 0);
	unsigned n0 = t->fh.nirq;

	/* Enabling ETBEI with THR empty raises THRE at once (Linux's THRE test). */
	fake_outb(&t->bus, IER, 0x02);
	assert_int_equal(t->fh.level[4], 1);
	assert_int_equal(t->fh.nirq, n0 + 1);
	assert_int_equal(fake_inb(&t->bus, IIR), 0xC2);
	/* The IIR read cleared it: line low, IIR idle. */
	assert_int_equal(t->fh.level[4], 0);
	assert_int_equal(fake_inb(&t->bus, IIR), 0xC1);
	/* Each THR write re-arms it: a fresh edge. */
	fake_outb(&t->bus, THR, 'x');
	assert_int_equal(t->fh.level[4], 1);
	assert_int_equal(t->fh.nirq, n0 + 3);
	/* Disabling ETBEI drops the line without touching IIR. */
	fake_outb(&t->bus, IER, 0);
	assert_int_equal(t->fh.level[4], 0);
	/* Re-enabling: pending again (it was never acknowledged). */
	fake_outb(&t->bus, IER, 0x02);
	assert_int_equal(t->fh.level[4], 1);
	/* Only line 4 is ever used. */
	for (unsigned i = 0; i < t->fh.nirq; i++)
		assert_int_equal(t->fh.irq[i].irq, 4);
	/* Levels alternate: irq_line is called only on changes. */
	for (unsigned i = 1; i < t->fh.nirq; i++)
		assert_int_not_equal(t->fh.irq[i].level, t->fh.irq[i - 1].level);
}

static void test_loopback_msr(void **st)
{
	struct uart_fixture *t = *st;
	/* Outside loopback: CTS, DSR, DCD asserted (a ready modem). */
	assert_int_equal(fake_inb(&t->bus, MSR) & 0xF0, 0xB0);
	/* Linux's autoconfig check: LOOP|OUT2|RTS gives CTS|DCD = 0x90. */
	fake_outb(&t->bus, MCR, 0x1A);
	assert_int_equal(fake_inb(&t->bus, MCR), 0x1A);
	uint8_t msr = fake_inb(&t->bus, MSR);
	assert_int_equal(msr & 0xF0, 0x90);
	assert_int_equal(msr & 0x0F, 0x02); /* DSR dropped: DDSR */
	assert_int_equal(fake_inb(&t->bus, MSR) & 0x0F, 0); /* deltas clear on read */
	/* OUT1 -> RI; dropping it again sets TERI (trailing edge only). */
	fake_outb(&t->bus, MCR, 0x1E);
	assert_int_equal(fake_inb(&t->bus, MSR), 0xD0);
	fake_outb(&t->bus, MCR, 0x1A);
	assert_int_equal(fake_inb(&t->bus, MSR), 0x94);
	/* Modem-status interrupt: lowest priority, needs IER.MSI. */
	fake_outb(&t->bus, IER, 0x08);
	fake_outb(&t->bus, MCR, 0x1B); /* DTR -> DSR: DDSR */
	assert_int_equal(fake_inb(&t->bus, IIR), 0x00);
	assert_int_equal(t->fh.level[4], 1);
	fake_inb(&t->bus, MSR);
	assert_int_equal(fake_inb(&t->bus, IIR), 0x01);
	assert_int_equal(t->fh.level[4], 0);

	/* Loopback data: THR goes to RBR, not to the console. */
	fake_outb(&t->bus, THR, 0x42);
	assert_int_equal(fake_inb(&t->bus, LSR) & 0x01, 0x01);
	assert_int_equal(fake_inb(&t->bus, RBR), 0x42);
	assert_int_equal(fake_inb(&t->bus, LSR) & 0x01, 0);
	char buf[4];
	assert_int_equal(read(t->out[0], buf, sizeof(buf)), -1);
	assert_int_equal(t->fh.nmilestone, 0);
}

static void test_iir_priority(void **st)
{
	struct uart_fixture *t = *st;
	fake_outb(&t->bus, MCR, 0x10); /* loopback, FIFO off (16450 mode) */
	fake_outb(&t->bus, THR, 'a');
	fake_outb(&t->bus, THR, 'b'); /* RBR not read: overrun, 'b' overwrites */
	fake_outb(&t->bus, MCR, 0x11); /* DTR -> DSR delta for MSI */
	fake_outb(&t->bus, IER, 0x0F);
	assert_int_equal(t->fh.level[4], 1);
	/* Priority: line status > received data > THRE > modem status. */
	assert_int_equal(fake_inb(&t->bus, IIR), 0x06);
	uint8_t lsr = fake_inb(&t->bus, LSR);
	assert_int_equal(lsr & 0x03, 0x03); /* DR|OE */
	assert_int_equal(fake_inb(&t->bus, LSR) & 0x02, 0); /* OE cleared by the read */
	assert_int_equal(fake_inb(&t->bus, IIR), 0x04);
	assert_int_equal(fake_inb(&t->bus, RBR), 'b');
	assert_int_equal(fake_inb(&t->bus, IIR), 0x02);
	assert_int_equal(fake_inb(&t->bus, IIR), 0x00); /* THRE cleared by the read */
	fake_inb(&t->bus, MSR);
	assert_int_equal(fake_inb(&t->bus, IIR), 0x01);
	assert_int_equal(t->fh.level[4], 0);
}

static void test_rx_fifo_and_overrun(void **st)
{
	struct uart_fixture *t = *st;
	fake_outb(&t->bus, FCR, 0x47); /* FIFO on, clear, trigger level 4 */
	fake_outb(&t->bus, MCR, 0x10);
	fake_outb(&t->bus, IER, 0x05); /* RDI | RLSI */
	for (int i = 0; i < 3; i++)
		fake_outb(&t->bus, THR, (uint8_t)('0' + i));
	/* Below the trigger level: character timeout (0xC). */
	assert_int_equal(fake_inb(&t->bus, IIR), 0xCC);
	fake_outb(&t->bus, THR, '3');
	assert_int_equal(fake_inb(&t->bus, IIR), 0xC4);
	assert_int_equal(t->fh.level[4], 1);
	for (int i = 4; i < 20; i++)
		fake_outb(&t->bus, THR, (uint8_t)('0' + i));
	/* 20 sent into 16 places: the last 4 lost, OE set. */
	assert_int_equal(fake_inb(&t->bus, IIR), 0xC6);
	assert_int_equal(fake_inb(&t->bus, LSR) & 0x03, 0x03);
	for (int i = 0; i < 16; i++) {
		assert_true(fake_inb(&t->bus, LSR) & 0x01);
		assert_int_equal(fake_inb(&t->bus, RBR), '0' + i);
	}
	assert_int_equal(fake_inb(&t->bus, LSR) & 0x03, 0);
	assert_int_equal(fake_inb(&t->bus, IIR), 0xC1);
	assert_int_equal(t->fh.level[4], 0);
	/* FCR "clear receiver" empties the FIFO. */
	fake_outb(&t->bus, THR, 'z');
	fake_outb(&t->bus, FCR, 0x03);
	assert_int_equal(fake_inb(&t->bus, LSR) & 0x01, 0);
	/* Disabling the FIFO: IIR loses 0xC0. */
	fake_outb(&t->bus, FCR, 0x00);
	assert_int_equal(fake_inb(&t->bus, IIR), 0x01);
}

/* Wait (bounded) until LSR.DR, as a polling driver would. */
static bool wait_dr(struct uart_fixture *t)
{
	for (int i = 0; i < 2000; i++) {
		if (fake_inb(&t->bus, LSR) & 0x01)
			return true;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return false;
}

static void test_host_input(void **st)
{
	struct uart_fixture *t = *st;
	fake_outb(&t->bus, FCR, 0x01); /* FIFO on, trigger 1 */
	fake_outb(&t->bus, IER, 0x01);
	assert_int_equal(write(t->in[1], "hello", 5), 5);
	assert_true(wait_dr(t));
	/* The reader thread raised the line. */
	for (int i = 0; i < 2000 && t->fh.level[4] != 1; i++) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	assert_int_equal(t->fh.level[4], 1);
	char got[6] = { 0 };
	for (int i = 0; i < 5; i++) {
		assert_true(wait_dr(t));
		got[i] = (char)fake_inb(&t->bus, RBR);
	}
	assert_string_equal(got, "hello");
	assert_int_equal(fake_inb(&t->bus, IIR), 0xC1);
	assert_int_equal(t->fh.level[4], 0);
}

static void test_host_input_paste(void **st)
{
	struct uart_fixture *t = *st;
	/* A paste much larger than the FIFO arrives whole and in order, with
	 * no overrun: the software buffer and back-pressure hold the rest. */
	enum { N = 6000 };
	static uint8_t data[N];
	for (int i = 0; i < N; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	fake_outb(&t->bus, FCR, 0x01);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ssize_t off = 0;
		while (off < N) {
			ssize_t n = write(t->in[1], data + off, (size_t)(N - off));
			if (n <= 0)
				_exit(1);
			off += n;
		}
		_exit(0);
	}
	for (int i = 0; i < N; i++) {
		assert_true(wait_dr(t));
		uint8_t lsr = fake_inb(&t->bus, LSR);
		assert_int_equal(lsr & 0x02, 0);
		assert_int_equal(fake_inb(&t->bus, RBR), data[i]);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scratch_and_ier_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dlab, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_and_lsr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback_msr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iir_priority, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_fifo_and_overrun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_input, setup_input, teardown),
		cmocka_unit_test_setup_teardown(test_host_input_paste, setup_input, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
