/* zeropage.c - build the Linux zero page (struct boot_params).
 *
 * Documentation/arch/x86/boot.rst, "64-bit boot protocol": the boot loader
 * allocates struct boot_params, zeroes it, loads the setup header from the
 * kernel image's offset 0x1F1 (its length is 0x202 + the byte at 0x201, the
 * jump at 0x200 skipping over the header), then fills the loader's fields
 * described in zero-page.rst.  The file's page is never reused: only the
 * header bytes come from it.
 */
#include "boot/zeropage.h"

#include <string.h>

#include "util/err.h"

int zeropage_header_len(const char *path, const uint8_t *image, size_t size, size_t *len)
{
	if (size < SETUP_OFF(jump) + 2)
		return nb_err("%s: truncated setup header (file is %zu bytes, the header "
			      "starts at 0x1f1)", path, size);
	size_t end = 0x202 + (size_t)image[0x201];
	if (end > size)
		return nb_err("%s: truncated setup header (it ends at 0x%zx, the file is %zu "
			      "bytes)", path, end, size);
	/* a newer kernel's longer header keeps our fields in place; copy only
	 * the part whose layout we know */
	size_t max = SETUP_HEADER_OFFSET + sizeof(struct setup_header);
	if (end > max)
		end = max;
	*len = end - SETUP_HEADER_OFFSET;
	return 0;
}

int zeropage_fill(struct boot_params *bp, const char *path, const uint8_t *image, size_t size,
		  const struct e820_map *map, const struct zeropage_args *a)
{
	size_t hlen = 0;
	memset(bp, 0, sizeof(*bp));
	if (zeropage_header_len(path, image, size, &hlen) < 0)
		return -1;
	memcpy(&bp->hdr, image + SETUP_HEADER_OFFSET, hlen);

	struct setup_header *h = &bp->hdr;
	h->type_of_loader = SETUP_TYPE_OF_LOADER_UNDEF;
	h->ext_loader_ver = 0;
	h->ext_loader_type = 0;
	h->loadflags |= LOADED_HIGH | CAN_USE_HEAP;
	h->heap_end_ptr = ZEROPAGE_HEAP_END_PTR;
	/* a setup_data chain in the file would point at host-meaningless
	 * addresses; nobios passes none */
	if (hlen >= offsetof(struct setup_header, setup_data) + sizeof(h->setup_data))
		h->setup_data = 0;
	if (a->code32_start)
		h->code32_start = (uint32_t)a->code32_start;

	h->cmd_line_ptr = (uint32_t)a->cmd_line_ptr;
	bp->ext_cmd_line_ptr = (uint32_t)(a->cmd_line_ptr >> 32);
	h->ramdisk_image = (uint32_t)a->ramdisk_image;
	bp->ext_ramdisk_image = (uint32_t)(a->ramdisk_image >> 32);
	h->ramdisk_size = (uint32_t)a->ramdisk_size;
	bp->ext_ramdisk_size = (uint32_t)(a->ramdisk_size >> 32);

	if (map->n > E820_MAX_ENTRIES_ZEROPAGE)
		return nb_err("%s: memory map has %u entries, the zero page holds %d", path, map->n,
			      E820_MAX_ENTRIES_ZEROPAGE);
	for (unsigned i = 0; i < map->n; i++) {
		bp->e820_table[i].addr = map->e[i].addr;
		bp->e820_table[i].size = map->e[i].size;
		bp->e820_table[i].type = map->e[i].type;
	}
	bp->e820_entries = (uint8_t)map->n;
	/* zero-page.rst: acpi_rsdp_addr at 0x070, read by kernels of boot
	 * protocol 2.14 and later; older ones never look at those bytes. */
	bp->acpi_rsdp_addr = a->acpi_rsdp_addr;
	return 0;
}

int zeropage_build(struct guest_mem *m, uint64_t gpa, const char *path, const uint8_t *image,
		   size_t size, const struct e820_map *map, const struct zeropage_args *a)
{
	struct boot_params bp;
	if (zeropage_fill(&bp, path, image, size, map, a) < 0)
		return -1;
	return mem_copy_in(m, gpa, &bp, sizeof(bp));
}
