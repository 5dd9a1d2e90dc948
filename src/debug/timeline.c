/* timeline.c - boot milestones, POST codes and the printing of KVM counters
 * for --timeline (see timeline.h). */
#include "debug/timeline.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#define TL_MAX_MARKS 64
#define TL_MAX_POST  256

struct mark {
	char name[64];
	char detail[128];
	uint64_t us;
};

static pthread_mutex_t tl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mark marks[TL_MAX_MARKS];
static unsigned nmarks;
static struct { uint16_t port; uint32_t value; uint64_t us; } posts[TL_MAX_POST];
static unsigned nposts;
static uint64_t posts_dropped;
static uint64_t start_ns;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* "Process start" is when the loader runs constructors: before main(), a
 * few hundred microseconds after exec. */
__attribute__((constructor)) static void timeline_start(void)
{
	start_ns = mono_ns();
}

uint64_t timeline_now_us(void)
{
	return (mono_ns() - start_ns) / 1000;
}

static void mark_locked(const char *what, const char *detail)
{
	for (unsigned i = 0; i < nmarks; i++)
		if (strcmp(marks[i].name, what) == 0)
			return;
	if (nmarks >= TL_MAX_MARKS)
		return;
	struct mark *k = &marks[nmarks++];
	k->us = timeline_now_us();
	snprintf(k->name, sizeof(k->name), "%s", what);
	snprintf(k->detail, sizeof(k->detail), "%s", detail ? detail : "");
}

void timeline_mark(const char *what)
{
	pthread_mutex_lock(&tl_lock);
	mark_locked(what, NULL);
	pthread_mutex_unlock(&tl_lock);
}

void timeline_mark_detail(const char *what, const char *fmt, ...)
{
	char d[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d, sizeof(d), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&tl_lock);
	mark_locked(what, d);
	pthread_mutex_unlock(&tl_lock);
}

void timeline_post_code(uint16_t port, uint32_t value)
{
	pthread_mutex_lock(&tl_lock);
	if (nposts < TL_MAX_POST) {
		posts[nposts].port = port;
		posts[nposts].value = value;
		posts[nposts].us = timeline_now_us();
		nposts++;
	} else {
		posts_dropped++;
	}
	pthread_mutex_unlock(&tl_lock);
}

int64_t timeline_offset_us(const char *what)
{
	int64_t r = -1;
	pthread_mutex_lock(&tl_lock);
	for (unsigned i = 0; i < nmarks; i++)
		if (strcmp(marks[i].name, what) == 0)
			r = (int64_t)marks[i].us;
	pthread_mutex_unlock(&tl_lock);
	return r;
}

void timeline_reset(void)
{
	pthread_mutex_lock(&tl_lock);
	nmarks = 0;
	nposts = 0;
	posts_dropped = 0;
	pthread_mutex_unlock(&tl_lock);
}

/* JSON string with the escapes RFC 8259 requires. */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7F)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static int by_time(const void *a, const void *b)
{
	const struct mark *x = a, *y = b;
	return x->us < y->us ? -1 : x->us > y->us;
}

void timeline_print(FILE *out, bool json, const struct timeline_stats *stats, unsigned nstats,
		    const char *exit_cause, int exit_status)
{
	struct mark sorted[TL_MAX_MARKS];
	pthread_mutex_lock(&tl_lock);
	unsigned n = nmarks;
	memcpy(sorted, marks, n * sizeof(sorted[0]));
	/* Stable enough: insertion order already follows time for one
	 * thread; qsort only fixes marks from device threads. */
	qsort(sorted, n, sizeof(sorted[0]), by_time);
	if (json) {
		fputs("{\"nobios_timeline\":1,\"milestones\":[", out);
		for (unsigned i = 0; i < n; i++) {
			fprintf(out, "%s{\"name\":", i ? "," : "");
			json_str(out, sorted[i].name);
			fprintf(out, ",\"us\":%llu", (unsigned long long)sorted[i].us);
			if (sorted[i].detail[0]) {
				fputs(",\"detail\":", out);
				json_str(out, sorted[i].detail);
			}
			fputc('}', out);
		}
		fputs("],\"post_codes\":[", out);
		for (unsigned i = 0; i < nposts; i++)
			fprintf(out, "%s{\"port\":%u,\"value\":%u,\"us\":%llu}", i ? "," : "",
				posts[i].port, posts[i].value, (unsigned long long)posts[i].us);
		fprintf(out, "],\"post_codes_dropped\":%llu,\"kvm_stats\":{",
			(unsigned long long)posts_dropped);
		for (unsigned s = 0; s < nstats; s++) {
			fprintf(out, "%s", s ? "," : "");
			json_str(out, stats[s].source);
			fputs(":{", out);
			for (unsigned i = 0; i < stats[s].n; i++) {
				fprintf(out, "%s", i ? "," : "");
				json_str(out, stats[s].stat[i].name);
				fprintf(out, ":%llu", (unsigned long long)stats[s].stat[i].value);
			}
			fputc('}', out);
		}
		fputs("},\"exit\":{\"cause\":", out);
		json_str(out, exit_cause ? exit_cause : "");
		fprintf(out, ",\"status\":%d}}\n", exit_status);
	} else {
		fputs("nobios timeline (microseconds from process start):\n", out);
		for (unsigned i = 0; i < n; i++)
			fprintf(out, "  %10llu us  %s%s%s%s\n", (unsigned long long)sorted[i].us,
				sorted[i].name, sorted[i].detail[0] ? " (" : "", sorted[i].detail,
				sorted[i].detail[0] ? ")" : "");
		for (unsigned i = 0; i < nposts; i++)
			fprintf(out, "  %10llu us  port 0x%x <- 0x%02x\n", (unsigned long long)posts[i].us,
				posts[i].port, posts[i].value);
		if (posts_dropped)
			fprintf(out, "  (%llu more POST codes not recorded)\n",
				(unsigned long long)posts_dropped);
		if (exit_cause)
			fprintf(out, "  exit: %s (status %d)\n", exit_cause, exit_status);
		for (unsigned s = 0; s < nstats; s++) {
			fprintf(out, "KVM counters (%s, non-zero):\n", stats[s].source);
			unsigned col = 0;
			for (unsigned i = 0; i < stats[s].n; i++) {
				if (!stats[s].stat[i].value)
					continue;
				fprintf(out, "  %-26s %12llu%s", stats[s].stat[i].name,
					(unsigned long long)stats[s].stat[i].value,
					(++col % 2) ? "" : "\n");
			}
			if (col % 2)
				fputc('\n', out);
		}
	}
	pthread_mutex_unlock(&tl_lock);
	fflush(out);
}
