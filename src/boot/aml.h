/* aml.h - a minimal encoder for ACPI Machine Language (ACPI 6.x, chapter 20
 * "ACPI Machine Language Specification"): just what nobios's DSDT needs
 * (names, integers, strings, packages, buffers, scopes, devices and the
 * resource descriptors of chapter 6.4), written into a caller's byte buffer.
 *
 * Errors are sticky: an operation that would overflow the buffer, an
 * invalid name or string marks the encoder failed (why says what), later
 * operations do nothing, and aml_finish() reports it once.  Nested objects
 * (Scope, Device, Package, Buffer) are opened and closed; the PkgLength in
 * front of their contents is encoded in its shortest form when they close
 * (20.2.4 "Package Length Encoding"). */
#ifndef NOBIOS_BOOT_AML_H
#define NOBIOS_BOOT_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opcodes and prefixes (ACPI 6.x 20.3 "AML Byte Stream Byte Values"). */
#define AML_ZERO_OP          0x00
#define AML_ONE_OP           0x01
#define AML_NAME_OP          0x08
#define AML_BYTE_PREFIX      0x0A
#define AML_WORD_PREFIX      0x0B
#define AML_DWORD_PREFIX     0x0C
#define AML_STRING_PREFIX    0x0D
#define AML_QWORD_PREFIX     0x0E
#define AML_SCOPE_OP         0x10
#define AML_BUFFER_OP        0x11
#define AML_PACKAGE_OP       0x12
#define AML_DUAL_NAME_PREFIX 0x2E
#define AML_MULTI_NAME_PREFIX 0x2F
#define AML_EXT_OP_PREFIX    0x5B
#define AML_DEVICE_OP        0x82 /* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR        0x5C /* '\' */
#define AML_PARENT_PREFIX    0x5E /* '^' */

/* Resource descriptors (ACPI 6.x 6.4 "Resource Data Types for ACPI"). */
#define ACPI_RES_IRQ_NOFLAGS          0x22 /* small item 0x04, length 2 */
#define ACPI_RES_IO                   0x47 /* small item 0x08, length 7 */
#define ACPI_RES_IO_DECODE16          0x01
#define ACPI_RES_END_TAG              0x79 /* small item 0x0F, length 1 */
#define ACPI_RES_MEMORY32_FIXED       0x86 /* large item 0x06 */
#define ACPI_RES_EXTENDED_IRQ         0x89 /* large item 0x09 */
#define ACPI_RES_MEMORY32_FIXED_LEN   9    /* bytes after the 3-byte header */
#define ACPI_RES_MEM_READ_WRITE       0x01 /* Memory32Fixed information bit 0 */
/* Extended Interrupt Descriptor flags (6.4.3.6). */
#define ACPI_RES_IRQ_CONSUMER         0x01
#define ACPI_RES_IRQ_EDGE             0x02 /* else level */
#define ACPI_RES_IRQ_ACTIVE_LOW       0x04 /* else active high */
#define ACPI_RES_IRQ_SHARED           0x08 /* else exclusive */

#define AML_MAX_DEPTH 8

struct aml {
	uint8_t *buf;
	size_t cap, len;
	/* open objects: where each one's reserved PkgLength bytes start */
	size_t open[AML_MAX_DEPTH];
	unsigned depth;
	bool failed;
	char why[96];
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
/* 0 with *len the bytes written, or -1 with nb_err() saying why. */
int aml_finish(struct aml *a, size_t *len);

/* A NameString: an optional leading '\' (root) or '^'s, then NameSegs of up
 * to four characters ([A-Z_] then [A-Z0-9_], padded with '_') separated by
 * '.', e.g. "\\_SB_.VR00" or "_HID". */
void aml_namestring(struct aml *a, const char *path);
/* The shortest encoding of an integer (ZeroOp, OneOp, Byte/Word/DWord/QWord). */
void aml_integer(struct aml *a, uint64_t v);
/* A compressed EISA ID ("PNP0501" -> 0x0105D041), the integer form of a
 * PNP _HID (ACPI 6.x 6.1.5 _HID; ASL's EISAID()): three letters A-Z and
 * four hex digits, else the encoder fails. */
void aml_eisaid(struct aml *a, const char *id);
/* String: ASCII 0x01-0x7F. */
void aml_string(struct aml *a, const char *s);
/* Name(path, <the next object written>) */
void aml_name(struct aml *a, const char *path);
/* Raw bytes (a resource template's contents, ...). */
void aml_bytes(struct aml *a, const void *p, size_t n);

/* Scope(path) { ... } */
void aml_scope_open(struct aml *a, const char *path);
/* Device(path) { ... } */
void aml_device_open(struct aml *a, const char *path);
/* Package(n) { ... }: n elements must follow. */
void aml_package_open(struct aml *a, unsigned nelements);
/* Close the innermost Scope, Device or Package. */
void aml_close(struct aml *a);
/* Buffer(n) { bytes } in one go. */
void aml_buffer(struct aml *a, const void *p, size_t n);

/* Resource descriptors, appended to a plain byte array (a template is built
 * there, then wrapped with aml_buffer()); each returns the bytes written or
 * 0 when cap is too small. */
size_t acpi_res_memory32_fixed(uint8_t *p, size_t cap, bool rw, uint32_t base, uint32_t size);
size_t acpi_res_extended_irq(uint8_t *p, size_t cap, uint8_t flags, uint32_t gsi);
/* I/O port range at a fixed address (6.4.2.5 "I/O Port Descriptor",
 * 16-bit decode, minimum = maximum = base). */
size_t acpi_res_io(uint8_t *p, size_t cap, uint16_t base, uint8_t len);
/* An ISA IRQ, active-high edge-triggered exclusive (6.4.2.1 "IRQ Descriptor"
 * without the information byte). */
size_t acpi_res_irq_noflags(uint8_t *p, size_t cap, unsigned irq);
/* End tag with checksum 0 ("the checksum is treated as correct", 6.4.2.9). */
size_t acpi_res_end(uint8_t *p, size_t cap);

#endif
