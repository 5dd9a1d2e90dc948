/* test_p9.c - the 9P2000.L server library (src/fs/p9.c) against a
 * temporary host directory: version, attach, walk (short walks, "..",
 * symlinks never followed), getattr, lopen, read, readdir (paged by its
 * offsets), readlink, statfs, clunk; a read-only export stays so; a
 * writable one creates, writes, links, renames, removes and changes
 * attributes only inside itself, never through a symlink; malformed
 * messages (wrong size, truncated strings, bad names, unknown fids and
 * types, random bytes) get Rlerror or no reply, never a crash. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/p9.h"

static char dir[64];
static struct p9_server *srv;
static uint8_t resp[65536];
static size_t rlen;

/* ---- a tiny client-side encoder */
struct msg {
	uint8_t b[4096];
	size_t n;
};

static void m_put(struct msg *m, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		m->b[m->n++] = (uint8_t)(v >> (8 * i));
}

static void m_str(struct msg *m, const char *s)
{
	m_put(m, strlen(s), 2);
	memcpy(m->b + m->n, s, strlen(s));
	m->n += strlen(s);
}

static void m_begin(struct msg *m, uint8_t type, uint16_t tag)
{
	m->n = 0;
	m_put(m, 0, 4);
	m_put(m, type, 1);
	m_put(m, tag, 2);
}

/* Fix the size field and send; returns the reply's type. */
static uint8_t m_send(struct msg *m)
{
	for (unsigned i = 0; i < 4; i++)
		m->b[i] = (uint8_t)(m->n >> (8 * i));
	rlen = p9_handle(srv, m->b, m->n, resp, sizeof(resp));
	assert_true(rlen >= 7);
	uint32_t size = resp[0] | resp[1] << 8 | resp[2] << 16 | (uint32_t)resp[3] << 24;
	assert_int_equal(size, rlen);
	assert_int_equal(resp[5] | resp[6] << 8, m->b[5] | m->b[6] << 8); /* tag echoed */
	return resp[4];
}

static uint64_t r_get(size_t off, unsigned n)
{
	assert_true(off + n <= rlen);
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)resp[off + i] << (8 * i);
	return v;
}

static void expect_error(struct msg *m, uint32_t err)
{
	assert_int_equal(m_send(m), P9_RLERROR);
	assert_int_equal(rlen, 11);
	assert_int_equal(r_get(7, 4), err);
}

static void version(uint32_t msize)
{
	struct msg m;
	m_begin(&m, P9_TVERSION, 0xFFFF);
	m_put(&m, msize, 4);
	m_str(&m, "9P2000.L");
	assert_int_equal(m_send(&m), P9_RVERSION);
}

static void attach(uint32_t fid)
{
	struct msg m;
	m_begin(&m, P9_TATTACH, 1);
	m_put(&m, fid, 4);
	m_put(&m, P9_NOFID, 4);
	m_str(&m, "user");
	m_str(&m, "");
	m_put(&m, 1000, 4);
	assert_int_equal(m_send(&m), P9_RATTACH);
	assert_int_equal(resp[7], P9_QTDIR);
}

/* Twalk fid -> newfid through names (NULL-terminated); the reply type. */
static uint8_t walk(uint32_t fid, uint32_t newfid, const char *const *names)
{
	struct msg m;
	m_begin(&m, P9_TWALK, 2);
	m_put(&m, fid, 4);
	m_put(&m, newfid, 4);
	unsigned n = 0;
	while (names[n])
		n++;
	m_put(&m, n, 2);
	for (unsigned i = 0; i < n; i++)
		m_str(&m, names[i]);
	return m_send(&m);
}

static uint8_t lopen(uint32_t fid, uint32_t flags)
{
	struct msg m;
	m_begin(&m, P9_TLOPEN, 3);
	m_put(&m, fid, 4);
	m_put(&m, flags, 4);
	return m_send(&m);
}

