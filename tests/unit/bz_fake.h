/* bz_fake.h - build a small fake bzImage in memory for the boot-protocol
 * unit tests: a boot sector full of junk (so tests can see the zero page is
 * fresh), a setup header at 0x1F1 written byte by byte at the offsets of
 * boot.rst (not through our struct, so a wrong struct is caught), and a
 * protected-mode part with an optional payload. */
#ifndef TESTS_UNIT_BZ_FAKE_H
#define TESTS_UNIT_BZ_FAKE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct bz_fake_opts {
	uint8_t setup_sects;    /* in the header (0 means 4) */
	uint16_t version;
	uint16_t xloadflags;
	uint8_t loadflags;
	uint8_t relocatable;
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t cmdline_size;
	uint32_t initrd_addr_max;
	size_t pm_size;         /* protected-mode part */
	const uint8_t *payload; /* copied into the pm part at payload_offset */
	size_t payload_len;
	uint32_t payload_offset;
};

static inline struct bz_fake_opts bz_fake_defaults(void)
{
	struct bz_fake_opts o = {
		.setup_sects = 2,
		.version = 0x020F,
		.xloadflags = 0x3, /* XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
		.loadflags = 0x01, /* LOADED_HIGH */
		.relocatable = 1,
		.kernel_alignment = 0x200000,
		.pref_address = 0x1000000,
		.init_size = 0x200000,
		.cmdline_size = 0x7FF,
		.initrd_addr_max = 0x7FFFFFFF,
		.pm_size = 0x3000,
	};
	return o;
}

static inline void bz_w8(uint8_t *b, size_t o, uint8_t v) { b[o] = v; }
static inline void bz_w16(uint8_t *b, size_t o, uint16_t v)
{
	b[o] = (uint8_t)v;
	b[o + 1] = (uint8_t)(v >> 8);
}
static inline void bz_w32(uint8_t *b, size_t o, uint32_t v)
{
	bz_w16(b, o, (uint16_t)v);
	bz_w16(b, o + 2, (uint16_t)(v >> 16));
}
static inline void bz_w64(uint8_t *b, size_t o, uint64_t v)
{
	bz_w32(b, o, (uint32_t)v);
	bz_w32(b, o + 4, (uint32_t)(v >> 32));
}
static inline uint16_t bz_r16(const uint8_t *b, size_t o) { return (uint16_t)(b[o] | b[o + 1] << 8); }
static inline uint32_t bz_r32(const uint8_t *b, size_t o)
{
	return b[o] | b[o + 1] << 8 | b[o + 2] << 16 | (uint32_t)b[o + 3] << 24;
}
static inline uint64_t bz_r64(const uint8_t *b, size_t o)
{
	return bz_r32(b, o) | (uint64_t)bz_r32(b, o + 4) << 32;
}

#define BZ_FAKE_VERSION_STR "6.1.0-fake (nobios@test) #1 SMP"

/* Returns a malloc'ed image; *size gets its length. */
static inline uint8_t *bz_fake_build(const struct bz_fake_opts *o, size_t *size)
{
	unsigned sects = o->setup_sects ? o->setup_sects : 4;
	size_t setup = (sects + 1) * 512u;
	size_t n = setup + o->pm_size;
	uint8_t *b = malloc(n);
	memset(b, 0xEE, 0x1F1);     /* junk the zero page must not inherit */
	memset(b + 0x1F1, 0, setup - 0x1F1);
	for (size_t i = 0; i < o->pm_size; i++)
		b[setup + i] = (uint8_t)(i * 13 + 7);
	bz_w8(b, 0x1F1, o->setup_sects);
	bz_w32(b, 0x1F4, (uint32_t)(o->pm_size / 16));
	bz_w16(b, 0x1FA, 0xFFFF);   /* vid_mode */
	bz_w16(b, 0x1FE, 0xAA55);   /* boot_flag */
	bz_w8(b, 0x200, 0xEB);      /* jmp short over the header */
	bz_w8(b, 0x201, 0x6A);      /* header ends at 0x202 + 0x6A = 0x26C */
	memcpy(b + 0x202, "HdrS", 4);
	bz_w16(b, 0x206, o->version);
	bz_w16(b, 0x20E, 0x300);    /* kernel_version: string at 0x500 */
	memcpy(b + 0x500, BZ_FAKE_VERSION_STR, sizeof(BZ_FAKE_VERSION_STR));
	bz_w8(b, 0x211, o->loadflags);
	bz_w32(b, 0x214, 0x100000); /* code32_start */
	bz_w32(b, 0x22C, o->initrd_addr_max);
	bz_w32(b, 0x230, o->kernel_alignment);
	bz_w8(b, 0x234, o->relocatable);
	bz_w8(b, 0x235, 0x15);
	bz_w16(b, 0x236, o->xloadflags);
	bz_w32(b, 0x238, o->cmdline_size);
	bz_w32(b, 0x248, o->payload ? o->payload_offset : 0);
	bz_w32(b, 0x24C, o->payload ? (uint32_t)o->payload_len : 0);
	bz_w64(b, 0x258, o->pref_address);
	bz_w32(b, 0x260, o->init_size);
	if (o->payload)
		memcpy(b + setup + o->payload_offset, o->payload, o->payload_len);
	*size = n;
	return b;
}

#endif
