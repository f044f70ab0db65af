/*
 * handle.h - the handle stage: what becomes of one synced, registered container.
 *
 * iSulad's handle_restored_container(), in its order (research/isulad-restore.md §5):
 *   (a) the container is in GC (garbage.json, or just handed over by sync)  -> SKIP_GC; the
 *       restart decision reported is the one GC applies once it has cleaned up;
 *   (b) State.Running (paused included)  -> re-attach the exit watcher (restore_supervisor):
 *       <state>/<runtime>/<id>/exit_fifo must be a FIFO, THEN the process must still be
 *       (Pid, StartTime). Both hold -> REATTACH, health reset to "starting". Otherwise the
 *       container is forced stopped (exit 255) and handed to GC -> SKIP_GC;
 *   (c) otherwise: AutoRemoveBak -> AUTO_REMOVE (before any restart policy), else the restart
 *       manager -> RESTART (staggered, see restart.h) or KEEP_STOPPED.
 *
 * restored decides and reports; this stage never starts, signals, kills or removes anything,
 * and never opens the exit FIFO: the engine's supervisor owns its read end, and opening and
 * closing one here could consume the 4-byte exit code the shim writes on exit. It does no
 * writing either: the caller persists ret->state_changed states (not in a dry run) and adds
 * ret->to_gc containers to garbage.json.
 *
 * Deliberate differences from iSulad:
 *   - the FIFO is checked with lstat() (a symlink is not the FIFO iSulad made with mknod);
 *   - the forced stop of (b) is reported as a state change to persist; iSulad keeps it in
 *     memory only (§6.2 hazard 4);
 *   - a never-started container is not restarted (CONTRACT §4.4, in restart.h).
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>

#include "container.h"
#include "error.h"
#include "result.h"

struct rs_handle_ctx {
        const char *state_root;         /* <state>, e.g. /var/run/isulad */
        bool in_gc;                     /* id in garbage.json, or handed to GC by sync */
        atomic_uint *restart_index;     /* next stagger slot, shared by one restore; NULL: 0 */
        unsigned max_parallel_restarts; /* 0: RS_RESTART_MAX_PARALLEL_DEFAULT */
        const char *now;                /* RFC 3339 time written to FinishedAt on a forced stop */
        bool dry_run;                   /* compute the same report, but leave c untouched */
};

struct rs_handle_report {
        rs_action action;
        rs_status status; /* after handle */
        int exit_code;
        struct rs_process process; /* the container's process after handle (0s: stopped) */
        char *exit_fifo;           /* REATTACH only */
        struct rs_restart restart; /* policy, max_retry, restart_count (as persisted),
                                      should_restart, delay_ms, reason */
        bool health_configured;
        char *health_status;          /* NULL when the state has no Health */
        bool auto_remove;             /* HostConfig.AutoRemoveBak */
        bool to_gc;                   /* hand to GC now (forced stop in (b)) */
        struct rs_process gc_process; /* the parts of the old identity still alive, for GC */
        bool state_changed;           /* c->state was (or, dry run, would be) modified */
        char note[RS_ERROR_MSG_MAX];  /* why this action, one sentence for the daemon's log */
};

/*
 * Decides and fills *ret (zeroed first; release with rs_handle_report_done). Unless
 * ctx->dry_run, applies the state changes (forced stop, health reset) to c->state.
 * Returns 0, -EINVAL (no id, runtime or state_root) or -ENOMEM; *ret is untouched on failure.
 */
int rs_handle_container(const struct rs_handle_ctx *ctx, struct rs_container *c,
                        struct rs_handle_report *ret);

/* Frees the strings and zeroes *rep; NULL-safe. */
void rs_handle_report_done(struct rs_handle_report *rep);

/*
 * Moves the handle fields (action, status, exit_code, process, exit_fifo, restart, health,
 * auto_remove) into r, freeing what r held there; rep's strings become r's (rep is zeroed).
 */
void rs_handle_report_move(struct rs_handle_report *rep, struct rs_result *r);
