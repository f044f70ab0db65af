/* restart.c - iSulad's restart_manager_should_restart() at restore, and the restart stagger. */
#include "restart.h"

#include "cleanup.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void decide(struct rs_restart_decision *ret, bool restart, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void decide(struct rs_restart_decision *ret, bool restart, const char *fmt, ...)
{
        va_list ap;

        ret->should_restart = restart;
        va_start(ap, fmt);
        vsnprintf(ret->reason, sizeof(ret->reason), fmt, ap);
        va_end(ap);
}

/*
 * iSulad: failure_count = exit_code != 0 ? RestartCount + 1 : 0, then restart when
 * (max == 0 || failure_count <= max) && exit_code != 0. Counted in long long so that a
 * RestartCount of INT_MAX cannot overflow.
 */
static void decide_on_failure(const struct rs_restart_input *in, struct rs_restart_decision *ret)
{
        long long failure_count = (long long)in->restart_count + 1;

        if (in->exit_code == 0)
                decide(ret, false, "policy on-failure: exit code 0 is not a failure");
        else if (in->max_retry != 0 && failure_count > in->max_retry)
                decide(ret, false, "policy on-failure: %d restarts reached the maximum %d",
                       in->restart_count, in->max_retry);
        else if (in->max_retry == 0)
                decide(ret, true, "policy on-failure: exit code %d, restart %lld (no maximum)",
                       in->exit_code, failure_count);
        else
                decide(ret, true, "policy on-failure: exit code %d, restart %lld of %d", in->exit_code,
                       failure_count, in->max_retry);
}

/* policy is one of the four known names. */
static void decide_policy(const struct rs_restart_input *in, struct rs_restart_decision *ret)
{
        const char *p = in->policy;

        if (strcmp(p, "always") == 0)
                decide(ret, true, "policy always: restart");
        else if (strcmp(p, "unless-stopped") == 0 && in->manually_stopped)
                decide(ret, false, "stopped by the user (unless-stopped)");
        else if (strcmp(p, "unless-stopped") == 0)
                decide(ret, true, "policy unless-stopped: restart");
        else if (strcmp(p, "on-failure") == 0)
                decide_on_failure(in, ret);
        /* on-reboot is iSulad's own: a system container that ran `reboot` exits 129. */
        else if (in->exit_code == RS_EXIT_CODE_REBOOT)
                decide(ret, true, "policy on-reboot: exit code 129 (reboot): restart");
        else
                decide(ret, false, "policy on-reboot: exit code %d is not 129", in->exit_code);
}

static bool policy_known(const char *p)
{
        static const char *const known[] = {"always", "unless-stopped", "on-failure", "on-reboot"};

        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
                if (strcmp(p, known[i]) == 0)
                        return true;
        return false;
}

void rs_restart_decide(const struct rs_restart_input *in, struct rs_restart_decision *ret)
{
        struct rs_restart_decision d = {0};

        if (!in->policy || in->policy[0] == '\0' || strcmp(in->policy, "no") == 0)
                decide(&d, false, "no restart policy");
        else if (!policy_known(in->policy))
                decide(&d, false, "unknown restart policy \"%.64s\": no restart", in->policy);
        else if (in->status == RS_STATUS_CREATED)
                /* CONTRACT §4.4; moby's HasBeenStartedBefore guard, which iSulad removed. */
                decide(&d, false,
                       "never started: restored does not start a created container "
                       "(deliberate difference from iSulad)");
        else
                decide_policy(in, &d);
        *ret = d;
}

int64_t rs_restart_delay_ms(unsigned index, unsigned max_parallel)
{
        if (max_parallel == 0)
                max_parallel = RS_RESTART_MAX_PARALLEL_DEFAULT;
        return RS_RESTART_FIRST_DELAY_MS + (int64_t)(index / max_parallel) * RS_RESTART_WAVE_STEP_MS;
}
