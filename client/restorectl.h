/*
 * restorectl.h - what the parts of restorectl share (internal; not installed).
 *
 *   restorectl.c           global options, dispatch, help, connection, error reporting
 *   restorectl_commands.c  restore, list, handle, watch, health
 *   restorectl_output.c    tables, summaries, JSON, friendly enum names and their parsing
 *   restorectl_progress.c  the progress bar of `restore`, fed by a concurrent Watch stream
 *
 * Exit status (CONTRACT §5): 0 success; 1 RPC or transport error; 2 usage error; 3 the command
 * succeeded but at least one container failed to restore.
 */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "isula/restore/v1/restore.pb-c.h"
#include "transport.h"

enum {
        EXIT_OK = 0,
        EXIT_RPC = 1,
        EXIT_USAGE = 2,
        EXIT_CONTAINER_FAILED = 3,
};

#define CTL_DEFAULT_SOCKET     "/run/isulad/restore.sock"
#define CTL_DEFAULT_TIMEOUT_MS 120000

struct ctl {
        const char *socket;
        int64_t timeout_ms; /* per call; 0 = no deadline */
        bool timeout_given; /* --timeout was on the command line (watch then stops after it) */
        bool json;
        struct rc_tls tls;    /* for HOST:PORT: --tls-ca, --tls-cert, --tls-key */
        struct rc_conn *conn; /* opened by ctl_connect() once the options are known */
};

/* ---- restorectl.c ---- */

/* Long-option values of the global options, which are also accepted after the command. */
enum { OPT_SOCKET = 0x100, OPT_TIMEOUT, OPT_TLS_CA, OPT_TLS_CERT, OPT_TLS_KEY, OPT_FIRST_COMMAND_OPT };
/* clang-format off */
#define CTL_GLOBAL_LONGOPTS                                       \
        { "socket", required_argument, NULL, OPT_SOCKET },        \
        { "timeout", required_argument, NULL, OPT_TIMEOUT },      \
        { "output", required_argument, NULL, 'o' },               \
        { "tls-ca", required_argument, NULL, OPT_TLS_CA },        \
        { "tls-cert", required_argument, NULL, OPT_TLS_CERT },    \
        { "tls-key", required_argument, NULL, OPT_TLS_KEY },      \
        { "help", no_argument, NULL, 'h' }
/* clang-format on */

/*
 * Handles a global option met while parsing a command line. Returns 1 if `opt` was one (and
 * applied it), 0 if not, -EINVAL after printing a usage error.
 */
int ctl_global_option(struct ctl *ctl, int opt, const char *arg);
/* Reports an unknown option or a missing argument the way getopt_long left it; returns EXIT_USAGE. */
int ctl_bad_option(const char *command, int opt, char **argv);
/* Prints "restorectl: <msg>" and the pointer to --help; returns EXIT_USAGE. */
int ctl_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens the channel (lazily, so that --help never needs a daemon). Returns 0 or EXIT_RPC. */
int ctl_connect(struct ctl *ctl);
/* Prints an RPC failure on stderr; returns EXIT_RPC. */
int ctl_rpc_error(const struct rc_status *st);
/* Parses a decimal count in [min, max]; returns 0 or -EINVAL. */
int ctl_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *ret);

/* ---- restorectl_commands.c ---- */

int cmd_restore(struct ctl *ctl, int argc, char **argv);
int cmd_list(struct ctl *ctl, int argc, char **argv);
int cmd_handle(struct ctl *ctl, int argc, char **argv);
int cmd_watch(struct ctl *ctl, int argc, char **argv);
int cmd_health(struct ctl *ctl, int argc, char **argv);
/* Prints the help of one command; false if there is no such command. */
bool cmd_help(const char *command, FILE *f);

/* ---- restorectl_output.c ---- */

/* "STATUS_RUNNING" -> "running", "ACTION_KEEP_STOPPED" -> "keep-stopped"; the number if unnamed. */
const char *ctl_enum_word(const ProtobufCEnumDescriptor *d, int value, char *buf, size_t size);
/*
 * Parses a friendly word or an enum name, case-insensitively ("running", "STATUS_RUNNING",
 * "keep_stopped"), plus the aliases the contract's users expect ("exited" = stopped). Returns 0
 * or -EINVAL.
 */
int ctl_parse_enum(const ProtobufCEnumDescriptor *d, const char *s, int *ret);
/* "running, created, ..." for error messages. */
void ctl_enum_words(const ProtobufCEnumDescriptor *d, bool skip_zero, char *buf, size_t size);

/* Prints m as proto3 JSON on stdout: pretty for one response, one line per stream event. */
int ctl_print_json(const ProtobufCMessage *m, bool one_line);
/* The container table (id, name, runtime, status, action, outcome, reason); failures get an
 * indented error line. Prints `empty` instead when there are no rows. */
void ctl_print_table(Isula__Restore__V1__ContainerResult *const *rows, size_t n, const char *empty);
/* "total 20, restored 18, failed 2, running 12, stopped 6, duration 1.23s" (+ dry run, phase). */
void ctl_print_summary(const Isula__Restore__V1__RestoreSummary *s);
/* "actions: reattach 12, restart 3, keep-stopped 5, skip-gc 1, auto-remove 0, failed 2" */
void ctl_print_actions(Isula__Restore__V1__ContainerResult *const *rows, size_t n);
/* The decision of one container, with its restart and health reasons. */
void ctl_print_handle(const Isula__Restore__V1__ContainerResult *r, bool dry_run);
/* One line of `watch`; header once when `header` is true. */
void ctl_print_watch_header(void);
void ctl_print_watch_event(const Isula__Restore__V1__WatchEvent *ev);
/* True if any row failed. */
bool ctl_any_failed(Isula__Restore__V1__ContainerResult *const *rows, size_t n);

/* ---- restorectl_progress.c ---- */

struct ctl_progress;
/*
 * Starts following Watch and drawing a progress bar on stderr. Returns once the stream is up (or
 * after a short grace period), so that the RestoreAll started next is seen from its first event.
 * Never fails the command: without a stream there is simply no bar (NULL).
 */
struct ctl_progress *ctl_progress_start(struct ctl *ctl);
/* Stops the stream, joins the thread and erases the bar; NULL-safe. */
void ctl_progress_stop(struct ctl_progress *p);
