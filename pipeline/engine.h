/*
 * engine.h - the restore pipeline as one object: runs load -> verify -> register -> sync ->
 * handle over a graph, owns the current view (results + summary) and the id/name indexes.
 *
 * Threads: rs_engine_restore() starts the work on a thread of its own and returns at once;
 * a call made while a restore with the same parameters runs joins it (single-flight). Every
 * reader (visit, lookup, handle) may run concurrently with a restore and sees a consistent
 * snapshot of each result. Callbacks (done, events) run on pipeline threads and must not block.
 *
 * Stage order. iSulad syncs before it registers; restored registers first, because a
 * container that loses a duplicate-name tie must not have its state file rewritten
 * (CONTRACT §4.1). Load and sync run on a bounded pool; register and handle are serial in
 * result order, which makes duplicate resolution and restart staggering deterministic.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "load.h"
#include "result.h"

typedef enum {
        RS_PHASE_IDLE = 0,
        RS_PHASE_RUNNING = 1,
        RS_PHASE_DONE = 2,
} rs_phase;

struct rs_config {
        const char *graph_root;           /* /var/lib/isulad */
        const char *state_root;           /* /var/run/isulad */
        const struct rs_runtime_bin *runtime_bins;
        size_t n_runtime_bins;
        int runtime_timeout_ms;           /* default 5000 */
        unsigned workers;                 /* 0: sized for I/O, capped by RLIMIT_NOFILE */
        unsigned max_parallel_restarts;   /* default 4 */
        struct rs_load_limits limits;     /* zeros: defaults */
};

struct rs_request {
        bool dry_run;
        const char *const *runtimes;      /* limit to these engine dirs; NULL/0 = all */
        size_t n_runtimes;
        unsigned workers;                 /* 0: engine default */
};

struct rs_summary {
        uint64_t generation;
        rs_phase phase;
        uint32_t total, restored, failed, running, stopped, done;
        uint64_t duration_us;
        uint64_t started_at_us;
        bool dry_run;
        char error[256];   /* why (part of) the graph could not be enumerated; "" if it could */
};

typedef enum {
        RS_EVENT_RESTORE_STARTED = 1,
        RS_EVENT_PROGRESS = 2,
        RS_EVENT_CONTAINER_RESULT = 3,
        RS_EVENT_RESTORE_FINISHED = 4,
        RS_EVENT_STATUS_CHANGED = 5,
} rs_event_kind;

struct rs_event {
        rs_event_kind kind;
        struct rs_summary summary;
        rs_stage stage;                   /* PROGRESS */
        uint32_t stage_done, stage_total; /* PROGRESS */
        const struct rs_result *result;   /* CONTAINER_RESULT, STATUS_CHANGED; valid during the call */
        uint64_t time_us;
};

typedef void (*rs_event_fn)(void *userdata, const struct rs_event *ev);
/* Called once per finished restore for each caller that started or joined it. */
typedef void (*rs_done_fn)(void *userdata, const struct rs_summary *summary);
/* Visitor: return false to stop. */
typedef bool (*rs_visit_fn)(void *userdata, const struct rs_result *r);

struct rs_engine;

int rs_engine_new(const struct rs_config *cfg, struct rs_engine **ret_engine);
/* Waits for a running restore to finish, then frees. NULL-safe. */
void rs_engine_free(struct rs_engine *e);

/* One listener (the RPC layer fans out). Set before the first restore. */
void rs_engine_set_listener(struct rs_engine *e, rs_event_fn fn, void *userdata);

/*
 * Starts a restore, or joins the one running when its parameters are the same.
 * -EBUSY (err says which generation runs) when a restore with other parameters runs.
 * `done` runs on the pipeline thread when the restore finishes.
 */
int rs_engine_restore(struct rs_engine *e, const struct rs_request *req, rs_done_fn done,
                      void *userdata, struct rs_error *err);

/* Blocking convenience for tests and the benchmark. */
int rs_engine_restore_wait(struct rs_engine *e, const struct rs_request *req,
                           struct rs_summary *ret_summary, struct rs_error *err);

void rs_engine_summary(struct rs_engine *e, struct rs_summary *ret_summary);

/*
 * Visits finished results in result order (runtime, then directory name), starting strictly
 * after (after_runtime, after_dir) when both are non-NULL, under the view's read lock.
 */
void rs_engine_visit(struct rs_engine *e, const char *after_runtime, const char *after_dir,
                     rs_visit_fn fn, void *userdata);

/*
 * HandleContainer: resolves key (full id, unique prefix, name), re-syncs that container with
 * the host and re-runs its handle step; persists unless dry_run. -ENOENT, -ENOTUNIQ, -EBUSY
 * (a restore is running).
 */
int rs_engine_handle(struct rs_engine *e, const char *key, bool dry_run, struct rs_result *ret,
                     struct rs_error *err);
