/* cmos_rtc.c - MC146818 real-time clock and CMOS RAM at ports 0x70/0x71.
 *
 * Time: the host's clock in UTC, read on every access of a time register,
 * in BCD or binary and 24- or 12-hour format as register B selects
 * (default 0x02: 24-hour, BCD).  Register A reads with UIP clear and the
 * 32.768 kHz divider / 1024 Hz rate (0x26); we never freeze the registers,
 * so a guest that waits for UIP to clear goes on at once.  Register D says
 * the RAM is valid (VRT, 0x80).  No RTC interrupts (IRQ 8) are generated;
 * register C reads 0.
 *
 * Writes to the time registers (guests that set the clock, hwclock -w) are
 * kept as an offset from the host's clock: the field written replaces the
 * field of the current guest time, and the difference to the host clock is
 * kept, so the guest's clock then runs on from what it set.  An invalid
 * value (bad BCD, day 31 in a 30-day month...) is ignored.
 *
 * CMOS memory sizes as BIOSes publish them (from struct guest_mem):
 *   0x15/0x16  base memory in KiB (640)
 *   0x17/0x18  extended memory above 1 MiB in KiB, capped at 0xFFFF
 *   0x30/0x31  the same (the POST copy)
 *   0x34/0x35  memory above 16 MiB (below 4 GiB) in 64 KiB units, capped
 *   0x5B-0x5D  memory above 4 GiB in 64 KiB units (24 bits)
 *   0x32       century (BCD or binary as register B)
 * The index port's bit 7 (NMI mask) is ignored. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev/dev.h"
#include "mem/layout.h"
#include "mem/mem.h"
#include "nobios.h"
#include "util/err.h"

#define CMOS_INDEX_PORT 0x70
#define CMOS_DATA_PORT  0x71
#define CMOS_SIZE       128

#define RTC_SECONDS       0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES       0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS         0x04
#define RTC_HOURS_ALARM   0x05
#define RTC_DAY_OF_WEEK   0x06
#define RTC_DAY_OF_MONTH  0x07
#define RTC_MONTH         0x08
#define RTC_YEAR          0x09
#define RTC_REG_A         0x0A
#define RTC_REG_B         0x0B
#define RTC_REG_C         0x0C
#define RTC_REG_D         0x0D
#define CMOS_SHUTDOWN     0x0F
#define CMOS_EQUIPMENT    0x14
#define CMOS_BASE_MEM_LO  0x15
#define CMOS_BASE_MEM_HI  0x16
#define CMOS_EXT_MEM_LO   0x17
#define CMOS_EXT_MEM_HI   0x18
#define CMOS_EXT_MEM2_LO  0x30
#define CMOS_EXT_MEM2_HI  0x31
#define RTC_CENTURY       0x32
#define CMOS_MEM16_LO     0x34
#define CMOS_MEM16_HI     0x35
#define CMOS_MEM4G_0      0x5B
#define CMOS_MEM4G_1      0x5C
#define CMOS_MEM4G_2      0x5D

#define RTC_A_UIP      0x80
#define RTC_A_DEFAULT  0x26 /* DV = 010 (32.768 kHz), RS = 0110 (1024 Hz) */
#define RTC_B_SET      0x80
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H      0x02
#define RTC_B_DEFAULT  RTC_B_24H
#define RTC_D_VRT      0x80
#define RTC_HOUR_PM    0x80

struct cmos {
	struct dev_host *host;
	uint8_t index;
	uint8_t ram[CMOS_SIZE];
	int64_t offset; /* guest time - host time, seconds */
};

static bool cmos_binary(const struct cmos *c)
{
	return c->ram[RTC_REG_B] & RTC_B_DM_BINARY;
}

