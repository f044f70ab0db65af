/*
 * timefmt.h - iSulad's timestamps: StartedAt, FinishedAt, Created.
 *
 * Written as local time with the offset of that instant, nanoseconds always 9 digits
 * (utils_timestamp.c get_time_buffer_help): "2024-05-01T10:00:00.123456789+08:00". The "never"
 * value is RS_DEFAULT_TIME, "0001-01-01T00:00:00Z" (container.h).
 *
 * Invariants:
 *   - rs_time_format() reads the process time zone (TZ, /etc/localtime) and nothing else;
 *   - rs_time_parse() and rs_time_seconds_since() are pure: no clock, no time zone (the offset in
 *     the string is authoritative), safe from any thread;
 *   - epoch nanoseconds are int64: years 1678..2261 only; anything else is -ERANGE.
 */
#pragma once

#include <stdint.h>
#include <time.h>

/* "2024-05-01T10:00:00.123456789+08:00" is 35 bytes; room for 5-digit years and seconds offsets. */
#define RS_TIME_BUF 48

/* Formats ts as iSulad does. Returns 0, or -EINVAL (ts out of range for localtime). */
int rs_time_format(const struct timespec *ts, char buf[static RS_TIME_BUF]);

/* rs_time_format() of CLOCK_REALTIME now. */
int rs_time_format_now(char buf[static RS_TIME_BUF]);

/*
 * Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" (fraction 1..9 digits) into nanoseconds
 * since the epoch. Returns 0, -ENODATA for RS_DEFAULT_TIME ("never"), -EINVAL for anything
 * malformed, -ERANGE for an instant int64 nanoseconds cannot hold.
 */
int rs_time_parse(const char *s, int64_t *ret_ns);

/*
 * iSulad's util_time_seconds_since(): whole seconds from s to now_ns, and 0 when s is NULL,
 * "never", "-", unparsable, or in the future. Feeds the restart manager's "ran >= 10 s".
 */
int64_t rs_time_seconds_since(const char *s, int64_t now_ns);

/* CLOCK_REALTIME as epoch nanoseconds (for callers that pass `now` into pure functions). */
int64_t rs_time_now_ns(void);
