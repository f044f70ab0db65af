/*
 * test_sync.c - iSulad's restore_state() table (research/isulad-restore.md §3.3), row by row,
 * then rs_sync_container() against real processes and fake runtimes.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"
#include "statefile.h"
#include "sync.h"
#include "testutil.h"

#define NOW "2024-06-01T12:00:00.000000000+08:00"
#define T1 "2024-05-01T10:00:00.000000000+08:00"
#define T2 "2024-05-02T10:00:00.000000000+08:00"

/* The persisted identity in every row; "same" identities equal it. */
#define PID 100
#define PPID 90
#define START 1000
#define PSTART 900

static const struct rs_process same_id = { PID, PPID, START, PSTART };
static const struct rs_process other_id = { 200, 190, 2000, 1900 };
static const struct rs_process zeros;

/* A persisted state whose derived status is s (rs_state_status), with iSulad's usual fields. */
static struct rs_state persisted(rs_status s)
{
        struct rs_state st = { .pid = PID, .ppid = PPID, .start_time = START, .p_start_time = PSTART,
                               .has_started_at = true, .has_finished_at = true, .restart_count = 2,
                               .has_been_manually_stopped = true, .oom_killed = true, .has_error = true };

        strcpy(st.started_at, T1);
        strcpy(st.finished_at, RS_DEFAULT_TIME);
        switch (s) {
        case RS_STATUS_RUNNING:
                st.running = true;
                break;
        case RS_STATUS_PAUSED:
                st.running = st.paused = true;
                break;
        case RS_STATUS_RESTARTING:
                st.running = st.restarting = true;
                break;
        case RS_STATUS_STARTING:
                st.starting = true;
                break;
        case RS_STATUS_UNKNOWN:
                st.has_started_at = false;   /* no StartedAt: iSulad derives UNKNOWN */
                break;
        case RS_STATUS_CREATED:
                strcpy(st.started_at, RS_DEFAULT_TIME);
                break;
        case RS_STATUS_STOPPED:
                strcpy(st.finished_at, T2);
                st.exit_code = 137;
                break;
        }
        ck_assert_int_eq(rs_state_status(&st), s);
        return st;
}

typedef enum {
        E_UNCHANGED,     /* only RemovalInprogress may change */
        E_STOPPED,       /* set_stopped(255) */
        E_RUNNING_NEW,   /* set_running: new identity, StartedAt = now */
        E_RUNNING_KEPT,  /* same process: only Paused (for R paused) and the manual-stop flag */
} effect;

struct row {
        const char *name;
        rs_status s, r;
        bool failed, identity_ok, same, pid_alive, ppid_alive;
        rs_sync_rule rule;
        effect eff;
        struct rs_process gc;   /* expected GC pid info (to_gc is implied by the rule) */
        rs_status after;
};

#define R_STOPPED RS_STATUS_STOPPED
#define R_RUNNING RS_STATUS_RUNNING
#define R_PAUSED RS_STATUS_PAUSED

