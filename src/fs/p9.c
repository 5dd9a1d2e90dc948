/* p9.c - the 9P2000.L server (p9.h).  Wire format: little-endian integers,
 * strings as len[2] + bytes (no NUL), a qid as type[1] version[4] path[8];
 * every message starts size[4] type[1] tag[2].  The layouts are those of
 * the 9P2000.L protocol description (the Linux v9fs client's) for each
 * message served here.
 *
 * Fids hold an O_PATH descriptor of their file (walked with O_NOFOLLOW,
 * one component at a time, so a walk never goes through a symlink) and
 * after lopen an open descriptor.  ".." from the export's root is the root
 * itself: the root is recognised by its device and inode, not by a depth
 * counted along the walk, which a rename in a writable export would make
 * wrong (a directory moved up would let ".." climb out of the export). */
#include "fs/p9.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"

#define P9_MAX_FIDS 4096
#define P9_PROC_SUPER_MAGIC 0x9fa0 /* procfs (linux/magic.h PROC_SUPER_MAGIC) */
/* Rread/Rreaddir: size[4] type[1] tag[2] count[4] before the data. */
#define P9_IOHDR 11

struct p9_fid {
	uint32_t id;
	int fd;      /* O_PATH, -1 when the slot is free */
	int open_fd; /* after lopen, else -1 */
	bool used;
};

struct p9_server {
	int root; /* O_PATH of the export */
	dev_t root_dev; /* its identity, for ".." (do_walk) */
	ino_t root_ino;
	bool writable;
	uint32_t msize;
	struct p9_fid fids[P9_MAX_FIDS];
};

/* ---- decoding (the request) and encoding (the reply), bounds-checked */
struct rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

static uint64_t get(struct rd *r, unsigned n)
{
	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		return 0;
	}
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)r->p[r->off + i] << (8 * i);
	r->off += n;
	return v;
}

/* A string into buf (NUL-terminated); names with NUL bytes are refused. */
static void get_str(struct rd *r, char *buf, size_t bufsz)
{
	size_t n = (size_t)get(r, 2);
	if (r->bad || r->len - r->off < n || n >= bufsz || memchr(r->p + r->off, 0, n)) {
		r->bad = true;
		buf[0] = 0;
		return;
	}
	memcpy(buf, r->p + r->off, n);
	buf[n] = 0;
	r->off += n;
}

struct wr {
	uint8_t *p;
	size_t max, off;
	bool full;
};

static void put(struct wr *w, uint64_t v, unsigned n)
{
	if (w->full || w->max - w->off < n) {
		w->full = true;
		return;
	}
	for (unsigned i = 0; i < n; i++)
		w->p[w->off + i] = (uint8_t)(v >> (8 * i));
	w->off += n;
}

static void put_str(struct wr *w, const char *s)
{
	size_t n = strlen(s);
	if (n > 0xFFFF || w->full || w->max - w->off < 2 + n) {
		w->full = true;
		return;
	}
	put(w, n, 2);
	memcpy(w->p + w->off, s, n);
	w->off += n;
}

static void put_qid(struct wr *w, const struct stat *st)
{
	uint8_t type = S_ISDIR(st->st_mode) ? P9_QTDIR : S_ISLNK(st->st_mode) ? P9_QTSYMLINK
									       : P9_QTFILE;
	put(w, type, 1);
	put(w, (uint32_t)st->st_mtime, 4); /* changes when the file does */
	/* inode numbers repeat across file systems: fold the device in */
	put(w, (uint64_t)st->st_ino ^ ((uint64_t)st->st_dev << 48), 8);
}

/* ---- fids */
static struct p9_fid *fid_find(struct p9_server *s, uint32_t id)
{
	for (unsigned i = 0; i < P9_MAX_FIDS; i++)
		if (s->fids[i].used && s->fids[i].id == id)
			return &s->fids[i];
	return NULL;
}

static struct p9_fid *fid_new(struct p9_server *s, uint32_t id)
{
	if (id == P9_NOFID || fid_find(s, id))
		return NULL;
	for (unsigned i = 0; i < P9_MAX_FIDS; i++)
		if (!s->fids[i].used) {
			s->fids[i] = (struct p9_fid){ .id = id, .fd = -1, .open_fd = -1, .used = true };
			return &s->fids[i];
		}
	return NULL;
}

