/* e820.c - the one memory-map builder.  Every boot format converts this map
 * (zero page e820_table, PVH memmap, multiboot mmap, INT 15h E820). */
#include "mem/layout.h"
#include "mem/mem.h"
#include "util/err.h"

int e820_add(struct e820_map *map, uint64_t addr, uint64_t size, uint32_t type)
{
	if (size == 0)
		return 0;
	if (map->n >= E820_MAX_ENTRIES)
		return nb_err("e820 map full (%d entries)", E820_MAX_ENTRIES);
	map->e[map->n++] = (struct e820_entry){ addr, size, type };
	return 0;
}

void e820_build(struct e820_map *map, const struct guest_mem *m)
{
	map->n = 0;
	uint64_t low = m->low_size;
	/* Conventional memory ends at the EBDA; the EBDA and the system BIOS
	 * area [0xE0000, 1 MiB) are reserved even without a pseudo-BIOS, as
	 * PCs reserve them, so a kernel never reuses them: the MP floating
	 * pointer lives in the EBDA, the ACPI and MP tables at 0xE0000 and the
	 * pseudo-BIOS at 0xF0000. */
	e820_add(map, 0, low < LAYOUT_LOW_RAM_END ? low : LAYOUT_LOW_RAM_END, E820_TYPE_RAM);
	if (low > LAYOUT_EBDA)
		e820_add(map, LAYOUT_EBDA, LAYOUT_LEGACY_HOLE - LAYOUT_EBDA, E820_TYPE_RESERVED);
	if (low > LAYOUT_BOOT_TABLES)
		e820_add(map, LAYOUT_BOOT_TABLES, LAYOUT_BIOS_END - LAYOUT_BOOT_TABLES,
			 E820_TYPE_RESERVED);
	if (low > LAYOUT_HIGH_MEM)
		e820_add(map, LAYOUT_HIGH_MEM, low - LAYOUT_HIGH_MEM, E820_TYPE_RAM);
	if (m->high_size)
		e820_add(map, LAYOUT_MMIO_HOLE_END, m->high_size, E820_TYPE_RAM);
}

const char *e820_type_name(uint32_t type)
{
	switch (type) {
	case E820_TYPE_RAM: return "usable";
	case E820_TYPE_RESERVED: return "reserved";
	case E820_TYPE_ACPI: return "ACPI data";
	case E820_TYPE_NVS: return "ACPI NVS";
	case E820_TYPE_UNUSABLE: return "unusable";
	default: return "unknown";
	}
}