static const struct row rows[] = {
        /* R stopped (or the status call failed), S stopped or created: nothing happens */
        { "stopped container stays stopped when the runtime says stopped",
          RS_STATUS_STOPPED, R_STOPPED, false, false, false, false, false,
          RS_SYNC_KEEP_STOPPED, E_UNCHANGED, { 0 }, RS_STATUS_STOPPED },
        { "stopped container stays stopped when the status call fails",
          RS_STATUS_STOPPED, R_STOPPED, true, false, false, true, true,
          RS_SYNC_KEEP_STOPPED, E_UNCHANGED, { 0 }, RS_STATUS_STOPPED },
        { "created container stays created when the runtime says stopped",
          RS_STATUS_CREATED, R_STOPPED, false, false, false, false, false,
          RS_SYNC_KEEP_STOPPED, E_UNCHANGED, { 0 }, RS_STATUS_CREATED },
        { "created container stays created when the status call fails",
          RS_STATUS_CREATED, R_STOPPED, true, false, false, false, false,
          RS_SYNC_KEEP_STOPPED, E_UNCHANGED, { 0 }, RS_STATUS_CREATED },
        /* R stopped, S anything else: GC + stopped(255) */
        { "running container whose process died is force-stopped with exit 255",
          RS_STATUS_RUNNING, R_STOPPED, false, false, false, false, false,
          RS_SYNC_FORCE_STOPPED, E_STOPPED, { 0 }, RS_STATUS_STOPPED },
        { "running container whose shim survives is handed to GC with the shim",
          RS_STATUS_RUNNING, R_STOPPED, true, false, false, false, true,
          RS_SYNC_FORCE_STOPPED, E_STOPPED, { 0, PPID, 0, PSTART }, RS_STATUS_STOPPED },
        { "running container alive without its shim is handed to GC with its process",
          RS_STATUS_RUNNING, R_STOPPED, true, false, false, true, false,
          RS_SYNC_FORCE_STOPPED, E_STOPPED, { PID, 0, START, 0 }, RS_STATUS_STOPPED },
        { "running container with process and shim alive is handed to GC with both",
          RS_STATUS_RUNNING, R_STOPPED, false, false, false, true, true,
          RS_SYNC_FORCE_STOPPED, E_STOPPED, { PID, PPID, START, PSTART }, RS_STATUS_STOPPED },
        { "running container whose pid was reused is reported stopped",
          /* the pid exists but with another start time: pid_alive is false, never the container */
          RS_STATUS_RUNNING, R_STOPPED, true, false, false, false, false,
          RS_SYNC_FORCE_STOPPED, E_STOPPED, { 0 }, RS_STATUS_STOPPED },
        { "paused container whose process died is force-stopped and no longer paused",
          RS_STATUS_PAUSED, R_STOPPED, false, false, false, false, false,
          RS_SYNC_FORCE_STOPPED, E_STOPPED, { 0 }, RS_STATUS_STOPPED },
        { "restarting container found stopped is force-stopped (the restart died with the daemon)",
          RS_STATUS_RESTARTING, R_STOPPED, false, false, false, false, false,
          RS_SYNC_FORCE_STOPPED, E_STOPPED, { 0 }, RS_STATUS_STOPPED },
        { "starting container found stopped is force-stopped",
          RS_STATUS_STARTING, R_STOPPED, true, false, false, false, false,
          RS_SYNC_FORCE_STOPPED, E_STOPPED, { 0 }, RS_STATUS_STOPPED },
        { "unknown-status container found stopped is force-stopped and settles as stopped",
          /* iSulad would leave StartedAt absent (still UNKNOWN, stopped again at every
           * restore); rs_state_set_stopped() records the "never" time instead */
          RS_STATUS_UNKNOWN, R_STOPPED, false, false, false, false, false,
          RS_SYNC_FORCE_STOPPED, E_STOPPED, { 0 }, RS_STATUS_STOPPED },
        { "a failed status call counts as stopped whatever status it carried",
          RS_STATUS_RUNNING, R_RUNNING, true, true, true, false, false,
          RS_SYNC_FORCE_STOPPED, E_STOPPED, { 0 }, RS_STATUS_STOPPED },
        /* R running */
        { "running container still running as the same process keeps its StartedAt",
          RS_STATUS_RUNNING, R_RUNNING, false, true, true, true, true,
          RS_SYNC_RUNNING, E_RUNNING_KEPT, { 0 }, RS_STATUS_RUNNING },
        { "running container now running as another process takes the new identity",
          RS_STATUS_RUNNING, R_RUNNING, false, true, false, false, true,
          RS_SYNC_RUNNING, E_RUNNING_NEW, { 0 }, RS_STATUS_RUNNING },
        { "stopped container found running is marked running with StartedAt now",
          RS_STATUS_STOPPED, R_RUNNING, false, true, true, false, false,
          RS_SYNC_RUNNING, E_RUNNING_NEW, { 0 }, RS_STATUS_RUNNING },
        { "created container found running is marked running",
          RS_STATUS_CREATED, R_RUNNING, false, true, false, false, false,
          RS_SYNC_RUNNING, E_RUNNING_NEW, { 0 }, RS_STATUS_RUNNING },
        { "paused container found running (unpaused while down) is running, not paused",
          RS_STATUS_PAUSED, R_RUNNING, false, true, true, true, true,
          RS_SYNC_RUNNING, E_RUNNING_NEW, { 0 }, RS_STATUS_RUNNING },
        { "running container whose process cannot be read is force-stopped, shim to GC",
          RS_STATUS_RUNNING, R_RUNNING, false, false, false, true, true,
          RS_SYNC_LOST_PROCESS, E_STOPPED, { 0, PPID, 0, PSTART }, RS_STATUS_STOPPED },
        /* R paused */
        { "paused container still paused as the same process keeps its StartedAt",
          RS_STATUS_PAUSED, R_PAUSED, false, true, true, true, true,
          RS_SYNC_PAUSED, E_RUNNING_KEPT, { 0 }, RS_STATUS_PAUSED },
        { "running container found paused becomes paused with StartedAt now",
          RS_STATUS_RUNNING, R_PAUSED, false, true, true, true, true,
          RS_SYNC_PAUSED, E_RUNNING_NEW, { 0 }, RS_STATUS_PAUSED },
        { "paused container found paused as another process takes the new identity",
          RS_STATUS_PAUSED, R_PAUSED, false, true, false, false, false,
          RS_SYNC_PAUSED, E_RUNNING_NEW, { 0 }, RS_STATUS_PAUSED },
        { "paused container whose process cannot be read is force-stopped",
          RS_STATUS_PAUSED, R_PAUSED, false, false, false, false, false,
          RS_SYNC_LOST_PROCESS, E_STOPPED, { 0 }, RS_STATUS_STOPPED },
        /* R created / unknown: iSulad only logs */
        { "container the runtime calls created is left untouched",
          RS_STATUS_RUNNING, RS_STATUS_CREATED, false, false, false, false, false,
          RS_SYNC_IGNORED, E_UNCHANGED, { 0 }, RS_STATUS_RUNNING },
        { "container the runtime cannot classify is left untouched",
          RS_STATUS_STOPPED, RS_STATUS_UNKNOWN, false, false, false, false, false,
          RS_SYNC_IGNORED, E_UNCHANGED, { 0 }, RS_STATUS_STOPPED },
};

