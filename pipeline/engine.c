/*
 * engine.c - the restore engine object: configuration, single-flight of restore passes,
 * the published view (slots + summary) and the event listener.
 */
#include "engine_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "monitor.h"
#include "pool.h"

uint64_t rs_now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t rs_mono_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int copy_bins(struct rs_engine *e, const struct rs_config *cfg)
{
        if (cfg->n_runtime_bins == 0)
                return 0;
        e->bins = calloc(cfg->n_runtime_bins, sizeof(*e->bins));
        if (!e->bins)
                return -ENOMEM;
        for (size_t i = 0; i < cfg->n_runtime_bins; i++) {
                e->bins[i].name = strdup(cfg->runtime_bins[i].name);
                e->bins[i].path = strdup(cfg->runtime_bins[i].path);
                e->n_bins++;
                if (!e->bins[i].name || !e->bins[i].path)
                        return -ENOMEM;
        }
        return 0;
}

static int engine_configure(struct rs_engine *e, const struct rs_config *cfg)
{
        e->graph_root = strdup(cfg->graph_root ? cfg->graph_root : "/var/lib/isulad");
        e->state_root = strdup(cfg->state_root ? cfg->state_root : "/var/run/isulad");
        if (!e->graph_root || !e->state_root ||
            asprintf(&e->engines_dir, "%s/engines", e->graph_root) < 0)
                return -ENOMEM;
        e->runtime_timeout_ms = cfg->runtime_timeout_ms > 0 ? cfg->runtime_timeout_ms : 5000;
        e->workers = cfg->workers ? cfg->workers : rs_default_workers();
        e->max_parallel_restarts = cfg->max_parallel_restarts ? cfg->max_parallel_restarts : 4;
        e->limits.max_file_size =
                cfg->limits.max_file_size ? cfg->limits.max_file_size : RS_LOAD_MAX_FILE_SIZE;
        e->limits.max_depth = cfg->limits.max_depth ? cfg->limits.max_depth : RS_LOAD_MAX_DEPTH;
        return copy_bins(e, cfg);
}

int rs_engine_new(const struct rs_config *cfg, struct rs_engine **ret_engine)
{
        struct rs_engine *e = calloc(1, sizeof(*e));
        int r;

        if (!e)
                return -ENOMEM;
        pthread_mutex_init(&e->mu, NULL);
        pthread_cond_init(&e->idle_cond, NULL);
        pthread_rwlock_init(&e->view_lock, NULL);
        pthread_mutex_init(&e->event_mu, NULL);
        r = engine_configure(e, cfg);
        if (r == 0)
                r = rs_registry_new(&e->registry);
        if (r < 0) {
                rs_engine_free(e);
                return r;
        }
        *ret_engine = e;
        return 0;
}

static int slot_cmp(const char *rt, const char *dir, const struct rs_slot *s);
static size_t slot_after(const struct rs_engine *e, const char *rt, const char *dir);

static void free_slots(struct rs_slot *slots, size_t n)
{
        for (size_t i = 0; i < n; i++)
                rs_result_done(&slots[i].r);
        free(slots);
}

static void job_free(struct rs_job *job)
{
        if (!job)
                return;
        for (size_t i = 0; i < job->n_runtimes; i++)
                free(job->runtimes[i]);
        free(job->runtimes);
        while (job->waiters) {
                struct rs_waiter *w = job->waiters;
                job->waiters = w->next;
                free(w);
        }
        free(job);
}

void rs_engine_free(struct rs_engine *e)
{
        if (!e)
                return;
        pthread_mutex_lock(&e->mu);
        while (e->job || e->handling)
                pthread_cond_wait(&e->idle_cond, &e->mu);
        pthread_mutex_unlock(&e->mu);
        if (e->thread_joinable)
                pthread_join(e->thread, NULL);
        rs_monitor_free(e->monitor);
        free_slots(e->slots, e->n_slots);
        rs_registry_free(e->registry);
        for (size_t i = 0; i < e->n_bins; i++) {
                free((char *)e->bins[i].name);
                free((char *)e->bins[i].path);
        }
        free(e->bins);
        free(e->graph_root);
        free(e->state_root);
        free(e->engines_dir);
        pthread_mutex_destroy(&e->mu);
        pthread_cond_destroy(&e->idle_cond);
        pthread_rwlock_destroy(&e->view_lock);
        pthread_mutex_destroy(&e->event_mu);
        free(e);
}

