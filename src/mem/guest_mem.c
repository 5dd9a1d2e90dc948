/* guest_mem.c - guest RAM allocation and every bounds-checked access to it. */
#include "mem/mem.h"

#include <string.h>
#include <sys/mman.h>

#include "mem/layout.h"
#include "util/err.h"

/* The x86-64 huge page size, the alignment KVM needs of a memory slot's
 * host address to map it with 2 MiB pages. */
#define MEM_HUGE_ALIGN (2ULL << 20)

static void split(struct guest_mem *m, uint64_t size)
{
	m->size = size;
	m->low_size = size < LAYOUT_MMIO_HOLE ? size : LAYOUT_MMIO_HOLE;
	m->high_size = size - m->low_size;
}

int mem_init(struct guest_mem *m, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	if (size < LAYOUT_MIN_RAM)
		return nb_err("memory size %llu MiB is too small (minimum %llu MiB)",
			      (unsigned long long)(size >> 20),
			      (unsigned long long)(LAYOUT_MIN_RAM >> 20));
	if (size & 0xFFF)
		return nb_err("memory size %llu is not a multiple of 4 KiB",
			      (unsigned long long)size);
	/* MAP_NORESERVE: untouched guest pages cost the host nothing.  Mapped
	 * 2 MiB-aligned (over-allocated, then trimmed) and advised for
	 * transparent huge pages, so that guest-physical and host-virtual
	 * 2 MiB ranges coincide and KVM can map guest RAM with 2 MiB pages in
	 * the nested page tables: with 4 KiB mappings every page the guest
	 * touches first (its page cache filling, say) is a nested page fault,
	 * an exit that under nested virtualization costs tens of microseconds.
	 * Without THP in the host kernel the advice fails and changes nothing. */
	uint64_t span = size + MEM_HUGE_ALIGN;
	uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return nb_err_errno("cannot allocate %llu MiB of guest memory",
				    (unsigned long long)(size >> 20));
	uint64_t head = (MEM_HUGE_ALIGN - (uintptr_t)p % MEM_HUGE_ALIGN) % MEM_HUGE_ALIGN;
	if (head)
		munmap(p, head);
	if (span - head - size)
		munmap(p + head + size, span - head - size);
	p += head;
	/* Not advised MADV_HUGEPAGE (for now): with it, the SVM test host
	 * stalled for minutes far more often (page faults in madvised ranges
	 * compact memory synchronously); the alignment alone gives 2 MiB
	 * pages where THP is "always". README, Memory map. */
	m->host = p;
	m->owned = true;
	split(m, size);
	return 0;
}

int mem_init_buf(struct guest_mem *m, void *buf, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	if (!buf || size < 4096)
		return nb_err("guest memory buffer too small");
	m->host = buf;
	split(m, size);
	return 0;
}

void mem_free(struct guest_mem *m)
{
	if (m->owned && m->host)
		munmap(m->host, m->size);
	memset(m, 0, sizeof(*m));
}

/* Host offset of gpa and the bytes available from it in its region. */
static bool locate(const struct guest_mem *m, uint64_t gpa, uint64_t *off, uint64_t *avail)
{
	if (gpa < m->low_size) {
		*off = gpa;
		*avail = m->low_size - gpa;
		return true;
	}
	if (gpa >= LAYOUT_MMIO_HOLE_END && gpa - LAYOUT_MMIO_HOLE_END < m->high_size) {
		uint64_t rel = gpa - LAYOUT_MMIO_HOLE_END;
		*off = m->low_size + rel;
		*avail = m->high_size - rel;
		return true;
	}
	return false;
}

uint64_t mem_avail(const struct guest_mem *m, uint64_t gpa)
{
	uint64_t off, avail;
	return locate(m, gpa, &off, &avail) ? avail : 0;
}

void *mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t off, avail;
	if (len == 0)
		len = 1;
	if (!m->host || !locate(m, gpa, &off, &avail) || len > avail)
		return NULL;
	return m->host + off;
}

bool mem_range_ok(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	return mem_ptr(m, gpa, len) != NULL;
}

static int bad_range(uint64_t gpa, uint64_t len)
{
	return nb_err("guest range [0x%llx, +0x%llx) is outside guest RAM",
		      (unsigned long long)gpa, (unsigned long long)len);
}

int mem_copy_in(struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = mem_ptr(m, gpa, len);
	if (!p)
		return bad_range(gpa, len);
	if (len)
		memmove(p, src, len);
	return 0;
}

int mem_copy_out(const struct guest_mem *m, void *dst, uint64_t gpa, uint64_t len)
{
	const void *p = mem_ptr(m, gpa, len);
	if (!p)
		return bad_range(gpa, len);
	if (len)
		memmove(dst, p, len);
	return 0;
}

int mem_zero(struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	void *p = mem_ptr(m, gpa, len);
	if (!p)
		return bad_range(gpa, len);
	if (len)
		memset(p, 0, len);
	return 0;
}

int mem_read_str(const struct guest_mem *m, uint64_t gpa, char *dst, size_t max)
{
	if (max == 0)
		return nb_err("mem_read_str: empty destination");
	uint64_t avail = mem_avail(m, gpa);
	if (avail == 0)
		return bad_range(gpa, 1);
	const char *src = mem_ptr(m, gpa, 1);
	size_t lim = avail < max ? (size_t)avail : max;
	const char *nul = memchr(src, 0, lim);
	if (!nul)
		return nb_err("guest string at 0x%llx is not terminated within %zu bytes",
			      (unsigned long long)gpa, lim);
	memcpy(dst, src, (size_t)(nul - src) + 1);
	return 0;
}

#define MEM_RW(bits)                                                              \
	int mem_read##bits(const struct guest_mem *m, uint64_t gpa, uint##bits##_t *v) \
	{                                                                             \
		return mem_copy_out(m, v, gpa, sizeof(*v));                            \
	}                                                                             \
	int mem_write##bits(struct guest_mem *m, uint64_t gpa, uint##bits##_t v)      \
	{                                                                             \
		return mem_copy_in(m, gpa, &v, sizeof(v));                             \
	}
MEM_RW(8)
MEM_RW(16)
MEM_RW(32)
MEM_RW(64)
