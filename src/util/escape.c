/* escape.c - terminal-safe printing of untrusted text (escape.h). */
#include "util/escape.h"

size_t nb_fput_escaped(FILE *out, const char *s, size_t len, size_t max)
{
	size_t i;
	for (i = 0; i < len && i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c >= 0x20 && c < 0x7F)
			fputc(c, out);
		else
			fprintf(out, "\\x%02x", c);
	}
	if (i == max && i < len && s[i])
		fputs("...", out);
	return i;
}
