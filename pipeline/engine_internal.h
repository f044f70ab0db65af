/*
 * engine_internal.h - state shared by engine.c (object, single-flight, view, events) and
 * engine_run.c (one restore pass). Not a public header.
 *
 * Locks, always taken in this order: e->mu (job state) -> e->view_lock (slots, summary).
 * e->event_mu only serialises listener calls and is never held with the others.
 */
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include "engine.h"
#include "registry.h"

struct rs_slot {
        struct rs_result r;   /* r.runtime / r.dir are set at enumeration: the sort key */
        bool done;            /* r is final and visible to readers */
};

struct rs_waiter {
        rs_done_fn fn;
        void *userdata;
        struct rs_waiter *next;
};

struct rs_job {
        bool dry_run;
        char **runtimes;
        size_t n_runtimes;
        unsigned workers;
        struct rs_waiter *waiters;
};

struct rs_engine {
        /* configuration (owned copies) */
        char *graph_root, *state_root, *engines_dir;
        struct rs_runtime_bin *bins;
        size_t n_bins;
        int runtime_timeout_ms;
        unsigned workers, max_parallel_restarts;
        struct rs_load_limits limits;

        pthread_mutex_t mu;
        pthread_cond_t idle_cond;
        struct rs_job *job;          /* the running restore, NULL when idle */
        pthread_t thread;
        bool thread_joinable;
        bool handling;               /* a HandleContainer is in progress */

        pthread_rwlock_t view_lock;
        struct rs_slot *slots;
        size_t n_slots;
        struct rs_summary summary;
        struct rs_registry *registry;

        struct rs_monitor *monitor;  /* liveness of re-attached containers (monitor.h) */

        pthread_mutex_t event_mu;
        rs_event_fn listener;
        void *listener_ud;
};

/* engine.c */
void rs_engine_emit(struct rs_engine *e, struct rs_event *ev);
/* Installs a new generation's (empty) slots; takes ownership of slots. */
void rs_engine_begin_generation(struct rs_engine *e, struct rs_slot *slots, size_t n, bool dry_run,
                                const char *error);
/* Moves *r into slot i (r is zeroed), updates the summary, emits CONTAINER_RESULT. */
void rs_engine_publish(struct rs_engine *e, size_t i, struct rs_result *r);
void rs_engine_finish_generation(struct rs_engine *e);
uint64_t rs_now_us(void);
uint64_t rs_mono_us(void);

/* engine_monitor.c: watches a published REATTACH result's process; its exit updates the view. */
void rs_engine_watch(struct rs_engine *e, const char *runtime, const char *dir, int pid,
                     uint64_t start_time);
/* A fresh monitor for a new (real) restore pass: the old generation's watches are dropped. */
void rs_engine_reset_monitor(struct rs_engine *e);
/* Index of the slot for (runtime, dir), view lock held; -1 if none. */
ssize_t rs_engine_find_slot(struct rs_engine *e, const char *runtime, const char *dir);
/* A re-attached container's process exited: its result turns STOPPED (STATUS_CHANGED). */
int rs_engine_mark_stopped(struct rs_engine *e, const char *runtime, const char *dir);
/* Replaces slot i (view lock NOT held) and emits CONTAINER_RESULT or STATUS_CHANGED. */
void rs_engine_replace(struct rs_engine *e, size_t i, struct rs_result *r, rs_event_kind kind);

/* engine_run.c: runs one restore pass for e->job (called on the engine thread). */
void rs_engine_run(struct rs_engine *e, const struct rs_job *job);

/* ---- engine_settle.c: the per-container stages after load, shared by a restore pass and
 * HandleContainer. ---- */
struct rs_image_store;
struct rs_gc_list;
struct rs_container;

struct rs_settle_ctx {
        struct rs_engine *e;
        struct rs_image_store *images;   /* NULL when the store could not be read */
        char images_error[RS_ERROR_MSG_MAX];
        struct rs_gc_list *gc;           /* NULL when garbage.json could not be read */
        char now[48];                    /* iSulad timestamp for StartedAt / FinishedAt */
        bool dry_run;
};

/* What a settled container asks of garbage.json (added serially, after the pass). */
struct rs_gc_request {
        bool add;
        struct rs_process proc;
};

int rs_settle_ctx_init(struct rs_settle_ctx *ctx, struct rs_engine *e, bool dry_run);
void rs_settle_ctx_done(struct rs_settle_ctx *ctx);

/* The result as the persisted files say it, before any sync (id, name, statuses, policy...). */
void rs_settle_fill_loaded(const struct rs_container *c, struct rs_result *res);

/* Marks res FAILED at stage with err's reason (INTERNAL if none) and message; action NONE. */
void rs_settle_fail(struct rs_result *res, rs_stage stage, const struct rs_error *err);
/* The same for a container whose garbage.json entry could not be written (STAGE_SYNC, IO_ERROR
 * unless err says otherwise): its files were left as they were. */
void rs_settle_fail_gc(struct rs_result *res, const struct rs_error *err);

/* Verify stage; fills err on failure. */
int rs_settle_verify(const struct rs_settle_ctx *ctx, const struct rs_container *c,
                     struct rs_error *err);

/*
 * Sync and handle one registered container, in memory only. Fills res (outcome FAILED with
 * stage and reason on failure) and *ret_gc (what it asks of garbage.json).
 */
void rs_settle_container(const struct rs_settle_ctx *ctx, struct rs_container *c,
                         struct rs_result *res, struct rs_gc_request *ret_gc);

/*
 * The crash-safe container_state.json write-back (nothing in a dry run or when c->state still
 * equals orig). Call only after garbage.json holds the container's GC entry, if it needs one:
 * a state that says "stopped (255)" without its GC entry would leave the shim uncollected.
 * On failure res becomes FAILED at STAGE_HANDLE.
 */
void rs_settle_save(const struct rs_settle_ctx *ctx, struct rs_container *c,
                    const struct rs_state *orig, struct rs_result *res);

/* Queues one garbage.json entry (serially, after the pass); then saves once. No-ops in a dry
 * run or when garbage.json was unreadable. */
int rs_settle_gc_add(struct rs_settle_ctx *ctx, const char *id, const char *runtime,
                     const struct rs_process *proc);
int rs_settle_gc_save(struct rs_settle_ctx *ctx, struct rs_error *err);
