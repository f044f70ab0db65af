/* test_restart.c - the restart manager's decision at restore, and the restart stagger. */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "cleanup.h"
#include "restart.h"

#define NEVER_STARTED                                                                                       \
        "never started: restored does not start a created container (deliberate difference "                \
        "from iSulad)"

struct policy_row {
        const char *what;
        struct rs_restart_input in;
        bool restart;
        const char *reason;
};

#define ROW(what_, policy_, max_, count_, exit_, manual_, status_, restart_, reason_)                       \
        {                                                                                                   \
                what_, {policy_, max_, count_, exit_, manual_, status_}, restart_, reason_                  \
        }

static const struct policy_row policy_rows[] = {
    ROW("absent policy", NULL, 0, 0, 1, false, RS_STATUS_STOPPED, false, "no restart policy"),
    ROW("empty policy", "", 0, 0, 1, false, RS_STATUS_STOPPED, false, "no restart policy"),
    ROW("policy no", "no", 0, 0, 1, false, RS_STATUS_STOPPED, false, "no restart policy"),
    ROW("unknown policy is ignored as iSulad does", "sometimes", 0, 0, 1, false, RS_STATUS_STOPPED, false,
        "unknown restart policy \"sometimes\": no restart"),
    ROW("policy names are case-sensitive", "Always", 0, 0, 1, false, RS_STATUS_STOPPED, false,
        "unknown restart policy \"Always\": no restart"),

    ROW("always after exit 0", "always", 0, 0, 0, false, RS_STATUS_STOPPED, true, "policy always: restart"),
    ROW("always ignores the retry count", "always", 1, 99, 1, false, RS_STATUS_STOPPED, true,
        "policy always: restart"),
    ROW("always restarts a manually stopped container", "always", 0, 0, 137, true, RS_STATUS_STOPPED, true,
        "policy always: restart"),
    ROW("always with an unknown status (iSulad runs the manager)", "always", 0, 0, 0, false,
        RS_STATUS_UNKNOWN, true, "policy always: restart"),

    ROW("unless-stopped after a crash", "unless-stopped", 0, 0, 137, false, RS_STATUS_STOPPED, true,
        "policy unless-stopped: restart"),
    ROW("unless-stopped after a manual stop", "unless-stopped", 0, 0, 137, true, RS_STATUS_STOPPED, false,
        "stopped by the user (unless-stopped)"),

    ROW("on-failure, exit 0", "on-failure", 3, 0, 0, false, RS_STATUS_STOPPED, false,
        "policy on-failure: exit code 0 is not a failure"),
    ROW("on-failure, 1 restart of max 3", "on-failure", 3, 1, 1, false, RS_STATUS_STOPPED, true,
        "policy on-failure: exit code 1, restart 2 of 3"),
    ROW("on-failure, count max-1: the last allowed restart", "on-failure", 3, 2, 1, false, RS_STATUS_STOPPED,
        true, "policy on-failure: exit code 1, restart 3 of 3"),
    ROW("on-failure, count == max", "on-failure", 3, 3, 1, false, RS_STATUS_STOPPED, false,
        "policy on-failure: 3 restarts reached the maximum 3"),
    ROW("on-failure, count max+1", "on-failure", 3, 4, 1, false, RS_STATUS_STOPPED, false,
        "policy on-failure: 4 restarts reached the maximum 3"),
    ROW("on-failure, max 1, never restarted", "on-failure", 1, 0, 2, false, RS_STATUS_STOPPED, true,
        "policy on-failure: exit code 2, restart 1 of 1"),
    ROW("on-failure, max 0 is unlimited", "on-failure", 0, 1000, 137, false, RS_STATUS_STOPPED, true,
        "policy on-failure: exit code 137, restart 1001 (no maximum)"),
    ROW("on-failure, RestartCount INT_MAX does not overflow", "on-failure", 0, INT_MAX, 1, false,
        RS_STATUS_STOPPED, true, "policy on-failure: exit code 1, restart 2147483648 (no maximum)"),
    ROW("on-failure, RestartCount INT_MAX over a maximum", "on-failure", INT_MAX, INT_MAX, 1, false,
        RS_STATUS_STOPPED, false, "policy on-failure: 2147483647 restarts reached the maximum 2147483647"),
    ROW("on-failure, forced stop 255 restarts", "on-failure", 0, 0, 255, false, RS_STATUS_STOPPED, true,
        "policy on-failure: exit code 255, restart 1 (no maximum)"),
    ROW("on-failure ignores a manual stop, as iSulad and Docker", "on-failure", 0, 0, 137, true,
        RS_STATUS_STOPPED, true, "policy on-failure: exit code 137, restart 1 (no maximum)"),

    ROW("on-reboot, exit 129", "on-reboot", 0, 0, 129, false, RS_STATUS_STOPPED, true,
        "policy on-reboot: exit code 129 (reboot): restart"),
    ROW("on-reboot, exit 137", "on-reboot", 0, 0, 137, false, RS_STATUS_STOPPED, false,
        "policy on-reboot: exit code 137 is not 129"),
    ROW("on-reboot, exit 0", "on-reboot", 0, 0, 0, false, RS_STATUS_STOPPED, false,
        "policy on-reboot: exit code 0 is not 129"),

    ROW("created with always is never started", "always", 0, 0, 0, false, RS_STATUS_CREATED, false,
        NEVER_STARTED),
    ROW("created with unless-stopped is never started", "unless-stopped", 0, 0, 0, false, RS_STATUS_CREATED,
        false, NEVER_STARTED),
    ROW("created with on-failure is never started", "on-failure", 0, 0, 1, false, RS_STATUS_CREATED, false,
        NEVER_STARTED),
    ROW("created with on-reboot is never started", "on-reboot", 0, 0, 129, false, RS_STATUS_CREATED, false,
        NEVER_STARTED),
    ROW("created without a policy says so", "no", 0, 0, 0, false, RS_STATUS_CREATED, false,
        "no restart policy"),
};

