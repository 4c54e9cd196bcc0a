#include "jsonw.h"

/* Length of the well-formed UTF-8 sequence at p (RFC 3629), 0 if it is not one. */
static int utf8_sequence(const unsigned char *p)
{
	int len = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0	   ? 3
					     : p[0] >= 0xc2 && p[0] < 0xe0 ? 2
									   : 0;
	for (int i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* No overlong forms, surrogates or code points past U+10FFFF. */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) || (p[0] == 0xf0 && p[1] < 0x90) ||
	    (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return len;
}

void jsonw_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		int len = *p >= 0x80 ? utf8_sequence(p) : 1;
		if (*p == '"' || *p == '\\') {
			fprintf(out, "\\%c", *p);
		} else if (*p < 0x20 || *p == 0x7f || len == 0) {
			/* Paths are bytes, not always UTF-8: a byte that is not text is escaped by itself. */
			fprintf(out, "\\u%04x", *p);
			len = 1;
		} else {
			fwrite(p, 1, (size_t)len, out);
		}
		p += len;
	}
	fputc('"', out);
}
