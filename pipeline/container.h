/*
 * container.h - one container as loaded from <graph>/engines/<runtime>/<dir>/.
 *
 * The model holds only what restore decides on; the JSON documents stay on disk untouched,
 * except container_state.json, whose parsed document is kept (state_doc) so that a write-back
 * preserves unknown keys and key order (CONTRACT §4.5). Key spellings, absent-key defaults and
 * the status derivation are iSulad's (research/isulad-restore.md §1.4-1.6).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "types.h"

struct json_object;

/* iSulad's "never" timestamp (defaultContainerTime). */
#define RS_DEFAULT_TIME "0001-01-01T00:00:00Z"
#define RS_TIME_MAX 64

/* container_state.json, as plain values. Absent keys are 0/false/"" (has_* say "absent"). */
struct rs_state {
        bool running, paused, restarting, starting, dead, oom_killed;
        bool removal_inprogress;        /* spelled "RemovalInprogress" on disk */
        bool has_been_manually_stopped;
        int exit_code;
        int restart_count;
        int pid, ppid;
        uint64_t start_time, p_start_time;
        bool has_started_at, has_finished_at, has_error;
        char started_at[RS_TIME_MAX];   /* a longer value on disk is kept there unless changed */
        char finished_at[RS_TIME_MAX];
        bool has_health;
        char health_status[16];         /* "starting", "healthy", "unhealthy", "none" */
        int failing_streak;
};

typedef enum {
        RS_STATE_FROM_FILE = 0,          /* container_state.json parsed */
        RS_STATE_FROM_FALLBACK_MISSING,  /* no container_state.json: config.v2.json "State" used */
        RS_STATE_FROM_FALLBACK_CORRUPT,  /* container_state.json unreadable: "State" used */
} rs_state_source;

struct rs_container {
        char *runtime;      /* engine directory name: "runc", "lcr", "io.containerd.kata.v2" */
        char *dir_name;     /* container directory name (should equal id) */
        char *dir_path;     /* <graph>/engines/<runtime>/<dir_name> */

        /* config.v2.json */
        char *id;           /* CommonConfig.id */
        char *name;         /* CommonConfig.Name */
        char *image;        /* CommonConfig.Image, as the user typed it */
        char *image_type;   /* CommonConfig.ImageType: "oci", "external", ... (may be NULL) */
        char *image_id;     /* top-level "Image": "sha256:<64hex>" (may be NULL) */
        bool is_sandbox;    /* CommonConfig.SandboxInfo.IsSandboxContainer */
        bool health_configured; /* Config.Healthcheck.Test[0] is "CMD" or "CMD-SHELL" */

        /* hostconfig.json */
        char *restart_policy;   /* RestartPolicy.Name; NULL when absent */
        int max_retry;          /* RestartPolicy.MaximumRetryCount */
        bool auto_remove;       /* AutoRemove */
        bool auto_remove_bak;   /* AutoRemoveBak: the one restore consults */

        /* container_state.json (or the fallback) */
        struct rs_state state;
        rs_state_source state_source;
        char *state_warning;            /* why the fallback was used; NULL otherwise */
        struct json_object *state_doc;  /* document to rewrite (owned); a fresh object for fallbacks */
};

void rs_container_free(struct rs_container *c);

static inline void rs_container_freep(struct rs_container **c)
{
        rs_container_free(*c);
}

/*
 * iSulad's container_state_judge_status(): pure.
 *   Running  -> Paused? PAUSED : Restarting? RESTARTING : RUNNING
 *   !Running -> Starting? STARTING
 *            -> StartedAt or FinishedAt absent      => UNKNOWN
 *            -> both == "0001-01-01T00:00:00Z"      => CREATED
 *            -> else                                => STOPPED
 */
rs_status rs_state_status(const struct rs_state *s);

/*
 * iSulad's container_state_set_stopped(): not running, paused, restarting or starting;
 * ExitCode = exit_code; the 4-tuple zeroed; FinishedAt = now (an iSulad timestamp, NULL keeps
 * it). An absent StartedAt becomes "0001-01-01T00:00:00Z" so the status derives as stopped.
 */
void rs_state_set_stopped(struct rs_state *s, int exit_code, const char *now);
