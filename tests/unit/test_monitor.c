/* test_monitor.c - exit notification for re-attached processes, over real forked processes. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "cleanup.h"
#include "monitor.h"
#include "procfs.h"

#define MAX_FIRED 64

/* What the callback saw, for the test thread to wait on. */
struct fired {
        pthread_mutex_t mu;
        pthread_cond_t cond;
        size_t n;
        char keys[MAX_FIRED][RS_MONITOR_KEY_MAX];
        struct rs_monitor *m; /* for callbacks that re-enter the monitor */
        int unwatch_rc;
        pthread_t thread;
};

static struct fired fired;

static void on_exit_cb(void *userdata, const char *key)
{
        struct fired *f = userdata;

        pthread_mutex_lock(&f->mu);
        if (f->n < MAX_FIRED)
                snprintf(f->keys[f->n], RS_MONITOR_KEY_MAX, "%s", key);
        f->n++;
        f->thread = pthread_self();
        pthread_cond_broadcast(&f->cond);
        pthread_mutex_unlock(&f->mu);
}

/* Re-enters the monitor from the callback: must neither deadlock nor find the fired watch. */
static void reentrant_cb(void *userdata, const char *key)
{
        struct fired *f = userdata;

        f->unwatch_rc = rs_monitor_unwatch(f->m, key);
        (void)rs_monitor_count(f->m);
        on_exit_cb(userdata, key);
}

static void setup(void)
{
        memset(&fired, 0, sizeof(fired));
        pthread_mutex_init(&fired.mu, NULL);
        pthread_cond_init(&fired.cond, NULL);
}

static void teardown(void)
{
        pthread_cond_destroy(&fired.cond);
        pthread_mutex_destroy(&fired.mu);
}

/* Waits until `want` callbacks have run or timeout_ms passed; returns how many ran. */
static size_t wait_fired(size_t want, int timeout_ms)
{
        struct timespec deadline;
        size_t n;

        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&fired.mu);
        while (fired.n < want && pthread_cond_timedwait(&fired.cond, &fired.mu, &deadline) == 0)
                ;
        n = fired.n;
        pthread_mutex_unlock(&fired.mu);
        return n;
}

static pid_t spawn_sleeper(uint64_t *ret_start_time)
{
        struct rs_proc_stat st;
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                for (;;)
                        pause();
        }
        ck_assert_int_eq(rs_proc_read_stat(NULL, pid, &st), 0);
        *ret_start_time = st.start_time;
        return pid;
}

