/* timeline.h - `--timeline`: boot milestones with microsecond offsets from
 * process start, port 0x80 POST codes with their times, and KVM's own
 * counters at exit (read from the binary stats fd by src/kvm/stats.c).
 *
 * The timeline is process-wide (one VM per nobios process): any thread may
 * mark a milestone; only the first mark of a name is kept, so devices can
 * call it on every byte without flooding it.  No KVM types here. */
#ifndef NOBIOS_DEBUG_TIMELINE_H
#define NOBIOS_DEBUG_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Microseconds since process start (CLOCK_MONOTONIC). */
uint64_t timeline_now_us(void);

/* Record milestone `what` now (first call per name wins).  detail may be NULL. */
void timeline_mark(const char *what);
void timeline_mark_detail(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A write to the POST/boot-timer port: every value is kept (up to a cap). */
void timeline_post_code(uint16_t port, uint32_t value);
/* Offset of a recorded milestone, or -1. */
int64_t timeline_offset_us(const char *what);

/* One counter from KVM's binary stats (or any other source). */
struct nb_stat {
	char name[64];
	uint64_t value;
	bool peak;    /* a peak or instant value, not a cumulative counter */
};

struct timeline_stats {
	const char *source;  /* "vm", "vcpu0" */
	const struct nb_stat *stat;
	unsigned n;
};

/* Print everything recorded: human form (one milestone a line, then the
 * non-zero counters) or one line of JSON:
 *   {"nobios_timeline":1,"milestones":[{"name":..,"us":..,"detail":..}...],
 *    "post_codes":[{"port":128,"value":..,"us":..}...],
 *    "kvm_stats":{"vm":{name:value...},"vcpu0":{...}},
 *    "exit":{"cause":..,"status":..}}
 * Milestones are printed in time order. */
void timeline_print(FILE *out, bool json, const struct timeline_stats *stats, unsigned nstats,
		    const char *exit_cause, int exit_status);

/* Forget everything (unit tests). */
void timeline_reset(void);

#endif
