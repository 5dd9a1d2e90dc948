/* fuzz_p9.c - libFuzzer harness: the 9P2000.L server (src/fs/p9.c) as a
 * hostile guest drives it, on a writable export of a scratch directory
 * that is made afresh for every input (a file, a directory, a symlink out
 * of the export).  Each input is a session: Tversion and Tattach (fid 0)
 * first, then messages of the input's choosing: len[2] type[1] body, the
 * size and tag filled in, or with bit 15 of len set the bytes sent as they
 * are (any size field).  Every reply must be a whole message no longer
 * than the buffer, and nothing may appear outside the export. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/p9.h"
#include "fuzz.h"

static char base[64], dir[80];
static uint8_t req[65536 + 16], resp[65536];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(p); /* what cannot go is found by the check after the input */
	return 0;
}

static void fresh_tree(void)
{
	if (!base[0]) {
		snprintf(base, sizeof(base), "/tmp/nobios-fuzz-p9-%d", (int)getpid());
		mkdir(base, 0700);
		snprintf(dir, sizeof(dir), "%s/export", base);
	}
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	mkdir(dir, 0755);
	char p[160];
	snprintf(p, sizeof(p), "%s/file", dir);
	int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, "0123456789", 10) < 0)
			abort();
		close(fd);
	}
	snprintf(p, sizeof(p), "%s/sub", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/out", dir);
	if (symlink(base, p) < 0)
		abort();
}

static void send(struct p9_server *s, const uint8_t *m, size_t n)
{
	size_t r = p9_handle(s, m, n, resp, sizeof(resp));
	if (r == 0)
		return;
	uint32_t size = resp[0] | resp[1] << 8 | resp[2] << 16 | (uint32_t)resp[3] << 24;
	if (r < 7 || r > sizeof(resp) || size != r)
		abort();
}

static void framed(struct p9_server *s, uint8_t type, uint16_t tag, const uint8_t *body,
		   size_t blen)
{
	size_t n = 7 + blen;
	req[0] = (uint8_t)n; req[1] = (uint8_t)(n >> 8); req[2] = (uint8_t)(n >> 16); req[3] = 0;
	req[4] = type; req[5] = (uint8_t)tag; req[6] = (uint8_t)(tag >> 8);
	memcpy(req + 7, body, blen);
	send(s, req, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fresh_tree();
	struct p9_server *s = p9_server_new(dir, P9_EXPORT_WRITABLE);
	if (!s)
		abort();
	static const uint8_t ver[] = { 0, 0, 1, 0, 8, 0, '9', 'P', '2', '0', '0', '0', '.', 'L' };
	framed(s, P9_TVERSION, 0xFFFF, ver, sizeof(ver));
	static const uint8_t att[] = { 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 'u', 0, 0,
				       0, 0, 0, 0 };
	framed(s, P9_TATTACH, 1, att, sizeof(att));
	struct fz f = { data, size };
	for (unsigned i = 0; i < 256 && fz_left(&f); i++) {
		uint16_t len = fz_u16(&f);
		uint8_t type = fz_u8(&f);
		size_t n = len & 0x7FFF;
		if (n > 65536 - 7)
			n = 65536 - 7;
		uint8_t body[65536];
		n = fz_bytes(&f, body, n);
		if (len & 0x8000) /* raw: the bytes are the whole message */
			send(s, body, n);
		else
			framed(s, type, (uint16_t)i, body, n);
	}
	p9_server_free(s);
	/* the export's symlink points at base: nothing may have been made
	 * there, beside the export itself */
	DIR *d = opendir(base);
	if (!d)
		abort();
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "export"))
			abort();
	closedir(d);
	return 0;
}