static uint8_t cmos_encode(const struct cmos *c, unsigned v)
{
	v %= 100;
	return cmos_binary(c) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

/* Decode a written value; -1 when it is not a valid number in this mode. */
static int cmos_decode(const struct cmos *c, uint8_t v)
{
	if (cmos_binary(c))
		return v;
	if ((v & 0x0F) > 9 || (v >> 4) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0x0F);
}

static void cmos_guest_tm(const struct cmos *c, struct tm *tm)
{
	time_t t = (time_t)((int64_t)time(NULL) + c->offset);
	gmtime_r(&t, tm);
}

static uint8_t cmos_read_time(const struct cmos *c, uint8_t reg)
{
	struct tm tm;
	cmos_guest_tm(c, &tm);
	switch (reg) {
	case RTC_SECONDS:
		return cmos_encode(c, (unsigned)tm.tm_sec);
	case RTC_MINUTES:
		return cmos_encode(c, (unsigned)tm.tm_min);
	case RTC_HOURS:
		if (c->ram[RTC_REG_B] & RTC_B_24H)
			return cmos_encode(c, (unsigned)tm.tm_hour);
		/* 12-hour: 12, 1..11 with bit 7 for PM. */
		return (uint8_t)(cmos_encode(c, (unsigned)(tm.tm_hour % 12 ? tm.tm_hour % 12 : 12)) |
				 (tm.tm_hour >= 12 ? RTC_HOUR_PM : 0));
	case RTC_DAY_OF_WEEK:
		return cmos_encode(c, (unsigned)tm.tm_wday + 1); /* 1 = Sunday */
	case RTC_DAY_OF_MONTH:
		return cmos_encode(c, (unsigned)tm.tm_mday);
	case RTC_MONTH:
		return cmos_encode(c, (unsigned)tm.tm_mon + 1);
	case RTC_YEAR:
		return cmos_encode(c, (unsigned)(tm.tm_year + 1900) % 100);
	default: /* RTC_CENTURY */
		return cmos_encode(c, (unsigned)(tm.tm_year + 1900) / 100);
	}
}

static bool cmos_is_time_reg(uint8_t reg)
{
	return reg == RTC_SECONDS || reg == RTC_MINUTES || reg == RTC_HOURS ||
	       reg == RTC_DAY_OF_WEEK || reg == RTC_DAY_OF_MONTH || reg == RTC_MONTH ||
	       reg == RTC_YEAR || reg == RTC_CENTURY;
}

static void cmos_write_time(struct cmos *c, uint8_t reg, uint8_t v)
{
	struct tm tm;
	cmos_guest_tm(c, &tm);
	int n;
	if (reg == RTC_HOURS && !(c->ram[RTC_REG_B] & RTC_B_24H)) {
		n = cmos_decode(c, v & (uint8_t)~RTC_HOUR_PM);
		if (n < 1 || n > 12)
			return;
		n = n % 12 + ((v & RTC_HOUR_PM) ? 12 : 0);
	} else {
		n = cmos_decode(c, v);
	}
	if (n < 0)
		return;
	switch (reg) {
	case RTC_SECONDS:
		if (n > 59)
			return;
		tm.tm_sec = n;
		break;
	case RTC_MINUTES:
		if (n > 59)
			return;
		tm.tm_min = n;
		break;
	case RTC_HOURS:
		if (n > 23)
			return;
		tm.tm_hour = n;
		break;
	case RTC_DAY_OF_WEEK:
		return; /* derived from the date */
	case RTC_DAY_OF_MONTH:
		if (n < 1 || n > 31)
			return;
		tm.tm_mday = n;
		break;
	case RTC_MONTH:
		if (n < 1 || n > 12)
			return;
		tm.tm_mon = n - 1;
		break;
	case RTC_YEAR:
		if (n > 99)
			return;
		tm.tm_year = (tm.tm_year + 1900) / 100 * 100 + n - 1900;
		break;
	default: /* RTC_CENTURY */
		if (n < 19 || n > 99)
			return;
		tm.tm_year = n * 100 + (tm.tm_year + 1900) % 100 - 1900;
		break;
	}
	/* timegm normalises an impossible date (Feb 30) into March; refuse it. */
	int mday = tm.tm_mday, mon = tm.tm_mon;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != mday || tm.tm_mon != mon)
		return;
	c->offset = (int64_t)t - (int64_t)time(NULL);
}

static uint8_t cmos_read(struct cmos *c, uint8_t reg)
{
	if (cmos_is_time_reg(reg))
		return cmos_read_time(c, reg);
	switch (reg) {
	case RTC_REG_A:
		return c->ram[RTC_REG_A] & (uint8_t)~RTC_A_UIP;
	case RTC_REG_C:
		return 0; /* no interrupt flags: no RTC interrupts are raised */
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		return c->ram[reg];
	}
}