static uint8_t simple(uint8_t type, uint32_t fid)
{
	struct msg m;
	m_begin(&m, type, 4);
	m_put(&m, fid, 4);
	return m_send(&m);
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/nobios-p9-XXXXXX");
	assert_non_null(mkdtemp(dir));
	char p[128];
	snprintf(p, sizeof(p), "%s/hello.txt", dir);
	FILE *f = fopen(p, "w");
	fputs("hello world\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/sub", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sub/inner", dir);
	f = fopen(p, "w");
	fputs("inner", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/link", dir);
	assert_int_equal(symlink("hello.txt", p), 0);
	snprintf(p, sizeof(p), "%s/escape", dir);
	assert_int_equal(symlink("/etc", p), 0);
	for (int i = 0; i < 40; i++) { /* enough entries to page readdir */
		snprintf(p, sizeof(p), "%s/sub/file-with-a-long-name-%02d", dir, i);
		close(open(p, O_CREAT | O_WRONLY, 0644));
	}
	srv = p9_server_new(dir, 0);
	assert_non_null(srv);
	version(8192);
	attach(1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	p9_server_free(srv);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_version(void **state)
{
	(void)state;
	struct msg m;
	m_begin(&m, P9_TVERSION, 0xFFFF);
	m_put(&m, 1u << 30, 4);
	m_str(&m, "9P2000.L");
	assert_int_equal(m_send(&m), P9_RVERSION);
	assert_int_equal(r_get(7, 4), P9_MSIZE_MAX); /* the server's limit */
	m_begin(&m, P9_TVERSION, 0xFFFF);
	m_put(&m, 8192, 4);
	m_str(&m, "9P2000.u");
	assert_int_equal(m_send(&m), P9_RVERSION);
	assert_int_equal(r_get(11, 2), 7);
	assert_memory_equal(resp + 13, "unknown", 7);
	m_begin(&m, P9_TVERSION, 0xFFFF);
	m_put(&m, 100, 4);
	m_str(&m, "9P2000.L");
	expect_error(&m, EINVAL);
	/* a version resets the session: fid 1 is gone */
	version(8192);
	assert_int_equal(simple(P9_TCLUNK, 1), P9_RLERROR);
	attach(1);
}

static void test_walk_getattr_read(void **state)
{
	(void)state;
	assert_int_equal(walk(1, 2, (const char *[]){ "sub", "inner", NULL }), P9_RWALK);
	assert_int_equal(r_get(7, 2), 2);
	assert_int_equal(resp[9], P9_QTDIR);
	assert_int_equal(resp[9 + 13], P9_QTFILE);
	struct msg m;
	m_begin(&m, P9_TGETATTR, 5);
	m_put(&m, 2, 4);
	m_put(&m, P9_GETATTR_BASIC, 8);
	assert_int_equal(m_send(&m), P9_RGETATTR);
	assert_int_equal(rlen, 7 + 8 + 13 + 4 + 4 + 4 + 8 * 15);
	/* valid[8] qid[13] mode[4] uid[4] gid[4] nlink[8] rdev[8] size[8] */
	size_t o = 7 + 8 + 13;
	char p[128];
	struct stat st;
	snprintf(p, sizeof(p), "%s/sub/inner", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(r_get(o, 4), st.st_mode);
	assert_true(S_ISREG(r_get(o, 4)));
	assert_int_equal(r_get(o + 4, 4), getuid());
	assert_int_equal(r_get(o + 12, 8), 1);
	assert_int_equal(r_get(o + 28, 8), 5);

	assert_int_equal(walk(1, 3, (const char *[]){ "hello.txt", NULL }), P9_RWALK);
	assert_int_equal(lopen(3, O_RDONLY), P9_RLOPEN);
	assert_true(r_get(7 + 13, 4) > 0); /* iounit */
	m_begin(&m, P9_TREAD, 6);
	m_put(&m, 3, 4);
	m_put(&m, 6, 8);
	m_put(&m, 100, 4);
	assert_int_equal(m_send(&m), P9_RREAD);
	assert_int_equal(r_get(7, 4), 6);
	assert_memory_equal(resp + 11, "world\n", 6);
	/* past the end: 0 bytes */
	m_begin(&m, P9_TREAD, 6);
	m_put(&m, 3, 4);
	m_put(&m, 1000, 8);
	m_put(&m, 100, 4);
	assert_int_equal(m_send(&m), P9_RREAD);
	assert_int_equal(r_get(7, 4), 0);
	/* a second lopen, a walk from an opened fid: refused */
	assert_int_equal(lopen(3, O_RDONLY), P9_RLERROR);
	assert_int_equal(walk(3, 4, (const char *[]){ NULL }), P9_RLERROR);
	assert_int_equal(simple(P9_TCLUNK, 3), P9_RCLUNK);
	assert_int_equal(simple(P9_TCLUNK, 3), P9_RLERROR); /* gone */
	assert_int_equal(simple(P9_TCLUNK, 2), P9_RCLUNK);
}

static void test_walk_errors(void **state)
{
	(void)state;
	/* the first name missing: an error; a later one: a short walk, and
	 * newfid is not made */
	assert_int_equal(walk(1, 2, (const char *[]){ "nope", NULL }), P9_RLERROR);
	assert_int_equal(r_get(7, 4), ENOENT);
	assert_int_equal(walk(1, 2, (const char *[]){ "sub", "nope", NULL }), P9_RWALK);
	assert_int_equal(r_get(7, 2), 1);
	assert_int_equal(simple(P9_TCLUNK, 2), P9_RLERROR);
	/* names that are not one component */
	assert_int_equal(walk(1, 2, (const char *[]){ "sub/inner", NULL }), P9_RLERROR);
	assert_int_equal(r_get(7, 4), EINVAL);
	assert_int_equal(walk(1, 2, (const char *[]){ ".", NULL }), P9_RLERROR);
	/* an unknown fid; newfid already in use */
	assert_int_equal(walk(77, 2, (const char *[]){ "sub", NULL }), P9_RLERROR);
	assert_int_equal(r_get(7, 4), EBADF);
	assert_int_equal(walk(1, 1, (const char *[]){ NULL }), P9_RWALK); /* clone onto itself */
	assert_int_equal(walk(1, 2, (const char *[]){ NULL }), P9_RWALK);
	assert_int_equal(walk(1, 2, (const char *[]){ "sub", NULL }), P9_RLERROR);
	assert_int_equal(simple(P9_TCLUNK, 2), P9_RCLUNK);
	/* more than 16 names */
	const char *many[18];
	for (int i = 0; i < 17; i++)
		many[i] = "sub";
	many[17] = NULL;
	assert_int_equal(walk(1, 2, many), P9_RLERROR);
	assert_int_equal(r_get(7, 4), EINVAL);
}

/* ".." never leaves the export; symlinks are not followed by a walk. */
static void test_confined(void **state)
{
	(void)state;
	assert_int_equal(walk(1, 2, (const char *[]){ NULL }), P9_RWALK);
	assert_int_equal(simple(P9_TGETATTR, 2), P9_RLERROR); /* too short: no mask */
	struct msg m;
	m_begin(&m, P9_TGETATTR, 5);
	m_put(&m, 1, 4);
	m_put(&m, P9_GETATTR_BASIC, 8);
	assert_int_equal(m_send(&m), P9_RGETATTR);
	uint64_t root_path = r_get(7 + 8 + 5, 8);
	assert_int_equal(walk(1, 3, (const char *[]){ "..", "..", NULL }), P9_RWALK);
	assert_int_equal(r_get(7, 2), 2);
	assert_int_equal(r_get(9 + 13 + 5, 8), root_path);
	assert_int_equal(walk(1, 4, (const char *[]){ "sub", "..", "..", "..", NULL }), P9_RWALK);
	assert_int_equal(r_get(9 + 3 * 13 + 5, 8), root_path);
	/* a symlink is a symlink: readlink, and no walk through it */
	assert_int_equal(walk(1, 5, (const char *[]){ "link", NULL }), P9_RWALK);
	assert_int_equal(resp[9], P9_QTSYMLINK);
	assert_int_equal(simple(P9_TREADLINK, 5), P9_RREADLINK);
	assert_int_equal(r_get(7, 2), 9);
	assert_memory_equal(resp + 9, "hello.txt", 9);
	assert_int_equal(lopen(5, O_RDONLY), P9_RLERROR);
	assert_int_equal(r_get(7, 4), ELOOP);
	assert_int_equal(walk(1, 6, (const char *[]){ "escape", "passwd", NULL }), P9_RWALK);
	assert_int_equal(r_get(7, 2), 1); /* stopped at the symlink */
	assert_int_equal(simple(P9_TREADLINK, 1), P9_RLERROR); /* not a symlink */
	for (uint32_t f = 2; f <= 5; f++)
		assert_int_equal(simple(P9_TCLUNK, f), P9_RCLUNK);
}

static void test_read_only(void **state)
{
	(void)state;
	assert_int_equal(walk(1, 2, (const char *[]){ "hello.txt", NULL }), P9_RWALK);
	assert_int_equal(lopen(2, O_WRONLY), P9_RLERROR);
	assert_int_equal(r_get(7, 4), EROFS);
	assert_int_equal(lopen(2, O_RDWR), P9_RLERROR);
	assert_int_equal(lopen(2, O_RDONLY | O_TRUNC), P9_RLERROR);
	assert_int_equal(r_get(7, 4), EROFS);
	static const uint8_t writes[] = { P9_TWRITE, P9_TMKDIR, P9_TLCREATE, P9_TUNLINKAT,
					  P9_TSETATTR, P9_TRENAMEAT, P9_TSYMLINK, P9_TREMOVE };
	for (unsigned i = 0; i < sizeof(writes); i++) {
		assert_int_equal(simple(writes[i], 2), P9_RLERROR);
		assert_int_equal(r_get(7, 4), EROFS);
	}
	assert_int_equal(simple(P9_TXATTRWALK, 2), P9_RLERROR);
	assert_int_equal(r_get(7, 4), EOPNOTSUPP);
	char p[128];
	snprintf(p, sizeof(p), "%s/hello.txt", dir);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 12); /* untouched */
	assert_int_equal(simple(P9_TCLUNK, 2), P9_RCLUNK);
}

/* Read the directory fid 2 in pieces of `count`: the names, in one string. */
static int readdir_all(uint32_t count, char *names, size_t max)
{
	uint64_t off = 0;
	int n = 0;
	names[0] = 0;
	for (int rounds = 0; rounds < 1000; rounds++) {
		struct msg m;
		m_begin(&m, P9_TREADDIR, 8);
		m_put(&m, 2, 4);
		m_put(&m, off, 8);
		m_put(&m, count, 4);
		assert_int_equal(m_send(&m), P9_RREADDIR);
		uint32_t len = (uint32_t)r_get(7, 4);
		assert_true(len <= count);
		assert_int_equal(rlen, 11 + len);
		if (len == 0)
			return n;
		for (size_t o = 11; o < 11 + len;) {
			/* qid[13] offset[8] type[1] name[s] */
			off = r_get(o + 13, 8);
			size_t nl = (size_t)r_get(o + 22, 2);
			assert_true(o + 24 + nl <= 11 + len);
			strncat(names, "/", max - strlen(names) - 1);
			strncat(names, (const char *)resp + o + 24,
				nl < max - strlen(names) - 1 ? nl : max - strlen(names) - 1);
			n++;
			o += 24 + nl;
		}
	}
	fail_msg("readdir never ended");
	return -1;
}

static void test_readdir(void **state)
{
	(void)state;
	assert_int_equal(walk(1, 2, (const char *[]){ NULL }), P9_RWALK);
	assert_int_equal(lopen(2, O_RDONLY | O_DIRECTORY), P9_RLOPEN);
	char names[8192];
	assert_int_equal(readdir_all(4000, names, sizeof(names)), 6);
	strcat(names, "/");
	const char *want[] = { "/.", "/..", "/hello.txt/", "/sub/", "/link/", "/escape/" };
	for (int i = 0; i < 6; i++)
		if (!strstr(names, want[i]))
			fail_msg("'%s' lacks '%s'", names, want[i]);
	assert_int_equal(simple(P9_TCLUNK, 2), P9_RCLUNK);
	/* 42 entries in pieces of 100 bytes (two or three per reply) */
	assert_int_equal(walk(1, 2, (const char *[]){ "sub", NULL }), P9_RWALK);
	assert_int_equal(lopen(2, O_RDONLY), P9_RLOPEN);
	assert_int_equal(readdir_all(100, names, sizeof(names)), 43);
	for (int i = 0; i < 40; i++) {
		char want1[64];
		snprintf(want1, sizeof(want1), "file-with-a-long-name-%02d", i);
		assert_non_null(strstr(names, want1));
	}
	/* readdir on a fid that is not open */
	assert_int_equal(simple(P9_TCLUNK, 2), P9_RCLUNK);
	assert_int_equal(walk(1, 2, (const char *[]){ "sub", NULL }), P9_RWALK);
	struct msg m;
	m_begin(&m, P9_TREADDIR, 8);
	m_put(&m, 2, 4);
	m_put(&m, 0, 8);
	m_put(&m, 4000, 4);
	expect_error(&m, EBADF);
	assert_int_equal(simple(P9_TCLUNK, 2), P9_RCLUNK);
}

static void test_statfs(void **state)
{
	(void)state;
	assert_int_equal(simple(P9_TSTATFS, 1), P9_RSTATFS);
	assert_int_equal(rlen, 7 + 4 + 4 + 8 * 6 + 4);
	assert_true(r_get(11, 4) > 0);          /* bsize */
	assert_true(r_get(7 + 4 + 4 + 48, 4) > 0); /* namelen */
	assert_int_equal(simple(P9_TSTATFS, 99), P9_RLERROR);
}

static void test_malformed(void **state)
{
	(void)state;
	struct msg m;
	/* the size field must be the length that arrived */
	m_begin(&m, P9_TCLUNK, 9);
	m_put(&m, 1, 4);
	m.b[0] = (uint8_t)(m.n + 1);
	rlen = p9_handle(srv, m.b, m.n, resp, sizeof(resp));
	assert_int_equal(resp[4], P9_RLERROR);
	assert_int_equal(r_get(7, 4), EPROTO);
	/* too short for a tag: no reply */
	assert_int_equal(p9_handle(srv, m.b, 6, resp, sizeof(resp)), 0);
	/* a string longer than the message */
	m_begin(&m, P9_TWALK, 9);
	m_put(&m, 1, 4);
	m_put(&m, 2, 4);
	m_put(&m, 1, 2);
	m_put(&m, 500, 2);
	m_put(&m, 'a', 1);
	expect_error(&m, EPROTO);
	/* a name with a NUL byte */
	m_begin(&m, P9_TWALK, 9);
	m_put(&m, 1, 4);
	m_put(&m, 2, 4);
	m_put(&m, 1, 2);
	m_put(&m, 3, 2);
	m_put(&m, 's', 1);
	m_put(&m, 0, 1);
	m_put(&m, 'b', 1);
	expect_error(&m, EPROTO);
	/* fewer names than nwname */
	m_begin(&m, P9_TWALK, 9);
	m_put(&m, 1, 4);
	m_put(&m, 2, 4);
	m_put(&m, 3, 2);
	m_str(&m, "sub");
	expect_error(&m, EPROTO);
	assert_int_equal(simple(P9_TCLUNK, 2), P9_RLERROR); /* not created */
	/* unknown type, attach onto a fid in use */
	m_begin(&m, 200, 9);
	expect_error(&m, EOPNOTSUPP);
	m_begin(&m, P9_TATTACH, 1);
	m_put(&m, 1, 4);
	m_put(&m, P9_NOFID, 4);
	m_str(&m, "u");
	m_str(&m, "");
	m_put(&m, 0, 4);
	expect_error(&m, EBADF);
	/* random messages with a right size field: a reply or none, never a crash */
	srand(1);
	for (int i = 0; i < 20000; i++) {
		size_t n = 7 + (size_t)(rand() % 60);
		uint8_t b[80];
		for (size_t j = 0; j < n; j++)
			b[j] = (uint8_t)rand();
		b[0] = (uint8_t)n;
		b[1] = b[2] = b[3] = 0;
		static const uint8_t types[] = { P9_TWALK, P9_TREAD, P9_TREADDIR, P9_TGETATTR,
						 P9_TLOPEN, P9_TREADLINK, P9_TSTATFS, P9_TCLUNK,
						 P9_TATTACH, P9_TFLUSH };
		b[4] = types[rand() % (int)sizeof(types)];
		if (b[4] == P9_TCLUNK && b[7] == 1 && !b[8] && !b[9] && !b[10])
			continue; /* keep fid 1 */
		size_t r = p9_handle(srv, b, n, resp, sizeof(resp));
		assert_true(r >= 7 && r <= sizeof(resp));
	}
}

/* ---- a writable export (P9_EXPORT_WRITABLE) */
static int setup_rw(void **state)
{
	setup(state);
	p9_server_free(srv);
	srv = p9_server_new(dir, P9_EXPORT_WRITABLE);
	assert_non_null(srv);
	version(8192);
	attach(1);
	return 0;
}

static void host_path(char *p, size_t n, const char *name)
{
	snprintf(p, n, "%s/%s", dir, name);
}

static uint8_t lcreate(uint32_t fid, const char *name, uint32_t flags, uint32_t mode)
{
	struct msg m;
	m_begin(&m, P9_TLCREATE, 9);
	m_put(&m, fid, 4);
	m_str(&m, name);
	m_put(&m, flags, 4);
	m_put(&m, mode, 4);
	m_put(&m, 0, 4);
	return m_send(&m);
}

static uint8_t write_at(uint32_t fid, uint64_t off, const char *data)
{
	struct msg m;
	m_begin(&m, P9_TWRITE, 10);
	m_put(&m, fid, 4);
	m_put(&m, off, 8);
	m_put(&m, strlen(data), 4);
	memcpy(m.b + m.n, data, strlen(data));
	m.n += strlen(data);
	return m_send(&m);
}

static void test_rw_create_write(void **state)
{
	(void)state;
	char p[128], buf[64];
	assert_int_equal(walk(1, 2, (const char *[]){ NULL }), P9_RWALK);
	assert_int_equal(lcreate(2, "new.txt", O_RDWR, 0640), P9_RLCREATE);
	assert_int_equal(resp[7], P9_QTFILE);
	assert_int_equal(write_at(2, 0, "abcdef"), P9_RWRITE);
	assert_int_equal(r_get(7, 4), 6);
	assert_int_equal(write_at(2, 3, "XY"), P9_RWRITE);
	assert_int_equal(simple(P9_TFSYNC, 2), P9_RLERROR); /* datasync[4] missing */
	struct msg m;
	m_begin(&m, P9_TFSYNC, 11);
	m_put(&m, 2, 4);
	m_put(&m, 1, 4);
	assert_int_equal(m_send(&m), P9_RFSYNC);
	host_path(p, sizeof(p), "new.txt");
	int fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 6);
	close(fd);
	assert_memory_equal(buf, "abcXYf", 6);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640 & ~umask(022));
	umask(022);
	/* the fid is now the new file: its reads see the writes */
	m_begin(&m, P9_TREAD, 12);
	m_put(&m, 2, 4);
	m_put(&m, 0, 8);
	m_put(&m, 100, 4);
	assert_int_equal(m_send(&m), P9_RREAD);
	assert_int_equal(r_get(7, 4), 6);
	/* a write whose count is more than the message carries */
	m_begin(&m, P9_TWRITE, 13);
	m_put(&m, 2, 4);
	m_put(&m, 0, 8);
	m_put(&m, 100, 4);
	m_put(&m, 0x41, 1);
	expect_error(&m, EPROTO);
	assert_int_equal(simple(P9_TCLUNK, 2), P9_RCLUNK);

	/* O_EXCL on an existing file; names that are not one component;
	 * never through a symlink (link -> hello.txt, escape -> /etc) */
	assert_int_equal(walk(1, 3, (const char *[]){ NULL }), P9_RWALK);
	assert_int_equal(lcreate(3, "new.txt", O_RDWR | O_EXCL, 0644), P9_RLERROR);
	assert_int_equal(r_get(7, 4), EEXIST);
	static const char *const bad[] = { "..", ".", "", "a/b" };
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(lcreate(3, bad[i], O_RDWR, 0644), P9_RLERROR);
		assert_int_equal(r_get(7, 4), EINVAL);
	}
	assert_int_equal(lcreate(3, "link", O_WRONLY | O_TRUNC, 0644), P9_RLERROR);
	assert_int_equal(r_get(7, 4), ELOOP);
	host_path(p, sizeof(p), "hello.txt");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 12); /* not truncated through the link */
	assert_int_equal(lcreate(3, "escape", O_WRONLY, 0644), P9_RLERROR);
	assert_int_equal(r_get(7, 4), ELOOP);
	/* lopen for writing with O_TRUNC on the writable export */
	assert_int_equal(walk(1, 4, (const char *[]){ "hello.txt", NULL }), P9_RWALK);
	assert_int_equal(lopen(4, O_WRONLY | O_TRUNC), P9_RLOPEN);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(walk(1, 5, (const char *[]){ "sub", NULL }), P9_RWALK);
	assert_int_equal(lopen(5, O_WRONLY), P9_RLERROR);
	assert_int_equal(r_get(7, 4), EISDIR);
}

