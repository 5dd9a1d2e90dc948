/* fuzz_args.c - libFuzzer harness: the nobios command line (src/cli/args.c)
 * on any argv: the input's NUL-separated words after "nobios".  The parser
 * must return a result or one error, never exit, crash or read past a word;
 * every word is its own exact-size heap copy, so ASan sees an over-read. */
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "fuzz.h"
#include "util/err.h"

#define MAX_WORDS 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_WORDS + 2];
	int argc = 0;
	argv[argc++] = strdup("nobios");
	size_t i = 0;
	while (i < size && argc < MAX_WORDS) {
		size_t j = i;
		while (j < size && data[j])
			j++;
		char *w = malloc(j - i + 1);
		memcpy(w, data + i, j - i);
		w[j - i] = 0;
		argv[argc++] = w;
		i = j + 1;
	}
	argv[argc] = NULL;
	struct args a;
	nb_err_clear();
	if (args_parse(argc, argv, &a) < 0) {
		/* a usage error (status 2), with a message */
		if (nb_errclass() != NB_ERR_INPUT || !nb_errmsg()[0])
			abort();
	} else if (a.action == ARGS_RUN && !a.cfg.boot.kernel && !a.cfg.boot.disks[0].path &&
		   !a.cfg.boot.floppy.path) {
		abort(); /* "nothing to boot" must have been an error */
	}
	for (int k = 0; k < argc; k++)
		free(argv[k]);
	return 0;
}
