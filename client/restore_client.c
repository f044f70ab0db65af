/* restore_client.c - librestore-client: the API of restore_client.h over the transport. */
#include "restore_client.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "grpc/health/v1/health.pb-c.h"
#include "isula/restore/v1/restore.pb-c.h"
#include "transport.h"

struct restore_client {
        struct rc_conn *conn;
        int64_t timeout_ms;
};

/* Per thread, like errno, so that threads sharing one client never see each other's errors. */
static __thread struct {
        const restore_client *client;
        int code;
        char msg[RC_STATUS_MSG_MAX];
} last_error;

/* Records the outcome of a call for restore_client_last_error() and passes r through. */
static int record(const restore_client *c, int r, const struct rc_status *st)
{
        last_error.client = c;
        last_error.code = r < 0 ? (int)st->code : 0;
        if (r >= 0)
                last_error.msg[0] = '\0';
        else if (st->code != GRPC_STATUS_OK)
                snprintf(last_error.msg, sizeof(last_error.msg), "%s", st->msg);
        else { /* a local failure before or after the RPC */
                last_error.code = r == -ENOMEM ? GRPC_STATUS_RESOURCE_EXHAUSTED : GRPC_STATUS_INTERNAL;
                snprintf(last_error.msg, sizeof(last_error.msg), "%s", strerror(-r));
        }
        return r;
}

static int record_local(const restore_client *c, int r, grpc_status_code code, const char *msg)
{
        struct rc_status st = {.code = code};
        snprintf(st.msg, sizeof(st.msg), "%s", msg);
        return record(c, r, &st);
}

const char *restore_client_last_error(const restore_client *c, int *ret_code)
{
        bool mine = last_error.client == c;

        if (ret_code)
                *ret_code = mine ? last_error.code : 0;
        return mine ? last_error.msg : "";
}

/* ---- enum names, from the generated descriptors so they cannot drift from the proto ---- */

static const char *enum_name(const ProtobufCEnumDescriptor *d, int v)
{
        const ProtobufCEnumValue *e = protobuf_c_enum_descriptor_get_value(d, v);
        return e ? e->name : "";
}

const char *restore_phase_name(restore_phase v)
{
        return enum_name(&isula__restore__v1__phase__descriptor, v);
}

const char *restore_outcome_name(restore_outcome v)
{
        return enum_name(&isula__restore__v1__outcome__descriptor, v);
}

const char *restore_stage_name(restore_stage v)
{
        return enum_name(&isula__restore__v1__stage__descriptor, v);
}

const char *restore_status_name(restore_status v)
{
        return enum_name(&isula__restore__v1__status__descriptor, v);
}

const char *restore_action_name(restore_action v)
{
        return enum_name(&isula__restore__v1__action__descriptor, v);
}

const char *restore_reason_name(restore_reason v)
{
        return enum_name(&isula__restore__v1__failure_reason__descriptor, v);
}

const char *restore_event_kind_name(restore_event_kind v)
{
        return enum_name(&isula__restore__v1__watch_event__kind__descriptor, v);
}

/* ---- connection ---- */

static int64_t effective_timeout(int timeout_ms)
{
        return timeout_ms > 0 ? timeout_ms : RESTORE_CLIENT_DEFAULT_TIMEOUT_MS;
}

