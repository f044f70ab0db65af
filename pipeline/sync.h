/*
 * sync.h - the sync stage: make the persisted state agree with the host (iSulad's
 * restore_state(), research/isulad-restore.md §3.3), in two halves:
 *
 * (a) rs_sync_decide(): the §3.3 table as a pure function of plain values (no I/O, no clock;
 *     `now` is passed in). S = persisted status (rs_state_status), R = runtime status:
 *
 *   R                      S                          result
 *   STOPPED or failed      STOPPED, CREATED           unchanged (ExitCode, FinishedAt, ... kept)
 *   STOPPED or failed      RUNNING, PAUSED, RESTARTING,
 *                          STARTING, UNKNOWN          to GC with {Pid,StartTime} if that process is
 *                                                     alive, {PPid,PStartTime} if alive, else 0s;
 *                                                     set_stopped(255): not running/paused/
 *                                                     restarting/starting, ExitCode 255, 4-tuple
 *                                                     zeroed, FinishedAt = now (an absent
 *                                                     StartedAt becomes "never": see
 *                                                     rs_state_set_stopped, container.h)
 *   RUNNING, identity ok   any                        if S != RUNNING or the 4-tuple differs:
 *                                                     set_running (Running, !Paused, !Restarting,
 *                                                     !Starting, ExitCode 0, !OOMKilled, no Error,
 *                                                     new 4-tuple, StartedAt = now);
 *                                                     HasBeenManuallyStopped = false
 *   PAUSED, identity ok    any                        Paused = true; if S != PAUSED or the 4-tuple
 *                                                     differs: set_running keeping Paused;
 *                                                     HasBeenManuallyStopped = false
 *   RUNNING/PAUSED,        any                        to GC with {0, PPid, 0, PStartTime} if the
 *   identity unreadable                               shim is alive, else 0s; set_stopped(255)
 *   CREATED, UNKNOWN       any                        unchanged (iSulad only logs)
 *   then, always: RemovalInprogress = false (iSulad; Docker would mark the container Dead).
 *
 *   "Identity" is the 4-tuple (Pid, PPid, StartTime, PStartTime) read from /proc for the pid
 *   the runtime reported; "same process" compares all four (iSulad's is_same_process). A
 *   recorded pid that is alive with another start time is another process (CONTRACT §4.3): it
 *   is never reported as the container, and restored never signals anything.
 *
 * (b) rs_sync_container(): runs the probes (runtime.h, procfs.h) and applies the decision to
 *     c->state IN MEMORY only. Persisting is statefile.h's job, adding to garbage.json is
 *     gc.h's, both the caller's call (never in a dry run). A runtime that hangs past its
 *     deadline fails this container alone (RUNTIME_TIMEOUT) and leaves c->state untouched.
 *
 * Deliberate differences from iSulad:
 *   - set_running also clears OOMKilled (Docker's SetRunning does; iSulad's keeps a stale one);
 *   - the GC pid info is the persisted identity as checked here; iSulad re-reads the pid's
 *     current ppid from /proc, which after a shim death is whatever the process was
 *     reparented to.
 */
#pragma once

#include <stdbool.h>

#include "container.h"
#include "error.h"
#include "result.h"
#include "runtime.h"
#include "types.h"

typedef enum {
        RS_SYNC_KEEP_STOPPED = 0,   /* R stopped/failed, S stopped/created */
        RS_SYNC_FORCE_STOPPED = 1,  /* R stopped/failed, S anything else: GC + stopped(255) */
        RS_SYNC_RUNNING = 2,        /* R running, identity read */
        RS_SYNC_PAUSED = 3,         /* R paused, identity read */
        RS_SYNC_LOST_PROCESS = 4,   /* R running/paused, identity unreadable: GC + stopped(255) */
        RS_SYNC_IGNORED = 5,        /* R created/unknown: untouched */
} rs_sync_rule;

struct rs_sync_input {
        struct rs_state persisted;   /* as loaded; S is derived from it */
        rs_status runtime;           /* R */
        bool runtime_failed;         /* the status call failed: iSulad treats it as STOPPED */
        bool identity_ok;            /* the 4-tuple of R's pid could be read */
        struct rs_process identity;  /* ... and here it is */
        bool pid_alive;              /* runtime_detect_process(Pid, StartTime) */
        bool ppid_alive;             /* util_process_alive(PPid, PStartTime) */
        const char *now;             /* timefmt.h timestamp for StartedAt / FinishedAt */
};

struct rs_sync_output {
        struct rs_state state;       /* the new state */
        rs_status before, after;     /* S, and the status derived from the new state */
        rs_sync_rule rule;
        bool changed;                /* state differs from persisted */
        bool to_gc;                  /* hand the container to iSulad's GC */
        struct rs_process gc;        /* its GcContainers pid info */
};

/* Pure. Writes every field of *out. */
void rs_sync_decide(const struct rs_sync_input *in, struct rs_sync_output *out);

/* One-word names of the rules, for logs and reports ("force-stopped", ...). */
const char *rs_sync_rule_name(rs_sync_rule r);

struct rs_sync_ctx {
        struct rs_runtime_cfg runtime;   /* state root, --runtime binaries, deadline */
        const char *now;                 /* NULL: the clock, formatted per container */
};

struct rs_sync_report {
        rs_status before, after;
        rs_sync_rule rule;
        bool changed;
        bool to_gc;
        struct rs_process gc_process;
        struct rs_runtime_status runtime;   /* what the runtime said (failed + detail) */
};

/*
 * Syncs c (c->runtime, c->id, c->state) with the host. On success c->state holds the new
 * state and *ret_report says what happened. Errors (c untouched): RUNTIME_TIMEOUT (-ETIME),
 * INTERNAL (runtime binary missing: -ENOENT; -ENOMEM; -EINVAL for a container without id).
 */
int rs_sync_container(const struct rs_sync_ctx *ctx, struct rs_container *c,
                      struct rs_sync_report *ret_report, struct rs_error *err);