static void reap(pid_t pid)
{
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

static struct rs_monitor *new_monitor(rs_monitor_fn fn)
{
        struct rs_monitor *m = NULL;

        ck_assert_int_eq(rs_monitor_new(fn, &fired, &m), 0);
        ck_assert_ptr_nonnull(m);
        fired.m = m;
        return m;
}

START_TEST(the_callback_runs_on_the_monitor_thread_within_a_second_of_the_exit)
{
        struct rs_monitor *m = new_monitor(on_exit_cb);
        uint64_t start;
        pid_t pid = spawn_sleeper(&start);

        ck_assert_int_eq(rs_monitor_watch(m, "c1", pid, start), 0);
        ck_assert_uint_eq(rs_monitor_count(m), 1);
        ck_assert_uint_eq(wait_fired(1, 200), 0); /* alive: nothing fires */
        kill(pid, SIGKILL);                       /* a zombie until reaped: exited already */
        ck_assert_uint_eq(wait_fired(1, 1000), 1);
        ck_assert_str_eq(fired.keys[0], "c1");
        ck_assert(!pthread_equal(fired.thread, pthread_self()));
        ck_assert_uint_eq(rs_monitor_count(m), 0); /* a watch fires once and is dropped */
        ck_assert_int_eq(rs_monitor_unwatch(m, "c1"), -ENOENT);
        waitpid(pid, NULL, 0);
        ck_assert_uint_eq(wait_fired(2, 200), 1);
        rs_monitor_free(m);
}
END_TEST

START_TEST(an_unwatched_process_exits_silently)
{
        struct rs_monitor *m = new_monitor(on_exit_cb);
        uint64_t start;
        pid_t pid = spawn_sleeper(&start);

        ck_assert_int_eq(rs_monitor_watch(m, "c1", pid, start), 0);
        ck_assert_int_eq(rs_monitor_unwatch(m, "c1"), 0);
        ck_assert_uint_eq(rs_monitor_count(m), 0);
        reap(pid);
        ck_assert_uint_eq(wait_fired(1, 300), 0);
        ck_assert_int_eq(rs_monitor_unwatch(m, "c1"), -ENOENT);
        rs_monitor_free(m);
}
END_TEST

START_TEST(a_pid_whose_start_time_does_not_match_is_refused)
{
        struct rs_monitor *m = new_monitor(on_exit_cb);
        uint64_t start;
        pid_t pid = spawn_sleeper(&start);

        ck_assert_int_eq(rs_monitor_watch(m, "c1", pid, start + 1), -ESRCH);
        ck_assert_int_eq(rs_monitor_watch(m, "c1", pid, start - 1), -ESRCH);
        ck_assert_uint_eq(rs_monitor_count(m), 0);
        reap(pid);
        ck_assert_uint_eq(wait_fired(1, 200), 0);
        rs_monitor_free(m);
}
END_TEST

START_TEST(a_zombie_or_a_reaped_process_is_refused)
{
        struct rs_monitor *m = new_monitor(on_exit_cb);
        uint64_t start;
        pid_t pid = spawn_sleeper(&start);

        kill(pid, SIGKILL);
        for (int i = 0; i < 100; i++) { /* until the kernel has made it a zombie */
                struct rs_proc_stat st;
                if (rs_proc_read_stat(NULL, pid, &st) == 0 && st.state == 'Z')
                        break;
                usleep(10000);
        }
        ck_assert_int_eq(rs_monitor_watch(m, "zombie", pid, start), -ESRCH);
        waitpid(pid, NULL, 0);
        ck_assert_int_eq(rs_monitor_watch(m, "reaped", pid, start), -ESRCH);
        ck_assert_uint_eq(rs_monitor_count(m), 0);
        rs_monitor_free(m);
}
END_TEST

START_TEST(a_key_is_watched_once)
{
        struct rs_monitor *m = new_monitor(on_exit_cb);
        uint64_t start;
        pid_t pid = spawn_sleeper(&start);

        ck_assert_int_eq(rs_monitor_watch(m, "c1", pid, start), 0);
        ck_assert_int_eq(rs_monitor_watch(m, "c1", pid, start), -EEXIST);
        ck_assert_int_eq(rs_monitor_watch(m, "c2", pid, start), 0); /* another key: fine */
        ck_assert_uint_eq(rs_monitor_count(m), 2);
        reap(pid);
        ck_assert_uint_eq(wait_fired(2, 1000), 2);
        rs_monitor_free(m);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
        struct rs_monitor *m = new_monitor(on_exit_cb);
        char long_key[RS_MONITOR_KEY_MAX + 1];

        memset(long_key, 'k', sizeof(long_key) - 1);
        long_key[sizeof(long_key) - 1] = '\0';
        ck_assert_int_eq(rs_monitor_watch(m, NULL, getpid(), 0), -EINVAL);
        ck_assert_int_eq(rs_monitor_watch(m, "", getpid(), 0), -EINVAL);
        ck_assert_int_eq(rs_monitor_watch(m, "k", 0, 0), -EINVAL);
        ck_assert_int_eq(rs_monitor_watch(m, "k", -1, 0), -EINVAL);
        ck_assert_int_eq(rs_monitor_watch(m, long_key, getpid(), 0), -EINVAL);
        ck_assert_int_eq(rs_monitor_new(NULL, NULL, &m), -EINVAL);
        rs_monitor_free(m);
        rs_monitor_free(NULL);
}
END_TEST

START_TEST(many_exits_each_fire_once)
{
        enum { N = 24 };
        struct rs_monitor *m = new_monitor(on_exit_cb);
        pid_t pids[N];
        bool seen[N] = {false};

        for (int i = 0; i < N; i++) {
                char key[16];
                uint64_t start;
                snprintf(key, sizeof(key), "c%02d", i);
                pids[i] = spawn_sleeper(&start);
                ck_assert_int_eq(rs_monitor_watch(m, key, pids[i], start), 0);
        }
        ck_assert_uint_eq(rs_monitor_count(m), N);
        for (int i = 0; i < N; i++)
                reap(pids[i]);
        ck_assert_uint_eq(wait_fired(N, 2000), N);
        for (int i = 0; i < N; i++) {
                int k = atoi(fired.keys[i] + 1);
                ck_assert(!seen[k]);
                seen[k] = true;
        }
        ck_assert_uint_eq(wait_fired(N + 1, 200), N);
        ck_assert_uint_eq(rs_monitor_count(m), 0);
        rs_monitor_free(m);
}
END_TEST

START_TEST(the_callback_may_call_back_into_the_monitor)
{
        struct rs_monitor *m = new_monitor(reentrant_cb);
        uint64_t start;
        pid_t pid = spawn_sleeper(&start);

        fired.unwatch_rc = 1;
        ck_assert_int_eq(rs_monitor_watch(m, "c1", pid, start), 0);
        reap(pid);
        ck_assert_uint_eq(wait_fired(1, 1000), 1);
        ck_assert_int_eq(fired.unwatch_rc, -ENOENT);
        rs_monitor_free(m);
}
END_TEST

START_TEST(without_pidfd_the_monitor_polls_proc)
{
        struct rs_monitor *m = new_monitor(on_exit_cb);
        uint64_t start;
        pid_t pid = spawn_sleeper(&start);

        rs_monitor_force_polling(m);
        ck_assert_int_eq(rs_monitor_watch(m, "c1", pid, start + 1), -ESRCH);
        ck_assert_int_eq(rs_monitor_watch(m, "c1", pid, start), 0);
        ck_assert_uint_eq(wait_fired(1, 1500), 0); /* polled and still alive */
        kill(pid, SIGKILL);
        ck_assert_uint_eq(wait_fired(1, 2500), 1); /* one poll interval, plus slack */
        ck_assert_str_eq(fired.keys[0], "c1");
        waitpid(pid, NULL, 0);
        ck_assert_uint_eq(rs_monitor_count(m), 0);
        rs_monitor_free(m);
}
END_TEST

START_TEST(the_number_of_watches_is_bounded_by_the_fd_budget)
{
        struct rlimit rl = {.rlim_cur = 64, .rlim_max = 64};
        struct rs_monitor *m;
        uint64_t start;
        pid_t pid;
        size_t max;

        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0); /* this forked test only */
        m = new_monitor(on_exit_cb);
        max = rs_monitor_max(m);
        ck_assert_uint_eq(max, 32);
        pid = spawn_sleeper(&start);
        for (size_t i = 0; i < max; i++) {
                char key[32];
                snprintf(key, sizeof(key), "c%zu", i);
                ck_assert_int_eq(rs_monitor_watch(m, key, pid, start), 0);
        }
        ck_assert_int_eq(rs_monitor_watch(m, "one-more", pid, start), -ENOSPC);
        ck_assert_int_eq(rs_monitor_unwatch(m, "c0"), 0);
        ck_assert_int_eq(rs_monitor_watch(m, "one-more", pid, start), 0);
        rs_monitor_free(m); /* with watches still in place */
        reap(pid);
        ck_assert_uint_eq(wait_fired(1, 200), 0); /* nothing runs after free */
}
END_TEST

