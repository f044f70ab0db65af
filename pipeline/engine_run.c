/*
 * engine_run.c - one restore pass over the graph.
 *
 *   enumerate   <graph>/engines/<runtime>/<dir>, sorted: this order is the result order
 *   load+verify parallel (bounded pool); a failure is published at once
 *   register    serial, in result order: the directory that sorts first wins a duplicate
 *   sync+handle parallel; state write-back per container (never in a dry run)
 *   publish     serial: restart staggering follows result order, then results go live
 */
#include "engine_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "container.h"
#include "load.h"
#include "pool.h"
#include "registry.h"
#include "restart.h"

struct item {
        struct rs_container *c;   /* loaded, until published */
        struct rs_result res;     /* built up stage by stage */
        struct rs_gc_request gc;  /* what settle asks of garbage.json */
        struct rs_state orig;     /* the state as loaded: write-back only if it changed */
        bool failed;
};

struct pass {
        struct rs_engine *e;
        const struct rs_job *job;
        struct item *items;
        size_t n;
        struct rs_settle_ctx settle;
        atomic_uint progress;
        rs_stage stage;
        uint64_t last_progress_us;
        pthread_mutex_t progress_mu;
};

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

static bool entry_is_dir(int dirfd, const struct dirent *de)
{
        struct stat st;

        if (de->d_type != DT_UNKNOWN)
                return de->d_type == DT_DIR;
        return fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Sorted entry names of path. Hidden names (".", "..", ".tmp-*" left by interrupted atomic
 * writes) are skipped; with dirs_only, so is anything that is not a real directory. A missing
 * path is an empty list: a host with no containers of that kind.
 */
static int list_sorted(const char *path, bool dirs_only, char ***ret_names, size_t *ret_n)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char **names = NULL;
        size_t n = 0, cap = 0;
        DIR *d;
        struct dirent *de;

        if (fd < 0 && errno == ENOENT) {
                *ret_names = NULL;
                *ret_n = 0;
                return 0;
        }
        if (fd < 0 || !(d = fdopendir(fd)))
                return -errno;
        fd = -1; /* owned by d now */
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || (dirs_only && !entry_is_dir(dirfd(d), de)))
                        continue;
                if (n == cap) {
                        char **grown = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(char *));
                        if (!grown)
                                break;
                        names = grown;
                }
                if (!(names[n] = strdup(de->d_name)))
                        break;
                n++;
        }
        closedir(d);
        if (de) { /* stopped early: out of memory */
                free_names(names, n);
                return -ENOMEM;
        }
        if (n) /* qsort(NULL, 0) is undefined behaviour: an empty directory has no list */
                qsort(names, n, sizeof(char *), cmp_names);
        *ret_names = names;
        *ret_n = n;
        return 0;
}

static bool runtime_selected(const struct rs_job *job, const char *runtime)
{
        if (job->n_runtimes == 0)
                return true;
        for (size_t i = 0; i < job->n_runtimes; i++)
                if (strcmp(job->runtimes[i], runtime) == 0)
                        return true;
        return false;
}

static int add_slots(struct rs_slot **slots, size_t *n, size_t *cap, const char *runtime,
                     char **dirs, size_t n_dirs)
{
        if (*n + n_dirs > *cap) {
                size_t want = (*n + n_dirs) * 2;
                struct rs_slot *grown = realloc(*slots, want * sizeof(**slots));
                if (!grown)
                        return -ENOMEM;
                *slots = grown;
                *cap = want;
        }
        for (size_t i = 0; i < n_dirs; i++) {
                struct rs_slot *s = &(*slots)[(*n)++];
                memset(s, 0, sizeof(*s));
                s->r.dir = TAKE_PTR(dirs[i]);
                s->r.runtime = strdup(runtime);
                if (!s->r.runtime)
                        return -ENOMEM;
        }
        return 0;
}

static void free_slot_array(struct rs_slot *slots, size_t n)
{
        for (size_t i = 0; i < n; i++)
                rs_result_done(&slots[i].r);
        free(slots);
}