static uint8_t dir_name_op(uint8_t type, uint32_t dfid, const char *name, uint32_t a, bool two)
{
	struct msg m;
	m_begin(&m, type, 14);
	m_put(&m, dfid, 4);
	m_str(&m, name);
	m_put(&m, a, 4);
	if (two)
		m_put(&m, 0, 4); /* gid */
	return m_send(&m);
}

static void test_rw_namespace(void **state)
{
	(void)state;
	char p[128], q[128], target[64];
	struct stat st;
	assert_int_equal(dir_name_op(P9_TMKDIR, 1, "d", 0750, true), P9_RMKDIR);
	assert_int_equal(resp[7], P9_QTDIR);
	host_path(p, sizeof(p), "d");
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(dir_name_op(P9_TMKDIR, 1, "..", 0750, true), P9_RLERROR);
	assert_int_equal(r_get(7, 4), EINVAL);

	struct msg m;
	m_begin(&m, P9_TSYMLINK, 15);
	m_put(&m, 1, 4);
	m_str(&m, "s");
	m_str(&m, "/etc/passwd");
	m_put(&m, 0, 4);
	assert_int_equal(m_send(&m), P9_RSYMLINK);
	assert_int_equal(resp[7], P9_QTSYMLINK);
	host_path(p, sizeof(p), "s");
	ssize_t n = readlink(p, target, sizeof(target) - 1);
	assert_int_equal(n, 11);
	target[n] = 0;
	assert_string_equal(target, "/etc/passwd");

	/* a hard link to hello.txt, renamed, then removed */
	assert_int_equal(walk(1, 3, (const char *[]){ "hello.txt", NULL }), P9_RWALK);
	m_begin(&m, P9_TLINK, 16);
	m_put(&m, 1, 4);
	m_put(&m, 3, 4);
	m_str(&m, "hard");
	assert_int_equal(m_send(&m), P9_RLINK);
	host_path(p, sizeof(p), "hello.txt");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_nlink, 2);
	m_begin(&m, P9_TRENAMEAT, 17);
	m_put(&m, 1, 4);
	m_str(&m, "hard");
	m_put(&m, 1, 4);
	m_str(&m, "hard2");
	assert_int_equal(m_send(&m), P9_RRENAMEAT);
	host_path(q, sizeof(q), "hard2");
	assert_int_equal(stat(q, &st), 0);
	m_begin(&m, P9_TRENAMEAT, 18);
	m_put(&m, 1, 4);
	m_str(&m, "hard2");
	m_put(&m, 1, 4);
	m_str(&m, "../outside");
	expect_error(&m, EINVAL);
	assert_int_equal(dir_name_op(P9_TUNLINKAT, 1, "hard2", 0, false), P9_RUNLINKAT);
	assert_int_equal(stat(q, &st), -1);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_nlink, 1);
	/* directories: only with AT_REMOVEDIR, only when empty */
	assert_int_equal(dir_name_op(P9_TUNLINKAT, 1, "d", 0, false), P9_RLERROR);
	assert_int_equal(r_get(7, 4), EISDIR);
	assert_int_equal(dir_name_op(P9_TUNLINKAT, 1, "sub", P9_DOTL_AT_REMOVEDIR, false),
			 P9_RLERROR);
	assert_int_equal(r_get(7, 4), ENOTEMPTY);
	assert_int_equal(dir_name_op(P9_TUNLINKAT, 1, "d", P9_DOTL_AT_REMOVEDIR, false),
			 P9_RUNLINKAT);
	/* removing the symlink removes the link, not /etc/passwd */
	assert_int_equal(dir_name_op(P9_TUNLINKAT, 1, "s", 0, false), P9_RUNLINKAT);
	assert_int_equal(stat("/etc/passwd", &st), 0);
	/* the old rename/remove and mknod: the client has fallbacks */
	assert_int_equal(simple(P9_TMKNOD, 1), P9_RLERROR);
	assert_int_equal(r_get(7, 4), EOPNOTSUPP);
}

