/*
 * engine_handle.c - HandleContainer: one registered container, re-read from disk and run
 * through verify, sync and handle again, outside a restore pass. It answers "what is true of
 * this container now, and what should the engine do", and persists what sync changed (unless
 * dry run). It refuses to run during a restore pass; two calls run one after the other.
 */
#include "engine_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "restart.h"

/* Waits out other HandleContainer calls; -EBUSY while a restore pass runs. */
static int handle_begin(struct rs_engine *e, struct rs_error *err)
{
        pthread_mutex_lock(&e->mu);
        while (e->handling && !e->job)
                pthread_cond_wait(&e->idle_cond, &e->mu);
        if (e->job) {
                pthread_mutex_unlock(&e->mu);
                return rs_fail(err, -EBUSY, RS_REASON_NONE,
                               "a restore is running; retry when it has finished");
        }
        e->handling = true;
        pthread_mutex_unlock(&e->mu);
        return 0;
}

static void handle_end(struct rs_engine *e)
{
        pthread_mutex_lock(&e->mu);
        e->handling = false;
        pthread_cond_broadcast(&e->idle_cond);
        pthread_mutex_unlock(&e->mu);
}

/*
 * A key that names no registered container may still name one that failed to restore (failed
 * containers are never registered): say so, instead of a bare "not found". View lock held.
 */
static bool explain_unregistered(struct rs_engine *e, const char *key, struct rs_error *err)
{
        for (size_t i = 0; i < e->n_slots; i++) {
                const struct rs_result *r = &e->slots[i].r;
                const char *name = r->name && r->name[0] == '/' ? r->name + 1 : r->name;
                const char *want = key[0] == '/' ? key + 1 : key;

                if (!e->slots[i].done || r->outcome != RS_OUTCOME_FAILED)
                        continue;
                if ((r->id && strcmp(r->id, key) == 0) || (r->dir && strcmp(r->dir, key) == 0) ||
                    (name && strcmp(name, want) == 0)) {
                        rs_fail(err, -ENOENT, RS_REASON_NONE,
                                "container \"%.64s\" (%s/%.64s) is not registered: it failed to "
                                "restore at stage %s (%s); fix it, then run RestoreAll again",
                                key, r->runtime, r->dir, rs_stage_name(r->stage),
                                rs_reason_name(r->reason));
                        return true;
                }
        }
        return false;
}

/* The (runtime, dir) of the slot the key resolves to. */
static int resolve(struct rs_engine *e, const char *key, size_t *ret_slot, char **ret_runtime,
                   char **ret_dir, rs_status *ret_status, struct rs_error *err)
{
        size_t slot;
        int r = rs_registry_lookup(e->registry, key, &slot, err);

        if (r == -ENOENT) {
                pthread_rwlock_rdlock(&e->view_lock);
                (void)explain_unregistered(e, key, err);
                pthread_rwlock_unlock(&e->view_lock);
        }
        if (r < 0)
                return r;
        pthread_rwlock_rdlock(&e->view_lock);
        if (slot < e->n_slots) {
                *ret_runtime = strdup(e->slots[slot].r.runtime);
                *ret_dir = strdup(e->slots[slot].r.dir);
                *ret_status = e->slots[slot].r.status;
        } else {
                r = -ENOENT;
        }
        pthread_rwlock_unlock(&e->view_lock);
        if (r < 0)
                return rs_fail(err, r, RS_REASON_NONE, "no container with id or name \"%s\"", key);
        if (!*ret_runtime || !*ret_dir)
                return rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, "out of memory");
        *ret_slot = slot;
        return 0;
}

/* load -> verify -> sync -> handle -> write-back for one container, into res. */
static void rerun(struct rs_engine *e, struct rs_settle_ctx *ctx, const char *runtime,
                  const char *dir, struct rs_result *res)
{
        struct rs_container *c = NULL;
        struct rs_gc_request gc = { 0 };
        struct rs_error err = { 0 };

        res->runtime = strdup(runtime);
        res->dir = strdup(dir);
        if (rs_load_container(e->engines_dir, runtime, dir, &e->limits, &c, &err) < 0) {
                rs_settle_fail(res, RS_STAGE_LOAD, &err);
                return;
        }
        rs_settle_fill_loaded(c, res);
        if (rs_settle_verify(ctx, c, &err) < 0) {
                rs_settle_fail(res, RS_STAGE_VERIFY, &err);
        } else {
                struct rs_state orig = c->state;
                rs_settle_container(ctx, c, res, &gc);
                /* garbage.json before the state file, as in a restore pass (engine_run.c). */
                if (res->outcome != RS_OUTCOME_FAILED && gc.add &&
                    (rs_settle_gc_add(ctx, res->id, runtime, &gc.proc) < 0 ||
                     rs_settle_gc_save(ctx, &err) < 0)) {
                        rs_settle_fail_gc(res, &err);
                } else if (res->outcome != RS_OUTCOME_FAILED) {
                        rs_settle_save(ctx, c, &orig, res);
                }
        }
        if (res->action == RS_ACTION_RESTART)
                res->restart.delay_ms = rs_restart_delay_ms(0, e->max_parallel_restarts);
        rs_container_free(c);
}

int rs_engine_handle(struct rs_engine *e, const char *key, bool dry_run, struct rs_result *ret,
                     struct rs_error *err)
{
        struct rs_settle_ctx ctx;
        struct rs_result res = { 0 };
        char *runtime = NULL, *dir = NULL;
        rs_status before = RS_STATUS_UNKNOWN;
        size_t slot = 0;
        int r = handle_begin(e, err);

        if (r < 0)
                return r;
        r = resolve(e, key, &slot, &runtime, &dir, &before, err);
        if (r == 0 && rs_settle_ctx_init(&ctx, e, dry_run) < 0)
                r = rs_fail(err, -EINVAL, RS_REASON_INTERNAL, "cannot read the clock");
        if (r == 0) {
                rerun(e, &ctx, runtime, dir, &res);
                rs_settle_ctx_done(&ctx);
                r = rs_result_copy(&res, ret);
                if (r < 0)
                        rs_fail(err, r, RS_REASON_INTERNAL, "out of memory");
        }
        if (r == 0 && !dry_run) {
                bool watch = res.action == RS_ACTION_REATTACH;
                struct rs_process proc = res.process;
                rs_engine_replace(e, slot, &res,
                                  res.status != before ? RS_EVENT_STATUS_CHANGED
                                                       : RS_EVENT_CONTAINER_RESULT);
                if (watch)
                        rs_engine_watch(e, runtime, dir, proc.pid, proc.start_time);
        }
        rs_result_done(&res);
        free(runtime);
        free(dir);
        handle_end(e);
        return r;
}
