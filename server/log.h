/*
 * log.h - the daemon's log: structured journal entries under systemd, readable lines otherwise.
 *
 * Under systemd (stderr is the journal stream named by $JOURNAL_STREAM, checked by device and
 * inode as sd-journal's documentation asks, so a redirected stderr is never mistaken for it)
 * every call becomes one journal entry with fields an operator can match on:
 *
 *   MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=restored, CONTAINER_ID (first 12 characters, as
 *   Docker's journald driver does), CONTAINER_ID_FULL, RESTORE_GENERATION, RESTORE_STAGE,
 *   RESTORE_REASON, and RESTORE_<KEY> for each extra key=value pair.
 *
 *   journalctl -u restored CONTAINER_ID=0123456789ab
 *
 * Otherwise each call writes one line to stderr:
 *
 *   2026-12-04T16:30:00.123Z info  restore finished generation=3 total=12 failed=2
 *
 * MESSAGE in the journal is that line without the timestamp and level, so both read alike.
 * Calls below the level set by rd_log_init() (--log-level) cost one atomic load. Every
 * function here may be called from any thread; a line is never interleaved with another.
 * Library code does not log (STYLE.md): the daemon logs once, where it decides.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "types.h"

/* The syslog priorities, so PRIORITY= needs no table. */
enum rd_log_level {
        RD_LOG_ERROR = 3,
        RD_LOG_WARNING = 4,
        RD_LOG_INFO = 6,
        RD_LOG_DEBUG = 7,
};

/* One extra key=value pair: a string, or a number when str is NULL. Keys are [a-z0-9_-]. */
struct rd_log_kv {
        const char *key;
        const char *str;
        int64_t num;
};

/* The restore context of an entry. Zero values are left out. */
struct rd_log_fields {
        uint64_t generation;        /* RESTORE_GENERATION / generation= */
        rs_stage stage;             /* RESTORE_STAGE / stage= (rs_stage_name) */
        rs_reason reason;           /* RESTORE_REASON / reason= (rs_reason_name) */
        const struct rd_log_kv *kv; /* RESTORE_<KEY> / key= */
        size_t n_kv;
};

/* Builds the kv part of an rd_log_fields initialiser: RD_LOG_KV({"total", .num = 12}, ...). */
#define RD_LOG_KV(...)                                                                                      \
        .kv = (const struct rd_log_kv[]){__VA_ARGS__},                                                      \
        .n_kv = sizeof((const struct rd_log_kv[]){__VA_ARGS__}) / sizeof(struct rd_log_kv)

/* Longest line written; longer ones are cut and end in "...". */
#define RD_LOG_LINE_MAX 4096

/*
 * Sets the level and picks the sink: the journal when stderr is the journal stream, stderr
 * otherwise. Call once at start; logging before it goes to stderr at RD_LOG_INFO.
 */
void rd_log_init(enum rd_log_level max_level);
void rd_log_set_level(enum rd_log_level max_level);
bool rd_log_enabled(enum rd_log_level level);
/* True when entries go to the journal (for the start-up line that says where logs go). */
bool rd_log_to_journal(void);
/* Tests: write plain lines to fd instead (never the journal). fd stays the caller's. */
void rd_log_set_fd(int fd);

/*
 * Logs one entry. container_id and fields may be NULL. fmt is the message without a trailing
 * newline; the fields follow it as key=value (values with spaces or quotes are quoted).
 */
void rd_log(enum rd_log_level level, const char *container_id, const struct rd_log_fields *fields,
            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define rd_log_error(...)   rd_log(RD_LOG_ERROR, NULL, NULL, __VA_ARGS__)
#define rd_log_warning(...) rd_log(RD_LOG_WARNING, NULL, NULL, __VA_ARGS__)
#define rd_log_info(...)    rd_log(RD_LOG_INFO, NULL, NULL, __VA_ARGS__)
#define rd_log_debug(...)   rd_log(RD_LOG_DEBUG, NULL, NULL, __VA_ARGS__)

/* "error", "warning", "info", "debug". */
const char *rd_log_level_name(enum rd_log_level level);
/* Parses those four words; -EINVAL otherwise. */
int rd_log_level_from_string(const char *s, enum rd_log_level *ret_level);

/*
 * The pure formatting, exposed for tests. Both return the length written (always < len,
 * NUL-terminated, cut with "..." when it did not fit).
 *   rd_log_format_message: "restore finished container=ID generation=3 total=12"
 *   rd_log_format_line:    "2026-12-04T16:30:00.123Z info  " + message + "\n"
 */
size_t rd_log_format_message(char *buf, size_t len, const char *container_id,
                             const struct rd_log_fields *fields, const char *msg);
size_t rd_log_format_line(char *buf, size_t len, const struct timespec *now, enum rd_log_level level,
                          const char *message);