static void fid_free(struct p9_fid *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->open_fd >= 0)
		close(f->open_fd);
	f->used = false;
	f->fd = f->open_fd = -1;
}

struct p9_server *p9_server_new(const char *root, unsigned flags)
{
	struct p9_server *s = calloc(1, sizeof(*s));
	if (!s) {
		nb_err_internal("9p: out of memory");
		return NULL;
	}
	s->root = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->root < 0) {
		nb_err_errno("%s: cannot export", root);
		free(s);
		return NULL;
	}
	struct stat st;
	if (fstat(s->root, &st) < 0) {
		nb_err_errno("%s: cannot export", root);
		close(s->root);
		free(s);
		return NULL;
	}
	s->root_dev = st.st_dev;
	s->root_ino = st.st_ino;
	s->msize = P9_MSIZE_MAX;
	s->writable = flags & P9_EXPORT_WRITABLE;
	for (unsigned i = 0; i < P9_MAX_FIDS; i++)
		s->fids[i].fd = s->fids[i].open_fd = -1;
	return s;
}

void p9_server_free(struct p9_server *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < P9_MAX_FIDS; i++)
		if (s->fids[i].used)
			fid_free(&s->fids[i]);
	close(s->root);
	free(s);
}

static int fstat_fd(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* The /proc path of a descriptor: it names this very inode, not a path
 * that could have changed since the walk (reopen, link, chmod, truncate,
 * utimensat act on a fid through it). */
struct fd_path {
	char s[40];
};

static struct fd_path fd_path(int fd)
{
	struct fd_path p;
	snprintf(p.s, sizeof(p.s), "/proc/self/fd/%d", fd);
	return p;
}

/* Reopen an O_PATH descriptor for I/O. */
static int reopen(int opath, int flags)
{
	return open(fd_path(opath).s, flags | O_CLOEXEC | O_NOCTTY);
}

/* The permission bits a guest may set on the host: never set-user-ID or
 * set-group-ID (nobios may run as root, e.g. to create a TAP: a guest must
 * not leave a setuid program in a share). */
#define P9_MODE_BITS (0777u | S_ISVTX)

/* A name a request may create or remove in a directory: one component. */
static bool good_name(const char *n)
{
	return n[0] && !strchr(n, '/') && strcmp(n, ".") != 0 && strcmp(n, "..") != 0;
}

/* ---- requests; each returns 0 (reply written) or a positive errno */
static int do_version(struct p9_server *s, struct rd *r, struct wr *w)
{
	uint32_t msize = (uint32_t)get(r, 4);
	char version[32];
	get_str(r, version, sizeof(version));
	if (r->bad)
		return EPROTO;
	if (msize < P9_MSIZE_MIN)
		return EINVAL;
	s->msize = msize < P9_MSIZE_MAX ? msize : P9_MSIZE_MAX;
	/* a new session: every fid goes (the protocol's Tversion reset) */
	for (unsigned i = 0; i < P9_MAX_FIDS; i++)
		if (s->fids[i].used)
			fid_free(&s->fids[i]);
	put(w, s->msize, 4);
	put_str(w, strcmp(version, "9P2000.L") == 0 ? "9P2000.L" : "unknown");
	return 0;
}

static int do_attach(struct p9_server *s, struct rd *r, struct wr *w)
{
	uint32_t fid = (uint32_t)get(r, 4);
	get(r, 4); /* afid: no authentication */
	char name[256];
	get_str(r, name, sizeof(name)); /* uname */
	get_str(r, name, sizeof(name)); /* aname: the one export */
	get(r, 4);                      /* n_uname */
	if (r->bad)
		return EPROTO;
	struct stat st;
	int e = fstat_fd(s->root, &st);
	if (e)
		return -e;
	struct p9_fid *f = fid_new(s, fid);
	if (!f)
		return EBADF;
	f->fd = fcntl(s->root, F_DUPFD_CLOEXEC, 0);
	if (f->fd < 0) {
		e = errno;
		fid_free(f);
		return e;
	}
	put_qid(w, &st);
	return 0;
}

static int do_walk(struct p9_server *s, struct rd *r, struct wr *w)
{
	uint32_t fid = (uint32_t)get(r, 4), newfid = (uint32_t)get(r, 4);
	unsigned n = (unsigned)get(r, 2);
	if (r->bad)
		return EPROTO;
	if (n > P9_MAXWELEM)
		return EINVAL;
	char names[P9_MAXWELEM][256];
	for (unsigned i = 0; i < n; i++) {
		get_str(r, names[i], sizeof(names[i]));
		if (!r->bad && (names[i][0] == 0 || strchr(names[i], '/') ||
				strcmp(names[i], ".") == 0))
			return EINVAL;
	}
	if (r->bad)
		return EPROTO;
	struct p9_fid *f = fid_find(s, fid);
	if (!f)
		return EBADF;
	if (f->open_fd >= 0)
		return EBADF; /* a walk from an opened fid is not allowed */
	if (newfid != fid && fid_find(s, newfid))
		return EBADF;
	int cur = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	if (cur < 0)
		return errno;
	unsigned done = 0;
	size_t nwqid_at = w->off;
	put(w, 0, 2);
	int err = 0;
	for (; done < n; done++) {
		int next;
		struct stat here;
		if (strcmp(names[done], "..") == 0 && fstat_fd(cur, &here) == 0 &&
		    here.st_dev == s->root_dev && here.st_ino == s->root_ino) {
			next = fcntl(s->root, F_DUPFD_CLOEXEC, 0); /* the top stays the top */
		} else {
			next = openat(cur, names[done], O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			err = errno;
			break;
		}
		struct stat st;
		if (fstat_fd(next, &st) < 0) {
			err = errno;
			close(next);
			break;
		}
		close(cur);
		cur = next;
		put_qid(w, &st);
	}
	/* The first element failing is an error; a later one is a short walk
	 * (nwqid < nwname) and newfid is not created. */
	if (done == 0 && n > 0) {
		close(cur);
		return err ? err : ENOENT;
	}
	w->p[nwqid_at] = (uint8_t)done;
	w->p[nwqid_at + 1] = 0;
	if (done < n) {
		close(cur);
		return 0;
	}
	if (newfid == fid) {
		close(f->fd);
		f->fd = cur;
		return 0;
	}
	struct p9_fid *nf = fid_new(s, newfid);
	if (!nf) {
		close(cur);
		w->off = nwqid_at;
		return ENFILE;
	}
	nf->fd = cur;
	return 0;
}

static int do_getattr(struct p9_server *s, struct rd *r, struct wr *w)
{
	uint32_t fid = (uint32_t)get(r, 4);
	get(r, 8); /* request_mask: the basic fields are always given */
	if (r->bad)
		return EPROTO;
	struct p9_fid *f = fid_find(s, fid);
	if (!f)
		return EBADF;
	struct stat st;
	int e = fstat_fd(f->fd, &st);
	if (e)
		return -e;
	put(w, P9_GETATTR_BASIC, 8);
	put_qid(w, &st);
	put(w, st.st_mode, 4);
	put(w, st.st_uid, 4);
	put(w, st.st_gid, 4);
	put(w, st.st_nlink, 8);
	put(w, st.st_rdev, 8);
	put(w, (uint64_t)st.st_size, 8);
	put(w, (uint64_t)st.st_blksize, 8);
	put(w, (uint64_t)st.st_blocks, 8);
	put(w, (uint64_t)st.st_atim.tv_sec, 8);
	put(w, (uint64_t)st.st_atim.tv_nsec, 8);
	put(w, (uint64_t)st.st_mtim.tv_sec, 8);
	put(w, (uint64_t)st.st_mtim.tv_nsec, 8);
	put(w, (uint64_t)st.st_ctim.tv_sec, 8);
	put(w, (uint64_t)st.st_ctim.tv_nsec, 8);
	put(w, 0, 8); /* btime */
	put(w, 0, 8);
	put(w, 0, 8); /* gen */
	put(w, 0, 8); /* data_version */
	return 0;
}

static int do_lopen(struct p9_server *s, struct rd *r, struct wr *w)
{
	uint32_t fid = (uint32_t)get(r, 4), flags = (uint32_t)get(r, 4);
	if (r->bad)
		return EPROTO;
	struct p9_fid *f = fid_find(s, fid);
	if (!f)
		return EBADF;
	if (f->open_fd >= 0)
		return EBADF;
	/* Linux open flags on the wire (9P2000.L uses the x86 host's values).
	 * Only the access mode and what changes how writes land are taken;
	 * creating is Tlcreate's. */
	unsigned keep = O_ACCMODE | O_TRUNC | O_APPEND | O_SYNC | O_DSYNC;
	if (!s->writable && ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_APPEND))))
		return EROFS;
	if ((flags & O_ACCMODE) == O_ACCMODE)
		return EINVAL;
	struct stat st;
	int e = fstat_fd(f->fd, &st);
	if (e)
		return -e;
	if (S_ISLNK(st.st_mode))
		return ELOOP;
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return EOPNOTSUPP; /* devices, fifos, sockets of the host: not exported */
	if (S_ISDIR(st.st_mode) && (flags & O_ACCMODE) != O_RDONLY)
		return EISDIR;
	/* The host's /proc (an export of /) would give the guest nobios's own
	 * memory (/proc/PID/mem) and environment: not opened. */
	struct statfs sf;
	if (fstatfs(f->fd, &sf) == 0 && sf.f_type == P9_PROC_SUPER_MAGIC)
		return EACCES;
	f->open_fd = reopen(f->fd, (int)(flags & keep) | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
	if (f->open_fd < 0)
		return errno;
	put_qid(w, &st);
	put(w, s->msize - P9_IOHDR, 4); /* iounit */
	return 0;
}

