/*
 * test_handle.c - the handle stage over real exit FIFOs (mkfifo) and real processes (fork).
 *
 * The test process plays the shim: the container process is a forked child, so the recorded
 * (PPid, PStartTime) is ours and (Pid, StartTime) are the child's, read from /proc.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "handle.h"
#include "procfs.h"
#include "restart.h"
#include "testutil.h"

#define ID      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define NOW     "2025-01-02T03:04:05.123456789Z"
#define STARTED "2024-12-31T23:00:00.000000000Z"
#define NEVER_STARTED                                                                                       \
        "never started: restored does not start a created container (deliberate difference "                \
        "from iSulad)"

static char *root, *state_root, *fifo_path;
static pid_t child = -1;
static struct rs_process child_proc;

static pid_t spawn_sleeper(struct rs_process *ret)
{
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                for (;;)
                        pause();
        }
        /* /proc/<pid>/stat exists from fork on; the start time does not change at exec. */
        ck_assert_int_eq(rs_proc_read_identity(pid, ret), 0);
        ck_assert_int_eq(ret->ppid, getpid());
        return pid;
}

static void reap(pid_t pid)
{
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

static void setup(void)
{
        root = tu_mkdtemp();
        state_root = tu_path(root, "state");
        tu_mkdir_p(root, "state/runc/" ID);
        fifo_path = tu_path(root, "state/runc/" ID "/exit_fifo");
        child = spawn_sleeper(&child_proc);
}

static void teardown(void)
{
        if (child > 0)
                reap(child);
        child = -1;
        tu_rm_rf(root);
        free(fifo_path);
        free(state_root);
        free(root);
}

static void make_fifo(void)
{
        ck_assert_msg(mkfifo(fifo_path, 0600) == 0, "mkfifo: %m");
}

/* A container as sync leaves it; strings are literals (handle never frees them). */
static struct rs_container container(const char *policy)
{
        struct rs_container c = {
            .runtime = "runc",
            .dir_name = ID,
            .id = ID,
            .name = "/web",
            .restart_policy = (char *)policy,
        };

        c.state.has_started_at = c.state.has_finished_at = true;
        strcpy(c.state.started_at, STARTED);
        strcpy(c.state.finished_at, RS_DEFAULT_TIME);
        c.state.restart_count = 0;
        return c;
}

static void set_running(struct rs_container *c, const struct rs_process *p)
{
        c->state.running = true;
        c->state.pid = p->pid;
        c->state.ppid = p->ppid;
        c->state.start_time = p->start_time;
        c->state.p_start_time = p->p_start_time;
}

static void set_exited(struct rs_container *c, int exit_code)
{
        c->state.exit_code = exit_code;
        strcpy(c->state.finished_at, "2025-01-01T00:00:00.000000000Z");
}

static struct rs_handle_ctx ctx_for(atomic_uint *index)
{
        return (struct rs_handle_ctx){
            .state_root = state_root,
            .restart_index = index,
            .max_parallel_restarts = 4,
            .now = NOW,
        };
}

/* ---------------------------------------------------------------- the order, as a table -- */

enum st_kind { ST_RUNNING, ST_PAUSED, ST_STOPPED, ST_CREATED };
enum fifo_kind { FIFO_OK, FIFO_MISSING, FIFO_REGULAR, FIFO_SYMLINK, FIFO_DIR };
enum proc_kind { PROC_ALIVE, PROC_REPLACED, PROC_GONE };

struct handle_row {
        const char *what;
        enum st_kind st;
        enum fifo_kind fifo;
        enum proc_kind proc;
        bool in_gc;
        const char *policy;
        bool auto_remove_bak;
        int exit_code;
        /* expected */
        rs_action action;
        rs_status status;
        int exit_after;
        bool to_gc;
        bool restart;
        int64_t delay_ms;
        const char *reason;
};

#define REATTACHED "running: the restart policy applies when it exits"

static const struct handle_row rows[] = {
    {"running with its FIFO and process is re-attached", ST_RUNNING, FIFO_OK, PROC_ALIVE, false, "always",
     false, 0, RS_ACTION_REATTACH, RS_STATUS_RUNNING, 0, false, false, 0, REATTACHED},
    {"paused is re-attached and stays paused", ST_PAUSED, FIFO_OK, PROC_ALIVE, false, "always", false, 0,
     RS_ACTION_REATTACH, RS_STATUS_PAUSED, 0, false, false, 0, REATTACHED},
    {"running with AutoRemove is still re-attached", ST_RUNNING, FIFO_OK, PROC_ALIVE, false, NULL, true, 0,
     RS_ACTION_REATTACH, RS_STATUS_RUNNING, 0, false, false, 0, REATTACHED},
    {"FIFO missing: stopped 255 and handed to GC", ST_RUNNING, FIFO_MISSING, PROC_ALIVE, false, "always",
     false, 0, RS_ACTION_SKIP_GC, RS_STATUS_STOPPED, 255, true, true, RS_RESTART_GC_BACKOFF_MS,
     "after GC: policy always: restart"},
    {"FIFO is a regular file: stopped", ST_RUNNING, FIFO_REGULAR, PROC_ALIVE, false, "no", false, 0,
     RS_ACTION_SKIP_GC, RS_STATUS_STOPPED, 255, true, false, 0, "after GC: no restart policy"},
    {"FIFO is a symlink to a FIFO: stopped (lstat)", ST_RUNNING, FIFO_SYMLINK, PROC_ALIVE, false, NULL,
     false, 0, RS_ACTION_SKIP_GC, RS_STATUS_STOPPED, 255, true, false, 0, "after GC: no restart policy"},
    {"FIFO is a directory: stopped", ST_RUNNING, FIFO_DIR, PROC_ALIVE, false, NULL, false, 0,
     RS_ACTION_SKIP_GC, RS_STATUS_STOPPED, 255, true, false, 0, "after GC: no restart policy"},
    {"pid reused by another process: not re-attached", ST_RUNNING, FIFO_OK, PROC_REPLACED, false,
     "on-failure", false, 0, RS_ACTION_SKIP_GC, RS_STATUS_STOPPED, 255, true, true, RS_RESTART_GC_BACKOFF_MS,
     "after GC: policy on-failure: exit code 255, restart 1 (no maximum)"},
    {"process gone: not re-attached", ST_RUNNING, FIFO_OK, PROC_GONE, false, "unless-stopped", false, 0,
     RS_ACTION_SKIP_GC, RS_STATUS_STOPPED, 255, true, true, RS_RESTART_GC_BACKOFF_MS,
     "after GC: policy unless-stopped: restart"},
    {"paused with its process replaced: not re-attached", ST_PAUSED, FIFO_OK, PROC_REPLACED, false, NULL,
     false, 0, RS_ACTION_SKIP_GC, RS_STATUS_STOPPED, 255, true, false, 0, "after GC: no restart policy"},
    {"in GC: skipped before the FIFO is even looked at", ST_RUNNING, FIFO_MISSING, PROC_ALIVE, true,
     "always", false, 0, RS_ACTION_SKIP_GC, RS_STATUS_RUNNING, 0, false, true, RS_RESTART_GC_BACKOFF_MS,
     "after GC: policy always: restart"},
    {"in GC: the decision GC applies afterwards", ST_STOPPED, FIFO_MISSING, PROC_GONE, true, "on-failure",
     false, 255, RS_ACTION_SKIP_GC, RS_STATUS_STOPPED, 255, false, true, RS_RESTART_GC_BACKOFF_MS,
     "after GC: policy on-failure: exit code 255, restart 1 (no maximum)"},
    {"in GC: GC restarts before it auto-removes, as iSulad", ST_STOPPED, FIFO_MISSING, PROC_GONE, true,
     "always", true, 255, RS_ACTION_SKIP_GC, RS_STATUS_STOPPED, 255, false, true, RS_RESTART_GC_BACKOFF_MS,
     "after GC: policy always: restart"},
    {"in GC without a policy", ST_STOPPED, FIFO_MISSING, PROC_GONE, true, NULL, false, 255,
     RS_ACTION_SKIP_GC, RS_STATUS_STOPPED, 255, false, false, 0, "after GC: no restart policy"},
    {"stopped with always: restart after 5 s", ST_STOPPED, FIFO_MISSING, PROC_GONE, false, "always", false,
     0, RS_ACTION_RESTART, RS_STATUS_STOPPED, 0, false, true, 5000, "policy always: restart"},
    {"stopped without a policy: kept stopped", ST_STOPPED, FIFO_MISSING, PROC_GONE, false, "no", false, 137,
     RS_ACTION_KEEP_STOPPED, RS_STATUS_STOPPED, 137, false, false, 0, "no restart policy"},
    {"stopped, on-failure, exit 0: kept stopped", ST_STOPPED, FIFO_MISSING, PROC_GONE, false, "on-failure",
     false, 0, RS_ACTION_KEEP_STOPPED, RS_STATUS_STOPPED, 0, false, false, 0,
     "policy on-failure: exit code 0 is not a failure"},
    {"auto-remove takes precedence over always", ST_STOPPED, FIFO_MISSING, PROC_GONE, false, "always", true,
     1, RS_ACTION_AUTO_REMOVE, RS_STATUS_STOPPED, 1, false, false, 0,
     "auto-remove takes precedence over the restart policy"},
    {"created with always is never started", ST_CREATED, FIFO_MISSING, PROC_GONE, false, "always", false, 0,
     RS_ACTION_KEEP_STOPPED, RS_STATUS_CREATED, 0, false, false, 0, NEVER_STARTED},
    {"created with AutoRemove is removed, as iSulad", ST_CREATED, FIFO_MISSING, PROC_GONE, false, "always",
     true, 0, RS_ACTION_AUTO_REMOVE, RS_STATUS_CREATED, 0, false, false, 0,
     "auto-remove takes precedence over the restart policy"},
};

static void make_fifo_kind(enum fifo_kind kind)
{
        _cleanup_free_ char *real = tu_path(root, "state/elsewhere_fifo");

        switch (kind) {
        case FIFO_OK:
                make_fifo();
                break;
        case FIFO_MISSING:
                break;
        case FIFO_REGULAR:
                tu_write(root, "state/runc/" ID "/exit_fifo", "");
                break;
        case FIFO_SYMLINK:
                ck_assert_int_eq(mkfifo(real, 0600), 0);
                ck_assert_int_eq(symlink(real, fifo_path), 0);
                break;
        case FIFO_DIR:
                tu_mkdir_p(root, "state/runc/" ID "/exit_fifo");
                break;
        }
}

static void set_row_state(const struct handle_row *row, struct rs_container *c)
{
        struct rs_process p = child_proc;
        struct rs_process gone;

        if (row->proc == PROC_REPLACED)
                p.start_time += 1;
        if (row->proc == PROC_GONE) {
                pid_t pid = spawn_sleeper(&gone);
                reap(pid);
                p.pid = gone.pid;
                p.start_time = gone.start_time;
        }
        if (row->st == ST_RUNNING || row->st == ST_PAUSED) {
                set_running(c, &p);
                c->state.paused = row->st == ST_PAUSED;
        } else if (row->st == ST_STOPPED) {
                set_exited(c, row->exit_code);
        } else {
                strcpy(c->state.started_at, RS_DEFAULT_TIME);
        }
}

START_TEST(handle_order_table)
{
        const struct handle_row *row = &rows[_i];
        struct rs_container c = container(row->policy);
        atomic_uint index = 0;
        struct rs_handle_ctx ctx = ctx_for(&index);
        struct rs_handle_report rep;

        make_fifo_kind(row->fifo);
        set_row_state(row, &c);
        c.auto_remove_bak = row->auto_remove_bak;
        ctx.in_gc = row->in_gc;

        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
        ck_assert_msg(rep.action == row->action, "%s: action %s", row->what, rs_action_name(rep.action));
        ck_assert_msg(rep.status == row->status, "%s: status %s", row->what, rs_status_name(rep.status));
        ck_assert_msg(rs_state_status(&c.state) == row->status, "%s: state not applied", row->what);
        ck_assert_int_eq(rep.exit_code, row->exit_after);
        ck_assert_int_eq(rep.to_gc, row->to_gc);
        ck_assert_msg(rep.restart.should_restart == row->restart, "%s: should_restart", row->what);
        ck_assert_int_eq(rep.restart.delay_ms, row->delay_ms);
        ck_assert_msg(strcmp(rep.restart.reason, row->reason) == 0, "%s: reason \"%s\"", row->what,
                      rep.restart.reason);
        ck_assert_int_eq(rep.auto_remove, row->auto_remove_bak);
        ck_assert_int_eq(rep.restart.max_retry, 0);
        if (row->policy)
                ck_assert_str_eq(rep.restart.policy, row->policy);
        else
                ck_assert_ptr_null(rep.restart.policy);
        ck_assert_int_eq(index, row->action == RS_ACTION_RESTART ? 1 : 0);
        ck_assert_msg(rep.note[0], "%s: no note", row->what);
        rs_handle_report_done(&rep);
}
END_TEST

/* ----------------------------------------------------------------------------- reattach -- */

START_TEST(reattach_reports_the_fifo_and_the_same_process)
{
        struct rs_container c = container("always");
        struct rs_container before;
        struct rs_handle_ctx ctx = ctx_for(NULL);
        struct rs_handle_report rep;

        make_fifo();
        set_running(&c, &child_proc);
        before = c;
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
        ck_assert_int_eq(rep.action, RS_ACTION_REATTACH);
        ck_assert_str_eq(rep.exit_fifo, fifo_path);
        ck_assert_int_eq(rep.process.pid, child_proc.pid);
        ck_assert_int_eq(rep.process.ppid, child_proc.ppid);
        ck_assert_uint_eq(rep.process.start_time, child_proc.start_time);
        ck_assert_uint_eq(rep.process.p_start_time, child_proc.p_start_time);
        ck_assert(!rep.to_gc);
        ck_assert(!rep.state_changed);
        ck_assert_int_eq(memcmp(&before.state, &c.state, sizeof(c.state)), 0);
        rs_handle_report_done(&rep);
}
END_TEST

START_TEST(reattach_leaves_no_reader_on_the_fifo)
{
        struct rs_container c = container(NULL);
        struct rs_handle_ctx ctx = ctx_for(NULL);
        struct rs_handle_report rep;
        int fd;

        make_fifo();
        set_running(&c, &child_proc);
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
        ck_assert_int_eq(rep.action, RS_ACTION_REATTACH);
        /* A non-blocking writer open fails with ENXIO exactly when no reader has it open. */
        fd = open(fifo_path, O_WRONLY | O_NONBLOCK);
        ck_assert_int_eq(fd, -1);
        ck_assert_int_eq(errno, ENXIO);
        rs_handle_report_done(&rep);
}
END_TEST

START_TEST(reattach_does_not_consume_an_exit_code_waiting_in_the_fifo)
{
        struct rs_container c = container(NULL);
        struct rs_handle_ctx ctx = ctx_for(NULL);
        struct rs_handle_report rep;
        int rd, wr, code = 137, got = 0;

        make_fifo();
        set_running(&c, &child_proc);
        rd = open(fifo_path, O_RDONLY | O_NONBLOCK); /* the supervisor's read end */
        wr = open(fifo_path, O_WRONLY | O_NONBLOCK); /* the shim's write end */
        ck_assert_int_ge(rd, 0);
        ck_assert_int_ge(wr, 0);
        ck_assert_int_eq(write(wr, &code, sizeof(code)), (ssize_t)sizeof(code));
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
        ck_assert_int_eq(rep.action, RS_ACTION_REATTACH);
        ck_assert_int_eq(read(rd, &got, sizeof(got)), (ssize_t)sizeof(got));
        ck_assert_int_eq(got, 137);
        close(wr);
        close(rd);
        rs_handle_report_done(&rep);
}
END_TEST

/* --------------------------------------------------------------------------- forced stop -- */

START_TEST(fifo_missing_stops_the_container_as_isulad_does)
{
        struct rs_container c = container(NULL);
        struct rs_handle_ctx ctx = ctx_for(NULL);
        struct rs_handle_report rep;

        set_running(&c, &child_proc);
        c.state.exit_code = 0;
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
        ck_assert_int_eq(rep.action, RS_ACTION_SKIP_GC);
        ck_assert(rep.to_gc);
        ck_assert(rep.state_changed);
        ck_assert_ptr_null(rep.exit_fifo);
        ck_assert(!c.state.running);
        ck_assert(!c.state.paused);
        ck_assert_int_eq(c.state.exit_code, 255);
        ck_assert_int_eq(c.state.pid, 0);
        ck_assert_int_eq(c.state.ppid, 0);
        ck_assert_uint_eq(c.state.start_time, 0);
        ck_assert_uint_eq(c.state.p_start_time, 0);
        ck_assert_str_eq(c.state.finished_at, NOW);
        ck_assert_int_eq(rep.process.pid, 0);
        ck_assert_ptr_nonnull(strstr(rep.note, "exit_fifo"));
        rs_handle_report_done(&rep);
}
END_TEST

START_TEST(gc_gets_the_parts_of_the_identity_still_alive)
{
        struct rs_container c = container(NULL);
        struct rs_handle_ctx ctx = ctx_for(NULL);
        struct rs_handle_report rep;

        /* FIFO missing, process alive: GC gets both the process and its parent. */
        set_running(&c, &child_proc);
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
        ck_assert_int_eq(rep.gc_process.pid, child_proc.pid);
        ck_assert_uint_eq(rep.gc_process.start_time, child_proc.start_time);
        ck_assert_int_eq(rep.gc_process.ppid, getpid());
        ck_assert_uint_eq(rep.gc_process.p_start_time, child_proc.p_start_time);
        rs_handle_report_done(&rep);
}
END_TEST

START_TEST(a_replaced_pid_is_never_handed_to_gc_as_the_container)
{
        struct rs_container c = container(NULL);
        struct rs_process other = child_proc;
        struct rs_handle_ctx ctx = ctx_for(NULL);
        struct rs_handle_report rep;

        make_fifo();
        other.start_time += 7;
        other.p_start_time += 7;
        set_running(&c, &other);
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
        ck_assert_int_eq(rep.action, RS_ACTION_SKIP_GC);
        ck_assert(rep.to_gc);
        ck_assert_int_eq(rep.gc_process.pid, 0);
        ck_assert_int_eq(rep.gc_process.ppid, 0);
        ck_assert_ptr_nonnull(strstr(rep.note, "gone or was replaced"));
        rs_handle_report_done(&rep);
}
END_TEST

START_TEST(a_dry_run_reports_the_forced_stop_but_changes_nothing)
{
        struct rs_container c = container("always");
        struct rs_container before;
        struct rs_handle_ctx ctx = ctx_for(NULL);
        struct rs_handle_report rep;

        set_running(&c, &child_proc);
        before = c;
        ctx.dry_run = true;
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
        ck_assert_int_eq(rep.action, RS_ACTION_SKIP_GC);
        ck_assert_int_eq(rep.status, RS_STATUS_STOPPED);
        ck_assert_int_eq(rep.exit_code, 255);
        ck_assert(rep.state_changed);
        ck_assert(rep.to_gc);
        ck_assert_int_eq(memcmp(&before.state, &c.state, sizeof(c.state)), 0);
        rs_handle_report_done(&rep);
}
END_TEST

/* -------------------------------------------------------------------------------- health -- */

START_TEST(reattach_resets_a_configured_health_check_to_starting)
{
        struct rs_container c = container(NULL);
        struct rs_handle_ctx ctx = ctx_for(NULL);
        struct rs_handle_report rep;

        make_fifo();
        set_running(&c, &child_proc);
        c.health_configured = true;
        c.state.has_health = true;
        strcpy(c.state.health_status, "unhealthy");
        c.state.failing_streak = 3;
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
        ck_assert_int_eq(rep.action, RS_ACTION_REATTACH);
        ck_assert(rep.health_configured);
        ck_assert_str_eq(rep.health_status, "starting");
        ck_assert(rep.state_changed);
        ck_assert_str_eq(c.state.health_status, "starting");
        ck_assert_int_eq(c.state.failing_streak, 0);
        rs_handle_report_done(&rep);
}
END_TEST

START_TEST(a_paused_container_gets_its_health_reset_too)
{
        struct rs_container c = container(NULL);
        struct rs_handle_ctx ctx = ctx_for(NULL);
        struct rs_handle_report rep;

        make_fifo();
        set_running(&c, &child_proc);
        c.state.paused = true;
        c.health_configured = true;
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
        ck_assert_int_eq(rep.action, RS_ACTION_REATTACH);
        ck_assert_str_eq(rep.health_status, "starting");
        ck_assert(c.state.has_health);
        ck_assert(rep.state_changed);
        rs_handle_report_done(&rep);
}
END_TEST

START_TEST(a_second_restore_finds_health_already_reset_and_changes_nothing)
{
        struct rs_container c = container(NULL);
        struct rs_handle_ctx ctx = ctx_for(NULL);
        struct rs_handle_report rep;

        make_fifo();
        set_running(&c, &child_proc);
        c.health_configured = true;
        c.state.has_health = true;
        strcpy(c.state.health_status, "starting");
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
        ck_assert(!rep.state_changed);
        ck_assert_str_eq(rep.health_status, "starting");
        rs_handle_report_done(&rep);
}
END_TEST

START_TEST(health_is_left_alone_without_a_health_check_or_when_not_running)
{
        struct rs_container c = container(NULL);
        struct rs_handle_ctx ctx = ctx_for(NULL);
        struct rs_handle_report rep;

        make_fifo();
        set_running(&c, &child_proc);
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
        ck_assert(!rep.health_configured);
        ck_assert_ptr_null(rep.health_status);
        ck_assert(!c.state.has_health);
        rs_handle_report_done(&rep);

        c = container(NULL);
        set_exited(&c, 1);
        c.health_configured = true;
        c.state.has_health = true;
        strcpy(c.state.health_status, "unhealthy");
        c.state.failing_streak = 2;
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
        ck_assert_int_eq(rep.action, RS_ACTION_KEEP_STOPPED);
        ck_assert(rep.health_configured);
        ck_assert_str_eq(rep.health_status, "unhealthy");
        ck_assert_int_eq(c.state.failing_streak, 2);
        ck_assert(!rep.state_changed);
        rs_handle_report_done(&rep);
}
END_TEST

/* ------------------------------------------------------------------------------- restart -- */

START_TEST(restarts_are_staggered_through_the_shared_index)
{
        static const int64_t want[] = {5000, 5000, 5000, 5000, 6000, 6000};
        atomic_uint index = 0;
        struct rs_handle_ctx ctx = ctx_for(&index);
        struct rs_handle_report rep;

        for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
                struct rs_container c = container("always");
                struct rs_container removed = container("always");
                struct rs_container kept = container("no");

                /* Neither auto-remove nor keep-stopped takes a restart slot. */
                set_exited(&removed, 1);
                removed.auto_remove_bak = true;
                ck_assert_int_eq(rs_handle_container(&ctx, &removed, &rep), 0);
                rs_handle_report_done(&rep);
                set_exited(&kept, 1);
                ck_assert_int_eq(rs_handle_container(&ctx, &kept, &rep), 0);
                rs_handle_report_done(&rep);

                set_exited(&c, 1);
                c.state.restart_count = 2;
                ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
                ck_assert_int_eq(rep.action, RS_ACTION_RESTART);
                ck_assert_int_eq(rep.restart.delay_ms, want[i]);
                ck_assert_int_eq(rep.restart.restart_count, 2);
                ck_assert(!rep.state_changed);
                rs_handle_report_done(&rep);
        }
        ck_assert_uint_eq(index, ARRAY_SIZE(want));
}
END_TEST

