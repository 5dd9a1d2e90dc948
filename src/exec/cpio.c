/* cpio.c - cpio "newc" writer (cpio.h).  Header: the magic "070701" and
 * thirteen 8-digit hexadecimal fields (ino, mode, uid, gid, nlink, mtime,
 * filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check),
 * 110 bytes; then the name with its NUL, padded to 4 bytes; then the data,
 * padded to 4.  mtime is 0 so that the same inputs give the same archive. */
#include "exec/cpio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/err.h"

#define CPIO_HDR_LEN 110
/* No single entry may exceed what a newc field can hold. */
#define CPIO_FIELD_MAX 0xFFFFFFFFull

void cpio_init(struct cpio *c)
{
	memset(c, 0, sizeof(*c));
	c->ino = 1;
}

void cpio_free(struct cpio *c)
{
	free(c->data);
	for (size_t i = 0; i < c->ndirs; i++)
		free(c->dirs[i]);
	free(c->dirs);
	memset(c, 0, sizeof(*c));
}

static int reserve(struct cpio *c, size_t more)
{
	if (more > SIZE_MAX / 2 - c->len)
		return nb_err("initramfs: too large");
	if (c->len + more <= c->cap)
		return 0;
	size_t cap = c->cap ? c->cap : 65536;
	while (cap < c->len + more)
		cap *= 2;
	uint8_t *d = realloc(c->data, cap);
	if (!d)
		return nb_err_internal("initramfs: out of memory (%zu bytes)", cap);
	c->data = d;
	c->cap = cap;
	return 0;
}

static void pad4(struct cpio *c)
{
	while (c->len & 3)
		c->data[c->len++] = 0;
}

int cpio_add(struct cpio *c, const char *name, uint32_t mode, uint32_t uid, uint32_t gid,
	     const void *data, size_t size)
{
	while (*name == '/')
		name++;
	size_t namesize = strlen(name) + 1;
	if (namesize < 2 || namesize > 4096)
		return nb_err("initramfs: bad entry name '%s'", name);
	if ((uint64_t)size > CPIO_FIELD_MAX)
		return nb_err("initramfs: %s: %zu bytes is more than a cpio entry holds", name,
			      size);
	if (reserve(c, CPIO_HDR_LEN + namesize + 3 + size + 3) < 0)
		return -1;
	uint32_t nlink = S_ISDIR(mode) ? 2 : 1;
	char hdr[CPIO_HDR_LEN + 1];
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08zX%08X",
		 c->ino++, mode, uid, gid, nlink, 0u, (uint32_t)size, 0u, 0u, 0u, 0u, namesize,
		 0u);
	memcpy(c->data + c->len, hdr, CPIO_HDR_LEN);
	c->len += CPIO_HDR_LEN;
	memcpy(c->data + c->len, name, namesize);
	c->len += namesize;
	pad4(c);
	if (size)
		memcpy(c->data + c->len, data, size);
	c->len += size;
	pad4(c);
	return 0;
}

static int have_dir(const struct cpio *c, const char *name)
{
	for (size_t i = 0; i < c->ndirs; i++)
		if (strcmp(c->dirs[i], name) == 0)
			return 1;
	return 0;
}

static int remember_dir(struct cpio *c, const char *name)
{
	char **d = realloc(c->dirs, (c->ndirs + 1) * sizeof(*d));
	if (!d)
		return nb_err_internal("initramfs: out of memory");
	c->dirs = d;
	if (!(d[c->ndirs] = strdup(name)))
		return nb_err_internal("initramfs: out of memory");
	c->ndirs++;
	return 0;
}

int cpio_add_dir(struct cpio *c, const char *name, uint32_t mode)
{
	while (*name == '/')
		name++;
	if (have_dir(c, name))
		return 0;
	if (cpio_add_parents(c, name) < 0 || cpio_add(c, name, S_IFDIR | (mode & 07777), 0, 0,
						       NULL, 0) < 0)
		return -1;
	return remember_dir(c, name);
}

int cpio_add_parents(struct cpio *c, const char *name)
{
	while (*name == '/')
		name++;
	char buf[4096];
	if (strlen(name) >= sizeof(buf))
		return nb_err("initramfs: name too long: %s", name);
	memcpy(buf, name, strlen(name) + 1);
	for (char *s = strchr(buf, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (buf[0] && !have_dir(c, buf)) {
			if (cpio_add(c, buf, S_IFDIR | 0755, 0, 0, NULL, 0) < 0 ||
			    remember_dir(c, buf) < 0)
				return -1;
		}
		*s = '/';
	}
	return 0;
}

int cpio_finish(struct cpio *c)
{
	/* The trailer's inode and mode are 0 as GNU cpio writes them. */
	uint32_t ino = c->ino;
	c->ino = 0;
	int r = cpio_add(c, "TRAILER!!!", 0, 0, 0, NULL, 0);
	c->ino = ino;
	return r;
}
