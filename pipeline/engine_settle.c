/*
 * engine_settle.c - verify, sync, handle and write-back for one container.
 *
 * Order per container (after it has been registered):
 *   sync        the real state: shim, runtime `state`, /proc identity (sync.h), in memory
 *   handle      GC skip / reattach / auto-remove / restart decision (handle.h), in memory
 *   write-back  container_state.json, crash-safe, only when something changed (statefile.h)
 * A failure at any step leaves the container's files as they were.
 */
#include "engine_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "gc.h"
#include "handle.h"
#include "statefile.h"
#include "sync.h"
#include "timefmt.h"
#include "verify.h"

int rs_settle_ctx_init(struct rs_settle_ctx *ctx, struct rs_engine *e, bool dry_run)
{
        struct rs_error err = { 0 };

        memset(ctx, 0, sizeof(*ctx));
        ctx->e = e;
        ctx->dry_run = dry_run;
        if (rs_time_format_now(ctx->now) < 0)
                return -EINVAL;
        /* One image store per pass, as iSulad loads it once before restore (research §0). */
        if (rs_image_store_load(e->graph_root, &ctx->images, &err) < 0) {
                ctx->images = NULL;
                snprintf(ctx->images_error, sizeof(ctx->images_error), "%s", err.msg);
        }
        /* An unreadable garbage.json is never rewritten: it is left for the operator. */
        if (rs_gc_load(e->graph_root, &ctx->gc, &err) < 0)
                ctx->gc = NULL;
        return 0;
}

void rs_settle_ctx_done(struct rs_settle_ctx *ctx)
{
        rs_image_store_free(ctx->images);
        rs_gc_free(ctx->gc);
        ctx->images = NULL;
        ctx->gc = NULL;
}

int rs_settle_verify(const struct rs_settle_ctx *ctx, const struct rs_container *c,
                     struct rs_error *err)
{
        if (!ctx->images && c->image_type && strcmp(c->image_type, "oci") == 0)
                return rs_fail(err, -EIO, RS_REASON_IMAGE_UNKNOWN,
                               "image \"%s\" cannot be checked: the image store is unreadable: %s",
                               c->image ? c->image : "", ctx->images_error);
        return rs_verify_image(ctx->images, c, err);
}

static char *xstrdup_or_null(const char *s)
{
        return s ? strdup(s) : NULL;
}

/* What the persisted files say, before any sync: the starting point of every result. */
void rs_settle_fill_loaded(const struct rs_container *c, struct rs_result *res)
{

        res->id = xstrdup_or_null(c->id);
        res->name = xstrdup_or_null(c->name);
        res->image = xstrdup_or_null(c->image);
        res->outcome = RS_OUTCOME_RESTORED;
        res->stage = RS_STAGE_LOAD;
        res->persisted_status = rs_state_status(&c->state);
        res->status = res->persisted_status;
        res->process = (struct rs_process){ c->state.pid, c->state.ppid, c->state.start_time,
                                            c->state.p_start_time };
        res->exit_code = c->state.exit_code;
        res->restart.policy = xstrdup_or_null(c->restart_policy);
        res->restart.max_retry = c->max_retry;
        res->restart.restart_count = c->state.restart_count;
        res->health_configured = c->health_configured;
        res->health_status = c->state.has_health ? strdup(c->state.health_status) : NULL;
        res->auto_remove = c->auto_remove_bak;
        if (c->state_warning)
                res->error = strdup(c->state_warning); /* restored, with a warning */
}

void rs_settle_fail(struct rs_result *res, rs_stage stage, const struct rs_error *err)
{
        res->outcome = RS_OUTCOME_FAILED;
        res->stage = stage;
        res->reason = err->reason != RS_REASON_NONE ? err->reason : RS_REASON_INTERNAL;
        res->action = RS_ACTION_NONE;
        free(res->error);
        res->error = strdup(err->msg[0] ? err->msg : "internal error");
}

