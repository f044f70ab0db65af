/*
 * restart.h - the restart manager's decision at restore, and the restart stagger.
 *
 * Pure functions over plain values: no I/O, no clock, no allocation.
 *
 * rs_restart_decide() is iSulad's restart_manager_should_restart() as evaluated for a freshly
 * created restart manager (restore resets it, so failure_count starts at State.RestartCount and
 * nothing is cancelled), with one deliberate difference (CONTRACT §4.4): a container that was
 * never started (STATUS_CREATED) is never restarted by a policy. iSulad dropped moby's
 * HasBeenStartedBefore guard in 2020 and starts such a container 5 s after the daemon restarts.
 *
 *   policy            restarts when
 *   NULL, "", "no"    never
 *   "always"          always (even after a manual stop, as in Docker)
 *   "unless-stopped"  !HasBeenManuallyStopped
 *   "on-failure"      exit_code != 0 && (max == 0 || RestartCount + 1 <= max)
 *   "on-reboot"       exit_code == 129 (a system container's reboot)
 *   anything else     never (iSulad ignores unknown names)
 *
 * rs_restart_delay_ms() staggers the restarts decided in one restore (CONTRACT §4.7).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "types.h"

/* iSulad's fixed wait before restarting a container found stopped at restore. */
#define RS_RESTART_FIRST_DELAY_MS 5000
/* Gap between waves of max_parallel restarts; see rs_restart_delay_ms(). */
#define RS_RESTART_WAVE_STEP_MS 1000
/* --max-parallel-restarts default. */
#define RS_RESTART_MAX_PARALLEL_DEFAULT 4
/*
 * First backoff of the restart manager when GC restarts a container after cleaning it: the
 * manager is fresh after a daemon restart, so iSulad waits 100 ms (then 200, 400 ... 60 s).
 */
#define RS_RESTART_GC_BACKOFF_MS 100
/* iSulad's reboot exit code (128 + SIGHUP), written by isulad-shim for a rebooting container. */
#define RS_EXIT_CODE_REBOOT 129

#define RS_RESTART_REASON_MAX 160

struct rs_restart_input {
        const char *policy;    /* HostConfig.RestartPolicy.Name; NULL when absent */
        int max_retry;         /* RestartPolicy.MaximumRetryCount; 0 = unlimited */
        int restart_count;     /* State.RestartCount */
        int exit_code;         /* State.ExitCode */
        bool manually_stopped; /* State.HasBeenManuallyStopped */
        rs_status status;      /* after sync; CREATED = never started */
};

struct rs_restart_decision {
        bool should_restart;
        char reason[RS_RESTART_REASON_MAX]; /* one sentence, e.g. "policy always: restart" */
};

void rs_restart_decide(const struct rs_restart_input *in, struct rs_restart_decision *ret);

/*
 * Delay of the index-th restart (0-based, in result order) decided by one restore, for at most
 * max_parallel restarts in flight (0 = RS_RESTART_MAX_PARALLEL_DEFAULT):
 *
 *   5000 + (index / max_parallel) * 1000 ms
 *
 * The first wave goes after iSulad's 5 s; each later wave of max_parallel is released 1 s after
 * the previous one. iSulad starts every restart at exactly 5 s, so 500 `always` containers
 * would all hit the runtime at once; a runc/crun start takes well under a second on a healthy
 * host, so a 1 s gap keeps roughly max_parallel in flight without stretching a big restore too
 * far (500 restarts at 4 in flight: the last one after 129 s).
 */
int64_t rs_restart_delay_ms(unsigned index, unsigned max_parallel);