static void assert_tuple(const struct rs_state *s, const struct rs_process *p, const char *name)
{
        ck_assert_msg(s->pid == p->pid && s->ppid == p->ppid && s->start_time == p->start_time &&
                              s->p_start_time == p->p_start_time,
                      "%s: tuple %d/%d/%llu/%llu", name, s->pid, s->ppid,
                      (unsigned long long)s->start_time, (unsigned long long)s->p_start_time);
}

static void check_stopped(const struct row *w, const struct rs_state *in, const struct rs_state *o)
{
        ck_assert_msg(!o->running && !o->paused && !o->restarting && !o->starting, "%s", w->name);
        ck_assert_msg(o->exit_code == 255, "%s: exit code %d", w->name, o->exit_code);
        assert_tuple(o, &zeros, w->name);
        ck_assert_str_eq(o->finished_at, NOW);
        /* set_stopped touches nothing else: the real exit code is lost, as in iSulad; an
         * absent StartedAt becomes the "never" time so the status derives as stopped */
        ck_assert(o->has_started_at);
        ck_assert_str_eq(o->started_at, in->has_started_at ? in->started_at : RS_DEFAULT_TIME);
        ck_assert_msg(o->has_been_manually_stopped == in->has_been_manually_stopped, "%s", w->name);
        ck_assert_msg(o->restart_count == in->restart_count, "%s", w->name);
}

static void check_running(const struct row *w, const struct rs_state *in, const struct rs_state *o)
{
        bool paused = w->r == R_PAUSED;

        ck_assert_msg(o->running && !o->restarting && !o->starting && o->paused == paused, "%s", w->name);
        ck_assert_msg(!o->has_been_manually_stopped, "%s: manual-stop flag kept", w->name);
        if (w->eff == E_RUNNING_KEPT) {
                struct rs_state want = *in;
                want.has_been_manually_stopped = false;
                want.paused = paused;
                ck_assert_msg(rs_state_equal(o, &want), "%s: more than the flag changed", w->name);
                return;
        }
        ck_assert_msg(o->exit_code == 0 && !o->oom_killed && !o->has_error, "%s", w->name);
        assert_tuple(o, w->same ? &same_id : &other_id, w->name);
        ck_assert_str_eq(o->started_at, NOW);
        ck_assert_str_eq(o->finished_at, in->finished_at);
}