START_TEST(on_failure_at_the_maximum_is_kept_stopped)
{
        struct rs_container c = container("on-failure");
        struct rs_handle_ctx ctx = ctx_for(NULL);
        struct rs_handle_report rep;

        c.max_retry = 3;
        c.state.restart_count = 3;
        set_exited(&c, 1);
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
        ck_assert_int_eq(rep.action, RS_ACTION_KEEP_STOPPED);
        ck_assert_int_eq(rep.restart.max_retry, 3);
        ck_assert_int_eq(rep.restart.restart_count, 3);
        ck_assert_str_eq(rep.restart.reason, "policy on-failure: 3 restarts reached the maximum 3");
        rs_handle_report_done(&rep);
}
END_TEST

/* ------------------------------------------------------------------------------- plumbing -- */

START_TEST(the_report_moves_into_a_result)
{
        struct rs_container c = container("always");
        struct rs_handle_ctx ctx = ctx_for(NULL);
        struct rs_handle_report rep;
        struct rs_result r = {0};

        make_fifo();
        set_running(&c, &child_proc);
        c.health_configured = true;
        r.exit_fifo = strdup("stale");
        r.restart.reason = strdup("stale");
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), 0);
        rs_handle_report_move(&rep, &r);
        ck_assert_int_eq(r.action, RS_ACTION_REATTACH);
        ck_assert_int_eq(r.status, RS_STATUS_RUNNING);
        ck_assert_str_eq(r.exit_fifo, fifo_path);
        ck_assert_str_eq(r.restart.policy, "always");
        ck_assert_str_eq(r.restart.reason, REATTACHED);
        ck_assert_str_eq(r.health_status, "starting");
        ck_assert_int_eq(r.process.pid, child_proc.pid);
        ck_assert_ptr_null(rep.exit_fifo);
        ck_assert_ptr_null(rep.restart.reason);
        rs_handle_report_done(&rep);
        rs_result_done(&r);
}
END_TEST