/*
 * The container directories to restore, as empty slots in result order. An engine directory
 * that cannot be read is skipped and named in ret_error (the rest still restores); only
 * running out of memory fails the whole enumeration.
 */
static int enumerate(struct rs_engine *e, const struct rs_job *job, struct rs_slot **ret_slots,
                     size_t *ret_n, char *ret_error, size_t errlen)
{
        char **runtimes = NULL;
        size_t n_runtimes = 0, n = 0, cap = 0;
        struct rs_slot *slots = NULL;
        int r = list_sorted(e->engines_dir, true, &runtimes, &n_runtimes);

        if (r < 0 && r != -ENOMEM) {
                snprintf(ret_error, errlen, "%s: %s", e->engines_dir, strerror(-r));
                r = 0;
        }
        for (size_t i = 0; r == 0 && i < n_runtimes; i++) {
                _cleanup_free_ char *path = NULL;
                char **dirs = NULL;
                size_t n_dirs = 0;
                int lr;

                if (!runtime_selected(job, runtimes[i]))
                        continue;
                if (asprintf(&path, "%s/%s", e->engines_dir, runtimes[i]) < 0) {
                        r = -ENOMEM;
                        break;
                }
                lr = list_sorted(path, false, &dirs, &n_dirs);
                if (lr == -ENOMEM)
                        r = lr;
                else if (lr < 0 && !ret_error[0])
                        snprintf(ret_error, errlen, "%s: %s", path, strerror(-lr));
                else if (lr == 0)
                        r = add_slots(&slots, &n, &cap, runtimes[i], dirs, n_dirs);
                free_names(dirs, n_dirs);
        }
        free_names(runtimes, n_runtimes);
        if (r < 0) {
                free_slot_array(slots, n);
                return r;
        }
        *ret_slots = slots;
        *ret_n = n;
        return 0;
}

static void item_fail(struct item *it, rs_stage stage, const struct rs_error *err)
{
        it->failed = true;
        rs_settle_fail(&it->res, stage, err);
}

static void progress_emit(struct pass *p, bool force)
{
        uint64_t now = rs_mono_us();
        struct rs_event ev = { .kind = RS_EVENT_PROGRESS };

        pthread_mutex_lock(&p->progress_mu);
        /* At most ~10 progress events a second, plus the last one of each stage. */
        if (!force && now - p->last_progress_us < 100000) {
                pthread_mutex_unlock(&p->progress_mu);
                return;
        }
        p->last_progress_us = now;
        ev.stage = p->stage;
        ev.stage_done = atomic_load(&p->progress);
        ev.stage_total = (uint32_t)p->n;
        pthread_mutex_unlock(&p->progress_mu);
        rs_engine_summary(p->e, &ev.summary);
        rs_engine_emit(p->e, &ev);
}

static void progress_begin(struct pass *p, rs_stage stage)
{
        p->stage = stage;
        atomic_store(&p->progress, 0);
}

static void progress_tick(struct pass *p)
{
        atomic_fetch_add(&p->progress, 1);
        progress_emit(p, false);
}

static void load_one(void *userdata, size_t i)
{
        struct pass *p = userdata;
        struct item *it = &p->items[i];
        struct rs_error err = { 0 };
        int r = rs_load_container(p->e->engines_dir, it->res.runtime, it->res.dir, &p->e->limits,
                                  &it->c, &err);

        if (r < 0) {
                item_fail(it, RS_STAGE_LOAD, &err);
                rs_engine_publish(p->e, i, &it->res);
        } else {
                rs_settle_fill_loaded(it->c, &it->res);
                /* A dry run never writes back: the document kept for it can go now. */
                if (p->job->dry_run) {
                        json_object_put(it->c->state_doc);
                        it->c->state_doc = NULL;
                }
                /* Verify right after load: an in-memory lookup, no reason for a stage of its own. */
                if (rs_settle_verify(&p->settle, it->c, &err) < 0) {
                        item_fail(it, RS_STAGE_VERIFY, &err);
                        rs_engine_publish(p->e, i, &it->res);
                } else {
                        it->res.stage = RS_STAGE_VERIFY;
                }
        }
        progress_tick(p);
}

