/* errbuf.c - filling a caller-provided error buffer. */
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

int errbuf_fail(char *errbuf, size_t errlen, int r, const char *fmt, ...)
{
        va_list ap;

        if (errbuf && errlen) {
                va_start(ap, fmt);
                vsnprintf(errbuf, errlen, fmt, ap);
                va_end(ap);
        }
        return r;
}
