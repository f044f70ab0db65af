/* rpc_restore.c - RestoreAll, ListRestored, HandleContainer. */
#include "rpc_restore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "convert.h"
#include "listing.h"
#include "status_map.h"

struct restore_wait {
        struct rs_engine *engine;
        struct gs_call *call;
};

struct all_results {
        struct rs_result *items;
        size_t n, cap;
        int error;
};

static bool gather(void *userdata, const struct rs_result *r)
{
        struct all_results *a = userdata;

        if (a->n == a->cap) {
                size_t cap = a->cap ? a->cap * 2 : 256;
                struct rs_result *grown = realloc(a->items, cap * sizeof(*grown));
                if (!grown) {
                        a->error = -ENOMEM;
                        return false;
                }
                a->items = grown;
                a->cap = cap;
        }
        a->error = rs_result_copy(r, &a->items[a->n]);
        if (a->error == 0)
                a->n++;
        return a->error == 0;
}

static void all_results_done(struct all_results *a)
{
        for (size_t i = 0; i < a->n; i++)
                rs_result_done(&a->items[i]);
        free(a->items);
}

/* Answers one RestoreAll from the finished view (engine thread). */
static void reply_restore_all(struct rs_engine *e, struct gs_call *call)
{
        Isula__Restore__V1__RestoreAllResponse resp = ISULA__RESTORE__V1__RESTORE_ALL_RESPONSE__INIT;
        Isula__Restore__V1__RestoreSummary sum;
        struct all_results a = { 0 };
        struct rs_summary s;
        _cleanup_free_ struct rpc_result_msg *msgs = NULL;
        _cleanup_free_ Isula__Restore__V1__ContainerResult **ptrs = NULL;

        rs_engine_summary(e, &s);
        rs_engine_visit(e, NULL, NULL, gather, &a);
        msgs = calloc(a.n ? a.n : 1, sizeof(*msgs));
        ptrs = calloc(a.n ? a.n : 1, sizeof(*ptrs));
        if (a.error < 0 || !msgs || !ptrs) {
                all_results_done(&a);
                gs_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory building the response");
                return;
        }
        for (size_t i = 0; i < a.n; i++) {
                rpc_result_to_msg(&a.items[i], &msgs[i]);
                ptrs[i] = &msgs[i].msg;
        }
        rpc_summary_to_msg(&s, &sum);
        resp.summary = &sum;
        resp.n_results = a.n;
        resp.results = ptrs;
        gs_call_reply(call, &resp.base);
        all_results_done(&a);
}

static void restore_all_done(void *userdata, const struct rs_summary *summary)
{
        struct restore_wait *w = userdata;

        (void)summary;
        reply_restore_all(w->engine, w->call);
        free(w);
}

static bool runtime_name_ok(const char *s)
{
        /* Engine directory names: one path component. */
        return s && *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
               strlen(s) <= 255;
}

/* Returns true when the request may run; otherwise fails the call. */
static bool restore_all_valid(struct gs_call *call, const Isula__Restore__V1__RestoreAllRequest *req)
{
        if (req->n_runtimes > RPC_MAX_RUNTIME_FILTERS) {
                gs_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "runtimes: at most %d filters",
                             RPC_MAX_RUNTIME_FILTERS);
                return false;
        }
        for (size_t i = 0; i < req->n_runtimes; i++) {
                if (!runtime_name_ok(req->runtimes[i])) {
                        gs_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
                                     "runtimes[%zu]: \"%.64s\" is not an engine directory name", i,
                                     req->runtimes[i]);
                        return false;
                }
        }
        if (req->workers > RPC_MAX_WORKERS) {
                gs_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "workers: %u is more than %d",
                             req->workers, RPC_MAX_WORKERS);
                return false;
        }
        return true;
}