void rs_engine_set_listener(struct rs_engine *e, rs_event_fn fn, void *userdata)
{
        pthread_mutex_lock(&e->event_mu);
        e->listener = fn;
        e->listener_ud = userdata;
        pthread_mutex_unlock(&e->event_mu);
}

void rs_engine_emit(struct rs_engine *e, struct rs_event *ev)
{
        ev->time_us = rs_now_us();
        pthread_mutex_lock(&e->event_mu);
        if (e->listener)
                e->listener(e->listener_ud, ev);
        pthread_mutex_unlock(&e->event_mu);
}

void rs_engine_summary(struct rs_engine *e, struct rs_summary *ret_summary)
{
        pthread_rwlock_rdlock(&e->view_lock);
        *ret_summary = e->summary;
        if (e->summary.phase == RS_PHASE_RUNNING)
                ret_summary->duration_us = rs_now_us() - e->summary.started_at_us;
        pthread_rwlock_unlock(&e->view_lock);
}

void rs_engine_begin_generation(struct rs_engine *e, struct rs_slot *slots, size_t n, bool dry_run,
                                const char *error)
{
        struct rs_slot *old;
        size_t n_old;
        struct rs_event ev = { .kind = RS_EVENT_RESTORE_STARTED };

        pthread_rwlock_wrlock(&e->view_lock);
        old = e->slots;
        n_old = e->n_slots;
        e->slots = slots;
        e->n_slots = n;
        e->summary = (struct rs_summary){
                .generation = e->summary.generation + 1,
                .phase = RS_PHASE_RUNNING,
                .total = (uint32_t)n,
                .started_at_us = rs_now_us(),
                .dry_run = dry_run,
        };
        snprintf(e->summary.error, sizeof(e->summary.error), "%s", error ? error : "");
        rs_registry_clear(e->registry);
        ev.summary = e->summary;
        pthread_rwlock_unlock(&e->view_lock);
        free_slots(old, n_old);
        rs_engine_emit(e, &ev);
}

static void count_result(struct rs_summary *s, const struct rs_result *r, int sign)
{
        if (r->outcome == RS_OUTCOME_FAILED) {
                s->failed += sign;
                return;
        }
        s->restored += sign;
        switch (r->status) {
        case RS_STATUS_RUNNING:
        case RS_STATUS_PAUSED:
        case RS_STATUS_RESTARTING:
        case RS_STATUS_STARTING:
                s->running += sign;
                break;
        case RS_STATUS_STOPPED:
        case RS_STATUS_CREATED:
                s->stopped += sign;
                break;
        default:
                break;
        }
}

/* Replaces the content of slot i with *r (moved), keeping the counters right. */
static void slot_store(struct rs_engine *e, size_t i, struct rs_result *r)
{
        struct rs_slot *slot = &e->slots[i];

        if (slot->done)
                count_result(&e->summary, &slot->r, -1);
        else
                e->summary.done++;
        rs_result_done(&slot->r);
        slot->r = *r;
        memset(r, 0, sizeof(*r));
        slot->done = true;
        count_result(&e->summary, &slot->r, +1);
}

void rs_engine_publish(struct rs_engine *e, size_t i, struct rs_result *r)
{
        rs_engine_replace(e, i, r, RS_EVENT_CONTAINER_RESULT);
}

void rs_engine_replace(struct rs_engine *e, size_t i, struct rs_result *r, rs_event_kind kind)
{
        struct rs_event ev = { .kind = kind };
        struct rs_result copy = { 0 };

        pthread_rwlock_wrlock(&e->view_lock);
        slot_store(e, i, r);
        ev.summary = e->summary;
        /* The listener gets a private copy: the slot may be replaced while it runs. */
        if (rs_result_copy(&e->slots[i].r, &copy) < 0)
                memset(&copy, 0, sizeof(copy));
        pthread_rwlock_unlock(&e->view_lock);
        ev.result = &copy;
        if (copy.id || copy.dir)
                rs_engine_emit(e, &ev);
        rs_result_done(&copy);
}