START_TEST(bad_arguments_are_refused_and_nothing_is_written)
{
        struct rs_container c = container(NULL);
        struct rs_handle_ctx ctx = ctx_for(NULL);
        struct rs_handle_report rep = {.action = RS_ACTION_NONE, .exit_code = 42};

        ctx.state_root = NULL;
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), -EINVAL);
        ck_assert_int_eq(rep.exit_code, 42);
        ctx = ctx_for(NULL);
        c.id = NULL;
        ck_assert_int_eq(rs_handle_container(&ctx, &c, &rep), -EINVAL);
        rs_handle_report_done(NULL);
}
END_TEST

static Suite *handle_suite(void)
{
        Suite *s = suite_create("handle");
        TCase *order = tcase_create("order");
        TCase *reattach = tcase_create("reattach");
        TCase *health = tcase_create("health");
        TCase *restart = tcase_create("restart");

        tcase_add_checked_fixture(order, setup, teardown);
        tcase_add_checked_fixture(reattach, setup, teardown);
        tcase_add_checked_fixture(health, setup, teardown);
        tcase_add_checked_fixture(restart, setup, teardown);

        tcase_add_loop_test(order, handle_order_table, 0, (int)ARRAY_SIZE(rows));
        tcase_add_test(reattach, reattach_reports_the_fifo_and_the_same_process);
        tcase_add_test(reattach, reattach_leaves_no_reader_on_the_fifo);
        tcase_add_test(reattach, reattach_does_not_consume_an_exit_code_waiting_in_the_fifo);
        tcase_add_test(reattach, fifo_missing_stops_the_container_as_isulad_does);
        tcase_add_test(reattach, gc_gets_the_parts_of_the_identity_still_alive);
        tcase_add_test(reattach, a_replaced_pid_is_never_handed_to_gc_as_the_container);
        tcase_add_test(reattach, a_dry_run_reports_the_forced_stop_but_changes_nothing);
        tcase_add_test(health, reattach_resets_a_configured_health_check_to_starting);
        tcase_add_test(health, a_paused_container_gets_its_health_reset_too);
        tcase_add_test(health, a_second_restore_finds_health_already_reset_and_changes_nothing);
        tcase_add_test(health, health_is_left_alone_without_a_health_check_or_when_not_running);
        tcase_add_test(restart, restarts_are_staggered_through_the_shared_index);
        tcase_add_test(restart, on_failure_at_the_maximum_is_kept_stopped);
        tcase_add_test(restart, the_report_moves_into_a_result);
        tcase_add_test(restart, bad_arguments_are_refused_and_nothing_is_written);

        suite_add_tcase(s, order);
        suite_add_tcase(s, reattach);
        suite_add_tcase(s, health);
        suite_add_tcase(s, restart);
        return s;
}

int main(void)
{
        return tu_run_suite(handle_suite());
}
