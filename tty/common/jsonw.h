/* jsonw: the few JSON-writing helpers the native tools need for their one-line reports. */
#ifndef CKPTY_JSONW_H
#define CKPTY_JSONW_H

#include <stdio.h>

/*
 * Write s as a JSON string literal (with quotes). Well-formed UTF-8 passes through;
 * control characters and bytes that are not UTF-8 are written as \u00XX, one per
 * byte, which src/base/native.ts turns back into the same bytes.
 */
void jsonw_string(FILE *out, const char *s);

#endif