/* Tread and Treaddir share their body: fid[4] offset[8] count[4], an open
 * fid, and a count cut to what the reply has room for after its count[4].
 * 0, or the errno to answer. */
static int get_io_args(struct p9_server *s, struct rd *r, const struct wr *w,
		       struct p9_fid **f, uint64_t *off, uint32_t *count)
{
	uint32_t fid = (uint32_t)get(r, 4);
	*off = get(r, 8);
	*count = (uint32_t)get(r, 4);
	if (r->bad)
		return EPROTO;
	*f = fid_find(s, fid);
	if (!*f || (*f)->open_fd < 0)
		return EBADF;
	if (*off > INT64_MAX)
		return EINVAL;
	size_t room = w->max - w->off - 4;
	if (*count > room)
		*count = (uint32_t)room;
	return 0;
}

static int do_read(struct p9_server *s, struct rd *r, struct wr *w)
{
	struct p9_fid *f;
	uint64_t off;
	uint32_t count;
	int e = get_io_args(s, r, w, &f, &off, &count);
	if (e)
		return e;
	ssize_t n = pread(f->open_fd, w->p + w->off + 4, count, (off_t)off);
	if (n < 0)
		return errno;
	put(w, (uint64_t)n, 4);
	w->off += (size_t)n;
	return 0;
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int do_readdir(struct p9_server *s, struct rd *r, struct wr *w)
{
	struct p9_fid *f;
	uint64_t off;
	uint32_t count;
	int e = get_io_args(s, r, w, &f, &off, &count);
	if (e)
		return e;
	/* The offset is the cookie (d_off) of the last entry the client got. */
	if (lseek(f->open_fd, (off_t)off, SEEK_SET) < 0)
		return errno;
	size_t count_at = w->off;
	put(w, 0, 4);
	size_t start = w->off;
	struct wr entries = { .p = w->p, .max = start + count, .off = start };
	char buf[8192];
	for (;;) {
		long n = syscall(SYS_getdents64, f->open_fd, buf, sizeof(buf));
		if (n < 0)
			return errno;
		if (n == 0)
			break;
		bool stop = false;
		for (long pos = 0; pos < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + pos);
			size_t need = 13 + 8 + 1 + 2 + strlen(d->d_name);
			if (entries.max - entries.off < need) {
				/* Does not fit: the next Treaddir starts here. */
				stop = true;
				break;
			}
			uint8_t qtype = d->d_type == DT_DIR ? P9_QTDIR
					: d->d_type == DT_LNK ? P9_QTSYMLINK : P9_QTFILE;
			put(&entries, qtype, 1);
			put(&entries, 0, 4);
			put(&entries, d->d_ino, 8);
			put(&entries, (uint64_t)d->d_off, 8);
			put(&entries, d->d_type, 1);
			put_str(&entries, d->d_name);
			pos += d->d_reclen;
		}
		if (stop)
			break;
	}
	size_t len = entries.off - start;
	w->off = entries.off;
	for (unsigned i = 0; i < 4; i++)
		w->p[count_at + i] = (uint8_t)(len >> (8 * i));
	return 0;
}

