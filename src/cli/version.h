/* version.h - `nobios --version [-v]`. */
#ifndef NOBIOS_CLI_VERSION_H
#define NOBIOS_CLI_VERSION_H

#include <stdbool.h>
#include <stdio.h>

/* "nobios VERSION", "(git DESCRIBE)" when built in a git checkout; with
 * verbose, each run-time library nobios may dlopen(): found where, its
 * version, or which package to install.  Returns the exit status (0). */
int cli_print_version(FILE *out, bool verbose);

#endif
