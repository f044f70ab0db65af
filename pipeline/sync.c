/* sync.c - iSulad's restore_state(): the decision table and its probes (see sync.h). */
#include "sync.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "procfs.h"
#include "statefile.h"
#include "timefmt.h"

const char *rs_sync_rule_name(rs_sync_rule r)
{
        static const char *const names[] = {
                [RS_SYNC_KEEP_STOPPED] = "keep-stopped",   [RS_SYNC_FORCE_STOPPED] = "force-stopped",
                [RS_SYNC_RUNNING] = "running",             [RS_SYNC_PAUSED] = "paused",
                [RS_SYNC_LOST_PROCESS] = "lost-process",   [RS_SYNC_IGNORED] = "ignored",
        };
        return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "invalid";
}

static void set_time(char dst[RS_TIME_MAX], bool *has, const char *now)
{
        snprintf(dst, RS_TIME_MAX, "%s", now ? now : "");
        *has = true;
}

/* container_state_set_running(s, info, initial) */
static void set_running(struct rs_state *s, const struct rs_process *p, bool initial,
                        const char *now)
{
        s->has_error = false;
        s->running = true;
        s->starting = s->restarting = false;
        if (initial)
                s->paused = false;
        s->exit_code = 0;
        s->oom_killed = false;   /* deliberate: see sync.h */
        s->pid = p->pid;
        s->ppid = p->ppid;
        s->start_time = p->start_time;
        s->p_start_time = p->p_start_time;
        set_time(s->started_at, &s->has_started_at, now);
}

/* is_same_process(): all four of Pid, PPid, StartTime, PStartTime. */
static bool same_process(const struct rs_state *s, const struct rs_process *p)
{
        return s->pid == p->pid && s->ppid == p->ppid && s->start_time == p->start_time &&
               s->p_start_time == p->p_start_time;
}

/* restore_stopped_container() for S not in {STOPPED, CREATED}: GC + stopped(255). */
static void force_stop(const struct rs_sync_input *in, struct rs_sync_output *out)
{
        const struct rs_state *p = &in->persisted;

        out->rule = RS_SYNC_FORCE_STOPPED;
        out->to_gc = true;
        if (in->pid_alive) {
                out->gc.pid = p->pid;
                out->gc.start_time = p->start_time;
        }
        if (in->ppid_alive) {
                out->gc.ppid = p->ppid;
                out->gc.p_start_time = p->p_start_time;
        }
        rs_state_set_stopped(&out->state, 255, in->now);
}

/* The failure branch of restore_running/paused_container(): only the shim may still live. */
static void lose_process(const struct rs_sync_input *in, struct rs_sync_output *out)
{
        const struct rs_state *p = &in->persisted;

        out->rule = RS_SYNC_LOST_PROCESS;
        out->to_gc = true;
        if (in->ppid_alive) {
                out->gc.ppid = p->ppid;
                out->gc.p_start_time = p->p_start_time;
        }
        rs_state_set_stopped(&out->state, 255, in->now);
}

/* restore_running_container() / restore_paused_container() */
static void keep_alive(const struct rs_sync_input *in, struct rs_sync_output *out, bool paused)
{
        rs_status want = paused ? RS_STATUS_PAUSED : RS_STATUS_RUNNING;

        if (paused)
                out->state.paused = true;   /* container_state_set_paused() comes first */
        if (!in->identity_ok) {
                lose_process(in, out);
                return;
        }
        out->rule = paused ? RS_SYNC_PAUSED : RS_SYNC_RUNNING;
        if (out->before != want || !same_process(&in->persisted, &in->identity))
                set_running(&out->state, &in->identity, !paused, in->now);
        out->state.has_been_manually_stopped = false;
}

void rs_sync_decide(const struct rs_sync_input *in, struct rs_sync_output *out)
{
        rs_status r = in->runtime_failed ? RS_STATUS_STOPPED : in->runtime;

        *out = (struct rs_sync_output){ .state = in->persisted, .rule = RS_SYNC_IGNORED };
        out->before = rs_state_status(&in->persisted);
        if (r == RS_STATUS_STOPPED) {
                if (out->before == RS_STATUS_STOPPED || out->before == RS_STATUS_CREATED)
                        out->rule = RS_SYNC_KEEP_STOPPED;
                else
                        force_stop(in, out);
        } else if (r == RS_STATUS_RUNNING || r == RS_STATUS_PAUSED) {
                keep_alive(in, out, r == RS_STATUS_PAUSED);
        }
        /* iSulad resets a removal that crashed mid-way; the container comes back as it was */
        out->state.removal_inprogress = false;
        out->after = rs_state_status(&out->state);
        out->changed = !rs_state_equal(&in->persisted, &out->state);
}

/* Everything the table needs to know about the host. */
static void probe(const struct rs_container *c, const struct rs_runtime_status *st,
                  struct rs_sync_input *in)
{
        rs_runtime_kind kind = rs_runtime_classify(c->runtime);
        const struct rs_state *p = &c->state;

        in->persisted = *p;
        in->runtime = st->status;
        in->runtime_failed = st->failed;
        if (!st->failed && (st->status == RS_STATUS_RUNNING || st->status == RS_STATUS_PAUSED))
                in->identity_ok = rs_runtime_read_identity(kind, st->pid, &in->identity) == 0;
        in->pid_alive = rs_runtime_detect_process(kind, p->pid, p->start_time);
        in->ppid_alive = rs_proc_alive(p->ppid, p->p_start_time);
}

int rs_sync_container(const struct rs_sync_ctx *ctx, struct rs_container *c,
                      struct rs_sync_report *ret_report, struct rs_error *err)
{
        struct rs_runtime_status st;
        struct rs_sync_input in = { 0 };
        struct rs_sync_output out;
        char now[RS_TIME_BUF];
        int r;

        if (!c->id || !c->runtime)
                return rs_fail(err, -EINVAL, RS_REASON_INTERNAL, "sync: container without id");
        r = rs_runtime_status(&ctx->runtime, c->runtime, c->id, &c->state, &st, err);
        if (r < 0)
                return r;
        probe(c, &st, &in);
        if (ctx->now)
                in.now = ctx->now;
        else if (rs_time_format_now(now) == 0)
                in.now = now;
        else
                return rs_fail(err, -EINVAL, RS_REASON_INTERNAL, "sync: the clock is out of range");
        rs_sync_decide(&in, &out);
        c->state = out.state;
        *ret_report = (struct rs_sync_report){
                .before = out.before, .after = out.after, .rule = out.rule, .changed = out.changed,
                .to_gc = out.to_gc, .gc_process = out.gc, .runtime = st,
        };
        return 0;
}
