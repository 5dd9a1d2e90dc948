/* disk_image.c - disk image files served to the guest with pread/pwrite:
 * locking, range checks, errors returned and remembered, fdatasync at close,
 * and the snapshot overlay (see disk_image.h for the guarantees). */
#include "block/disk_image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/err.h"
#include "util/sandbox.h"

/* Guest I/O while the guest runs; the image was opened and locked before
 * (util/sandbox.h).  A lock ends with its descriptor's close. */
SANDBOX_NEEDS(disk_image_needs, "disk images (src/block/disk_image.c)", 0, SB_ALLOW(pread64),
	SB_ALLOW(pwrite64), SB_ALLOW(preadv), SB_ALLOW(pwritev), SB_ALLOW(fdatasync),
	SB_ALLOW(fallocate));

#define CHUNK ((uint64_t)1 << DISK_CHUNK_SHIFT)

/* The snapshot overlay: chunk c of the image lives at the same offset of
 * the temporary file when bit c is set.  Identity offsets keep the file
 * sparse and need no allocation table; the file system does the rest. */
struct disk_overlay {
	int fd;
	pthread_mutex_t cow;
	uint64_t *bits;
	size_t bits_len;
	/* for messages: a full $TMPDIR is the usual cause of a failed write */
	char wwhat[PATH_MAX + 40], rwhat[PATH_MAX + 40];
};

static const struct disk_io libc_io = {
	.pread = pread,
	.pwrite = pwrite,
	.fdatasync = fdatasync,
	.fallocate = fallocate,
};

/* Never written: a source of zeros (in .bss, not the binary). */
static uint8_t zeros[64 * 1024];

/* Record an error (the image's last error and nb_err()); returns -e. */
static int fail(struct disk_image *d, int e, bool write, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct disk_image *d, int e, bool write, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&d->lock);
	d->err = e;
	snprintf(d->errmsg, sizeof(d->errmsg), "%s: %s", d->path, what);
	if (write && d->write_errors++ == 0)
		snprintf(d->first_write_err, sizeof(d->first_write_err), "%s", what);
	nb_err_internal("%s", d->errmsg);
	pthread_mutex_unlock(&d->lock);
	return -e;
}

static int range_ok(struct disk_image *d, const char *op, uint64_t off, uint64_t len)
{
	if (off <= d->size && len <= d->size - off)
		return 0;
	return fail(d, EINVAL, false,
		    "%s of %llu bytes at offset %llu: beyond the image's %llu bytes", op,
		    (unsigned long long)len, (unsigned long long)off, (unsigned long long)d->size);
}

/* ---- whole transfers on one file descriptor */