/* iSulad registers CommonConfig.id but deletes by directory name (research §1.3, §6.2.3):
 * restored requires the two to agree before anything else is done with the container. */
static int register_one(struct rs_engine *e, struct item *it, size_t slot, struct rs_error *err)
{
        const struct rs_container *c = it->c;
        char where[300];

        if (!rs_id_valid(c->id))
                return rs_fail(err, -EINVAL, RS_REASON_INVALID_ID,
                               "config.v2.json: CommonConfig.id \"%.80s\" is not 1 to 64 lowercase "
                               "hex digits",
                               c->id);
        if (strcmp(c->id, c->dir_name) != 0)
                return rs_fail(err, -EINVAL, RS_REASON_ID_MISMATCH,
                               "config.v2.json: CommonConfig.id \"%.64s\" does not match the "
                               "directory name \"%.64s\"",
                               c->id, c->dir_name);
        snprintf(where, sizeof(where), "%s/%s", c->runtime, c->dir_name);
        return rs_registry_add(e->registry, c->id, c->name, where, slot, err);
}

static void register_all(struct pass *p)
{
        for (size_t i = 0; i < p->n; i++) {
                struct item *it = &p->items[i];
                struct rs_error err = { 0 };

                if (!it->failed && register_one(p->e, it, i, &err) < 0) {
                        item_fail(it, RS_STAGE_REGISTER, &err);
                        rs_engine_publish(p->e, i, &it->res);
                } else if (!it->failed) {
                        it->res.stage = RS_STAGE_REGISTER;
                }
                progress_tick(p);
        }
}

static void settle_one(void *userdata, size_t i)
{
        struct pass *p = userdata;
        struct item *it = &p->items[i];

        if (!it->failed) {
                it->orig = it->c->state;
                rs_settle_container(&p->settle, it->c, &it->res, &it->gc);
                it->failed = it->res.outcome == RS_OUTCOME_FAILED;
                if (it->failed)
                        rs_engine_publish(p->e, i, &it->res);
        }
        if (it->failed) {
                rs_container_free(it->c);
                it->c = NULL;
        }
        progress_tick(p);
}

/*
 * garbage.json first, in one crash-safe write: a container_state.json that says "stopped
 * (255)" must never exist without the GC entry that gets its shim collected. If garbage.json
 * cannot be written, the containers that needed an entry fail and keep their files as they were.
 */
static void commit_gc(struct pass *p)
{
        struct rs_error err = { 0 };
        bool any = false;

        for (size_t i = 0; i < p->n; i++) {
                struct item *it = &p->items[i];
                if (!it->failed && it->gc.add &&
                    rs_settle_gc_add(&p->settle, it->res.id, it->res.runtime, &it->gc.proc) > 0)
                        any = true;
        }
        if (!any || rs_settle_gc_save(&p->settle, &err) >= 0)
                return;
        for (size_t i = 0; i < p->n; i++) {
                struct item *it = &p->items[i];
                if (it->failed || !it->gc.add)
                        continue;
                it->failed = true;
                rs_settle_fail_gc(&it->res, &err);
                rs_engine_publish(p->e, i, &it->res);
                rs_container_free(it->c);
                it->c = NULL;
        }
}

static void save_one(void *userdata, size_t i)
{
        struct pass *p = userdata;
        struct item *it = &p->items[i];

        if (!it->failed) {
                rs_settle_save(&p->settle, it->c, &it->orig, &it->res);
                it->failed = it->res.outcome == RS_OUTCOME_FAILED;
                if (it->failed)
                        rs_engine_publish(p->e, i, &it->res);
        }
        /* The result holds all that is left to say: drop the JSON documents now. */
        rs_container_free(it->c);
        it->c = NULL;
}