static void on_restore_all(struct gs_call *call, const ProtobufCMessage *msg, void *userdata)
{
        const Isula__Restore__V1__RestoreAllRequest *req = (const void *)msg;
        struct rs_engine *e = userdata;
        struct rs_request r = { .dry_run = req->dry_run, .workers = req->workers,
                                .runtimes = (const char *const *)req->runtimes,
                                .n_runtimes = req->n_runtimes };
        struct rs_error err = { 0 };
        struct restore_wait *w;
        int rc;

        if (!restore_all_valid(call, req))
                return;
        w = calloc(1, sizeof(*w));
        if (!w) {
                gs_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
                return;
        }
        *w = (struct restore_wait){ .engine = e, .call = call };
        rc = rs_engine_restore(e, &r, restore_all_done, w, &err);
        if (rc < 0) {
                free(w);
                gs_call_fail(call, rpc_status_from_errno(rc), "%s", err.msg);
        }
}

static void on_list(struct gs_call *call, const ProtobufCMessage *msg, void *userdata)
{
        const Isula__Restore__V1__ListRestoredRequest *req = (const void *)msg;
        Isula__Restore__V1__ListRestoredResponse resp = ISULA__RESTORE__V1__LIST_RESTORED_RESPONSE__INIT;
        Isula__Restore__V1__RestoreSummary sum;
        _cleanup_free_ struct rpc_result_msg *msgs = calloc(RPC_LIST_MAX_PAGE, sizeof(*msgs));
        _cleanup_free_ Isula__Restore__V1__ContainerResult **ptrs = calloc(RPC_LIST_MAX_PAGE, sizeof(*ptrs));
        struct rs_engine *e = userdata;
        struct rpc_list_query q;
        struct rpc_page page = { 0 };
        struct rs_summary s;
        char errbuf[256];
        int rc;

        if (!msgs || !ptrs) {
                gs_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
                return;
        }
        if (rpc_list_query_init(req, &q, errbuf, sizeof(errbuf)) < 0) {
                gs_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s", errbuf);
                return;
        }
        rs_engine_summary(e, &s);
        rc = rpc_list_collect(e, &q, &page);
        rpc_list_query_done(&q);
        if (rc < 0) {
                gs_call_fail(call, rpc_status_from_errno(rc), "cannot list: %s", strerror(-rc));
                return;
        }
        for (size_t i = 0; i < page.n; i++) {
                rpc_result_to_msg(&page.items[i], &msgs[i]);
                ptrs[i] = &msgs[i].msg;
        }
        rpc_summary_to_msg(&s, &sum);
        resp.summary = &sum;
        resp.n_containers = page.n;
        resp.containers = ptrs;
        resp.next_page_token = page.next_token ? page.next_token : (char *)"";
        gs_call_reply(call, &resp.base);
        rpc_page_done(&page);
}

static void on_handle(struct gs_call *call, const ProtobufCMessage *msg, void *userdata)
{
        const Isula__Restore__V1__HandleContainerRequest *req = (const void *)msg;
        Isula__Restore__V1__HandleContainerResponse resp =
                ISULA__RESTORE__V1__HANDLE_CONTAINER_RESPONSE__INIT;
        struct rpc_result_msg m;
        struct rs_result r = { 0 };
        struct rs_error err = { 0 };
        int rc;

        if (!req->id || !*req->id) {
                gs_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
                             "id: give a full id, a unique id prefix or a name");
                return;
        }
        rc = rs_engine_handle(userdata, req->id, req->dry_run, &r, &err);
        if (rc < 0) {
                gs_call_fail(call, rpc_status_from_errno(rc), "%s", err.msg);
                return;
        }
        rpc_result_to_msg(&r, &m);
        resp.result = &m.msg;
        gs_call_reply(call, &resp.base);
        rs_result_done(&r);
}

int rpc_restore_register(struct rs_engine *e, struct gs_server *s)
{
        const struct gs_method methods[] = {
                { "/isula.restore.v1.Restore/RestoreAll",
                  &isula__restore__v1__restore_all_request__descriptor, GS_UNARY, on_restore_all, e },
                { "/isula.restore.v1.Restore/ListRestored",
                  &isula__restore__v1__list_restored_request__descriptor, GS_UNARY, on_list, e },
                { "/isula.restore.v1.Restore/HandleContainer",
                  &isula__restore__v1__handle_container_request__descriptor, GS_UNARY, on_handle, e },
        };

        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
                int r = gs_server_add_method(s, &methods[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}
