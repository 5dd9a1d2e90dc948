/* aml.c - the AML encoder (see aml.h): the byte encodings of ACPI 6.x
 * chapter 20 (20.2 "AML Grammar Definition") and the resource descriptors
 * of 6.4, nothing more.  nobios's DSDT is a handful of Name objects, a
 * Scope and one Device per virtio-mmio window, so no method bodies, fields
 * or operation regions are needed. */
#include "boot/aml.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"

/* The largest PkgLength: 4 bytes, 28 bits (20.2.4). */
#define AML_PKGLEN_MAX ((1u << 28) - 1)

static void fail(struct aml *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct aml *a, const char *fmt, ...)
{
	if (a->failed)
		return;
	a->failed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
}

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

int aml_finish(struct aml *a, size_t *len)
{
	if (!a->failed && a->depth)
		fail(a, "%u object(s) left open", a->depth);
	if (a->failed)
		return nb_err_internal("AML encoder: %s", a->why);
	*len = a->len;
	return 0;
}

static void put(struct aml *a, const void *p, size_t n)
{
	if (a->failed)
		return;
	if (n > a->cap - a->len) {
		fail(a, "buffer of %zu bytes full", a->cap);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void put8(struct aml *a, uint8_t v)
{
	put(a, &v, 1);
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	put(a, p, n);
}

/* NameSeg := <LeadNameChar NameChar NameChar NameChar>, LeadNameChar
 * 'A'-'Z' or '_', NameChar also '0'-'9' (20.2.2).  Shorter segments are
 * padded with '_', as ASL compilers do. */
static bool seg_char(char c, bool lead)
{
	return (c >= 'A' && c <= 'Z') || c == '_' || (!lead && c >= '0' && c <= '9');
}

void aml_namestring(struct aml *a, const char *path)
{
	if (a->failed)
		return;
	const char *p = path;
	if (*p == '\\') {
		put8(a, AML_ROOT_CHAR);
		p++;
	} else {
		while (*p == '^') {
			put8(a, AML_PARENT_PREFIX);
			p++;
		}
	}
	char segs[16][4];
	unsigned n = 0;
	while (*p) {
		if (n == 16) {
			fail(a, "name '%s' has more than 16 segments", path);
			return;
		}
		unsigned k = 0;
		for (; *p && *p != '.'; p++, k++)
			if (k >= 4 || !seg_char(*p, k == 0)) {
				fail(a, "invalid name '%s'", path);
				return;
			}
		if (k == 0) {
			fail(a, "empty name segment in '%s'", path);
			return;
		}
		memcpy(segs[n], p - k, k);
		memset(segs[n] + k, '_', 4 - k);
		n++;
		if (*p == '.')
			p++;
		if (*p == 0 && p[-1] == '.') {
			fail(a, "name '%s' ends with '.'", path);
			return;
		}
	}
	if (n == 0) {
		put8(a, 0x00); /* NullName: a bare root or parent prefix */
		return;
	}
	if (n == 2)
		put8(a, AML_DUAL_NAME_PREFIX);
	else if (n > 2) {
		put8(a, AML_MULTI_NAME_PREFIX);
		put8(a, (uint8_t)n);
	}
	for (unsigned i = 0; i < n; i++)
		put(a, segs[i], 4);
}

void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t b[9];
	unsigned n;
	if (v == 0) {
		put8(a, AML_ZERO_OP);
		return;
	}
	if (v == 1) {
		put8(a, AML_ONE_OP);
		return;
	}
	if (v <= 0xFF) {
		b[0] = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= 0xFFFF) {
		b[0] = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= 0xFFFFFFFFULL) {
		b[0] = AML_DWORD_PREFIX;
		n = 4;
	} else {
		b[0] = AML_QWORD_PREFIX;
		n = 8;
	}
	for (unsigned i = 0; i < n; i++)
		b[1 + i] = (uint8_t)(v >> (8 * i));
	put(a, b, 1 + n);
}

void aml_eisaid(struct aml *a, const char *id)
{
	/* Bits 31-0 as stored: byte 0-1 the three letters, 5 bits each
	 * ('A' = 1) below a zero bit 15, big-endian; bytes 2-3 the four hex
	 * digits, big-endian. */
	if (strlen(id) != 7) {
		fail(a, "EISA ID \"%s\" is not 3 letters and 4 hex digits", id);
		return;
	}
	unsigned v = 0;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			fail(a, "EISA ID \"%s\" is not 3 letters and 4 hex digits", id);
			return;
		}
		v = v << 5 | (unsigned)(id[i] - 'A' + 1);
	}
	unsigned prod = 0;
	for (int i = 3; i < 7; i++) {
		char c = id[i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
						    : 16;
		if (d == 16) {
			fail(a, "EISA ID \"%s\" is not 3 letters and 4 hex digits", id);
			return;
		}
		prod = prod << 4 | d;
	}
	uint32_t bytes = (uint32_t)(v >> 8) | (uint32_t)(v & 0xFF) << 8 | (uint32_t)(prod >> 8) << 16 |
			 (uint32_t)(prod & 0xFF) << 24;
	aml_integer(a, bytes);
}

void aml_string(struct aml *a, const char *s)
{
	/* String := StringPrefix AsciiCharList NullChar, chars 0x01-0x7F. */
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p > 0x7F) {
			fail(a, "string \"%s\" is not ASCII", s);
			return;
		}
	put8(a, AML_STRING_PREFIX);
	put(a, s, strlen(s) + 1);
}

void aml_name(struct aml *a, const char *path)
{
	put8(a, AML_NAME_OP);
	aml_namestring(a, path);
}