/*
 * Serial, in result order: restart delays are staggered by position (the first restarts 5 s
 * after restore, at most --max-parallel-restarts per wave, CONTRACT §4.7), then the results
 * go live; re-attached processes are watched from then on.
 */
static void publish_all(struct pass *p)
{
        unsigned restarts = 0;

        for (size_t i = 0; i < p->n; i++) {
                struct item *it = &p->items[i];
                bool watch = !it->failed && !p->job->dry_run && it->res.action == RS_ACTION_REATTACH;
                struct rs_process proc = it->res.process;
                char *runtime = watch ? strdup(it->res.runtime) : NULL;
                char *dir = watch ? strdup(it->res.dir) : NULL;

                if (!it->failed && it->res.action == RS_ACTION_RESTART)
                        it->res.restart.delay_ms =
                                rs_restart_delay_ms(restarts++, p->e->max_parallel_restarts);
                if (!it->failed)
                        rs_engine_publish(p->e, i, &it->res);
                /* Watched after publishing, so an exit seen at once finds the result to mark. */
                if (runtime && dir)
                        rs_engine_watch(p->e, runtime, dir, proc.pid, proc.start_time);
                free(runtime);
                free(dir);
                rs_result_done(&it->res);
        }
}

static int pass_init(struct pass *p, struct rs_engine *e, const struct rs_job *job,
                     const struct rs_slot *slots, size_t n)
{
        *p = (struct pass){ .e = e, .job = job, .n = n };
        pthread_mutex_init(&p->progress_mu, NULL);
        if (rs_settle_ctx_init(&p->settle, e, job->dry_run) < 0)
                return -EINVAL;
        p->items = calloc(n ? n : 1, sizeof(*p->items));
        if (!p->items)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                p->items[i].res.runtime = strdup(slots[i].r.runtime);
                p->items[i].res.dir = strdup(slots[i].r.dir);
                if (!p->items[i].res.runtime || !p->items[i].res.dir)
                        return -ENOMEM;
        }
        return 0;
}

static void pass_done(struct pass *p)
{
        for (size_t i = 0; p->items && i < p->n; i++) {
                rs_container_free(p->items[i].c);
                rs_result_done(&p->items[i].res);
        }
        free(p->items);
        rs_settle_ctx_done(&p->settle);
        pthread_mutex_destroy(&p->progress_mu);
}

static void run_stage(struct pass *p, rs_stage stage, rs_for_fn fn)
{
        progress_begin(p, stage);
        rs_parallel_for(p->job->workers, p->n, fn, p);
        progress_emit(p, true);
}

void rs_engine_run(struct rs_engine *e, const struct rs_job *job)
{
        struct rs_slot *slots = NULL;
        size_t n = 0;
        char error[256] = "";
        struct pass p;
        bool inited = false;
        int r = enumerate(e, job, &slots, &n, error, sizeof(error));

        if (r == 0) {
                r = pass_init(&p, e, job, slots, n);
                inited = true;
        }
        if (r < 0) {
                /* Out of memory (or no clock): an empty generation that says why. */
                snprintf(error, sizeof(error), "cannot start the restore: %s", strerror(-r));
                if (inited)
                        pass_done(&p);
                free_slot_array(slots, n);
                slots = NULL;
                n = 0;
                (void)pass_init(&p, e, job, NULL, 0); /* n = 0: every stage below is empty */
        }
        if (!job->dry_run)
                rs_engine_reset_monitor(e);
        rs_engine_begin_generation(e, slots, n, job->dry_run, error);

        run_stage(&p, RS_STAGE_LOAD, load_one);
        progress_begin(&p, RS_STAGE_REGISTER);
        register_all(&p);
        progress_emit(&p, true);
        run_stage(&p, RS_STAGE_SYNC, settle_one);
        commit_gc(&p);
        progress_begin(&p, RS_STAGE_HANDLE);
        rs_parallel_for(job->workers, p.n, save_one, &p);
        publish_all(&p);
        pass_done(&p);
        rs_engine_finish_generation(e);
}