int rs_engine_mark_stopped(struct rs_engine *e, const char *runtime, const char *dir)
{
        struct rs_event ev = { .kind = RS_EVENT_STATUS_CHANGED };
        struct rs_result copy = { 0 };
        ssize_t i;
        int r = -ENOENT;

        /* Find and change under one write lock: a new generation may replace the slots. */
        pthread_rwlock_wrlock(&e->view_lock);
        i = rs_engine_find_slot(e, runtime, dir);
        if (i >= 0 && e->slots[i].done && e->slots[i].r.action == RS_ACTION_REATTACH &&
            e->slots[i].r.status != RS_STATUS_STOPPED) {
                count_result(&e->summary, &e->slots[i].r, -1);
                e->slots[i].r.status = RS_STATUS_STOPPED;
                count_result(&e->summary, &e->slots[i].r, +1);
                ev.summary = e->summary;
                r = rs_result_copy(&e->slots[i].r, &copy);
        }
        pthread_rwlock_unlock(&e->view_lock);
        if (r == 0) {
                ev.result = &copy;
                rs_engine_emit(e, &ev);
                rs_result_done(&copy);
        }
        return r;
}

void rs_engine_finish_generation(struct rs_engine *e)
{
        struct rs_event ev = { .kind = RS_EVENT_RESTORE_FINISHED };

        pthread_rwlock_wrlock(&e->view_lock);
        e->summary.phase = RS_PHASE_DONE;
        e->summary.duration_us = rs_now_us() - e->summary.started_at_us;
        ev.summary = e->summary;
        pthread_rwlock_unlock(&e->view_lock);
        rs_engine_emit(e, &ev);
}

ssize_t rs_engine_find_slot(struct rs_engine *e, const char *runtime, const char *dir)
{
        size_t i = slot_after(e, runtime, dir);

        /* slot_after() is the first slot past the key: the key itself, if present, is i - 1. */
        if (i > 0 && slot_cmp(runtime, dir, &e->slots[i - 1]) == 0)
                return (ssize_t)(i - 1);
        return -1;
}

static int slot_cmp(const char *rt, const char *dir, const struct rs_slot *s)
{
        int c = strcmp(rt, s->r.runtime ? s->r.runtime : "");
        return c ? c : strcmp(dir, s->r.dir ? s->r.dir : "");
}

