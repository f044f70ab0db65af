/*
 * restore_client.h - the C client of restored, iSulad's container restore service.
 *
 * Link with `pkg-config --libs restore-client` (librestore-client.so.0 or .a). Plain C11: no
 * gRPC or protobuf type appears here; the structs mirror isula.restore.v1 (restore.proto) field
 * for field and the enums carry the proto's numbers.
 *
 *   restore_client *c = NULL;
 *   restore_all_result *res = NULL;
 *   restore_all_opts opts = { .dry_run = false };
 *
 *   if (restore_client_connect("/run/isulad/restore.sock", 60000, &c) < 0)
 *           fail(restore_client_last_error(NULL, NULL));   (NULL: the failed connect)
 *   if (restore_client_restore_all(c, &opts, &res) < 0)
 *           fail(restore_client_last_error(c, &code));
 *   for (size_t i = 0; i < res->n_results; i++) ... res->results[i].action ...
 *   restore_all_result_free(res);
 *   restore_client_close(c);
 *
 * Errors: every call returns 0 on success or a negative errno (NOT_FOUND -> -ENOENT,
 * DEADLINE_EXCEEDED -> -ETIMEDOUT, UNAVAILABLE -> -ENOTCONN, PERMISSION_DENIED -> -EACCES,
 * INVALID_ARGUMENT -> -EINVAL, others -> a close match). The gRPC status code and the server's
 * message are then available from restore_client_last_error(); branch on the code.
 *
 * Ownership: inputs (paths, ids, opts and the arrays they point to) are borrowed for the call
 * only. Every result is allocated by the library and owned by the caller, who frees it with the
 * matching *_free() function (NULL-safe); output parameters are written only on success.
 * Strings inside results are never NULL ("" when the server sent nothing).
 *
 * Threads: one restore_client may be used by several threads at once (calls are independent
 * RPCs on one shared gRPC channel). The last error is kept per thread, like errno: it describes
 * the calling thread's most recent failed call on that client. restore_client_close() must not
 * race with calls on the same client, and comes after restore_watch_close() of its watches (see
 * "Watch" below for a watch's own rules). Do not use a client in a child after fork().
 *
 * Versioning: SOVERSION 0. Zero-initialise option structs ({0} / designated initialisers) so
 * that fields added later keep their defaults.
 */
#ifndef RESTORE_CLIENT_H
#define RESTORE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(RESTORE_CLIENT_BUILDING)
#define RESTORE_CLIENT_API __attribute__((visibility("default")))
#else
#define RESTORE_CLIENT_API
#endif

/* Used when restore_client_connect() is given timeout_ms <= 0. */
#define RESTORE_CLIENT_DEFAULT_TIMEOUT_MS 120000
#define RESTORE_CLIENT_DEFAULT_SOCKET     "/run/isulad/restore.sock"

/* ---- enums: values equal the proto's ---- */

typedef enum {
        RESTORE_PHASE_IDLE = 0,
        RESTORE_PHASE_RUNNING = 1,
        RESTORE_PHASE_DONE = 2,
} restore_phase;

typedef enum {
        RESTORE_OUTCOME_UNSPECIFIED = 0,
        RESTORE_OUTCOME_RESTORED = 1,
        RESTORE_OUTCOME_FAILED = 2,
} restore_outcome;

typedef enum {
        RESTORE_STAGE_UNSPECIFIED = 0,
        RESTORE_STAGE_LOAD = 1,
        RESTORE_STAGE_VERIFY = 2,
        RESTORE_STAGE_SYNC = 3,
        RESTORE_STAGE_REGISTER = 4,
        RESTORE_STAGE_HANDLE = 5,
} restore_stage;

/* Derived exactly as iSulad's container_state_judge_status(). */
typedef enum {
        RESTORE_STATUS_UNKNOWN = 0,
        RESTORE_STATUS_CREATED = 1,
        RESTORE_STATUS_STARTING = 2,
        RESTORE_STATUS_RUNNING = 3,
        RESTORE_STATUS_PAUSED = 4,
        RESTORE_STATUS_RESTARTING = 5,
        RESTORE_STATUS_STOPPED = 6,
} restore_status;

typedef enum {
        RESTORE_ACTION_NONE = 0, /* failed containers */
        RESTORE_ACTION_SKIP_GC = 1,
        RESTORE_ACTION_REATTACH = 2,
        RESTORE_ACTION_AUTO_REMOVE = 3,
        RESTORE_ACTION_RESTART = 4,
        RESTORE_ACTION_KEEP_STOPPED = 5,
} restore_action;

