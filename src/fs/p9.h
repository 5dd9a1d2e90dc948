/* p9.h - a 9P2000.L file server as a pure library: one request message in,
 * one reply message out, a host directory exported read-only or writable.
 * No transport: the virtio-9p device (src/virtio/virtio_9p.c) hands it the
 * guest's requests and returns the replies; the unit tests and the fuzzer
 * call it directly.
 *
 * Served: version, attach, walk, getattr, lopen, read, readdir, readlink,
 * statfs, clunk, flush; and on a writable export (P9_EXPORT_WRITABLE) also
 * lcreate, write, mkdir, symlink, link, unlinkat, renameat, setattr and
 * fsync.  On a read-only export every request that would change it answers
 * EROFS; the rest (xattrs, locks, mknod, the old rename/remove, for which
 * Linux's client has fallbacks) EOPNOTSUPP.  Messages come
 * from the guest: every size, count, string and fid is checked, and a bad
 * one gets Rlerror (EINVAL, EBADF, EPROTO), never a crash.  The export is
 * never left: walks do not follow symlinks (the client resolves them with
 * readlink) and ".." at the root stays there. */
#ifndef NOBIOS_FS_P9_H
#define NOBIOS_FS_P9_H

#include <stddef.h>
#include <stdint.h>

/* Message types (the Linux kernel's include/net/9p/9p.h numbers). */
enum {
	P9_TLERROR = 6, P9_RLERROR,
	P9_TSTATFS = 8, P9_RSTATFS,
	P9_TLOPEN = 12, P9_RLOPEN,
	P9_TLCREATE = 14, P9_RLCREATE,
	P9_TSYMLINK = 16, P9_RSYMLINK,
	P9_TMKNOD = 18,
	P9_TRENAME = 20,
	P9_TREADLINK = 22, P9_RREADLINK,
	P9_TGETATTR = 24, P9_RGETATTR,
	P9_TSETATTR = 26, P9_RSETATTR,
	P9_TXATTRWALK = 30,
	P9_TXATTRCREATE = 32,
	P9_TREADDIR = 40, P9_RREADDIR,
	P9_TFSYNC = 50, P9_RFSYNC,
	P9_TLOCK = 52,
	P9_TGETLOCK = 54,
	P9_TLINK = 70, P9_RLINK,
	P9_TMKDIR = 72, P9_RMKDIR,
	P9_TRENAMEAT = 74, P9_RRENAMEAT,
	P9_TUNLINKAT = 76, P9_RUNLINKAT,
	P9_TVERSION = 100, P9_RVERSION,
	P9_TAUTH = 102,
	P9_TATTACH = 104, P9_RATTACH,
	P9_TFLUSH = 108, P9_RFLUSH,
	P9_TWALK = 110, P9_RWALK,
	P9_TREAD = 116, P9_RREAD,
	P9_TWRITE = 118, P9_RWRITE,
	P9_TCLUNK = 120, P9_RCLUNK,
	P9_TREMOVE = 122,
};

#define P9_QTDIR     0x80
#define P9_QTSYMLINK 0x02
#define P9_QTFILE    0x00
#define P9_NOFID     0xFFFFFFFFu
#define P9_MAXWELEM  16
#define P9_HDR       7          /* size[4] type[1] tag[2] */
#define P9_MSIZE_MAX (512u << 10) /* the largest message this server takes */
#define P9_MSIZE_MIN 4096
#define P9_GETATTR_BASIC 0x7FFull /* the fields every reply fills */
/* Tsetattr's valid mask (Linux include/net/9p/9p.h P9_ATTR_*). */
#define P9_ATTR_MODE      0x001u
#define P9_ATTR_UID       0x002u
#define P9_ATTR_GID       0x004u
#define P9_ATTR_SIZE      0x008u
#define P9_ATTR_ATIME     0x010u
#define P9_ATTR_MTIME     0x020u
#define P9_ATTR_CTIME     0x040u
#define P9_ATTR_ATIME_SET 0x080u
#define P9_ATTR_MTIME_SET 0x100u
/* Tunlinkat's flag for a directory (the host's AT_REMOVEDIR). */
#define P9_DOTL_AT_REMOVEDIR 0x200u

struct p9_server;

#define P9_EXPORT_WRITABLE 0x1u /* serve the requests that change files */

/* Export the directory root (read-only unless P9_EXPORT_WRITABLE).  NULL
 * with nb_err() naming it.  Files are created as the calling process's
 * user: the guest gets no more rights on the host than nobios has. */
struct p9_server *p9_server_new(const char *root, unsigned flags);
void p9_server_free(struct p9_server *s);

/* Serve one request (req, reqlen bytes: one whole message) into resp
 * (respmax bytes, at least P9_MSIZE_MIN).  Returns the reply's length, or
 * 0 when the request is too short to carry a tag (no reply is possible:
 * the transport drops it). */
size_t p9_handle(struct p9_server *s, const uint8_t *req, size_t reqlen, uint8_t *resp,
		 size_t respmax);

#endif