static void setattr(uint32_t fid, uint32_t valid, uint32_t mode, uint64_t size, uint64_t mtime,
		    uint64_t mtime_ns)
{
	struct msg m;
	m_begin(&m, P9_TSETATTR, 19);
	m_put(&m, fid, 4);
	m_put(&m, valid, 4);
	m_put(&m, mode, 4);
	m_put(&m, 0, 4);
	m_put(&m, 0, 4);
	m_put(&m, size, 8);
	m_put(&m, 0, 8);
	m_put(&m, 0, 8);
	m_put(&m, mtime, 8);
	m_put(&m, mtime_ns, 8);
	m_send(&m);
}

static void test_rw_setattr(void **state)
{
	(void)state;
	char p[128];
	struct stat st;
	host_path(p, sizeof(p), "hello.txt");
	assert_int_equal(walk(1, 2, (const char *[]){ "hello.txt", NULL }), P9_RWALK);
	setattr(2, P9_ATTR_MODE | P9_ATTR_SIZE | P9_ATTR_MTIME | P9_ATTR_MTIME_SET, 0600, 5,
		1000000, 250);
	assert_int_equal(resp[4], P9_RSETATTR);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 5);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_mtim.tv_sec, 1000000);
	assert_int_equal(st.st_mtim.tv_nsec, 250);
	setattr(2, P9_ATTR_MTIME | P9_ATTR_MTIME_SET, 0, 0, 5, 1000000000);
	assert_int_equal(resp[4], P9_RLERROR);
	assert_int_equal(r_get(7, 4), EINVAL);
	assert_int_equal(walk(1, 3, (const char *[]){ "sub", NULL }), P9_RWALK);
	setattr(3, P9_ATTR_SIZE, 0, 0, 0, 0);
	assert_int_equal(resp[4], P9_RLERROR);
	assert_int_equal(r_get(7, 4), EISDIR);
	/* a symlink's mode is not changed through it: escape -> /etc */
	assert_int_equal(walk(1, 4, (const char *[]){ "escape", NULL }), P9_RWALK);
	assert_int_equal(stat("/etc", &st), 0);
	mode_t etc = st.st_mode;
	setattr(4, P9_ATTR_MODE, 0777, 0, 0, 0);
	assert_int_equal(stat("/etc", &st), 0);
	assert_int_equal(st.st_mode, etc);
	/* locks are granted (the guest's kernel keeps them) */
	struct msg m;
	m_begin(&m, P9_TLOCK, 20);
	m_put(&m, 2, 4);
	m_put(&m, 1, 1);
	m_put(&m, 0, 4);
	m_put(&m, 0, 8);
	m_put(&m, 0, 8);
	m_put(&m, 42, 4);
	m_str(&m, "guest");
	assert_int_equal(m_send(&m), P9_TLOCK + 1);
	assert_int_equal(resp[7], 0);
}

