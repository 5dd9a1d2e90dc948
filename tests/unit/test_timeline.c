/* test_timeline.c - --timeline bookkeeping and output: first mark of a name
 * wins, output in time order, JSON escaping, POST-code cap, counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "debug/timeline.h"

static char *print(bool json, const struct timeline_stats *st, unsigned n, const char *cause)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	timeline_print(f, json, st, n, cause, 3);
	fclose(f);
	return buf;
}

static void sleep_us(long us)
{
	struct timespec ts = { 0, us * 1000 };
	nanosleep(&ts, NULL);
}

static void test_marks(void **state)
{
	(void)state;
	timeline_reset();
	timeline_mark("VM created");
	sleep_us(200);
	timeline_mark_detail("image read", "fmt %s", "pvh");
	int64_t first = timeline_offset_us("VM created");
	sleep_us(200);
	timeline_mark("VM created"); /* ignored: the first mark wins */
	assert_int_equal(timeline_offset_us("VM created"), first);
	assert_true(timeline_offset_us("image read") > first);
	assert_int_equal(timeline_offset_us("never"), -1);
	char *h = print(false, NULL, 0, "done");
	assert_non_null(strstr(h, "us  VM created\n"));
	assert_non_null(strstr(h, "us  image read (fmt pvh)\n"));
	assert_true(strstr(h, "VM created") < strstr(h, "image read"));
	assert_non_null(strstr(h, "exit: done (status 3)"));
	free(h);
}

static void test_json(void **state)
{
	(void)state;
	timeline_reset();
	timeline_mark("quote \" and \\ and \n");
	timeline_post_code(0x80, 0x11);
	timeline_post_code(0x80, 0x22);
	struct nb_stat s[2] = { { "exits", 42, false }, { "halt_exits", 0, false } };
	struct timeline_stats st = { "vcpu0", s, 2 };
	char *j = print(true, &st, 1, "tab\there");
	assert_non_null(strstr(j, "{\"nobios_timeline\":1,\"milestones\":[{\"name\":\"quote \\\" and \\\\ and \\u000a\",\"us\":"));
	assert_non_null(strstr(j, "\"post_codes\":[{\"port\":128,\"value\":17,\"us\":"));
	assert_non_null(strstr(j, "{\"port\":128,\"value\":34,"));
	assert_non_null(strstr(j, "\"kvm_stats\":{\"vcpu0\":{\"exits\":42,\"halt_exits\":0}}"));
	assert_non_null(strstr(j, "\"exit\":{\"cause\":\"tab\\u0009here\",\"status\":3}}\n"));
	/* One line: scripts grep it out of stderr. */
	assert_int_equal(strchr(j, '\n') - j, (long)strlen(j) - 1);
	free(j);
	/* Human form lists only non-zero counters. */
	char *h = print(false, &st, 1, NULL);
	assert_non_null(strstr(h, "KVM counters (vcpu0, non-zero):"));
	assert_non_null(strstr(h, "exits"));
	assert_null(strstr(h, "halt_exits"));
	assert_non_null(strstr(h, "port 0x80 <- 0x22"));
	free(h);
}

static void test_post_cap(void **state)
{
	(void)state;
	timeline_reset();
	for (int i = 0; i < 1000; i++)
		timeline_post_code(0x80, (uint32_t)(i & 0xFF));
	char *j = print(true, NULL, 0, NULL);
	assert_non_null(strstr(j, "\"post_codes_dropped\":744"));
	free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_post_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
