/* test_cmos.c - MC146818 RTC formats and the CMOS memory-size bytes. */
#include "dev_fake.h"

#include <time.h>

#define IDX 0x70
#define DAT 0x71

struct cfix {
	struct bus bus;
	struct fake_host fh;
	struct machine_config cfg;
	struct guest_mem mem;
	void *state;
};

/* Only the sizes matter to the CMOS: no RAM behind this guest_mem. */
static struct cfix *cmos_new(uint64_t low, uint64_t high)
{
	struct cfix *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	bus_init(&t->bus);
	t->mem.low_size = low;
	t->mem.high_size = high;
	t->mem.size = low + high;
	fake_host_init(&t->fh, &t->mem, -1, -1);
	t->cfg.ram_size = t->mem.size;
	t->state = fake_device_init("cmos-rtc", &t->bus, &t->fh, &t->cfg);
	return t;
}

static void cmos_free(struct cfix *t)
{
	fake_device_fini("cmos-rtc", t->state);
	free(t);
}

static uint8_t rd(struct cfix *t, uint8_t reg)
{
	fake_outb(&t->bus, IDX, reg);
	return fake_inb(&t->bus, DAT);
}

static void wr(struct cfix *t, uint8_t reg, uint8_t v)
{
	fake_outb(&t->bus, IDX, reg);
	fake_outb(&t->bus, DAT, v);
}

static unsigned rd16(struct cfix *t, uint8_t lo)
{
	return rd(t, lo) | (unsigned)rd(t, lo + 1) << 8;
}

static int bcd(uint8_t v)
{
	assert_true((v & 0x0F) <= 9 && (v >> 4) <= 9);
	return (v >> 4) * 10 + (v & 0x0F);
}

struct rtc_time { int sec, min, hour, wday, mday, mon, year; };

static time_t rtc_read(struct cfix *t, bool binary, struct rtc_time *r)
{
	int (*dec)(uint8_t) = binary ? NULL : bcd;
#define D(x) (dec ? dec(x) : (int)(x))
	r->sec = D(rd(t, 0x00));
	r->min = D(rd(t, 0x02));
	r->hour = D(rd(t, 0x04));
	r->wday = D(rd(t, 0x06));
	r->mday = D(rd(t, 0x07));
	r->mon = D(rd(t, 0x08));
	r->year = D(rd(t, 0x32)) * 100 + D(rd(t, 0x09));
#undef D
	struct tm tm = { .tm_sec = r->sec, .tm_min = r->min, .tm_hour = r->hour,
			 .tm_mday = r->mday, .tm_mon = r->mon - 1, .tm_year = r->year - 1900 };
	time_t tt = timegm(&tm);
	assert_int_equal(tm.tm_wday + 1, r->wday); /* 1 = Sunday */
	return tt;
}

static void check_time(struct cfix *t, bool binary)
{
	time_t before = time(NULL);
	struct rtc_time r;
	time_t got = rtc_read(t, binary, &r);
	time_t after = time(NULL);
	assert_true(r.sec <= 59 && r.min <= 59 && r.hour <= 23);
	assert_true(r.mday >= 1 && r.mday <= 31 && r.mon >= 1 && r.mon <= 12);
	/* Seconds may tick between field reads: allow one roll-over. */
	assert_true(got >= before - 60 && got <= after + 60);
}

static void test_bcd_default(void **st)
{
	struct cfix *t = cmos_new(256 << 20, 0);
	assert_int_equal(rd(t, 0x0B), 0x02); /* 24 h, BCD */
	check_time(t, false);
	cmos_free(t);
}

static void test_binary_and_12h(void **st)
{
	struct cfix *t = cmos_new(256 << 20, 0);
	wr(t, 0x0B, 0x06); /* binary, 24 h */
	assert_int_equal(rd(t, 0x0B), 0x06);
	check_time(t, true);
	/* 12-hour binary: hour 1..12 and bit 7 for PM, matching the 24 h hour. */
	for (;;) {
		uint8_t h24 = rd(t, 0x04);
		wr(t, 0x0B, 0x04);
		uint8_t h12 = rd(t, 0x04);
		wr(t, 0x0B, 0x06);
		if (rd(t, 0x04) != h24)
			continue; /* the hour changed under us: retry */
		unsigned h = h12 & 0x7F;
		assert_true(h >= 1 && h <= 12);
		assert_int_equal((h % 12) + ((h12 & 0x80) ? 12 : 0), h24);
		break;
	}
	cmos_free(t);
}