START_TEST(restart_policy_table)
{
        const struct policy_row *row = &policy_rows[_i];
        struct rs_restart_decision d;

        memset(&d, 0xaa, sizeof(d));
        rs_restart_decide(&row->in, &d);
        ck_assert_msg(d.should_restart == row->restart, "%s: should_restart %d", row->what,
                      d.should_restart);
        ck_assert_msg(strcmp(d.reason, row->reason) == 0, "%s: reason \"%s\", want \"%s\"", row->what,
                      d.reason, row->reason);
}
END_TEST

START_TEST(a_long_unknown_policy_is_truncated_in_the_reason)
{
        char policy[1024];
        struct rs_restart_input in = {.policy = policy, .status = RS_STATUS_STOPPED};
        struct rs_restart_decision d;

        memset(policy, 'x', sizeof(policy) - 1);
        policy[sizeof(policy) - 1] = '\0';
        rs_restart_decide(&in, &d);
        ck_assert(!d.should_restart);
        ck_assert_uint_lt(strlen(d.reason), sizeof(d.reason));
        ck_assert_ptr_nonnull(strstr(d.reason, "unknown restart policy"));
}
END_TEST

START_TEST(one_restart_waits_isulads_five_seconds)
{
        ck_assert_int_eq(rs_restart_delay_ms(0, 4), 5000);
        ck_assert_int_eq(rs_restart_delay_ms(0, 1), 5000);
}
END_TEST

START_TEST(four_restarts_go_in_the_first_wave)
{
        for (unsigned i = 0; i < 4; i++)
                ck_assert_int_eq(rs_restart_delay_ms(i, 4), 5000);
        ck_assert_int_eq(rs_restart_delay_ms(4, 4), 6000);
}
END_TEST

START_TEST(five_hundred_restarts_go_in_waves_of_max_parallel)
{
        int per_delay[200] = {0};
        int64_t prev = 0;

        for (unsigned i = 0; i < 500; i++) {
                int64_t d = rs_restart_delay_ms(i, 4);
                ck_assert_int_ge(d, 5000);
                ck_assert_int_ge(d, prev);
                ck_assert_int_eq((d - 5000) % RS_RESTART_WAVE_STEP_MS, 0);
                per_delay[(d - 5000) / RS_RESTART_WAVE_STEP_MS]++;
                prev = d;
        }
        for (size_t w = 0; w < ARRAY_SIZE(per_delay); w++)
                ck_assert_int_eq(per_delay[w], w < 125 ? 4 : 0);
        ck_assert_int_eq(rs_restart_delay_ms(499, 4), 5000 + 124 * 1000);
}
END_TEST

START_TEST(max_parallel_zero_means_the_default_four)
{
        for (unsigned i = 0; i < 500; i++)
                ck_assert_int_eq(rs_restart_delay_ms(i, 0), rs_restart_delay_ms(i, 4));
}
END_TEST

START_TEST(max_parallel_one_releases_one_per_step)
{
        for (unsigned i = 0; i < 10; i++)
                ck_assert_int_eq(rs_restart_delay_ms(i, 1), 5000 + (int64_t)i * 1000);
}
END_TEST

START_TEST(a_huge_index_does_not_overflow)
{
        ck_assert_int_eq(rs_restart_delay_ms(UINT_MAX, 1), 5000 + (int64_t)UINT_MAX * 1000);
}
END_TEST

static Suite *restart_suite(void)
{
        Suite *s = suite_create("restart");
        TCase *policy = tcase_create("policy");
        TCase *stagger = tcase_create("stagger");

        tcase_add_loop_test(policy, restart_policy_table, 0, (int)ARRAY_SIZE(policy_rows));
        tcase_add_test(policy, a_long_unknown_policy_is_truncated_in_the_reason);
        tcase_add_test(stagger, one_restart_waits_isulads_five_seconds);
        tcase_add_test(stagger, four_restarts_go_in_the_first_wave);
        tcase_add_test(stagger, five_hundred_restarts_go_in_waves_of_max_parallel);
        tcase_add_test(stagger, max_parallel_zero_means_the_default_four);
        tcase_add_test(stagger, max_parallel_one_releases_one_per_step);
        tcase_add_test(stagger, a_huge_index_does_not_overflow);
        suite_add_tcase(s, policy);
        suite_add_tcase(s, stagger);
        return s;
}

int main(void)
{
        return tu_run_suite(restart_suite());
}