START_TEST(transition_table_row)
{
        const struct row *w = &rows[_i];
        struct rs_sync_input in = {
                .persisted = persisted(w->s), .runtime = w->r, .runtime_failed = w->failed,
                .identity_ok = w->identity_ok, .identity = w->same ? same_id : other_id,
                .pid_alive = w->pid_alive, .ppid_alive = w->ppid_alive, .now = NOW,
        };
        struct rs_sync_output out;
        bool to_gc = w->rule == RS_SYNC_FORCE_STOPPED || w->rule == RS_SYNC_LOST_PROCESS;

        rs_sync_decide(&in, &out);
        ck_assert_msg(out.rule == w->rule, "%s: rule %s", w->name, rs_sync_rule_name(out.rule));
        ck_assert_msg(out.before == w->s, "%s: before %d", w->name, out.before);
        ck_assert_msg(out.after == w->after, "%s: after %d", w->name, out.after);
        ck_assert_msg(out.to_gc == to_gc, "%s: to_gc %d", w->name, out.to_gc);
        ck_assert_msg(out.gc.pid == w->gc.pid && out.gc.ppid == w->gc.ppid &&
                              out.gc.start_time == w->gc.start_time &&
                              out.gc.p_start_time == w->gc.p_start_time,
                      "%s: gc %d/%d/%llu/%llu", w->name, out.gc.pid, out.gc.ppid,
                      (unsigned long long)out.gc.start_time, (unsigned long long)out.gc.p_start_time);
        ck_assert_msg(!out.state.removal_inprogress, "%s", w->name);
        switch (w->eff) {
        case E_UNCHANGED:
                ck_assert_msg(rs_state_equal(&out.state, &in.persisted) && !out.changed, "%s", w->name);
                break;
        case E_STOPPED:
                check_stopped(w, &in.persisted, &out.state);
                ck_assert(out.changed);
                break;
        case E_RUNNING_NEW:
        case E_RUNNING_KEPT:
                check_running(w, &in.persisted, &out.state);
                break;
        }
}
END_TEST

START_TEST(removal_in_progress_is_always_cleared)
{
        static const rs_status rs[] = { R_STOPPED, R_RUNNING, R_PAUSED, RS_STATUS_CREATED, RS_STATUS_UNKNOWN };
        struct rs_sync_output out;

        for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
                struct rs_sync_input in = { .persisted = persisted(RS_STATUS_STOPPED), .runtime = rs[i],
                                            .identity_ok = true, .identity = same_id, .now = NOW };
                in.persisted.removal_inprogress = true;
                rs_sync_decide(&in, &out);
                ck_assert(!out.state.removal_inprogress);
                ck_assert(out.changed);
        }
}
END_TEST

START_TEST(unchanged_running_container_reports_no_change)
{
        struct rs_sync_input in = { .persisted = persisted(RS_STATUS_RUNNING), .runtime = R_RUNNING,
                                    .identity_ok = true, .identity = same_id, .now = NOW };
        struct rs_sync_output out;

        /* a second restore over an unchanged host: nothing to write */
        in.persisted.has_been_manually_stopped = false;
        rs_sync_decide(&in, &out);
        ck_assert_int_eq(out.rule, RS_SYNC_RUNNING);
        ck_assert(!out.changed);
        ck_assert_str_eq(out.state.started_at, T1);
}
END_TEST

/* ---- rs_sync_container against the host ------------------------------------------------- */

#define ID "feedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedface"

static char *root, *state, *fake;
static struct rs_runtime_bin bin;
static struct rs_sync_ctx ctx;
static struct rs_container c;
static pid_t child;
static struct rs_process child_id;

