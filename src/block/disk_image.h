/* disk_image.h - a disk image file as a block device, for every device that
 * serves one to a guest (the pseudo-BIOS's INT 13h, virtio-blk): byte-offset
 * reads and writes, flush, write-zeroes and discard, on a file opened
 * read-only, read-write, or with a copy-on-write snapshot overlay.
 *
 * Why pread/pwrite and not a mapping of the file: a mapped file turns every
 * host-side failure into SIGBUS at the instruction that touches it (a sparse
 * image on a full filesystem, an image truncated by another process, EIO),
 * and shared writable mappings are refused outright on 9p and some FUSE and
 * NFS mounts.  With pread/pwrite every failure is a return value the device
 * turns into the error its protocol has (bench/disk_io.c measures the cost:
 * README "Disk images and input files").
 *
 * Guarantees:
 *   - Every call checks its range against the image size fixed at open;
 *     nothing touches memory outside the caller's buffer.
 *   - Every I/O error is returned, as a negative errno, with a one-line
 *     message (nb_err(), and disk_image_errmsg()) naming the file, the
 *     operation, the offset and the cause.  Nothing here prints or exits.
 *   - Writes that failed, and a failed flush, are remembered: closing a
 *     read-write image flushes it (fdatasync) and returns -1 when anything
 *     the guest wrote may be missing from the file.
 *   - Locks (flock): read-write takes the file exclusively, read-only and
 *     snapshot share it, so two writers, or a writer beside readers, cannot
 *     use one image at once.
 *   - Snapshot: writes go to 4 KiB chunks of an unlinked sparse temporary
 *     file ($TMPDIR, else /var/tmp, else /tmp, as QEMU's -snapshot), at the
 *     same offsets as in the image; a bitmap (1 bit per chunk, untouched
 *     pages never allocated) says which chunks live there.  Opening costs no
 *     memory in proportion to the image; the guest's writes cost disk space
 *     in the temporary directory, never RAM unless that directory is tmpfs.
 *
 * One image may be used from several threads: reads and writes are pread/
 * pwrite; the snapshot overlay serialises its copy-on-write under a lock.
 */
#ifndef NOBIOS_BLOCK_DISK_IMAGE_H
#define NOBIOS_BLOCK_DISK_IMAGE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum disk_mode {
	DISK_READ_ONLY,  /* writes refused (-EROFS) */
	DISK_READ_WRITE, /* writes reach the file */
	DISK_SNAPSHOT,   /* writes go to a temporary overlay, dropped at close */
};

/* The system calls the backend makes.  Tests replace them to inject errors
 * (disk_image_set_io); everything else uses the default (libc). */
struct disk_io {
	ssize_t (*pread)(int fd, void *buf, size_t len, off_t off);
	ssize_t (*pwrite)(int fd, const void *buf, size_t len, off_t off);
	int (*fdatasync)(int fd);
	int (*fallocate)(int fd, int mode, off_t off, off_t len);
};

#define DISK_CHUNK_SHIFT 12 /* snapshot overlay granularity: 4 KiB */

struct disk_overlay; /* disk_image.c */

struct disk_image {
	const char *path;  /* for messages; the caller's string */
	uint64_t size;     /* bytes, fixed at open */
	enum disk_mode mode;
	bool locked;       /* flock held (false: the filesystem has no locks) */
	/* -- private to disk_image.c */
	int fd;            /* -1 for a memory image */
	uint8_t *mem;      /* memory image (disk_image_init_mem), not owned */
	bool mem_writable;
	const struct disk_io *io;
	struct disk_overlay *ovl;
	pthread_mutex_t lock; /* errors, dirty flag and the overlay's chunk copies */
	bool dirty;        /* written since the last successful flush */
	int err;           /* the last error's errno, 0 if none */
	char errmsg[320];  /* the last error, one line */
	uint64_t write_errors;  /* writes (incl. write-zeroes) that failed */
	char first_write_err[320];
	int sync_err;      /* errno of a failed flush, 0 if none */
};

/* Open a file as a disk image.  Errors name the file (missing, directory,
 * not a regular file, empty, not writable with DISK_READ_WRITE, locked by
 * another process, no room for the snapshot overlay); 0, or -1 with nb_err()
 * of class input (exit status 2).  `path` must outlive the image. */
int disk_image_open(struct disk_image *d, const char *path, enum disk_mode mode);
/* A memory buffer as a disk image (unit tests, `inspect`); never fails. */
void disk_image_init_mem(struct disk_image *d, const char *name, void *buf, uint64_t size,
			 bool writable);
/* Flush a read-write image and release it (the lock too).  0, or -1 with
 * nb_err() when data written to it may be lost: a write failed while it was
 * open, or the final fdatasync failed.  Safe to call twice. */
int disk_image_close(struct disk_image *d);

/* I/O at byte offsets.  0, or a negative errno with nb_err() and the
 * message in disk_image_errmsg():
 *   -EINVAL  the range is not inside the image (size at open)
 *   -EROFS   a write to a read-only image
 *   -ENXIO   a read reached the file's end before the image's: the file
 *            shrank after it was opened (truncated by another process)
 *   other    the host's error (-EIO, -ENOSPC, -EDQUOT, ...) */
int disk_image_read(struct disk_image *d, uint64_t off, void *buf, size_t len);
int disk_image_write(struct disk_image *d, uint64_t off, const void *buf, size_t len);
/* The same for a list of buffers, read or written one after the other from
 * off (one preadv/pwritev where the image is a plain file).  At most
 * DISK_IOV_MAX buffers. */
#define DISK_IOV_MAX 1024
struct iovec;
int disk_image_readv(struct disk_image *d, uint64_t off, const struct iovec *iov, int n);
int disk_image_writev(struct disk_image *d, uint64_t off, const struct iovec *iov, int n);
/* Make the range read as zeros (allocating or not, as the file system
 * does it best). */
int disk_image_write_zeroes(struct disk_image *d, uint64_t off, uint64_t len);
/* The guest no longer needs the range: read-write images punch a hole where
 * the file system can (its content is then zeros); elsewhere nothing is done.
 * Never changes what a read returns except to zeros. */
int disk_image_discard(struct disk_image *d, uint64_t off, uint64_t len);
/* Make every completed write durable (fdatasync on read-write images; a
 * no-op otherwise). */
int disk_image_flush(struct disk_image *d);

static inline uint64_t disk_image_size(const struct disk_image *d)
{
	return d->size;
}
/* Writes refused (DISK_READ_ONLY, or a read-only memory image). */
bool disk_image_read_only(const struct disk_image *d);
/* The last error: its errno (0 if none) and its one-line message. */
int disk_image_error(const struct disk_image *d);
const char *disk_image_errmsg(const struct disk_image *d);

/* Tests: route the image's system calls through `io` (NULL: libc). */
void disk_image_set_io(struct disk_image *d, const struct disk_io *io);

#endif