int restore_client_connect(const char *socket_path, int timeout_ms, restore_client **ret)
{
        struct rc_status st = {0};
        restore_client *c;
        int r;

        if (!ret)
                return record_local(NULL, -EINVAL, GRPC_STATUS_INVALID_ARGUMENT, "ret is NULL");
        c = calloc(1, sizeof(*c));
        if (!c)
                return record_local(NULL, -ENOMEM, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        c->timeout_ms = effective_timeout(timeout_ms);
        r = rc_conn_open(socket_path ? socket_path : RESTORE_CLIENT_DEFAULT_SOCKET, NULL, &c->conn, &st);
        if (r >= 0)
                r = rc_conn_wait_ready(c->conn, c->timeout_ms, &st);
        if (r < 0) {
                restore_client_close(c);
                return record(NULL, r, &st);
        }
        *ret = c;
        return record(NULL, 0, &st);
}

void restore_client_set_timeout(restore_client *c, int timeout_ms)
{
        if (c)
                c->timeout_ms = effective_timeout(timeout_ms);
}

void restore_client_close(restore_client *c)
{
        if (!c)
                return;
        rc_conn_free(c->conn);
        free(c);
}

/* ---- conversions: protobuf-c messages -> the plain structs of the header ---- */

static void summary_from_pb(const Isula__Restore__V1__RestoreSummary *m, restore_summary *s)
{
        memset(s, 0, sizeof(*s));
        if (!m)
                return;
        s->generation = m->generation;
        s->phase = (restore_phase)m->phase;
        s->total = m->total;
        s->restored = m->restored;
        s->failed = m->failed;
        s->running = m->running;
        s->stopped = m->stopped;
        s->duration_us = m->duration_us;
        s->dry_run = m->dry_run;
        s->done = m->done;
        s->started_at_us = m->started_at_us;
        snprintf(s->error, sizeof(s->error), "%s", m->error ? m->error : "");
}

static void result_done(restore_container_result *r)
{
        free(r->id);
        free(r->name);
        free(r->runtime);
        free(r->image);
        free(r->error);
        free(r->exit_fifo);
        free(r->restart.policy);
        free(r->restart.reason);
        free(r->health.status);
        free(r->dir);
        memset(r, 0, sizeof(*r));
}

static char *dup_str(const char *s, bool *oom)
{
        char *d = strdup(s ? s : "");
        if (!d)
                *oom = true;
        return d;
}

static void result_scalars_from_pb(const Isula__Restore__V1__ContainerResult *m, restore_container_result *r)
{
        r->outcome = (restore_outcome)m->outcome;
        r->stage = (restore_stage)m->stage;
        r->reason = (restore_reason)m->reason;
        r->persisted_status = (restore_status)m->persisted_status;
        r->status = (restore_status)m->status;
        r->action = (restore_action)m->action;
        r->exit_code = m->exit_code;
        r->auto_remove = m->auto_remove;
        r->state_written = m->state_written;
        if (m->process)
                r->process = (restore_process){m->process->pid, m->process->ppid, m->process->start_time,
                                               m->process->p_start_time};
        if (m->restart) {
                r->restart.maximum_retry_count = m->restart->maximum_retry_count;
                r->restart.restart_count = m->restart->restart_count;
                r->restart.should_restart = m->restart->should_restart;
                r->restart.delay_ms = m->restart->delay_ms;
        }
        if (m->health)
                r->health.configured = m->health->configured;
}

static int result_from_pb(const Isula__Restore__V1__ContainerResult *m, restore_container_result *r)
{
        bool oom = false;

        memset(r, 0, sizeof(*r));
        if (!m)
                m = &(const Isula__Restore__V1__ContainerResult)ISULA__RESTORE__V1__CONTAINER_RESULT__INIT;
        result_scalars_from_pb(m, r);
        r->id = dup_str(m->id, &oom);
        r->name = dup_str(m->name, &oom);
        r->runtime = dup_str(m->runtime, &oom);
        r->image = dup_str(m->image, &oom);
        r->error = dup_str(m->error, &oom);
        r->exit_fifo = dup_str(m->exit_fifo, &oom);
        r->dir = dup_str(m->dir, &oom);
        r->restart.policy = dup_str(m->restart ? m->restart->policy : NULL, &oom);
        r->restart.reason = dup_str(m->restart ? m->restart->reason : NULL, &oom);
        r->health.status = dup_str(m->health ? m->health->status : NULL, &oom);
        if (oom) {
                result_done(r);
                return -ENOMEM;
        }
        return 0;
}

/* Converts n results into a new array; on failure nothing is left allocated. */
static int results_from_pb(Isula__Restore__V1__ContainerResult *const *m, size_t n,
                           restore_container_result **ret)
{
        restore_container_result *arr = calloc(n ? n : 1, sizeof(*arr));

        if (!arr)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (result_from_pb(m[i], &arr[i]) < 0) {
                        while (i-- > 0)
                                result_done(&arr[i]);
                        free(arr);
                        return -ENOMEM;
                }
        }
        *ret = arr;
        return 0;
}