/* A directory moved up by a rename must not let ".." climb out of the
 * export (the root is known by identity, not by a depth): walk to sub/deep,
 * rename it to the top, then ".." ".." from it stays at the top. */
static void test_rw_rename_then_dotdot(void **state)
{
	(void)state;
	char p[160];
	snprintf(p, sizeof(p), "%s/sub/deep", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(walk(1, 2, (const char *[]){ "sub", "deep", NULL }), P9_RWALK);
	assert_int_equal(walk(1, 3, (const char *[]){ "sub", NULL }), P9_RWALK);
	struct msg m;
	m_begin(&m, P9_TRENAMEAT, 21);
	m_put(&m, 3, 4);
	m_str(&m, "deep");
	m_put(&m, 1, 4);
	m_str(&m, "deep");
	assert_int_equal(m_send(&m), P9_RRENAMEAT);
	/* fid 2 is now <export>/deep: ".." is the export, ".." again the export */
	assert_int_equal(walk(2, 4, (const char *[]){ "..", "..", "..", NULL }), P9_RWALK);
	assert_int_equal(r_get(7, 2), 3);
	/* where fid 4 is: the export's root (hello.txt is there) */
	assert_int_equal(walk(4, 5, (const char *[]){ "hello.txt", NULL }), P9_RWALK);
	/* creating through it lands in the export, nowhere else */
	assert_int_equal(lcreate(4, "made-here", O_RDWR, 0644), P9_RLCREATE);
	snprintf(p, sizeof(p), "%s/made-here", dir);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
}

/* No set-user-ID or set-group-ID bits on the host; owners only to what the
 * file has or nobios's own ids; the host's /proc is not opened. */
static void test_rw_no_privilege(void **state)
{
	(void)state;
	char p[160];
	struct stat st;
	assert_int_equal(walk(1, 2, (const char *[]){ NULL }), P9_RWALK);
	assert_int_equal(lcreate(2, "suid", O_RDWR, 04755), P9_RLCREATE);
	snprintf(p, sizeof(p), "%s/suid", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & (S_ISUID | S_ISGID), 0);
	assert_int_equal(dir_name_op(P9_TMKDIR, 1, "sgid", 02775, true), P9_RMKDIR);
	snprintf(p, sizeof(p), "%s/sgid", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & S_ISGID, 0);
	assert_int_equal(walk(1, 3, (const char *[]){ "hello.txt", NULL }), P9_RWALK);
	setattr(3, P9_ATTR_MODE, 06777, 0, 0, 0);
	assert_int_equal(resp[4], P9_RSETATTR);
	snprintf(p, sizeof(p), "%s/hello.txt", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0777);
	/* chown to someone else: EPERM, whoever nobios is */
	struct msg m;
	m_begin(&m, P9_TSETATTR, 22);
	m_put(&m, 3, 4);
	m_put(&m, P9_ATTR_UID, 4);
	m_put(&m, 0, 4);
	m_put(&m, geteuid() + 12345, 4);
	m_put(&m, 0, 4);
	for (int i = 0; i < 5; i++)
		m_put(&m, 0, 8);
	expect_error(&m, EPERM);
	p9_server_free(srv);
	/* /proc of the host through an export of / */
	srv = p9_server_new("/", 0);
	assert_non_null(srv);
	version(8192);
	attach(1);
	assert_int_equal(walk(1, 6, (const char *[]){ "proc", "version", NULL }), P9_RWALK);
	assert_int_equal(lopen(6, O_RDONLY), P9_RLERROR);
	assert_int_equal(r_get(7, 4), EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_getattr_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_confined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readdir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statfs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rw_create_write, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_rw_namespace, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_rw_setattr, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_rw_rename_then_dotdot, setup_rw, teardown),
		cmocka_unit_test_setup_teardown(test_rw_no_privilege, setup_rw, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