typedef enum {
        RESTORE_REASON_UNSPECIFIED = 0,
        RESTORE_REASON_CONFIG_MISSING = 1,
        RESTORE_REASON_CONFIG_CORRUPT = 2,
        RESTORE_REASON_HOSTCONFIG_MISSING = 3,
        RESTORE_REASON_HOSTCONFIG_CORRUPT = 4,
        RESTORE_REASON_STATE_CORRUPT = 5,
        RESTORE_REASON_INVALID_ID = 6,
        RESTORE_REASON_ID_MISMATCH = 7,
        RESTORE_REASON_INVALID_NAME = 8,
        RESTORE_REASON_DUPLICATE_ID = 9,
        RESTORE_REASON_DUPLICATE_NAME = 10,
        RESTORE_REASON_IMAGE_MISSING = 11,
        RESTORE_REASON_IMAGE_UNKNOWN = 12,
        RESTORE_REASON_NOT_A_DIRECTORY = 13,
        RESTORE_REASON_TOO_LARGE = 14,
        RESTORE_REASON_IO_ERROR = 15,
        RESTORE_REASON_RUNTIME_TIMEOUT = 16,
        RESTORE_REASON_INTERNAL = 17,
} restore_reason;

/* The proto names ("STATUS_RUNNING", "ACTION_REATTACH", ...), static strings; "" if unknown. */
RESTORE_CLIENT_API const char *restore_phase_name(restore_phase v);
RESTORE_CLIENT_API const char *restore_outcome_name(restore_outcome v);
RESTORE_CLIENT_API const char *restore_stage_name(restore_stage v);
RESTORE_CLIENT_API const char *restore_status_name(restore_status v);
RESTORE_CLIENT_API const char *restore_action_name(restore_action v);
RESTORE_CLIENT_API const char *restore_reason_name(restore_reason v);

/* ---- results ---- */

typedef struct restore_process {
        int32_t pid;
        int32_t ppid;
        uint64_t start_time;   /* /proc/<pid>/stat field 22 */
        uint64_t p_start_time; /* the same for ppid */
} restore_process;

typedef struct restore_restart {
        char *policy; /* "no", "always", "on-failure", "unless-stopped", ... */
        int32_t maximum_retry_count;
        int32_t restart_count;
        bool should_restart;
        int64_t delay_ms;
        char *reason; /* why the policy decided as it did, for humans */
} restore_restart;

typedef struct restore_health {
        bool configured;
        char *status;
} restore_health;

typedef struct restore_container_result {
        char *id;
        char *name;
        char *runtime;
        char *image;
        restore_outcome outcome;
        restore_stage stage;             /* last stage reached; for a failure the stage that failed */
        restore_reason reason;           /* for failures */
        char *error;                     /* for failures: one sentence naming the file and cause */
        restore_status persisted_status; /* as found on disk */
        restore_status status;           /* after sync */
        restore_action action;
        restore_process process;
        int32_t exit_code;
        char *exit_fifo;
        restore_restart restart;
        restore_health health;
        bool auto_remove;
        char *dir;          /* the container directory name (equals id unless REASON_ID_MISMATCH) */
        bool state_written; /* sync rewrote container_state.json */
} restore_container_result;

typedef struct restore_summary {
        uint64_t generation;
        restore_phase phase;
        uint32_t total;
        uint32_t restored;
        uint32_t failed;
        uint32_t running;
        uint32_t stopped;
        uint64_t duration_us;
        bool dry_run;
        uint32_t done;          /* containers finished so far */
        uint64_t started_at_us; /* microseconds since the Unix epoch */
        /* Why part of the graph could not be enumerated (e.g. an unreadable engine dir, whose
         * containers then have no result at all); "" when every engine dir was read. */
        char error[256];
} restore_summary;

/* ---- the client ---- */

typedef struct restore_client restore_client;

/*
 * Connects to the daemon's socket (a path; "host:port" for its TCP listener; NULL for
 * RESTORE_CLIENT_DEFAULT_SOCKET), waiting up to timeout_ms for it to accept a connection.
 * timeout_ms (<= 0: RESTORE_CLIENT_DEFAULT_TIMEOUT_MS) is also the deadline of every later call.
 * Returns -ENOTCONN if the daemon cannot be reached; restore_client_last_error(NULL, ...) says
 * why ("cannot connect to /run/isulad/restore.sock: No such file or directory — is restored
 * running?").
 */
