/* escape.h - print bytes that came from an input file or a guest so that a
 * terminal shows them as text and never acts on them: an image's command
 * line carrying ESC [ ... sequences must not retitle, recolour or rewrite
 * the user's terminal (issue 14). */
#ifndef NOBIOS_UTIL_ESCAPE_H
#define NOBIOS_UTIL_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Write s[0..len) (stopping at a NUL) to out: printable ASCII as is, '"'
 * and '\' with a backslash, everything else as \xNN.  At most max input
 * bytes are shown, then "..." if more remain.  Returns the bytes shown. */
size_t nb_fput_escaped(FILE *out, const char *s, size_t len, size_t max);

#endif
