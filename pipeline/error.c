/* error.c - filling the trailing error object. */
#include "error.h"

#include <stdio.h>
#include <errno.h>
#include <string.h>

int rs_fail(struct rs_error *err, int neg_errno, rs_reason reason, const char *fmt, ...)
{
        if (err) {
                va_list ap;
                va_start(ap, fmt);
                err->reason = reason;
                vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
                va_end(ap);
        }
        return neg_errno < 0 ? neg_errno : -EINVAL;
}

void rs_error_prefix(struct rs_error *err, const char *fmt, ...)
{
        char prefix[RS_ERROR_MSG_MAX];
        size_t plen, mlen;
        va_list ap;

        if (!err)
                return;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        plen = strlen(prefix);
        mlen = strnlen(err->msg, sizeof(err->msg) - 1);
        if (plen >= sizeof(err->msg))
                plen = sizeof(err->msg) - 1;
        if (plen + mlen >= sizeof(err->msg))
                mlen = sizeof(err->msg) - 1 - plen; /* keep the prefix: it says where */
        memmove(err->msg + plen, err->msg, mlen);
        memcpy(err->msg, prefix, plen);
        err->msg[plen + mlen] = '\0';
}
