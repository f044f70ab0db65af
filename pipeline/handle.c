/* handle.c - iSulad's handle_restored_container() as a decision; see handle.h. */
#include "handle.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "procfs.h"
#include "restart.h"

/* iSulad's exit code for a container whose process vanished behind the daemon's back. */
#define FORCED_STOP_EXIT_CODE 255

/* One call's working set: the state is a copy, applied to the container only on success. */
struct run {
        const struct rs_handle_ctx *ctx;
        const struct rs_container *c;
        struct rs_state st;
        struct rs_handle_report rep;
};

static void set_note(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_note(struct run *r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(r->rep.note, sizeof(r->rep.note), fmt, ap);
        va_end(ap);
}

static int set_restart(struct run *r, bool should_restart, int64_t delay_ms, const char *reason)
{
        r->rep.restart.should_restart = should_restart;
        r->rep.restart.delay_ms = delay_ms;
        free(r->rep.restart.reason);
        r->rep.restart.reason = strdup(reason);
        return r->rep.restart.reason ? 0 : -ENOMEM;
}

static void decide(const struct run *r, struct rs_restart_decision *ret)
{
        struct rs_restart_input in = {
            .policy = r->c->restart_policy,
            .max_retry = r->c->max_retry,
            .restart_count = r->st.restart_count,
            .exit_code = r->st.exit_code,
            .manually_stopped = r->st.has_been_manually_stopped,
            .status = rs_state_status(&r->st),
        };

        rs_restart_decide(&in, ret);
}

/*
 * The decision iSulad's GC thread makes once it has cleaned the container up
 * (apply_restart_policy_after_gc): the same restart manager, over the state as it is now,
 * with the fresh manager's first backoff. Not staggered: iSulad does not stagger GC restarts.
 */
static int decide_after_gc(struct run *r)
{
        struct rs_restart_decision d;
        char reason[RS_RESTART_REASON_MAX + 16];

        decide(r, &d);
        snprintf(reason, sizeof(reason), "after GC: %s", d.reason);
        r->rep.action = RS_ACTION_SKIP_GC;
        return set_restart(r, d.should_restart, d.should_restart ? RS_RESTART_GC_BACKOFF_MS : 0, reason);
}

/*
 * restore_supervisor failed: as iSulad, the container is stopped with exit code 255 and
 * handed to GC. GC gets what is still alive of the old identity: iSulad passes only
 * {PPid, PStartTime} here; a process whose FIFO vanished may itself still run, so we report
 * {Pid, StartTime} too when that exact process is alive, and let GC decide.
 */
static int force_stop(struct run *r)
{
        struct rs_process *gc = &r->rep.gc_process;

        if (rs_proc_alive(r->st.pid, r->st.start_time)) {
                gc->pid = r->st.pid;
                gc->start_time = r->st.start_time;
        }
        if (rs_proc_alive(r->st.ppid, r->st.p_start_time)) {
                gc->ppid = r->st.ppid;
                gc->p_start_time = r->st.p_start_time;
        }
        rs_state_set_stopped(&r->st, FORCED_STOP_EXIT_CODE, r->ctx->now);
        r->rep.state_changed = true;
        r->rep.to_gc = true;
        return decide_after_gc(r);
}

/* iSulad's container_init_health_monitor(): only the persisted part (no probe thread here). */
static void reset_health(struct run *r)
{
        struct rs_state *st = &r->st;

        if (!r->c->health_configured)
                return;
        if (!st->has_health || strcmp(st->health_status, "starting") != 0 || st->failing_streak)
                r->rep.state_changed = true;
        st->has_health = true;
        snprintf(st->health_status, sizeof(st->health_status), "starting");
        st->failing_streak = 0;
}

/* lstat only: stat() or open() of a FIFO is fine, but open() is the supervisor's, not ours. */
static int check_fifo(const char *path)
{
        struct stat sb;

        if (lstat(path, &sb) < 0)
                return -errno;
        return S_ISFIFO(sb.st_mode) ? 0 : -ENXIO;
}

static int handle_running(struct run *r)
{
        _cleanup_free_ char *fifo = NULL;
        int rc;

        if (asprintf(&fifo, "%s/%s/%s/exit_fifo", r->ctx->state_root, r->c->runtime, r->c->id) < 0)
                return -ENOMEM;
        rc = check_fifo(fifo);
        if (rc < 0) {
                set_note(r, "%s: %s: stopped (%d) and handed to GC", fifo,
                         rc == -ENXIO ? "not a FIFO" : strerror(-rc), FORCED_STOP_EXIT_CODE);
                return force_stop(r);
        }
        /* After the FIFO check, as iSulad: a process that exited before it must not stay "running". */
        if (!rs_proc_alive(r->st.pid, r->st.start_time)) {
                set_note(r,
                         "process %d (start time %llu) is gone or was replaced: stopped (%d) "
                         "and handed to GC",
                         r->st.pid, (unsigned long long)r->st.start_time, FORCED_STOP_EXIT_CODE);
                return force_stop(r);
        }
        reset_health(r);
        r->rep.action = RS_ACTION_REATTACH;
        r->rep.exit_fifo = TAKE_PTR(fifo);
        set_note(r, "process %d is alive and its exit FIFO is in place: re-attached", r->st.pid);
        return set_restart(r, false, 0, "running: the restart policy applies when it exits");
}

static int handle_not_running(struct run *r)
{
        struct rs_restart_decision d;
        unsigned index;

        if (r->c->auto_remove_bak) {
                /* iSulad checks AutoRemoveBak before the restart manager: --rm wins. */
                r->rep.action = RS_ACTION_AUTO_REMOVE;
                set_note(r, "not running and AutoRemove is set: to be removed");
                return set_restart(r, false, 0, "auto-remove takes precedence over the restart policy");
        }
        decide(r, &d);
        if (!d.should_restart) {
                r->rep.action = RS_ACTION_KEEP_STOPPED;
                set_note(r, "not running: %s", d.reason);
                return set_restart(r, false, 0, d.reason);
        }
        /* Taken in a dry run too: a dry run reports the delays a real restore would use. */
        index = r->ctx->restart_index ? atomic_fetch_add(r->ctx->restart_index, 1) : 0;
        r->rep.action = RS_ACTION_RESTART;
        set_note(r, "not running: %s", d.reason);
        return set_restart(r, true, rs_restart_delay_ms(index, r->ctx->max_parallel_restarts), d.reason);
}

static int dispatch(struct run *r)
{
        if (r->ctx->in_gc) {
                /* iSulad skips the container entirely: no supervisor, health, removal or restart. */
                set_note(r, "in GC: the garbage collector owns it");
                return decide_after_gc(r);
        }
        if (r->st.running)
                return handle_running(r);
        return handle_not_running(r);
}

static int finish(struct run *r)
{
        const struct rs_state *st = &r->st;

        r->rep.status = rs_state_status(st);
        r->rep.exit_code = st->exit_code;
        r->rep.process = (struct rs_process){st->pid, st->ppid, st->start_time, st->p_start_time};
        r->rep.health_configured = r->c->health_configured;
        if (st->has_health && !(r->rep.health_status = strdup(st->health_status)))
                return -ENOMEM;
        return 0;
}

int rs_handle_container(const struct rs_handle_ctx *ctx, struct rs_container *c,
                        struct rs_handle_report *ret)
{
        struct run r = {.ctx = ctx, .c = c};
        int rc;

        if (!ctx || !ctx->state_root || !c || !c->id || !c->runtime)
                return -EINVAL;
        r.st = c->state;
        r.rep.restart.max_retry = c->max_retry;
        r.rep.restart.restart_count = c->state.restart_count;
        r.rep.auto_remove = c->auto_remove_bak;
        rc = c->restart_policy && !(r.rep.restart.policy = strdup(c->restart_policy)) ? -ENOMEM : 0;
        if (rc == 0)
                rc = dispatch(&r);
        if (rc == 0)
                rc = finish(&r);
        if (rc < 0) {
                rs_handle_report_done(&r.rep);
                return rc;
        }
        if (!ctx->dry_run && r.rep.state_changed)
                c->state = r.st;
        *ret = r.rep;
        return 0;
}

void rs_handle_report_done(struct rs_handle_report *rep)
{
        if (!rep)
                return;
        free(rep->exit_fifo);
        free(rep->restart.policy);
        free(rep->restart.reason);
        free(rep->health_status);
        memset(rep, 0, sizeof(*rep));
}

void rs_handle_report_move(struct rs_handle_report *rep, struct rs_result *r)
{
        free(r->exit_fifo);
        free(r->restart.policy);
        free(r->restart.reason);
        free(r->health_status);
        r->action = rep->action;
        r->status = rep->status;
        r->exit_code = rep->exit_code;
        r->process = rep->process;
        r->exit_fifo = TAKE_PTR(rep->exit_fifo);
        r->restart = rep->restart;
        rep->restart.policy = rep->restart.reason = NULL;
        r->health_configured = rep->health_configured;
        r->health_status = TAKE_PTR(rep->health_status);
        r->auto_remove = rep->auto_remove;
        rs_handle_report_done(rep);
}