static int do_readlink(struct p9_server *s, struct rd *r, struct wr *w)
{
	uint32_t fid = (uint32_t)get(r, 4);
	if (r->bad)
		return EPROTO;
	struct p9_fid *f = fid_find(s, fid);
	if (!f)
		return EBADF;
	char target[4096];
	ssize_t n = readlinkat(f->fd, "", target, sizeof(target) - 1);
	if (n < 0)
		return errno == ENOENT ? EINVAL : errno; /* not a symlink */
	target[n] = 0;
	put_str(w, target);
	return 0;
}

static int do_statfs(struct p9_server *s, struct rd *r, struct wr *w)
{
	uint32_t fid = (uint32_t)get(r, 4);
	if (r->bad)
		return EPROTO;
	struct p9_fid *f = fid_find(s, fid);
	if (!f)
		return EBADF;
	struct statfs sf;
	if (fstatfs(f->fd, &sf) < 0)
		return errno;
	uint64_t fsid;
	memcpy(&fsid, &sf.f_fsid, sizeof(fsid));
	put(w, (uint64_t)sf.f_type, 4);
	put(w, (uint64_t)sf.f_bsize, 4);
	put(w, sf.f_blocks, 8);
	put(w, sf.f_bfree, 8);
	put(w, sf.f_bavail, 8);
	put(w, sf.f_files, 8);
	put(w, sf.f_ffree, 8);
	put(w, fsid, 8);
	put(w, (uint64_t)sf.f_namelen, 4);
	return 0;
}

