/*
 * health.c - grpc.health.v1.Health.
 *
 * Lock order: health mutex, then a call's mutex (inside gs_stream_send/end). The cancel
 * callback gets the long-lived `struct health` and finds its watcher by call under the health
 * mutex, so it is harmless when it races with health_set() ending the same call.
 */
#include "health.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SVC_UNKNOWN GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN

struct watcher {
        struct gs_call *call;
        health_status last; /* last status sent */
        bool known;         /* the service exists; an unknown one stays SERVICE_UNKNOWN */
        struct watcher *next;
};

struct health {
        pthread_mutex_t mu;
        char **names; /* the services besides "" */
        size_t n_names;
        health_status status;
        struct watcher *watchers;
        size_t n_watchers;      /* at most HEALTH_MAX_WATCHERS */
};

static bool known_service(const struct health *h, const char *name)
{
        if (!name || !name[0])
                return true;
        for (size_t i = 0; i < h->n_names; i++)
                if (strcmp(h->names[i], name) == 0)
                        return true;
        return false;
}

static int send_status(struct gs_call *call, health_status st)
{
        Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;

        resp.status = st;
        return gs_stream_send(call, &resp.base);
}

static void on_check(struct gs_call *call, const ProtobufCMessage *msg, void *userdata)
{
        const Grpc__Health__V1__HealthCheckRequest *req = (const Grpc__Health__V1__HealthCheckRequest *)msg;
        Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
        struct health *h = userdata;

        pthread_mutex_lock(&h->mu);
        resp.status = h->status;
        pthread_mutex_unlock(&h->mu);
        if (!known_service(h, req->service)) {
                gs_call_fail(call, GRPC_STATUS_NOT_FOUND, "unknown service %s", req->service);
                return;
        }
        gs_call_reply(call, &resp.base);
}

/* Unlinks the watcher of `call`; NULL if health_set() already ended it. Under h->mu. */
static struct watcher *take_watcher_locked(struct health *h, struct gs_call *call)
{
        for (struct watcher **pp = &h->watchers; *pp; pp = &(*pp)->next) {
                struct watcher *w = *pp;

                if (w->call == call) {
                        *pp = w->next;
                        h->n_watchers--;
                        return w;
                }
        }
        return NULL;
}

static void on_watch_cancel(struct gs_call *call, void *userdata)
{
        struct health *h = userdata;
        struct watcher *w;

        pthread_mutex_lock(&h->mu);
        w = take_watcher_locked(h, call);
        pthread_mutex_unlock(&h->mu);
        if (w) {
                gs_stream_end(call, GRPC_STATUS_CANCELLED, "cancelled");
                free(w);
        }
}

static void on_watch(struct gs_call *call, const ProtobufCMessage *msg, void *userdata)
{
        const Grpc__Health__V1__HealthCheckRequest *req = (const Grpc__Health__V1__HealthCheckRequest *)msg;
        struct health *h = userdata;
        struct watcher *w = calloc(1, sizeof(*w));

        if (!w) {
                gs_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
                return;
        }
        w->call = call;
        w->known = known_service(h, req->service);
        pthread_mutex_lock(&h->mu);
        if (h->n_watchers >= HEALTH_MAX_WATCHERS) {
                pthread_mutex_unlock(&h->mu);
                free(w);
                gs_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                             "too many health Watch streams (at most %d at once)", HEALTH_MAX_WATCHERS);
                return;
        }
        w->last = w->known ? h->status : SVC_UNKNOWN;
        if (gs_call_set_cancel_cb(call, on_watch_cancel, h) < 0 || send_status(call, w->last) < 0) {
                pthread_mutex_unlock(&h->mu);
                free(w);
                gs_stream_end(call, GRPC_STATUS_CANCELLED, "cancelled");
                return;
        }
        w->next = h->watchers;
        h->watchers = w;
        h->n_watchers++;
        pthread_mutex_unlock(&h->mu);
}

int health_new(struct gs_server *s, const char *const *services, size_t n_services, struct health **ret)
{
        struct health *h = calloc(1, sizeof(*h));
        struct gs_method check = {.path = "/grpc.health.v1.Health/Check",
                                  .input = &grpc__health__v1__health_check_request__descriptor,
                                  .kind = GS_UNARY,
                                  .fn = on_check,
                                  .userdata = h};
        struct gs_method watch = {.path = "/grpc.health.v1.Health/Watch",
                                  .input = &grpc__health__v1__health_check_request__descriptor,
                                  .kind = GS_SERVER_STREAMING,
                                  .fn = on_watch,
                                  .userdata = h};
        int r;

        if (!h)
                return -ENOMEM;
        pthread_mutex_init(&h->mu, NULL);
        h->status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
        h->names = calloc(n_services ? n_services : 1, sizeof(*h->names));
        if (!h->names) {
                health_free(h);
                return -ENOMEM;
        }
        for (; h->n_names < n_services; h->n_names++)
                if (!(h->names[h->n_names] = strdup(services[h->n_names]))) {
                        health_free(h);
                        return -ENOMEM;
                }
        r = gs_server_add_method(s, &check);
        if (r >= 0)
                r = gs_server_add_method(s, &watch);
        if (r < 0) {
                health_free(h);
                return r;
        }
        *ret = h;
        return 0;
}

void health_set(struct health *h, health_status status)
{
        pthread_mutex_lock(&h->mu);
        h->status = status;
        for (struct watcher **pp = &h->watchers; *pp;) {
                struct watcher *w = *pp;

                if (!w->known || w->last == status) {
                        pp = &w->next;
                        continue;
                }
                /* -EPIPE: the call is gone and its cancel callback will unlink it. */
                if (send_status(w->call, status) == -ENOBUFS) {
                        *pp = w->next;
                        h->n_watchers--;
                        gs_stream_abort(w->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "watcher is not reading");
                        free(w);
                        continue;
                }
                w->last = status;
                pp = &w->next;
        }
        pthread_mutex_unlock(&h->mu);
}

void health_free(struct health *h)
{
        if (!h)
                return;
        /* Normally empty: shutdown cancelled every Watch. End any left rather than leak them. */
        while (h->watchers) {
                struct watcher *w = h->watchers;

                h->watchers = w->next;
                h->n_watchers--;
                gs_stream_end(w->call, GRPC_STATUS_UNAVAILABLE, "server is stopping");
                free(w);
        }
        for (size_t i = 0; i < h->n_names; i++)
                free(h->names[i]);
        free(h->names);
        pthread_mutex_destroy(&h->mu);
        free(h);
}
