/*
 * error.h - the trailing error object of the pipeline (crun's libcrun_error_t, simplified).
 *
 * Functions that can fail for a reason a human must read return a negative errno and fill a
 * caller-owned `struct rs_error`. The message is one sentence naming the file and the cause
 * ("config.v2.json: unexpected end of input at byte 812"); it ends up verbatim in
 * ContainerResult.error. The reason is the contract's FailureReason. No allocation: the message
 * lives in a fixed buffer, so filling an error can never itself fail.
 */
#pragma once

#include <stdarg.h>

#include "types.h"

#define RS_ERROR_MSG_MAX 512

struct rs_error {
        rs_reason reason;
        char msg[RS_ERROR_MSG_MAX];
};

/* Fills err (if non-NULL) and returns `neg_errno` (which must be < 0) for `return rs_fail(...)`. */
int rs_fail(struct rs_error *err, int neg_errno, rs_reason reason, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Prefixes context to an existing message: "hostconfig.json: " + msg. */
void rs_error_prefix(struct rs_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void rs_error_clear(struct rs_error *err)
{
        if (err) {
                err->reason = RS_REASON_NONE;
                err->msg[0] = '\0';
        }
}