RESTORE_CLIENT_API int restore_client_connect(const char *socket_path, int timeout_ms, restore_client **ret);
/* Changes the per-call deadline (<= 0: RESTORE_CLIENT_DEFAULT_TIMEOUT_MS). Not thread-safe
 * against calls in flight on other threads. */
RESTORE_CLIENT_API void restore_client_set_timeout(restore_client *c, int timeout_ms);
/* Closes the connection; NULL-safe. */
RESTORE_CLIENT_API void restore_client_close(restore_client *c);

/*
 * The calling thread's last error on c (c == NULL: its last failed restore_client_connect()):
 * the message (never NULL; "" after a successful call) and, via ret_code if non-NULL, the gRPC
 * status code (0 = OK, 5 = NOT_FOUND, 14 = UNAVAILABLE, ...). The string stays valid until this
 * thread's next call into the library.
 */
RESTORE_CLIENT_API const char *restore_client_last_error(const restore_client *c, int *ret_code);

/* ---- RestoreAll ---- */

typedef struct restore_all_opts {
        bool dry_run;                /* compute and report; write, start or remove nothing */
        const char *const *runtimes; /* limit to these engine dirs (e.g. "runc"); NULL = all */
        size_t n_runtimes;
        uint32_t workers; /* load/sync pool size; 0 = server default */
} restore_all_opts;

typedef struct restore_all_result {
        restore_summary summary;
        restore_container_result *results; /* one per container dir, ordered by runtime then id */
        size_t n_results;
} restore_all_result;

/* Runs (or, if one is running, joins) a restore of the whole graph. opts may be NULL. */
RESTORE_CLIENT_API int restore_client_restore_all(restore_client *c, const restore_all_opts *opts,
                                                  restore_all_result **ret);
RESTORE_CLIENT_API void restore_all_result_free(restore_all_result *r);

/* ---- ListRestored ---- */

typedef struct restore_list_opts {
        const restore_status *statuses; /* any of these; NULL/0 = any status */
        size_t n_statuses;
        restore_outcome outcome; /* RESTORE_OUTCOME_UNSPECIFIED = any */
        const char *runtime;     /* NULL = any */
        const char *prefix;      /* id or name prefix; NULL = any */
        uint32_t page_size;      /* 0 = server default (100); the server caps it at 1000 */
        const char *page_token;  /* NULL for the first page, then the previous next_page_token */
} restore_list_opts;

typedef struct restore_list_page {
        restore_container_result *containers;
        size_t n_containers;
        char *next_page_token; /* "" on the last page */
        restore_summary summary;
} restore_list_page;

/* One page of the current view (also while a restore runs). opts may be NULL. */
RESTORE_CLIENT_API int restore_client_list(restore_client *c, const restore_list_opts *opts,
                                           restore_list_page **ret);
RESTORE_CLIENT_API void restore_list_page_free(restore_list_page *p);

/* ---- HandleContainer ---- */

/* Re-syncs one registered container (full id, unique id prefix, or name) and re-runs its
 * handle step. -ENOENT (NOT_FOUND) for an unknown container. */
RESTORE_CLIENT_API int restore_client_handle(restore_client *c, const char *id, bool dry_run,
                                             restore_container_result **ret);
RESTORE_CLIENT_API void restore_container_result_free(restore_container_result *r);

/* ---- grpc.health.v1 ---- */

/* Health/Check on the whole server: *ret_serving is true once the first restore has finished. */
RESTORE_CLIENT_API int restore_client_health(restore_client *c, bool *ret_serving);

/* ---- Watch ---- */