static void cmos_write(struct cmos *c, uint8_t reg, uint8_t v)
{
	if (cmos_is_time_reg(reg)) {
		cmos_write_time(c, reg, v);
		return;
	}
	switch (reg) {
	case RTC_REG_A:
		c->ram[reg] = v & (uint8_t)~RTC_A_UIP; /* UIP is read-only */
		return;
	case RTC_REG_C:
	case RTC_REG_D:
		return; /* read-only */
	default:
		c->ram[reg] = v;
		return;
	}
}

static void cmos_in(void *opaque, uint16_t port, uint8_t *data, unsigned size)
{
	struct cmos *c = opaque;
	memset(data, 0xFF, size);
	/* The index register is write-only on the MC146818 (reads float). */
	if (port == CMOS_DATA_PORT)
		data[0] = cmos_read(c, c->index);
}

static void cmos_out(void *opaque, uint16_t port, const uint8_t *data, unsigned size)
{
	struct cmos *c = opaque;
	if (port == CMOS_INDEX_PORT)
		c->index = data[0] & 0x7F; /* bit 7: NMI mask, ignored */
	else
		cmos_write(c, c->index, data[0]);
}

static void cmos_put16(struct cmos *c, uint8_t lo, uint64_t v)
{
	if (v > 0xFFFF)
		v = 0xFFFF;
	c->ram[lo] = (uint8_t)v;
	c->ram[lo + 1] = (uint8_t)(v >> 8);
}

/* The memory-size bytes, from the RAM nobios gave the guest. */
static void cmos_set_memory(struct cmos *c, const struct guest_mem *m)
{
	uint64_t low = m ? m->low_size : 0, high = m ? m->high_size : 0;
	cmos_put16(c, CMOS_BASE_MEM_LO, 640);
	uint64_t ext = low > LAYOUT_HIGH_MEM ? (low - LAYOUT_HIGH_MEM) >> 10 : 0;
	cmos_put16(c, CMOS_EXT_MEM_LO, ext);
	cmos_put16(c, CMOS_EXT_MEM2_LO, ext);
	uint64_t above16 = low > (16ULL << 20) ? (low - (16ULL << 20)) >> 16 : 0;
	cmos_put16(c, CMOS_MEM16_LO, above16);
	uint64_t above4g = high >> 16;
	if (above4g > 0xFFFFFF)
		above4g = 0xFFFFFF;
	c->ram[CMOS_MEM4G_0] = (uint8_t)above4g;
	c->ram[CMOS_MEM4G_1] = (uint8_t)(above4g >> 8);
	c->ram[CMOS_MEM4G_2] = (uint8_t)(above4g >> 16);
}

static int cmos_init(struct bus *b, struct dev_host *host, const struct machine_config *cfg,
		     void **state)
{
	struct cmos *c = calloc(1, sizeof(*c));
	if (!c)
		return nb_err_internal("cmos: out of memory");
	c->host = host;
	/* glibc reads the time zone file (/etc/localtime) at the first time
	 * conversion, gmtime_r's too: do it now, while files may still be
	 * opened (util/sandbox.h allows none once the guest runs). */
	tzset();
	c->ram[RTC_REG_A] = RTC_A_DEFAULT;
	c->ram[RTC_REG_B] = RTC_B_DEFAULT;
	c->ram[CMOS_SHUTDOWN] = 0x00; /* normal POST */
	c->ram[CMOS_EQUIPMENT] = 0x02; /* FPU present, no floppy, EGA/VGA */
	cmos_set_memory(c, host->mem);
	struct pio_handler h = {
		.name = "cmos-rtc", .base = CMOS_INDEX_PORT, .len = 2, .opaque = c,
		.in = cmos_in, .out = cmos_out,
	};
	if (bus_register_pio(b, &h) < 0) {
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

static void cmos_fini(void *state)
{
	free(state);
}

static const struct device cmos_rtc_device = {
	.name = "cmos-rtc",
	.order = 10,
	.init = cmos_init,
	.fini = cmos_fini,
};
DEVICE(cmos_rtc_device);