/* -ENXIO when the file ends first: it shrank since the image was opened. */
static int read_full(struct disk_image *d, int fd, uint64_t off, uint8_t *buf, size_t len,
		     const char *what, bool for_write)
{
	uint64_t at = off;
	size_t left = len;
	while (left) {
		size_t n1 = left > (1u << 30) ? (1u << 30) : left;
		ssize_t n = d->io->pread(fd, buf, n1, (off_t)at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(d, errno, for_write, "%s of %zu bytes at offset %llu: %s", what,
				    len, (unsigned long long)off, strerror(errno));
		if (n == 0) {
			struct stat st;
			long long now = fstat(fd, &st) == 0 ? (long long)st.st_size : -1;
			return fail(d, ENXIO, for_write,
				    "%s of %zu bytes at offset %llu: the file now ends at byte %lld, "
				    "short of the image's %llu bytes (shrunk by another process?)",
				    what, len, (unsigned long long)off, now,
				    (unsigned long long)d->size);
		}
		buf += n;
		at += (uint64_t)n;
		left -= (size_t)n;
	}
	return 0;
}

static int write_full(struct disk_image *d, int fd, uint64_t off, const uint8_t *buf, size_t len,
		      const char *what)
{
	uint64_t at = off;
	size_t left = len;
	while (left) {
		size_t n1 = left > (1u << 30) ? (1u << 30) : left;
		ssize_t n = d->io->pwrite(fd, buf, n1, (off_t)at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) { /* 0 never happens for regular files; call it EIO */
			int e = n < 0 ? errno : EIO;
			return fail(d, e, true, "%s of %zu bytes at offset %llu: %s", what, len,
				    (unsigned long long)off, strerror(e));
		}
		buf += n;
		at += (uint64_t)n;
		left -= (size_t)n;
	}
	pthread_mutex_lock(&d->lock);
	d->dirty = true;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* ---- the snapshot overlay */

static bool ovl_has(const struct disk_overlay *o, uint64_t c)
{
	return __atomic_load_n(&o->bits[c / 64], __ATOMIC_ACQUIRE) >> (c % 64) & 1;
}

static void ovl_set(struct disk_overlay *o, uint64_t c)
{
	__atomic_fetch_or(&o->bits[c / 64], 1ull << (c % 64), __ATOMIC_RELEASE);
}

static int ovl_open(struct disk_image *d)
{
	struct disk_overlay *o = calloc(1, sizeof(*o));
	if (!o)
		return nb_err_internal("%s: ,snapshot: out of memory", d->path);
	o->fd = -1;
	/* QEMU's -snapshot rule: $TMPDIR, else /var/tmp (disk, not tmpfs). */
	const char *env = getenv("TMPDIR");
	const char *dirs[2] = { "/var/tmp", "/tmp" };
	unsigned ndirs = 2;
	if (env && *env) {
		dirs[0] = env;
		ndirs = 1;
	}
	int first_err = 0;
	for (unsigned i = 0; i < ndirs && o->fd < 0; i++) {
		int fd = open(dirs[i], O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
			/* No O_TMPFILE on this file system: a named file, unlinked
			 * at once, so nothing is left behind whatever happens. */
			char tmpl[PATH_MAX];
			snprintf(tmpl, sizeof(tmpl), "%s/nobios-snapshot-XXXXXX", dirs[i]);
			fd = mkostemp(tmpl, O_CLOEXEC);
			if (fd >= 0)
				unlink(tmpl);
		}
		if (fd < 0) {
			if (!first_err)
				first_err = errno;
			continue;
		}
		o->fd = fd;
		snprintf(o->wwhat, sizeof(o->wwhat), "snapshot overlay (in %s) write", dirs[i]);
		snprintf(o->rwhat, sizeof(o->rwhat), "snapshot overlay (in %s) read", dirs[i]);
	}
	if (o->fd < 0) {
		free(o);
		return nb_err("%s: ,snapshot: cannot create the overlay file in %s%s: %s", d->path,
			      dirs[0], ndirs > 1 ? " or /tmp" : " ($TMPDIR)", strerror(first_err));
	}
	uint64_t nchunks = (d->size + CHUNK - 1) >> DISK_CHUNK_SHIFT;
	o->bits_len = (size_t)((nchunks + 63) / 64 * 8);
	/* Untouched pages of the bitmap are never allocated: memory grows with
	 * what the guest writes (one page per 128 MiB of image), not the size. */
	o->bits = mmap(NULL, o->bits_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (o->bits == MAP_FAILED) {
		int e = errno;
		close(o->fd);
		free(o);
		return nb_err_internal("%s: ,snapshot: overlay bitmap of %zu bytes: %s", d->path,
				       (size_t)((nchunks + 63) / 64 * 8), strerror(e));
	}
	pthread_mutex_init(&o->cow, NULL);
	d->ovl = o;
	return 0;
}

static void ovl_close(struct disk_image *d)
{
	struct disk_overlay *o = d->ovl;
	if (!o)
		return;
	munmap(o->bits, o->bits_len);
	close(o->fd);
	pthread_mutex_destroy(&o->cow);
	free(o);
	d->ovl = NULL;
}

static int ovl_read(struct disk_image *d, uint64_t off, uint8_t *buf, size_t len)
{
	struct disk_overlay *o = d->ovl;
	uint64_t end = off + len;
	while (off < end) {
		/* the longest run of chunks on the same side */
		bool in = ovl_has(o, off >> DISK_CHUNK_SHIFT);
		uint64_t run = ((off >> DISK_CHUNK_SHIFT) + 1) << DISK_CHUNK_SHIFT;
		while (run < end && ovl_has(o, run >> DISK_CHUNK_SHIFT) == in)
			run += CHUNK;
		if (run > end)
			run = end;
		int r = in ? read_full(d, o->fd, off, buf, (size_t)(run - off),
				       o->rwhat, false)
			   : read_full(d, d->fd, off, buf, (size_t)(run - off), "read", false);
		if (r < 0)
			return r;
		buf += run - off;
		off = run;
	}
	return 0;
}

/* Called with the overlay's cow lock held: two writers into one new chunk
 * must not both copy it from the image. */
static int ovl_write(struct disk_image *d, uint64_t off, const uint8_t *buf, size_t len)
{
	struct disk_overlay *o = d->ovl;
	uint64_t end = off + len;
	while (off < end) {
		uint64_t c = off >> DISK_CHUNK_SHIFT, cs = c << DISK_CHUNK_SHIFT;
		uint64_t ce = cs + CHUNK < d->size ? cs + CHUNK : d->size;
		if (!ovl_has(o, c) && (off != cs || end < ce)) {
			/* part of a chunk still in the image: copy it over first */
			uint8_t tmp[CHUNK];
			uint64_t n = (end < ce ? end : ce) - off;
			/* a failure here fails the guest's write: count it as one */
			int r = read_full(d, d->fd, cs, tmp, (size_t)(ce - cs),
					  "snapshot copy-on-write read", true);
			if (r < 0)
				return r;
			memcpy(tmp + (off - cs), buf, (size_t)n);
			r = write_full(d, o->fd, cs, tmp, (size_t)(ce - cs), o->wwhat);
			if (r < 0)
				return r;
			ovl_set(o, c);
			off += n;
			buf += n;
			continue;
		}
		/* chunks already in the overlay or wholly overwritten: one pwrite */
		uint64_t run = off;
		while (run < end) {
			uint64_t c2 = run >> DISK_CHUNK_SHIFT, cs2 = c2 << DISK_CHUNK_SHIFT;
			uint64_t ce2 = cs2 + CHUNK < d->size ? cs2 + CHUNK : d->size;
			if (!ovl_has(o, c2) && (run != cs2 || end < ce2))
				break;
			run = ce2 < end ? ce2 : end;
		}
		int r = write_full(d, o->fd, off, buf, (size_t)(run - off), o->wwhat);
		if (r < 0)
			return r;
		for (uint64_t i = off >> DISK_CHUNK_SHIFT; i <= (run - 1) >> DISK_CHUNK_SHIFT; i++)
			ovl_set(o, i);
		buf += run - off;
		off = run;
	}
	return 0;
}

/* ---- the API */

int disk_image_open(struct disk_image *d, const char *path, enum disk_mode mode)
{
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	bool rw = mode == DISK_READ_WRITE;
	int fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		if (rw && (errno == EACCES || errno == EROFS || errno == EPERM || errno == ETXTBSY))
			return nb_err("%s: cannot open read-write (,rw): %s", path, strerror(errno));
		if (errno == EISDIR)
			return nb_err("%s: is a directory, not a disk image", path);
		return nb_err("%s: cannot open: %s", path, strerror(errno));
	}
	struct stat st;
	const char *bad = NULL;
	if (fstat(fd, &st) < 0)
		bad = strerror(errno);
	else if (S_ISDIR(st.st_mode))
		bad = "is a directory, not a disk image";
	else if (!S_ISREG(st.st_mode))
		bad = "not a regular file";
	else if (st.st_size == 0)
		bad = "empty file";
	if (bad) {
		close(fd);
		return nb_err("%s: %s", path, bad);
	}
	/* Exclusive for a writer, shared for readers: a second writer, or a
	 * writer beside readers, would see (or make) a disk changing under it. */
	int r;
	while ((r = flock(fd, (rw ? LOCK_EX : LOCK_SH) | LOCK_NB)) < 0 && errno == EINTR)
		;
	if (r < 0 && errno == EWOULDBLOCK) {
		close(fd);
		return nb_err("%s: in use by another process (locked): %s", path,
			      rw ? ",rw needs the image to itself"
				 : "another process has it open with ,rw");
	}
	/* A file system without locks (some FUSE) still serves the image. */
	d->locked = r == 0;
	d->path = path;
	d->size = (uint64_t)st.st_size;
	d->mode = mode;
	d->fd = fd;
	d->io = &libc_io;
	pthread_mutex_init(&d->lock, NULL);
	if (mode == DISK_SNAPSHOT && ovl_open(d) < 0) {
		pthread_mutex_destroy(&d->lock);
		close(fd);
		memset(d, 0, sizeof(*d));
		d->fd = -1;
		return -1;
	}
	return 0;
}

void disk_image_init_mem(struct disk_image *d, const char *name, void *buf, uint64_t size,
			 bool writable)
{
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->path = name ? name : "memory";
	d->mem = buf;
	d->mem_writable = writable;
	d->size = size;
	d->mode = writable ? DISK_READ_WRITE : DISK_READ_ONLY;
	d->io = &libc_io;
	pthread_mutex_init(&d->lock, NULL);
}

static bool is_open(const struct disk_image *d)
{
	return d->path != NULL;
}

bool disk_image_read_only(const struct disk_image *d)
{
	return d->mem ? !d->mem_writable : d->mode == DISK_READ_ONLY;
}

int disk_image_read(struct disk_image *d, uint64_t off, void *buf, size_t len)
{
	if (!is_open(d))
		return nb_err_internal("disk image: read after close"), -EBADF;
	int r = range_ok(d, "read", off, len);
	if (r < 0 || len == 0)
		return r;
	if (d->mem) {
		memcpy(buf, d->mem + off, len);
		return 0;
	}
	if (d->ovl)
		return ovl_read(d, off, buf, len);
	return read_full(d, d->fd, off, buf, len, "read", false);
}

int disk_image_write(struct disk_image *d, uint64_t off, const void *buf, size_t len)
{
	if (!is_open(d))
		return nb_err_internal("disk image: write after close"), -EBADF;
	if (disk_image_read_only(d))
		return fail(d, EROFS, false, "write refused: the image is read-only");
	int r = range_ok(d, "write", off, len);
	if (r < 0 || len == 0)
		return r;
	if (d->mem) {
		memcpy(d->mem + off, buf, len);
		return 0;
	}
	if (d->ovl) {
		pthread_mutex_lock(&d->ovl->cow);
		r = ovl_write(d, off, buf, len);
		pthread_mutex_unlock(&d->ovl->cow);
		return r;
	}
	return write_full(d, d->fd, off, buf, len, "write");
}

/* Zeros written the plain way, in pieces (file systems without fallocate,
 * and the snapshot overlay). */
static int write_zero_bytes(struct disk_image *d, uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = len > sizeof(zeros) ? sizeof(zeros) : (size_t)len;
		int r;
		if (d->ovl) {
			pthread_mutex_lock(&d->ovl->cow);
			r = ovl_write(d, off, zeros, n);
			pthread_mutex_unlock(&d->ovl->cow);
		} else {
			r = write_full(d, d->fd, off, zeros, n, "write-zeroes");
		}
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

static bool unsupported(int e)
{
	return e == EOPNOTSUPP || e == ENOSYS || e == EINVAL;
}

int disk_image_write_zeroes(struct disk_image *d, uint64_t off, uint64_t len)
{
	if (!is_open(d))
		return nb_err_internal("disk image: write-zeroes after close"), -EBADF;
	if (disk_image_read_only(d))
		return fail(d, EROFS, false, "write-zeroes refused: the image is read-only");
	int r = range_ok(d, "write-zeroes", off, len);
	if (r < 0 || len == 0)
		return r;
	if (d->mem) {
		memset(d->mem + off, 0, (size_t)len);
		return 0;
	}
	if (d->ovl)
		return write_zero_bytes(d, off, len);
	/* ZERO_RANGE keeps the blocks allocated (no ENOSPC later); a hole
	 * reads as zeros as well; plain zeros where neither exists (9p). */
	if (d->io->fallocate(d->fd, FALLOC_FL_ZERO_RANGE, (off_t)off, (off_t)len) == 0 ||
	    (unsupported(errno) &&
	     d->io->fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			      (off_t)len) == 0)) {
		pthread_mutex_lock(&d->lock);
		d->dirty = true;
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	if (!unsupported(errno))
		return fail(d, errno, true, "write-zeroes of %llu bytes at offset %llu: %s",
			    (unsigned long long)len, (unsigned long long)off, strerror(errno));
	return write_zero_bytes(d, off, len);
}

int disk_image_discard(struct disk_image *d, uint64_t off, uint64_t len)
{
	if (!is_open(d))
		return nb_err_internal("disk image: discard after close"), -EBADF;
	if (disk_image_read_only(d))
		return fail(d, EROFS, false, "discard refused: the image is read-only");
	int r = range_ok(d, "discard", off, len);
	if (r < 0 || len == 0 || d->mem || d->ovl)
		return r; /* a hint: keeping the data is a valid way to honour it */
	if (d->io->fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			     (off_t)len) == 0) {
		pthread_mutex_lock(&d->lock);
		d->dirty = true;
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	if (unsupported(errno))
		return 0;
	/* Nothing the guest wrote is lost: not a write error. */
	return fail(d, errno, false, "discard of %llu bytes at offset %llu: %s",
		    (unsigned long long)len, (unsigned long long)off, strerror(errno));
}

int disk_image_flush(struct disk_image *d)
{
	if (!is_open(d))
		return nb_err_internal("disk image: flush after close"), -EBADF;
	if (d->mem || d->mode != DISK_READ_WRITE)
		return 0; /* nothing of the guest's is meant to last */
	pthread_mutex_lock(&d->lock);
	bool dirty = d->dirty;
	d->dirty = false; /* a write from now on sets it again */
	pthread_mutex_unlock(&d->lock);
	if (!dirty)
		return 0;
	if (d->io->fdatasync(d->fd) == 0)
		return 0;
	/* Linux reports a writeback error once per open file and may drop the
	 * pages: remember it, the data is not on storage. */
	int e = errno;
	pthread_mutex_lock(&d->lock);
	d->dirty = true;
	if (!d->sync_err)
		d->sync_err = e;
	pthread_mutex_unlock(&d->lock);
	return fail(d, e, false, "flush (fdatasync): %s", strerror(e));
}

int disk_image_close(struct disk_image *d)
{
	if (!is_open(d))
		return 0;
	if (d->fd >= 0 && d->mode == DISK_READ_WRITE) {
		disk_image_flush(d);
		/* NFS and some FUSE file systems report write-back errors at close */
		if (close(d->fd) < 0 && errno != EINTR && !d->sync_err)
			d->sync_err = errno;
	} else if (d->fd >= 0) {
		close(d->fd);
	}
	ovl_close(d);
	int r = 0;
	if (d->write_errors)
		r = nb_err_internal("%s: %llu write%s failed while the guest ran (the first: %s): "
				    "the image lacks data the guest wrote",
				    d->path, (unsigned long long)d->write_errors,
				    d->write_errors == 1 ? "" : "s", d->first_write_err);
	else if (d->sync_err)
		r = nb_err_internal("%s: flushing the image to storage failed: %s: the guest's last "
				    "writes may be lost", d->path, strerror(d->sync_err));
	pthread_mutex_destroy(&d->lock);
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	return r;
}

int disk_image_error(const struct disk_image *d)
{
	return d->err;
}

const char *disk_image_errmsg(const struct disk_image *d)
{
	return d->errmsg[0] ? d->errmsg : "no error";
}

void disk_image_set_io(struct disk_image *d, const struct disk_io *io)
{
	d->io = io ? io : &libc_io;
}

/* ---- vectored I/O: one request of a virtio-blk guest is up to 256 buffers
 * (one per guest page); one preadv/pwritev instead of a call per buffer
 * (README "Devices: virtio": 256 calls cost 3.5x the time of one in the SVM
 * test host).  Memory and snapshot images, and images whose calls a test
 * replaced, go buffer by buffer through the plain paths. */
static int vec_len(const struct iovec *iov, int n, uint64_t *len)
{
	*len = 0;
	for (int i = 0; i < n; i++) {
		if (iov[i].iov_len > UINT64_MAX - *len)
			return -1;
		*len += iov[i].iov_len;
	}
	return 0;
}

static int vec_each(struct disk_image *d, uint64_t off, const struct iovec *iov, int n, bool write)
{
	for (int i = 0; i < n; i++) {
		int r = write ? disk_image_write(d, off, iov[i].iov_base, iov[i].iov_len)
			      : disk_image_read(d, off, iov[i].iov_base, iov[i].iov_len);
		if (r < 0)
			return r;
		off += iov[i].iov_len;
	}
	return 0;
}

static int vec_io(struct disk_image *d, uint64_t off, const struct iovec *iov_in, int n, bool write)
{
	if (!is_open(d))
		return nb_err_internal("disk image: vectored I/O after close"), -EBADF;
	if (n < 0 || n > DISK_IOV_MAX)
		return nb_err_internal("disk image: %d buffers in one request", n), -EINVAL;
	if (write && disk_image_read_only(d))
		return fail(d, EROFS, false, "write refused: the image is read-only");
	uint64_t len;
	if (vec_len(iov_in, n, &len) < 0)
		return fail(d, EINVAL, write, "%s: buffers longer than 2^64 bytes",
			    write ? "write" : "read");
	int r = range_ok(d, write ? "write" : "read", off, len);
	if (r < 0 || len == 0)
		return r;
	if (d->mem || d->ovl || d->io != &libc_io || n == 1)
		return vec_each(d, off, iov_in, n, write);
	struct iovec iov[DISK_IOV_MAX];
	memcpy(iov, iov_in, sizeof(iov[0]) * (size_t)n);
	struct iovec *v = iov;
	uint64_t at = off;
	while (n > 0) {
		ssize_t k = write ? pwritev(d->fd, v, n, (off_t)at) : preadv(d->fd, v, n, (off_t)at);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			/* what the plain path says about it: the end of the file
			 * moved, or the host's error */
			return vec_each(d, at, v, n, write);
		}
		at += (uint64_t)k;
		while (n > 0 && (size_t)k >= v->iov_len) {
			k -= (ssize_t)v->iov_len;
			v++;
			n--;
		}
		if (n > 0) {
			v->iov_base = (uint8_t *)v->iov_base + k;
			v->iov_len -= (size_t)k;
		}
	}
	if (write) {
		pthread_mutex_lock(&d->lock);
		d->dirty = true;
		pthread_mutex_unlock(&d->lock);
	}
	return 0;
}

int disk_image_readv(struct disk_image *d, uint64_t off, const struct iovec *iov, int n)
{
	return vec_io(d, off, iov, n, false);
}

int disk_image_writev(struct disk_image *d, uint64_t off, const struct iovec *iov, int n)
{
	return vec_io(d, off, iov, n, true);
}