static int settle_sync(const struct rs_settle_ctx *ctx, struct rs_container *c,
                       struct rs_gc_request *gc, struct rs_error *err)
{
        struct rs_engine *e = ctx->e;
        struct rs_sync_ctx sc = {
                .runtime = { .state_root = e->state_root, .bins = e->bins, .n_bins = e->n_bins,
                             .timeout_ms = e->runtime_timeout_ms },
                .now = ctx->now,
        };
        struct rs_sync_report rep = { 0 };
        int r = rs_sync_container(&sc, c, &rep, err);

        if (r == 0 && rep.to_gc) {
                gc->add = true;
                gc->proc = rep.gc_process;
        }
        return r;
}

static int settle_handle(const struct rs_settle_ctx *ctx, struct rs_container *c,
                         struct rs_result *res, struct rs_gc_request *gc, struct rs_error *err)
{
        struct rs_handle_ctx hc = {
                .state_root = ctx->e->state_root,
                .in_gc = gc->add || (ctx->gc && rs_gc_contains(ctx->gc, c->id)),
                .restart_index = NULL, /* staggered later, in result order (engine_run.c) */
                .max_parallel_restarts = ctx->e->max_parallel_restarts,
                .now = ctx->now,
                .dry_run = ctx->dry_run,
        };
        struct rs_handle_report rep = { 0 };
        int r = rs_handle_container(&hc, c, &rep);

        if (r < 0) {
                rs_handle_report_done(&rep);
                return rs_fail(err, r, RS_REASON_INTERNAL, "handle: %s", strerror(-r));
        }
        if (rep.to_gc && !gc->add) {
                gc->add = true;
                gc->proc = rep.gc_process;
        }
        rs_handle_report_move(&rep, res);
        rs_handle_report_done(&rep);
        return 0;
}

void rs_settle_container(const struct rs_settle_ctx *ctx, struct rs_container *c,
                         struct rs_result *res, struct rs_gc_request *ret_gc)
{
        struct rs_error err = { 0 };

        *ret_gc = (struct rs_gc_request){ 0 };
        if (settle_sync(ctx, c, ret_gc, &err) < 0) {
                rs_settle_fail(res, RS_STAGE_SYNC, &err);
                *ret_gc = (struct rs_gc_request){ 0 };
                return;
        }
        res->stage = RS_STAGE_SYNC;
        if (settle_handle(ctx, c, res, ret_gc, &err) < 0) {
                rs_settle_fail(res, RS_STAGE_HANDLE, &err);
                *ret_gc = (struct rs_gc_request){ 0 };
                return;
        }
        res->stage = RS_STAGE_HANDLE;
}

void rs_settle_save(const struct rs_settle_ctx *ctx, struct rs_container *c,
                    const struct rs_state *orig, struct rs_result *res)
{
        struct rs_error err = { 0 };
        bool written = false;

        /* Written once, after handle, so a health reset and a forced stop land together. */
        if (rs_state_save(c, orig, ctx->dry_run, &written, &err) < 0) {
                rs_settle_fail(res, RS_STAGE_HANDLE, &err);
                return;
        }
        res->state_written = written;
}

void rs_settle_fail_gc(struct rs_result *res, const struct rs_error *err)
{
        struct rs_error e = *err;

        if (e.reason == RS_REASON_NONE)
                e.reason = RS_REASON_IO_ERROR;
        rs_error_prefix(&e, "its files were left as they were: cannot record it for GC: ");
        rs_settle_fail(res, RS_STAGE_SYNC, &e);
}

int rs_settle_gc_add(struct rs_settle_ctx *ctx, const char *id, const char *runtime,
                     const struct rs_process *proc)
{
        if (ctx->dry_run || !ctx->gc || rs_gc_contains(ctx->gc, id))
                return 0;
        return rs_gc_add(ctx->gc, id, runtime, proc);
}

int rs_settle_gc_save(struct rs_settle_ctx *ctx, struct rs_error *err)
{
        if (ctx->dry_run || !ctx->gc)
                return 0;
        return rs_gc_save(ctx->gc, err);
}
