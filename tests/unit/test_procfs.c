/* test_procfs.c - /proc/<pid>/stat parsing and process identity against real processes. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "testutil.h"

/* fields 3..22 of a stat line, starttime (22) = 987654 */
#define TAIL "S 4242 5 6 0 -1 4194560 100 0 0 0 1 2 0 0 20 -5 1 0 987654 1000 200"

START_TEST(stat_line_is_parsed_after_the_last_paren)
{
        struct rs_proc_stat st;

        ck_assert_int_eq(rs_proc_parse_stat("123 (sleep) " TAIL " 0 0\n", &st), 0);
        ck_assert_int_eq(st.state, 'S');
        ck_assert_int_eq(st.ppid, 4242);
        ck_assert_uint_eq(st.start_time, 987654);
}
END_TEST

START_TEST(comm_with_spaces_and_parens_does_not_shift_fields)
{
        struct rs_proc_stat st;

        /* a process may name itself anything up to 15 bytes: ") S 1 2 (" included */
        ck_assert_int_eq(rs_proc_parse_stat("77 (a) S 1 2 (b c)) " TAIL "\n", &st), 0);
        ck_assert_int_eq(st.ppid, 4242);
        ck_assert_uint_eq(st.start_time, 987654);
        ck_assert_int_eq(rs_proc_parse_stat("78 ( ) ) ) " TAIL, &st), 0);
        ck_assert_uint_eq(st.start_time, 987654);
}
END_TEST

START_TEST(malformed_stat_lines_are_rejected)
{
        struct rs_proc_stat st;
        static const char *const bad[] = {
                "",
                "123 sleep S 1 2 3",                        /* no parens at all */
                "123 (sleep) S",                            /* nothing after the state */
                "123 (sleep) S 1 2 3 4 5",                  /* ends before field 22 */
                "123 (sleep) S x " TAIL,                    /* ppid not a number */
                "123 (sleep)S 1 " TAIL,                     /* no blank after ')' */
                "123 (sleep) S 1 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 abc",  /* field 22 */
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(rs_proc_parse_stat(bad[i], &st) == -EINVAL, "accepted: \"%s\"", bad[i]);
        ck_assert_int_eq(rs_proc_parse_stat(NULL, &st), -EINVAL);
}
END_TEST

START_TEST(a_proc_root_can_be_a_test_tree)
{
        char *root = tu_mkdtemp();
        struct rs_proc_stat st;

        tu_write(root, "42/stat", "42 (x) Z 7 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0\n");
        tu_write(root, "43/stat", "43 (y) R 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0\n");
        ck_assert_int_eq(rs_proc_read_stat(root, 43, &st), 0);
        ck_assert_uint_eq(st.start_time, 55);
        ck_assert_int_eq(rs_proc_read_stat(root, 42, &st), 0);
        ck_assert_int_eq(st.state, 'Z');
        ck_assert_uint_eq(st.start_time, 9);
        ck_assert_int_eq(rs_proc_read_stat(root, 44, &st), -ESRCH);
        ck_assert_int_eq(rs_proc_read_stat(root, 0, &st), -ESRCH);
        ck_assert_int_eq(rs_proc_read_stat(root, -1, &st), -ESRCH);
        tu_rm_rf(root);
        free(root);
}
END_TEST

START_TEST(own_stat_matches_getppid)
{
        struct rs_proc_stat st;

        ck_assert_int_eq(rs_proc_read_stat(NULL, getpid(), &st), 0);
        ck_assert_int_eq(st.ppid, getppid());
        ck_assert_uint_gt(st.start_time, 0);
}
END_TEST

static pid_t spawn_sleeper(void)
{
        pid_t pid = fork();

        /* the child never asserts: it shares Check's message file with the test */
        if (pid == 0) {
                pause();
                _exit(0);
        }
        ck_assert_int_ge(pid, 0);
        return pid;
}

START_TEST(live_child_is_alive_only_with_its_own_start_time)
{
        pid_t pid = spawn_sleeper();
        struct rs_proc_stat st;

        ck_assert_int_eq(rs_proc_read_stat(NULL, pid, &st), 0);
        ck_assert(rs_proc_alive(pid, st.start_time));
        ck_assert(rs_proc_exists(pid));
        /* the same pid with another start time is a different process that reused the number */
        ck_assert(!rs_proc_alive(pid, st.start_time + 1));
        ck_assert(!rs_proc_alive(pid, 0));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        ck_assert(!rs_proc_alive(pid, st.start_time));
        ck_assert(!rs_proc_exists(pid));
}
END_TEST

START_TEST(zombie_is_not_alive)
{
        pid_t pid = fork();
        struct rs_proc_stat st = { 0 };
        struct rs_process id;

        /* the child never asserts: it shares Check's message file with the test */
        if (pid == 0)
                _exit(3);
        ck_assert_int_ge(pid, 0);
        /* not reaped: it stays a zombie until waitpid */
        for (int i = 0; i < 500; i++) {
                ck_assert_int_eq(rs_proc_read_stat(NULL, pid, &st), 0);
                if (st.state == 'Z')
                        break;
                usleep(2000);
        }
        ck_assert_int_eq(st.state, 'Z');
        ck_assert(!rs_proc_alive(pid, st.start_time));
        ck_assert(!rs_proc_exists(pid));
        ck_assert_int_eq(rs_proc_read_identity(pid, &id), -ESRCH);
        waitpid(pid, NULL, 0);
}
END_TEST

START_TEST(identity_of_a_child_names_us_as_parent)
{
        pid_t pid = spawn_sleeper();
        struct rs_proc_stat me, child;
        struct rs_process id;

        ck_assert_int_eq(rs_proc_read_stat(NULL, getpid(), &me), 0);
        ck_assert_int_eq(rs_proc_read_stat(NULL, pid, &child), 0);
        ck_assert_int_eq(rs_proc_read_identity(pid, &id), 0);
        ck_assert_int_eq(id.pid, pid);
        ck_assert_int_eq(id.ppid, getpid());
        ck_assert_uint_eq(id.start_time, child.start_time);
        ck_assert_uint_eq(id.p_start_time, me.start_time);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        ck_assert_int_eq(rs_proc_read_identity(pid, &id), -ESRCH);
        ck_assert_int_eq(rs_proc_read_identity(0, &id), -ESRCH);
}
END_TEST

START_TEST(nonpositive_pids_are_never_alive)
{
        ck_assert(!rs_proc_alive(0, 0));
        ck_assert(!rs_proc_alive(-1, 0));
        ck_assert(!rs_proc_exists(0));
        ck_assert(!rs_proc_exists(-5));
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("procfs");
        TCase *parse = tcase_create("parse"), *live = tcase_create("live");

        tcase_add_test(parse, stat_line_is_parsed_after_the_last_paren);
        tcase_add_test(parse, comm_with_spaces_and_parens_does_not_shift_fields);
        tcase_add_test(parse, malformed_stat_lines_are_rejected);
        tcase_add_test(parse, a_proc_root_can_be_a_test_tree);
        tcase_add_test(live, own_stat_matches_getppid);
        tcase_add_test(live, live_child_is_alive_only_with_its_own_start_time);
        tcase_add_test(live, zombie_is_not_alive);
        tcase_add_test(live, identity_of_a_child_names_us_as_parent);
        tcase_add_test(live, nonpositive_pids_are_never_alive);
        suite_add_tcase(s, parse);
        suite_add_tcase(s, live);
        return s;
}

int main(void)
{
        return tu_run_suite(suite());
}