START_TEST(the_bound_is_half_the_fd_budget_and_at_most_65536)
{
        struct rlimit rl;
        struct rs_monitor *m;

        ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 1000 ? 1000 : rl.rlim_max;
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
        m = new_monitor(on_exit_cb);
        ck_assert_uint_eq(rs_monitor_max(m), rl.rlim_cur / 2);
        rs_monitor_free(m);

        rl.rlim_cur = rl.rlim_max;
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 2 * RS_MONITOR_MAX_WATCHES)
                return; /* the host's hard limit is lower */
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
        m = new_monitor(on_exit_cb);
        ck_assert_uint_eq(rs_monitor_max(m), RS_MONITOR_MAX_WATCHES);
        rs_monitor_free(m);
}
END_TEST

static Suite *monitor_suite(void)
{
        Suite *s = suite_create("monitor");
        TCase *tc = tcase_create("monitor");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 20);
        tcase_add_test(tc, the_callback_runs_on_the_monitor_thread_within_a_second_of_the_exit);
        tcase_add_test(tc, an_unwatched_process_exits_silently);
        tcase_add_test(tc, a_pid_whose_start_time_does_not_match_is_refused);
        tcase_add_test(tc, a_zombie_or_a_reaped_process_is_refused);
        tcase_add_test(tc, a_key_is_watched_once);
        tcase_add_test(tc, bad_arguments_are_refused);
        tcase_add_test(tc, many_exits_each_fire_once);
        tcase_add_test(tc, the_callback_may_call_back_into_the_monitor);
        tcase_add_test(tc, without_pidfd_the_monitor_polls_proc);
        tcase_add_test(tc, the_number_of_watches_is_bounded_by_the_fd_budget);
        tcase_add_test(tc, the_bound_is_half_the_fd_budget_and_at_most_65536);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return tu_run_suite(monitor_suite());
}
