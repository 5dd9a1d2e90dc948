/* cpio.h - a writer of the cpio "newc" format (the SVR4 portable format
 * with no CRC, magic "070701") that Linux unpacks as an initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst).  Into a
 * growing host buffer: nobios builds exec's initramfs in memory. */
#ifndef NOBIOS_EXEC_CPIO_H
#define NOBIOS_EXEC_CPIO_H

#include <stddef.h>
#include <stdint.h>

struct cpio {
	uint8_t *data;
	size_t len, cap;
	uint32_t ino;   /* next inode number (every entry its own: no hard links) */
	char **dirs;    /* directories written so far (cpio_add_parents) */
	size_t ndirs;
};

void cpio_init(struct cpio *c);
void cpio_free(struct cpio *c);
/* One entry: name without a leading '/', mode with its file type bits
 * (S_IFREG, S_IFDIR, S_IFLNK: a symlink's data is its target).  0 or -1
 * with nb_err(). */
int cpio_add(struct cpio *c, const char *name, uint32_t mode, uint32_t uid, uint32_t gid,
	     const void *data, size_t size);
/* Every missing parent directory of name (mode 0755, root), once each. */
int cpio_add_parents(struct cpio *c, const char *name);
int cpio_add_dir(struct cpio *c, const char *name, uint32_t mode);
/* The TRAILER!!! entry; the archive is complete after it. */
int cpio_finish(struct cpio *c);

#endif