static void setup(void)
{
        root = tu_mkdtemp();
        state = tu_path(root, "state");
        fake = tu_path(root, "fake-runc");
        tu_mkdir_p(root, "state");
        bin = (struct rs_runtime_bin){ .name = "runc", .path = fake };
        ctx = (struct rs_sync_ctx){ .runtime = { .state_root = state, .bins = &bin, .n_bins = 1,
                                                 .timeout_ms = 2000 }, .now = NOW };
        c = (struct rs_container){ .runtime = (char *)"runc", .id = (char *)ID };
        child = fork();
        /* the child never asserts: it shares Check's message file with the test */
        if (child == 0) {
                pause();
                _exit(0);
        }
        ck_assert_int_ge(child, 0);
        ck_assert_int_eq(rs_proc_read_identity(child, &child_id), 0);
}

static void teardown(void)
{
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        tu_rm_rf(root);
        free(state);
        free(fake);
        free(root);
}

static void fake_runtime(const char *body)
{
        char *text = NULL;

        ck_assert_int_gt(asprintf(&text, "#!/bin/sh\n%s\n", body), 0);
        tu_write(root, "fake-runc", text);
        free(text);
        ck_assert_int_eq(chmod(fake, 0755), 0);
}

static void shim_alive(void)
{
        char pid[32];

        snprintf(pid, sizeof(pid), "%d", getpid());
        tu_write(state, "runc/" ID "/shim-pid", pid);
}

static void persist_running_as(const struct rs_process *p)
{
        c.state = persisted(RS_STATUS_RUNNING);
        c.state.pid = p->pid;
        c.state.ppid = p->ppid;
        c.state.start_time = p->start_time;
        c.state.p_start_time = p->p_start_time;
}

START_TEST(after_host_reboot_running_container_is_stopped_and_its_live_process_goes_to_gc)
{
        struct rs_sync_report rep;
        struct rs_error err = { 0 };

        /* <state> is empty, as after a reboot; the recorded process happens to be alive */
        fake_runtime("echo '{\"status\":\"running\",\"pid\":1}'");
        persist_running_as(&child_id);
        ck_assert_int_eq(rs_sync_container(&ctx, &c, &rep, &err), 0);
        ck_assert(rep.runtime.failed);
        ck_assert_int_eq(rep.rule, RS_SYNC_FORCE_STOPPED);
        ck_assert(rep.to_gc && rep.changed);
        ck_assert_int_eq(rep.before, RS_STATUS_RUNNING);
        ck_assert_int_eq(rep.after, RS_STATUS_STOPPED);
        ck_assert_int_eq(rep.gc_process.pid, child);
        ck_assert_uint_eq(rep.gc_process.start_time, child_id.start_time);
        ck_assert_int_eq(rep.gc_process.ppid, getpid());
        ck_assert_int_eq(c.state.exit_code, 255);
        ck_assert_str_eq(c.state.finished_at, NOW);
}
END_TEST

START_TEST(recorded_pid_reused_by_another_process_is_not_the_container)
{
        struct rs_sync_report rep;
        struct rs_error err = { 0 };
        struct rs_process reused = child_id;

        fake_runtime("exit 1");
        shim_alive();
        reused.start_time += 7;   /* same pid number, different process */
        reused.ppid = 1;          /* and a parent that is long gone */
        reused.p_start_time = 1;
        persist_running_as(&reused);
        ck_assert_int_eq(rs_sync_container(&ctx, &c, &rep, &err), 0);
        ck_assert_int_eq(rep.rule, RS_SYNC_FORCE_STOPPED);
        ck_assert_int_eq(rep.gc_process.pid, 0);
        ck_assert_int_eq(rep.gc_process.start_time, 0);
        ck_assert_int_eq(c.state.pid, 0);
        ck_assert(!c.state.running);
}
END_TEST

