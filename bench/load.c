/* load.c - how long nobios takes to read and place a kernel (format
 * detection, reading, decompression, loading into guest RAM), without KVM:
 * machine_create + machine_load + machine_destroy through the library API,
 * RUNS times; prints the median wall and CPU milliseconds of one load.
 *
 *   build/bench/load KERNEL [RUNS [INITRD]]
 * Built against another tree's libnobios.a it measures that tree the same
 * way (README "Disk images and input files": main's mapping vs this tree's reads). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "nobios.h"
#include "util/err.h"

static double wall_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 +
	       (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s KERNEL [RUNS [INITRD]]\n", argv[0]);
		return 2;
	}
	int runs = argc > 2 ? atoi(argv[2]) : 11;
	if (runs < 1 || runs > 1000)
		runs = 11;
	double *w = calloc((size_t)runs, sizeof(*w)), *c = calloc((size_t)runs, sizeof(*c));
	for (int i = 0; i < runs; i++) {
		struct machine_config cfg;
		machine_config_defaults(&cfg);
		cfg.boot.kernel = argv[1];
		cfg.boot.initrd = argc > 3 ? argv[3] : NULL;
		struct machine *m;
		double w0 = wall_ms(), c0 = cpu_ms();
		if (machine_create(&m, &cfg) < 0 || machine_load(m) < 0) {
			fprintf(stderr, "load: %s\n", nb_errmsg());
			return 1;
		}
		machine_destroy(m);
		w[i] = wall_ms() - w0;
		c[i] = cpu_ms() - c0;
	}
	qsort(w, (size_t)runs, sizeof(*w), cmp);
	qsort(c, (size_t)runs, sizeof(*c), cmp);
	printf("%s: median %.1f ms wall, %.1f ms CPU (min %.1f, max %.1f ms wall; %d runs)\n",
	       argv[1], w[runs / 2], c[runs / 2], w[0], w[runs - 1], runs);
	return 0;
}