/* Reserve the longest PkgLength (4 bytes); aml_close() encodes the real
 * one and moves the contents down. */
static void open_pkg(struct aml *a)
{
	if (a->failed)
		return;
	if (a->depth == AML_MAX_DEPTH) {
		fail(a, "objects nested deeper than %d", AML_MAX_DEPTH);
		return;
	}
	a->open[a->depth++] = a->len;
	put(a, "\0\0\0\0", 4);
}

void aml_scope_open(struct aml *a, const char *path)
{
	put8(a, AML_SCOPE_OP);
	open_pkg(a);
	aml_namestring(a, path);
}

void aml_device_open(struct aml *a, const char *path)
{
	put8(a, AML_EXT_OP_PREFIX);
	put8(a, AML_DEVICE_OP);
	open_pkg(a);
	aml_namestring(a, path);
}

void aml_package_open(struct aml *a, unsigned nelements)
{
	if (nelements > 255) {
		fail(a, "Package of %u elements (NumElements is a byte)", nelements);
		return;
	}
	put8(a, AML_PACKAGE_OP);
	open_pkg(a);
	put8(a, (uint8_t)nelements);
}

/* PkgLength counts its own bytes and what follows (20.2.4): one byte (bits
 * 0-5) up to 63, else a lead byte whose bits 6-7 give the number of bytes
 * that follow and whose bits 0-3 are the low nibble, then 8 bits a byte. */
static unsigned pkglen_encode(uint32_t content, uint8_t out[4])
{
	for (unsigned n = 1; n <= 4; n++) {
		uint32_t total = content + n;
		if (n == 1 && total <= 0x3F) {
			out[0] = (uint8_t)total;
			return 1;
		}
		if (n > 1 && total < (1u << (4 + 8 * (n - 1)))) {
			out[0] = (uint8_t)(((n - 1) << 6) | (total & 0x0F));
			for (unsigned i = 1; i < n; i++)
				out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
			return n;
		}
	}
	return 0;
}

void aml_close(struct aml *a)
{
	if (a->failed)
		return;
	if (a->depth == 0) {
		fail(a, "close without an open object");
		return;
	}
	size_t at = a->open[--a->depth];
	size_t content = a->len - at - 4;
	uint8_t enc[4];
	unsigned n = content <= AML_PKGLEN_MAX ? pkglen_encode((uint32_t)content, enc) : 0;
	if (n == 0) {
		fail(a, "object of %zu bytes is too long for a PkgLength", content);
		return;
	}
	memmove(a->buf + at + n, a->buf + at + 4, content);
	memcpy(a->buf + at, enc, n);
	a->len -= 4 - n;
}

void aml_buffer(struct aml *a, const void *p, size_t n)
{
	/* DefBuffer := BufferOp PkgLength BufferSize ByteList */
	put8(a, AML_BUFFER_OP);
	open_pkg(a);
	aml_integer(a, n);
	put(a, p, n);
	aml_close(a);
}

size_t acpi_res_memory32_fixed(uint8_t *p, size_t cap, bool rw, uint32_t base, uint32_t size)
{
	/* 6.4.3.4 "32-Bit Fixed Memory Range Descriptor": tag, length (9),
	 * information (bit 0: write status), base, length. */
	if (cap < 12)
		return 0;
	p[0] = ACPI_RES_MEMORY32_FIXED;
	p[1] = ACPI_RES_MEMORY32_FIXED_LEN;
	p[2] = 0;
	p[3] = rw ? ACPI_RES_MEM_READ_WRITE : 0;
	for (int i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)(base >> (8 * i));
		p[8 + i] = (uint8_t)(size >> (8 * i));
	}
	return 12;
}

size_t acpi_res_extended_irq(uint8_t *p, size_t cap, uint8_t flags, uint32_t gsi)
{
	/* 6.4.3.6 "Extended Interrupt Descriptor": tag, length (2 + 4 per
	 * interrupt, no resource source), flags, table length, interrupts. */
	if (cap < 9)
		return 0;
	p[0] = ACPI_RES_EXTENDED_IRQ;
	p[1] = 6;
	p[2] = 0;
	p[3] = flags;
	p[4] = 1;
	for (int i = 0; i < 4; i++)
		p[5 + i] = (uint8_t)(gsi >> (8 * i));
	return 9;
}

size_t acpi_res_io(uint8_t *p, size_t cap, uint16_t base, uint8_t len)
{
	/* tag, information, minimum, maximum, alignment, length */
	if (cap < 8)
		return 0;
	p[0] = ACPI_RES_IO;
	p[1] = ACPI_RES_IO_DECODE16;
	p[2] = (uint8_t)base;
	p[3] = (uint8_t)(base >> 8);
	p[4] = (uint8_t)base;
	p[5] = (uint8_t)(base >> 8);
	p[6] = 1;
	p[7] = len;
	return 8;
}

size_t acpi_res_irq_noflags(uint8_t *p, size_t cap, unsigned irq)
{
	/* tag, then a 16-bit mask of ISA IRQs 0-15 */
	if (cap < 3 || irq > 15)
		return 0;
	p[0] = ACPI_RES_IRQ_NOFLAGS;
	p[1] = (uint8_t)(1u << irq);
	p[2] = (uint8_t)((1u << irq) >> 8);
	return 3;
}

size_t acpi_res_end(uint8_t *p, size_t cap)
{
	if (cap < 2)
		return 0;
	p[0] = ACPI_RES_END_TAG;
	p[1] = 0;
	return 2;
}
