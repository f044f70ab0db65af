/*
 * errbuf.h - the caller-provided error buffer of the server's set-up functions
 * (listen, reflection index): one sentence for the operator, printed by main.
 */
#pragma once

#include <stddef.h>

/* Formats into errbuf (if non-NULL and errlen > 0) and returns r, for `return errbuf_fail(...)`. */
int errbuf_fail(char *errbuf, size_t errlen, int r, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