/* First slot index strictly after (rt, dir): slots are sorted by (runtime, dir). */
static size_t slot_after(const struct rs_engine *e, const char *rt, const char *dir)
{
        size_t lo = 0, hi = e->n_slots;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (slot_cmp(rt, dir, &e->slots[mid]) >= 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

void rs_engine_visit(struct rs_engine *e, const char *after_runtime, const char *after_dir,
                     rs_visit_fn fn, void *userdata)
{
        size_t i = 0;

        pthread_rwlock_rdlock(&e->view_lock);
        if (after_runtime && after_dir)
                i = slot_after(e, after_runtime, after_dir);
        for (; i < e->n_slots; i++)
                if (e->slots[i].done && !fn(userdata, &e->slots[i].r))
                        break;
        pthread_rwlock_unlock(&e->view_lock);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A private, sorted copy of the request, so that "same parameters" is a plain comparison. */
static int job_new(const struct rs_request *req, unsigned default_workers, struct rs_job **ret)
{
        struct rs_job *job = calloc(1, sizeof(*job));

        if (!job)
                return -ENOMEM;
        job->dry_run = req->dry_run;
        job->workers = req->workers ? req->workers : default_workers;
        if (req->n_runtimes) {
                job->runtimes = calloc(req->n_runtimes, sizeof(char *));
                if (!job->runtimes) {
                        job_free(job);
                        return -ENOMEM;
                }
                for (size_t i = 0; i < req->n_runtimes; i++) {
                        job->runtimes[i] = strdup(req->runtimes[i]);
                        job->n_runtimes++;
                        if (!job->runtimes[i]) {
                                job_free(job);
                                return -ENOMEM;
                        }
                }
                qsort(job->runtimes, job->n_runtimes, sizeof(char *), cmp_str);
        }
        *ret = job;
        return 0;
}

static bool job_same(const struct rs_job *a, const struct rs_job *b)
{
        if (a->dry_run != b->dry_run || a->n_runtimes != b->n_runtimes)
                return false;
        for (size_t i = 0; i < a->n_runtimes; i++)
                if (strcmp(a->runtimes[i], b->runtimes[i]) != 0)
                        return false;
        /* workers only changes how fast, not what: a caller asking for another pool size
         * still joins. */
        return true;
}

static int job_add_waiter(struct rs_job *job, rs_done_fn fn, void *userdata)
{
        struct rs_waiter *w;

        if (!fn)
                return 0;
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        *w = (struct rs_waiter){ .fn = fn, .userdata = userdata, .next = job->waiters };
        job->waiters = w;
        return 0;
}

static void *engine_thread(void *arg)
{
        struct rs_engine *e = arg;
        struct rs_job *job;
        struct rs_summary summary;

        pthread_mutex_lock(&e->mu);
        job = e->job;
        pthread_mutex_unlock(&e->mu);

        rs_engine_run(e, job);
        rs_engine_summary(e, &summary);

        /* Detach the job before calling back, so that a callback may start the next one. */
        pthread_mutex_lock(&e->mu);
        e->job = NULL;
        pthread_cond_broadcast(&e->idle_cond);
        pthread_mutex_unlock(&e->mu);
        for (struct rs_waiter *w = job->waiters; w; w = w->next)
                w->fn(w->userdata, &summary);
        job_free(job);
        return NULL;
}

static int engine_start(struct rs_engine *e, struct rs_job *job)
{
        int r;

        if (e->thread_joinable) {
                /* The previous pass has finished (e->job was NULL): reap its thread. */
                pthread_join(e->thread, NULL);
                e->thread_joinable = false;
        }
        e->job = job;
        r = pthread_create(&e->thread, NULL, engine_thread, e);
        if (r != 0) {
                e->job = NULL;
                return -r;
        }
        e->thread_joinable = true;
        return 0;
}

int rs_engine_restore(struct rs_engine *e, const struct rs_request *req, rs_done_fn done,
                      void *userdata, struct rs_error *err)
{
        struct rs_job *job = NULL;
        int r = job_new(req, e->workers, &job);

        if (r < 0)
                return rs_fail(err, r, RS_REASON_INTERNAL, "out of memory");
        pthread_mutex_lock(&e->mu);
        /* A HandleContainer in progress is short (one container): let it finish first. */
        while (e->handling && !e->job)
                pthread_cond_wait(&e->idle_cond, &e->mu);
        if (e->job) {
                if (!job_same(e->job, job)) {
                        r = rs_fail(err, -EBUSY, RS_REASON_NONE,
                                    "a restore with other parameters (dry_run=%s, %zu runtime "
                                    "filter(s)) is running; retry when it has finished",
                                    e->job->dry_run ? "true" : "false", e->job->n_runtimes);
                } else {
                        r = job_add_waiter(e->job, done, userdata);
                }
                job_free(job);
        } else {
                r = job_add_waiter(job, done, userdata);
                if (r == 0)
                        r = engine_start(e, job);
                if (r < 0)
                        job_free(job);
        }
        pthread_mutex_unlock(&e->mu);
        return r;
}

struct wait_ctx {
        pthread_mutex_t mu;
        pthread_cond_t cond;
        bool done;
        struct rs_summary summary;
};

static void wait_done(void *userdata, const struct rs_summary *summary)
{
        struct wait_ctx *w = userdata;

        pthread_mutex_lock(&w->mu);
        w->summary = *summary;
        w->done = true;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->mu);
}

int rs_engine_restore_wait(struct rs_engine *e, const struct rs_request *req,
                           struct rs_summary *ret_summary, struct rs_error *err)
{
        struct wait_ctx w = { .mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
        int r = rs_engine_restore(e, req, wait_done, &w, err);

        if (r < 0)
                return r;
        pthread_mutex_lock(&w.mu);
        while (!w.done)
                pthread_cond_wait(&w.cond, &w.mu);
        pthread_mutex_unlock(&w.mu);
        if (ret_summary)
                *ret_summary = w.summary;
        return 0;
}