static void test_status_registers(void **st)
{
	struct cfix *t = cmos_new(256 << 20, 0);
	uint8_t a = rd(t, 0x0A);
	assert_int_equal(a & 0x80, 0); /* UIP clear */
	assert_int_equal(a, 0x26);
	wr(t, 0x0A, 0xA6); /* UIP is read-only */
	assert_int_equal(rd(t, 0x0A), 0x26);
	assert_int_equal(rd(t, 0x0D), 0x80); /* valid RAM and time */
	assert_int_equal(rd(t, 0x0C), 0x00);
	/* Index bit 7 is the NMI mask: ignored for addressing. */
	fake_outb(&t->bus, IDX, 0x8D);
	assert_int_equal(fake_inb(&t->bus, DAT), 0x80);
	/* Plain CMOS bytes are storage. */
	wr(t, 0x40, 0x5A);
	assert_int_equal(rd(t, 0x40), 0x5A);
	wr(t, 0x7F, 0xA5);
	assert_int_equal(rd(t, 0x7F), 0xA5);
	cmos_free(t);
}

static void test_time_write_offset(void **st)
{
	struct cfix *t = cmos_new(256 << 20, 0);
	uint8_t cent = rd(t, 0x32);
	wr(t, 0x09, 0x99); /* year 99 (BCD) */
	assert_int_equal(rd(t, 0x09), 0x99);
	assert_int_equal(rd(t, 0x32), cent);
	wr(t, 0x09, 0x9A); /* not BCD: ignored */
	assert_int_equal(rd(t, 0x09), 0x99);
	wr(t, 0x32, 0x19);
	assert_int_equal(rd(t, 0x32), 0x19);
	/* A set date stays set (the clock runs on from it). */
	wr(t, 0x07, 0x28); /* day first: the 28th exists in every month */
	wr(t, 0x08, 0x02);
	assert_int_equal(rd(t, 0x08), 0x02);
	uint8_t d = rd(t, 0x07);
	assert_true(d == 0x28 || d == 0x01); /* unless midnight passed */
	wr(t, 0x07, 0x30); /* Feb 30: refused */
	d = rd(t, 0x07);
	assert_true(d == 0x28 || d == 0x01);
	cmos_free(t);
}

static void test_memory_bytes(void **st)
{
	static const struct {
		uint64_t low, high;
		unsigned ext, above16, above4g;
	} cases[] = {
		{ 8ULL << 20, 0, 7 * 1024, 0, 0 },
		{ 16ULL << 20, 0, 15 * 1024, 0, 0 },
		{ 64ULL << 20, 0, 63 * 1024, 48 * 16, 0 },
		{ 256ULL << 20, 0, 0xFFFF, 240 * 16, 0 },
		/* 6 GiB: 3 GiB below the hole, 3 GiB at 4 GiB. */
		{ 3ULL << 30, 3ULL << 30, 0xFFFF, ((3ULL << 30) - (16ULL << 20)) >> 16,
		  (3ULL << 30) >> 16 },
		/* 1 TiB above 4 GiB: 2^24 units, capped at 24 bits. */
		{ 3ULL << 30, 1ULL << 40, 0xFFFF, 0xBF00, 0xFFFFFF },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfix *t = cmos_new(cases[i].low, cases[i].high);
		assert_int_equal(rd16(t, 0x15), 640);
		assert_int_equal(rd16(t, 0x17), cases[i].ext);
		assert_int_equal(rd16(t, 0x30), cases[i].ext);
		assert_int_equal(rd16(t, 0x34), cases[i].above16);
		unsigned g = rd(t, 0x5B) | (unsigned)rd(t, 0x5C) << 8 | (unsigned)rd(t, 0x5D) << 16;
		assert_int_equal(g, cases[i].above4g);
		cmos_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bcd_default),
		cmocka_unit_test(test_binary_and_12h),
		cmocka_unit_test(test_status_registers),
		cmocka_unit_test(test_time_write_offset),
		cmocka_unit_test(test_memory_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
