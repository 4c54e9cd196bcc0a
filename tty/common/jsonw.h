/* jsonw: the few JSON-writing helpers the native tools need for their one-line reports. */
#ifndef CKPTY_JSONW_H
#define CKPTY_JSONW_H

#include <stdio.h>

/* Write s as a JSON string literal (with quotes); bytes that are not printable ASCII are \u-escaped. */
void jsonw_string(FILE *out, const char *s);

#endif
