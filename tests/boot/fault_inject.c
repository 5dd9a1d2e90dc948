/* fault_inject.c - an LD_PRELOAD shim for tests/boot/disk.sh: host failures
 * on demand, deterministic and without ptrace (strace beside a running KVM
 * guest wedged the SVM test host's kernel).
 *
 *   NOBIOS_FI_FDATASYNC=1        fdatasync() and fsync() fail with EIO, as
 *                                after a lost write-back (NFS, thin storage)
 *   NOBIOS_FI_SHRINK=PATH:SIZE   right after the first fstat() of PATH, the
 *                                file is truncated to SIZE bytes: what another
 *                                process doing it between nobios learning the
 *                                file's size and reading the bytes looks like
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fdatasync(int fd);
int fsync(int fd);
int fstat(int fd, struct stat *st);
int fstat64(int fd, struct stat64 *st);

static int sync_fails(void)
{
	const char *v = getenv("NOBIOS_FI_FDATASYNC");
	return v && *v && strcmp(v, "0") != 0;
}

int fdatasync(int fd)
{
	static int (*real)(int);
	if (sync_fails()) {
		errno = EIO;
		return -1;
	}
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	return real(fd);
}

int fsync(int fd)
{
	static int (*real)(int);
	if (sync_fails()) {
		errno = EIO;
		return -1;
	}
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return real(fd);
}

/* After a successful fstat of fd: truncate it if it is NOBIOS_FI_SHRINK's. */
static void maybe_shrink(dev_t dev, ino_t ino)
{
	static int done;
	const char *v = getenv("NOBIOS_FI_SHRINK");
	if (done || !v)
		return;
	char path[4096];
	snprintf(path, sizeof(path), "%s", v);
	char *colon = strrchr(path, ':');
	if (!colon)
		return;
	*colon = 0;
	struct stat p;
	if (stat(path, &p) != 0 || p.st_dev != dev || p.st_ino != ino)
		return;
	done = 1;
	if (truncate(path, strtoll(colon + 1, NULL, 0)) != 0)
		perror("fault_inject: truncate");
}

int fstat(int fd, struct stat *st)
{
	static int (*real)(int, struct stat *);
	if (!real)
		real = (int (*)(int, struct stat *))dlsym(RTLD_NEXT, "fstat");
	int r = real(fd, st);
	if (r == 0)
		maybe_shrink(st->st_dev, st->st_ino);
	return r;
}

int fstat64(int fd, struct stat64 *st)
{
	static int (*real)(int, struct stat64 *);
	if (!real)
		real = (int (*)(int, struct stat64 *))dlsym(RTLD_NEXT, "fstat64");
	int r = real(fd, st);
	if (r == 0)
		maybe_shrink(st->st_dev, st->st_ino);
	return r;
}