/*
 * Progress and per-container state changes as they happen (the Watch stream):
 *
 *   restore_watch *w = NULL;
 *   restore_event *ev = NULL;
 *
 *   if (restore_client_watch(c, true, &w) < 0) fail(...);
 *   while ((r = restore_watch_next(w, 1000, &ev)) == 0 || r == -ETIMEDOUT) {
 *           if (r == 0) { ... ev->kind, ev->summary.done, ev->result->id ...; restore_event_free(ev); }
 *   }
 *   (r == -ENODATA: the daemon ended the stream; otherwise restore_client_last_error(c, &code))
 *   restore_watch_close(w);
 *
 * What arrives, per restore (ev->generation numbers the restore): RESTORE_STARTED, PROGRESS
 * events (at most ~10 a second, and the last of each stage), one CONTAINER_RESULT per container
 * directory, then RESTORE_FINISHED with the final summary. STATUS_CHANGED and CONTAINER_RESULT
 * also arrive later, when HandleContainer or the exit monitor changes a container. With replay,
 * the stream starts with the current summary (as RESTORE_FINISHED, or RESTORE_STARTED while a
 * restore runs) and every result known so far (a result published during the replay may then
 * arrive twice, never not at all); nothing is replayed before the first restore. Events of a
 * kind you do not know (added later) are to be ignored.
 *
 * Threads: one thread at a time may call restore_watch_next() on a watch (typically a thread
 * of its own); restore_watch_cancel() may be called from any thread at any time before
 * restore_watch_close(), and wakes a restore_watch_next() blocked in another thread.
 * restore_watch_close() must not race with other calls on the same watch. A watch uses its
 * client's connection: close every watch before restore_client_close() of its client.
 * Errors of the watch functions are recorded as the last error of that client, for the calling
 * thread (restore_client_last_error(c, ...)).
 */

typedef enum {
        RESTORE_EVENT_UNSPECIFIED = 0,
        RESTORE_EVENT_RESTORE_STARTED = 1,
        RESTORE_EVENT_PROGRESS = 2,
        RESTORE_EVENT_CONTAINER_RESULT = 3,
        RESTORE_EVENT_RESTORE_FINISHED = 4,
        RESTORE_EVENT_STATUS_CHANGED = 5,
} restore_event_kind;

/* The proto name ("KIND_RESTORE_STARTED", ...), a static string; "" if unknown. */
RESTORE_CLIENT_API const char *restore_event_kind_name(restore_event_kind v);

typedef struct restore_stage_progress {
        restore_stage stage;
        uint32_t done;  /* containers through this stage so far */
        uint32_t total; /* containers entering it */
} restore_stage_progress;

typedef struct restore_event {
        restore_event_kind kind;
        uint64_t generation;              /* the restore this event belongs to */
        restore_summary summary;          /* the summary as of this event */
        restore_stage_progress progress;  /* PROGRESS; all zero otherwise */
        restore_container_result *result; /* CONTAINER_RESULT, STATUS_CHANGED; NULL otherwise */
        uint64_t time_us;                 /* microseconds since the Unix epoch */
} restore_event;

typedef struct restore_watch restore_watch;

/*
 * Opens a Watch stream (replay: first the current summary and every known result, then live
 * events). The client's call deadline does not apply: a watch lasts until closed. Opening does
 * not wait for the daemon; a daemon that cannot be reached, or refuses the stream (at most 64
 * at once: RESOURCE_EXHAUSTED), is reported by the first restore_watch_next().
 */
RESTORE_CLIENT_API int restore_client_watch(restore_client *c, bool replay, restore_watch **ret);

/*
 * Waits up to timeout_ms (< 0: forever; 0: only what has already arrived) for the next event.
 *   0           *ret is the event (free it with restore_event_free()).
 *   -ETIMEDOUT  no event within timeout_ms; the watch stays open: call again.
 *   -ENODATA    the daemon ended the stream cleanly (it is shutting down); last error code 0.
 *   -ECANCELED  restore_watch_cancel() was called (last error code 1, CANCELLED).
 *   other < 0   the stream broke, with the gRPC code in the last error: e.g. -ENOTCONN
 *               (UNAVAILABLE: the daemon is gone or stopped), -EACCES (PERMISSION_DENIED),
 *               -ENOSPC (RESOURCE_EXHAUSTED: the daemon ended this reader because it fell too
 *               far behind, or too many watches are open; reopen with replay to catch up).
 * Once the stream has ended, every later call returns the same error at once.
 */
RESTORE_CLIENT_API int restore_watch_next(restore_watch *w, int timeout_ms, restore_event **ret);
RESTORE_CLIENT_API void restore_event_free(restore_event *e);

/* Ends the stream; thread-safe, idempotent, NULL-safe. A restore_watch_next() blocked in
 * another thread returns -ECANCELED promptly; the watch must still be closed. */
RESTORE_CLIENT_API void restore_watch_cancel(restore_watch *w);
/* Cancels the stream if still open and frees the watch; NULL-safe. */
RESTORE_CLIENT_API void restore_watch_close(restore_watch *w);

#ifdef __cplusplus
}
#endif

#endif /* RESTORE_CLIENT_H */