static int do_clunk(struct p9_server *s, struct rd *r, struct wr *w)
{
	uint32_t fid = (uint32_t)get(r, 4);
	if (r->bad)
		return EPROTO;
	struct p9_fid *f = fid_find(s, fid);
	if (!f)
		return EBADF;
	fid_free(f);
	return 0;
}

/* ---- requests that change the export (P9_EXPORT_WRITABLE).  Every one
 * acts through a directory descriptor and a single checked name, so
 * nothing is created or removed outside the export, and never through a
 * symlink. */

/* A directory fid and the name after it: dfid[4] name[s]. */
static int get_dir_name(struct p9_server *s, struct rd *r, struct p9_fid **d, char *name,
			size_t namesz)
{
	uint32_t dfid = (uint32_t)get(r, 4);
	get_str(r, name, namesz);
	if (r->bad)
		return EPROTO;
	*d = fid_find(s, dfid);
	if (!*d)
		return EBADF;
	return good_name(name) ? 0 : EINVAL;
}

/* Reply with the qid of name in directory fd. */
static int put_qid_at(struct wr *w, int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno;
	put_qid(w, &st);
	return 0;
}

static int do_lcreate(struct p9_server *s, struct rd *r, struct wr *w)
{
	struct p9_fid *f;
	char name[256];
	int e = get_dir_name(s, r, &f, name, sizeof(name));
	uint32_t flags = (uint32_t)get(r, 4), mode = (uint32_t)get(r, 4);
	get(r, 4); /* gid: files are the exporting user's */
	if (r->bad)
		return EPROTO;
	if (e)
		return e;
	if (f->open_fd >= 0)
		return EBADF;
	if ((flags & O_ACCMODE) == O_ACCMODE)
		return EINVAL;
	int fd = openat(f->fd, name,
			(int)(flags & (O_ACCMODE | O_EXCL | O_TRUNC | O_APPEND | O_SYNC | O_DSYNC)) |
				O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
			mode & P9_MODE_BITS);
	if (fd < 0)
		return errno;
	int opath = openat(f->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (opath < 0 || fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		if (opath >= 0)
			close(opath);
		return e;
	}
	/* The fid now stands for the new, opened file (9P2000.L lcreate). */
	close(f->fd);
	f->fd = opath;
	f->open_fd = fd;
	put_qid(w, &st);
	put(w, s->msize - P9_IOHDR, 4);
	return 0;
}

static int do_write(struct p9_server *s, struct rd *r, struct wr *w)
{
	uint32_t fid = (uint32_t)get(r, 4);
	uint64_t off = get(r, 8);
	uint32_t count = (uint32_t)get(r, 4);
	if (r->bad)
		return EPROTO;
	if (r->len - r->off < count)
		return EPROTO; /* the data must be in the message */
	struct p9_fid *f = fid_find(s, fid);
	if (!f || f->open_fd < 0)
		return EBADF;
	if (off > INT64_MAX)
		return EINVAL;
	ssize_t n = pwrite(f->open_fd, r->p + r->off, count, (off_t)off);
	if (n < 0)
		return errno;
	put(w, (uint64_t)n, 4);
	return 0;
}

static int do_mkdir(struct p9_server *s, struct rd *r, struct wr *w)
{
	struct p9_fid *d;
	char name[256];
	int e = get_dir_name(s, r, &d, name, sizeof(name));
	uint32_t mode = (uint32_t)get(r, 4);
	get(r, 4); /* gid */
	if (r->bad)
		return EPROTO;
	if (e)
		return e;
	if (mkdirat(d->fd, name, mode & P9_MODE_BITS) < 0)
		return errno;
	return put_qid_at(w, d->fd, name);
}

static int do_symlink(struct p9_server *s, struct rd *r, struct wr *w)
{
	struct p9_fid *d;
	char name[256], target[4096];
	int e = get_dir_name(s, r, &d, name, sizeof(name));
	get_str(r, target, sizeof(target));
	get(r, 4); /* gid */
	if (r->bad)
		return EPROTO;
	if (e)
		return e;
	/* The target is text the server never follows (walks use O_NOFOLLOW). */
	if (symlinkat(target, d->fd, name) < 0)
		return errno;
	return put_qid_at(w, d->fd, name);
}

static int do_link(struct p9_server *s, struct rd *r, struct wr *w)
{
	(void)w;
	uint32_t dfid = (uint32_t)get(r, 4), fid = (uint32_t)get(r, 4);
	char name[256];
	get_str(r, name, sizeof(name));
	if (r->bad)
		return EPROTO;
	struct p9_fid *d = fid_find(s, dfid), *f = fid_find(s, fid);
	if (!d || !f)
		return EBADF;
	if (!good_name(name))
		return EINVAL;
	/* linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the /proc path of
	 * the fid's descriptor names the same inode without it. */
	if (linkat(AT_FDCWD, fd_path(f->fd).s, d->fd, name, AT_SYMLINK_FOLLOW) < 0)
		return errno;
	return 0;
}

static int do_unlinkat(struct p9_server *s, struct rd *r, struct wr *w)
{
	(void)w;
	struct p9_fid *d;
	char name[256];
	int e = get_dir_name(s, r, &d, name, sizeof(name));
	uint32_t flags = (uint32_t)get(r, 4);
	if (r->bad)
		return EPROTO;
	if (e)
		return e;
	if (unlinkat(d->fd, name, flags & P9_DOTL_AT_REMOVEDIR ? AT_REMOVEDIR : 0) < 0)
		return errno;
	return 0;
}

static int do_renameat(struct p9_server *s, struct rd *r, struct wr *w)
{
	(void)w;
	struct p9_fid *od, *nd;
	char oname[256], nname[256];
	int e = get_dir_name(s, r, &od, oname, sizeof(oname));
	int e2 = get_dir_name(s, r, &nd, nname, sizeof(nname));
	if (r->bad)
		return EPROTO;
	if (e || e2)
		return e ? e : e2;
	if (renameat(od->fd, oname, nd->fd, nname) < 0)
		return errno;
	return 0;
}

static int do_setattr(struct p9_server *s, struct rd *r, struct wr *w)
{
	(void)w;
	uint32_t fid = (uint32_t)get(r, 4), valid = (uint32_t)get(r, 4);
	uint32_t mode = (uint32_t)get(r, 4), uid = (uint32_t)get(r, 4), gid = (uint32_t)get(r, 4);
	uint64_t size = get(r, 8);
	struct timespec ts[2];
	ts[0].tv_sec = (time_t)get(r, 8);
	ts[0].tv_nsec = (long)get(r, 8);
	ts[1].tv_sec = (time_t)get(r, 8);
	ts[1].tv_nsec = (long)get(r, 8);
	if (r->bad)
		return EPROTO;
	struct p9_fid *f = fid_find(s, fid);
	if (!f)
		return EBADF;
	struct stat st;
	int e = fstat_fd(f->fd, &st);
	if (e)
		return -e;
	const struct fd_path fp = fd_path(f->fd);
	const char *proc = fp.s;
	if ((valid & P9_ATTR_MODE) && !S_ISLNK(st.st_mode) && chmod(proc, mode & P9_MODE_BITS) < 0)
		return errno;
	/* Owners: only what the file has or nobios's own ids (giving host
	 * files away, even as root, is not the guest's to do). */
	if ((valid & P9_ATTR_UID) && uid != st.st_uid && uid != geteuid())
		return EPERM;
	if ((valid & P9_ATTR_GID) && gid != st.st_gid && gid != getegid())
		return EPERM;
	if (valid & (P9_ATTR_UID | P9_ATTR_GID)) {
		uid_t u = valid & P9_ATTR_UID ? (uid_t)uid : (uid_t)-1;
		gid_t g = valid & P9_ATTR_GID ? (gid_t)gid : (gid_t)-1;
		if (fchownat(f->fd, "", u, g, AT_EMPTY_PATH) < 0)
			return errno;
	}
	if (valid & P9_ATTR_SIZE) {
		if (!S_ISREG(st.st_mode))
			return S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		if (size > INT64_MAX)
			return EFBIG;
		if (truncate(proc, (off_t)size) < 0)
			return errno;
	}
	if ((valid & (P9_ATTR_ATIME | P9_ATTR_MTIME)) && !S_ISLNK(st.st_mode)) {
		/* Without *_SET the time is "now" (the client's utimes(NULL)). */
		if (!(valid & P9_ATTR_ATIME))
			ts[0].tv_nsec = UTIME_OMIT;
		else if (!(valid & P9_ATTR_ATIME_SET))
			ts[0].tv_nsec = UTIME_NOW;
		if (!(valid & P9_ATTR_MTIME))
			ts[1].tv_nsec = UTIME_OMIT;
		else if (!(valid & P9_ATTR_MTIME_SET))
			ts[1].tv_nsec = UTIME_NOW;
		for (unsigned i = 0; i < 2; i++)
			if (ts[i].tv_nsec != UTIME_OMIT && ts[i].tv_nsec != UTIME_NOW &&
			    (ts[i].tv_nsec < 0 || ts[i].tv_nsec > 999999999))
				return EINVAL;
		if (utimensat(AT_FDCWD, proc, ts, 0) < 0)
			return errno;
	}
	return 0;
}

static int do_fsync(struct p9_server *s, struct rd *r, struct wr *w)
{
	(void)w;
	uint32_t fid = (uint32_t)get(r, 4), datasync = (uint32_t)get(r, 4);
	if (r->bad)
		return EPROTO;
	struct p9_fid *f = fid_find(s, fid);
	if (!f || f->open_fd < 0)
		return EBADF;
	if ((datasync ? fdatasync(f->open_fd) : fsync(f->open_fd)) < 0)
		return errno;
	return 0;
}

/* Tlock and Tgetlock: POSIX locks stay inside the guest's kernel (one
 * client per export), so every request is granted and nothing is
 * reported held, as QEMU's server does: programs that lock files (git,
 * sqlite, dpkg) run.  The request is still parsed and checked. */
#define P9_LOCK_SUCCESS 0
static int do_lock(struct p9_server *s, struct rd *r, struct wr *w, bool getlock)
{
	uint32_t fid = (uint32_t)get(r, 4);
	uint8_t type = (uint8_t)get(r, 1);
	if (!getlock)
		get(r, 4); /* flags */
	uint64_t start = get(r, 8), length = get(r, 8);
	uint32_t proc_id = (uint32_t)get(r, 4);
	char client[256];
	get_str(r, client, sizeof(client));
	if (r->bad)
		return EPROTO;
	if (!fid_find(s, fid))
		return EBADF;
	if (!getlock) {
		put(w, P9_LOCK_SUCCESS, 1);
		return 0;
	}
	(void)type;
	put(w, F_UNLCK, 1);
	put(w, start, 8);
	put(w, length, 8);
	put(w, proc_id, 4);
	put_str(w, client);
	return 0;
}

static int do_change(struct p9_server *s, uint8_t type, struct rd *r, struct wr *w)
{
	switch (type) {
	case P9_TLCREATE: return do_lcreate(s, r, w);
	case P9_TWRITE: return do_write(s, r, w);
	case P9_TMKDIR: return do_mkdir(s, r, w);
	case P9_TSYMLINK: return do_symlink(s, r, w);
	case P9_TLINK: return do_link(s, r, w);
	case P9_TUNLINKAT: return do_unlinkat(s, r, w);
	case P9_TRENAMEAT: return do_renameat(s, r, w);
	case P9_TSETATTR: return do_setattr(s, r, w);
	case P9_TFSYNC: return do_fsync(s, r, w);
	default: return EOPNOTSUPP;
	}
}

size_t p9_handle(struct p9_server *s, const uint8_t *req, size_t reqlen, uint8_t *resp,
		 size_t respmax)
{
	if (reqlen < P9_HDR || respmax < P9_MSIZE_MIN)
		return 0;
	struct rd r = { .p = req, .len = reqlen };
	uint32_t size = (uint32_t)get(&r, 4);
	uint8_t type = (uint8_t)get(&r, 1);
	uint16_t tag = (uint16_t)get(&r, 2);
	size_t max = respmax < s->msize ? respmax : s->msize;
	struct wr w = { .p = resp, .max = max, .off = P9_HDR };
	int err;
	if (size != reqlen || size > s->msize) {
		err = EPROTO; /* the message's own size must be what arrived */
	} else {
		r.len = size;
		switch (type) {
		case P9_TVERSION: err = do_version(s, &r, &w); break;
		case P9_TATTACH: err = do_attach(s, &r, &w); break;
		case P9_TWALK: err = do_walk(s, &r, &w); break;
		case P9_TGETATTR: err = do_getattr(s, &r, &w); break;
		case P9_TLOPEN: err = do_lopen(s, &r, &w); break;
		case P9_TREAD: err = do_read(s, &r, &w); break;
		case P9_TREADDIR: err = do_readdir(s, &r, &w); break;
		case P9_TREADLINK: err = do_readlink(s, &r, &w); break;
		case P9_TSTATFS: err = do_statfs(s, &r, &w); break;
		case P9_TCLUNK: err = do_clunk(s, &r, &w); break;
		case P9_TFLUSH: /* requests are answered at once: nothing to flush */
			get(&r, 2);
			err = r.bad ? EPROTO : 0;
			break;
		case P9_TLOCK: err = do_lock(s, &r, &w, false); break;
		case P9_TGETLOCK: err = do_lock(s, &r, &w, true); break;
		case P9_TLCREATE: case P9_TSYMLINK: case P9_TSETATTR: case P9_TLINK:
		case P9_TMKDIR: case P9_TRENAMEAT: case P9_TUNLINKAT: case P9_TWRITE:
		case P9_TFSYNC:
			err = s->writable ? do_change(s, type, &r, &w) : EROFS;
			break;
		case P9_TMKNOD: case P9_TRENAME: case P9_TXATTRCREATE: case P9_TREMOVE:
			/* devices are not made on the host; the client renames
			 * and removes with renameat and unlinkat */
			err = s->writable ? EOPNOTSUPP : EROFS;
			break;
		default: err = EOPNOTSUPP; break;
		}
		if (!err && w.full)
			err = EMSGSIZE;
	}
	if (err) {
		w.off = P9_HDR;
		w.full = false;
		put(&w, (uint32_t)err, 4);
		type = P9_RLERROR - 1;
	}
	size_t len = w.off;
	struct wr h = { .p = resp, .max = P9_HDR };
	put(&h, len, 4);
	put(&h, (uint8_t)(type + 1), 1);
	put(&h, tag, 2);
	return len;
}