static void protobuf_freep(void *p)
{
        ProtobufCMessage *m = *(ProtobufCMessage **)p;
        if (m)
                protobuf_c_message_free_unpacked(m, NULL);
}
#define _cleanup_pb_ _cleanup_(protobuf_freep)

/* ---- RestoreAll ---- */

void restore_all_result_free(restore_all_result *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_results; i++)
                result_done(&r->results[i]);
        free(r->results);
        free(r);
}

static int restore_all_from_pb(const Isula__Restore__V1__RestoreAllResponse *m, restore_all_result **ret)
{
        restore_all_result *r = calloc(1, sizeof(*r));

        if (!r || results_from_pb(m->results, m->n_results, &r->results) < 0) {
                free(r);
                return -ENOMEM;
        }
        r->n_results = m->n_results;
        summary_from_pb(m->summary, &r->summary);
        *ret = r;
        return 0;
}

int restore_client_restore_all(restore_client *c, const restore_all_opts *opts, restore_all_result **ret)
{
        Isula__Restore__V1__RestoreAllRequest req = ISULA__RESTORE__V1__RESTORE_ALL_REQUEST__INIT;
        _cleanup_pb_ ProtobufCMessage *resp = NULL;
        struct rc_status st = {0};
        int r;

        if (!c || !ret)
                return record_local(c, -EINVAL, GRPC_STATUS_INVALID_ARGUMENT, "client or ret is NULL");
        if (opts) {
                req.dry_run = opts->dry_run;
                req.n_runtimes = opts->runtimes ? opts->n_runtimes : 0;
                req.runtimes = (char **)opts->runtimes; /* only read by pack */
                req.workers = opts->workers;
        }
        r = rc_unary(c->conn, RC_METHOD_RESTORE_ALL, &req.base,
                     &isula__restore__v1__restore_all_response__descriptor, c->timeout_ms, &resp, &st);
        if (r >= 0)
                r = restore_all_from_pb((Isula__Restore__V1__RestoreAllResponse *)resp, ret);
        return record(c, r, &st);
}

/* ---- ListRestored ---- */

void restore_list_page_free(restore_list_page *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_containers; i++)
                result_done(&p->containers[i]);
        free(p->containers);
        free(p->next_page_token);
        free(p);
}

static int list_from_pb(const Isula__Restore__V1__ListRestoredResponse *m, restore_list_page **ret)
{
        restore_list_page *p = calloc(1, sizeof(*p));

        if (!p || results_from_pb(m->containers, m->n_containers, &p->containers) < 0) {
                free(p);
                return -ENOMEM;
        }
        p->n_containers = m->n_containers;
        p->next_page_token = strdup(m->next_page_token ? m->next_page_token : "");
        if (!p->next_page_token) {
                restore_list_page_free(p);
                return -ENOMEM;
        }
        summary_from_pb(m->summary, &p->summary);
        *ret = p;
        return 0;
}

