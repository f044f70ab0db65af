/*
 * result.h - what the pipeline reports for one container directory.
 *
 * Mirrors isula.restore.v1.ContainerResult field for field. All strings are owned (malloc'd)
 * and may be NULL, which the RPC layer sends as "".
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "types.h"

struct rs_process {
        int pid, ppid;
        uint64_t start_time, p_start_time;
};

struct rs_restart {
        char *policy;
        int max_retry;
        int restart_count;
        bool should_restart;
        int64_t delay_ms;
        char *reason;
};

struct rs_result {
        char *id, *name, *runtime, *image, *dir;
        rs_outcome outcome;
        rs_stage stage;
        rs_reason reason;
        char *error;
        rs_status persisted_status, status;
        rs_action action;
        struct rs_process process;
        int exit_code;
        char *exit_fifo;
        struct rs_restart restart;
        bool health_configured;
        char *health_status;
        bool auto_remove;
        bool state_written;
};

/* Frees the strings and zeroes *r; NULL-safe. */
void rs_result_done(struct rs_result *r);
/* Deep copy; returns 0 or -ENOMEM. */
int rs_result_copy(const struct rs_result *src, struct rs_result *ret);