START_TEST(hung_runtime_fails_only_this_container_and_changes_nothing)
{
        struct rs_sync_report rep;
        struct rs_error err = { 0 };
        struct rs_state before;

        fake_runtime("exec sleep 30");
        shim_alive();
        persist_running_as(&child_id);
        before = c.state;
        ctx.runtime.timeout_ms = 200;
        ck_assert_int_eq(rs_sync_container(&ctx, &c, &rep, &err), -ETIME);
        ck_assert_int_eq(err.reason, RS_REASON_RUNTIME_TIMEOUT);
        ck_assert(strstr(err.msg, "no answer within 0.2 s"));
        ck_assert(rs_state_equal(&c.state, &before));
}
END_TEST

START_TEST(running_container_still_running_is_left_unchanged)
{
        struct rs_sync_report rep;
        struct rs_error err = { 0 };
        char body[128];

        snprintf(body, sizeof(body), "echo '{\"status\":\"running\",\"pid\":%d}'", child);
        fake_runtime(body);
        shim_alive();
        persist_running_as(&child_id);
        c.state.has_been_manually_stopped = false;
        ck_assert_int_eq(rs_sync_container(&ctx, &c, &rep, &err), 0);
        ck_assert_int_eq(rep.rule, RS_SYNC_RUNNING);
        ck_assert(!rep.changed && !rep.to_gc);
        ck_assert_str_eq(c.state.started_at, T1);
}
END_TEST

START_TEST(running_container_with_a_new_process_takes_its_identity_from_proc)
{
        struct rs_sync_report rep;
        struct rs_error err = { 0 };
        char body[128];

        snprintf(body, sizeof(body), "echo '{\"status\":\"running\",\"pid\":%d}'", child);
        fake_runtime(body);
        shim_alive();
        persist_running_as(&other_id);
        ck_assert_int_eq(rs_sync_container(&ctx, &c, &rep, &err), 0);
        ck_assert(rep.changed);
        ck_assert_int_eq(c.state.pid, child);
        ck_assert_int_eq(c.state.ppid, getpid());
        ck_assert_uint_eq(c.state.start_time, child_id.start_time);
        ck_assert_uint_eq(c.state.p_start_time, child_id.p_start_time);
        ck_assert_str_eq(c.state.started_at, NOW);
}
END_TEST

START_TEST(runtime_pid_that_is_gone_means_lost_process)
{
        struct rs_sync_report rep;
        struct rs_error err = { 0 };
        pid_t gone = fork();
        char body[128];

        /* the child never asserts: it shares Check's message file with the test */
        if (gone == 0)
                _exit(0);
        ck_assert_int_ge(gone, 0);
        waitpid(gone, NULL, 0);
        snprintf(body, sizeof(body), "echo '{\"status\":\"paused\",\"pid\":%d}'", gone);
        fake_runtime(body);
        shim_alive();
        persist_running_as(&child_id);
        ck_assert_int_eq(rs_sync_container(&ctx, &c, &rep, &err), 0);
        ck_assert_int_eq(rep.rule, RS_SYNC_LOST_PROCESS);
        ck_assert(rep.to_gc);
        ck_assert(!c.state.running && !c.state.paused);
        ck_assert_int_eq(c.state.exit_code, 255);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("sync");
        TCase *table = tcase_create("table"), *host = tcase_create("host");

        tcase_add_loop_test(table, transition_table_row, 0, (int)(sizeof(rows) / sizeof(rows[0])));
        tcase_add_test(table, removal_in_progress_is_always_cleared);
        tcase_add_test(table, unchanged_running_container_reports_no_change);
        tcase_add_checked_fixture(host, setup, teardown);
        tcase_add_test(host, after_host_reboot_running_container_is_stopped_and_its_live_process_goes_to_gc);
        tcase_add_test(host, recorded_pid_reused_by_another_process_is_not_the_container);
        tcase_add_test(host, hung_runtime_fails_only_this_container_and_changes_nothing);
        tcase_add_test(host, running_container_still_running_is_left_unchanged);
        tcase_add_test(host, running_container_with_a_new_process_takes_its_identity_from_proc);
        tcase_add_test(host, runtime_pid_that_is_gone_means_lost_process);
        suite_add_tcase(s, table);
        suite_add_tcase(s, host);
        return s;
}

int main(void)
{
        return tu_run_suite(suite());
}