int restore_client_list(restore_client *c, const restore_list_opts *opts, restore_list_page **ret)
{
        Isula__Restore__V1__ListRestoredRequest req = ISULA__RESTORE__V1__LIST_RESTORED_REQUEST__INIT;
        _cleanup_pb_ ProtobufCMessage *resp = NULL;
        _cleanup_free_ Isula__Restore__V1__Status *statuses = NULL;
        struct rc_status st = {0};
        int r;

        if (!c || !ret)
                return record_local(c, -EINVAL, GRPC_STATUS_INVALID_ARGUMENT, "client or ret is NULL");
        if (opts) {
                size_t n = opts->statuses ? opts->n_statuses : 0;
                if (n > 0 && !(statuses = calloc(n, sizeof(*statuses))))
                        return record_local(c, -ENOMEM, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
                for (size_t i = 0; i < n; i++)
                        statuses[i] = (Isula__Restore__V1__Status)opts->statuses[i];
                req.n_status = n;
                req.status = statuses;
                req.outcome = (Isula__Restore__V1__Outcome)opts->outcome;
                req.runtime = (char *)(opts->runtime ? opts->runtime : "");
                req.prefix = (char *)(opts->prefix ? opts->prefix : "");
                req.page_size = opts->page_size;
                req.page_token = (char *)(opts->page_token ? opts->page_token : "");
        }
        r = rc_unary(c->conn, RC_METHOD_LIST_RESTORED, &req.base,
                     &isula__restore__v1__list_restored_response__descriptor, c->timeout_ms, &resp, &st);
        if (r >= 0)
                r = list_from_pb((Isula__Restore__V1__ListRestoredResponse *)resp, ret);
        return record(c, r, &st);
}

/* ---- HandleContainer ---- */

void restore_container_result_free(restore_container_result *r)
{
        if (!r)
                return;
        result_done(r);
        free(r);
}

int restore_client_handle(restore_client *c, const char *id, bool dry_run, restore_container_result **ret)
{
        Isula__Restore__V1__HandleContainerRequest req = ISULA__RESTORE__V1__HANDLE_CONTAINER_REQUEST__INIT;
        _cleanup_pb_ ProtobufCMessage *resp = NULL;
        _cleanup_free_ restore_container_result *res = NULL;
        struct rc_status st = {0};
        int r;

        if (!c || !ret || !id || !*id)
                return record_local(c, -EINVAL, GRPC_STATUS_INVALID_ARGUMENT,
                                    "a container id or name is required");
        req.id = (char *)id;
        req.dry_run = dry_run;
        r = rc_unary(c->conn, RC_METHOD_HANDLE, &req.base,
                     &isula__restore__v1__handle_container_response__descriptor, c->timeout_ms, &resp, &st);
        if (r >= 0 && !(res = malloc(sizeof(*res))))
                r = -ENOMEM;
        if (r >= 0)
                r = result_from_pb(((Isula__Restore__V1__HandleContainerResponse *)resp)->result, res);
        if (r >= 0)
                *ret = TAKE_PTR(res);
        return record(c, r, &st);
}

/* ---- health ---- */

int restore_client_health(restore_client *c, bool *ret_serving)
{
        Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
        _cleanup_pb_ ProtobufCMessage *resp = NULL;
        struct rc_status st = {0};
        int r;

        if (!c || !ret_serving)
                return record_local(c, -EINVAL, GRPC_STATUS_INVALID_ARGUMENT,
                                    "client or ret_serving is NULL");
        r = rc_unary(c->conn, RC_METHOD_HEALTH_CHECK, &req.base,
                     &grpc__health__v1__health_check_response__descriptor, c->timeout_ms, &resp, &st);
        if (r >= 0)
                *ret_serving = ((Grpc__Health__V1__HealthCheckResponse *)resp)->status ==
                               GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
        return record(c, r, &st);
}

/* ---- Watch ---- */

struct restore_watch {
        restore_client *client;
        struct rc_stream *stream;
        atomic_bool cancelled; /* restore_watch_cancel() was called */
        /* Once the stream is over: what every later restore_watch_next() returns. */
        int end_r;
        struct rc_status end_st;
};

void restore_event_free(restore_event *e)
{
        if (!e)
                return;
        restore_container_result_free(e->result);
        free(e);
}

static int event_from_pb(const Isula__Restore__V1__WatchEvent *m, restore_event **ret)
{
        restore_event *e = calloc(1, sizeof(*e));

        if (!e)
                return -ENOMEM;
        e->kind = (restore_event_kind)m->kind;
        e->generation = m->generation;
        e->time_us = m->time_us;
        summary_from_pb(m->summary, &e->summary);
        if (m->progress) {
                e->progress.stage = (restore_stage)m->progress->stage;
                e->progress.done = m->progress->done;
                e->progress.total = m->progress->total;
        }
        if (m->result) {
                e->result = malloc(sizeof(*e->result));
                if (!e->result || result_from_pb(m->result, e->result) < 0) {
                        free(e->result);
                        free(e);
                        return -ENOMEM;
                }
        }
        *ret = e;
        return 0;
}

int restore_client_watch(restore_client *c, bool replay, restore_watch **ret)
{
        Isula__Restore__V1__WatchRequest req = ISULA__RESTORE__V1__WATCH_REQUEST__INIT;
        struct rc_status st = { 0 };
        restore_watch *w;
        int r;

        if (!c || !ret)
                return record_local(c, -EINVAL, GRPC_STATUS_INVALID_ARGUMENT, "client or ret is NULL");
        w = calloc(1, sizeof(*w));
        if (!w)
                return record_local(c, -ENOMEM, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        w->client = c;
        atomic_init(&w->cancelled, false);
        req.replay = replay;
        /* No deadline: a watch lasts until it is cancelled or closed. */
        r = rc_stream_open(c->conn, RC_METHOD_WATCH, &req.base, 0, &w->stream, &st);
        if (r < 0) {
                free(w);
                return record(c, r, &st);
        }
        *ret = w;
        return record(c, 0, &st);
}

/* Records the end of the stream for this and every later restore_watch_next(). */
static int watch_end(restore_watch *w, int r, const struct rc_status *st)
{
        w->end_r = r;
        w->end_st = *st;
        if (r == -ENODATA) {
                /* Not a failure of the call: the daemon said OK. */
                last_error.client = w->client;
                last_error.code = GRPC_STATUS_OK;
                snprintf(last_error.msg, sizeof(last_error.msg), "%s", st->msg);
                return r;
        }
        return record(w->client, r, st);
}

int restore_watch_next(restore_watch *w, int timeout_ms, restore_event **ret)
{
        _cleanup_pb_ ProtobufCMessage *m = NULL;
        struct rc_status st = { 0 };
        int r;

        if (!w || !ret)
                return record_local(w ? w->client : NULL, -EINVAL, GRPC_STATUS_INVALID_ARGUMENT,
                                    "watch or ret is NULL");
        if (w->end_r < 0)
                return watch_end(w, w->end_r, &w->end_st);
        r = rc_stream_next(w->stream, &isula__restore__v1__watch_event__descriptor,
                           timeout_ms < 0 ? -1 : timeout_ms, &m, &st);
        if (r > 0) {
                r = event_from_pb((const Isula__Restore__V1__WatchEvent *)m, ret);
                return record(w->client, r, &st); /* -ENOMEM loses this event, not the stream */
        }
        if (r == -ETIMEDOUT && st.code == GRPC_STATUS_OK) {
                /* The wait passed (a stream ending DEADLINE_EXCEEDED sets st): still open. */
                snprintf(st.msg, sizeof(st.msg), "no event within %d ms; the watch is still open",
                         timeout_ms);
                return record_local(w->client, -ETIMEDOUT, GRPC_STATUS_DEADLINE_EXCEEDED, st.msg);
        }
        if (r == 0) {
                st.code = GRPC_STATUS_OK;
                snprintf(st.msg, sizeof(st.msg), "%s",
                         "restored ended the Watch stream (it ends them when it shuts down)");
                return watch_end(w, -ENODATA, &st);
        }
        if (atomic_load(&w->cancelled) && st.code == GRPC_STATUS_CANCELLED) {
                snprintf(st.msg, sizeof(st.msg), "the watch was cancelled (restore_watch_cancel)");
                return watch_end(w, -ECANCELED, &st);
        }
        if (st.code == GRPC_STATUS_OK) /* a local failure: report it as the status it ends with */
                st.code = r == -ENOMEM ? GRPC_STATUS_RESOURCE_EXHAUSTED : GRPC_STATUS_INTERNAL;
        if (!st.msg[0])
                snprintf(st.msg, sizeof(st.msg), "%s", strerror(-r));
        return watch_end(w, r, &st);
}

void restore_watch_cancel(restore_watch *w)
{
        if (!w)
                return;
        atomic_store(&w->cancelled, true);
        rc_stream_cancel(w->stream);
}

void restore_watch_close(restore_watch *w)
{
        if (!w)
                return;
        rc_stream_free(w->stream);
        free(w);
}
