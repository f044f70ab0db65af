/* watch.c - Watch streams: engine events to WatchEvent messages, one bounded queue each. */
#include "watch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"

struct watch_hub {
        struct rs_engine *engine;
        pthread_mutex_t mu;
        struct gs_call *streams[WATCH_MAX_STREAMS];
        size_t n;
        bool closed;
};

int watch_hub_new(struct rs_engine *e, struct watch_hub **ret)
{
        struct watch_hub *h = calloc(1, sizeof(*h));

        if (!h)
                return -ENOMEM;
        h->engine = e;
        pthread_mutex_init(&h->mu, NULL);
        *ret = h;
        return 0;
}

/* Removes streams[i] (hub lock held); the caller ends the call. */
static struct gs_call *take_stream(struct watch_hub *h, size_t i)
{
        struct gs_call *c = h->streams[i];
        h->streams[i] = h->streams[--h->n];
        return c;
}

static void fill_event(const struct rs_event *ev, Isula__Restore__V1__WatchEvent *m,
                       Isula__Restore__V1__RestoreSummary *sum, Isula__Restore__V1__StageProgress *prog,
                       struct rpc_result_msg *res)
{
        isula__restore__v1__watch_event__init(m);
        m->kind = (Isula__Restore__V1__WatchEvent__Kind)ev->kind;
        m->generation = ev->summary.generation;
        m->time_us = ev->time_us;
        rpc_summary_to_msg(&ev->summary, sum);
        m->summary = sum;
        if (ev->kind == RS_EVENT_PROGRESS) {
                isula__restore__v1__stage_progress__init(prog);
                prog->stage = (Isula__Restore__V1__Stage)ev->stage;
                prog->done = ev->stage_done;
                prog->total = ev->stage_total;
                m->progress = prog;
        }
        if (ev->result) {
                rpc_result_to_msg(ev->result, res);
                m->result = &res->msg;
        }
}

/* Sends to one stream; a full queue ends that client (hub lock held). */
static bool send_or_drop(struct watch_hub *h, size_t i, const ProtobufCMessage *msg)
{
        int r = gs_stream_send(h->streams[i], msg);

        if (r == 0)
                return true;
        struct gs_call *c = take_stream(h, i);
        if (r == -ENOBUFS)
                gs_stream_abort(c, GRPC_STATUS_RESOURCE_EXHAUSTED,
                              "watch client too slow: its event queue is full; reconnect with "
                              "replay to catch up");
        else
                gs_stream_end(c, GRPC_STATUS_CANCELLED, "watch stream cancelled");
        return false;
}

static void broadcast(struct watch_hub *h, const ProtobufCMessage *msg)
{
        for (size_t i = 0; i < h->n;)
                if (send_or_drop(h, i, msg))
                        i++;
}

void watch_hub_publish(struct watch_hub *h, const struct rs_event *ev)
{
        Isula__Restore__V1__WatchEvent m;
        Isula__Restore__V1__RestoreSummary sum;
        Isula__Restore__V1__StageProgress prog;
        struct rpc_result_msg res;

        pthread_mutex_lock(&h->mu);
        if (h->n > 0) {
                fill_event(ev, &m, &sum, &prog, &res);
                broadcast(h, &m.base);
        }
        pthread_mutex_unlock(&h->mu);
}

struct replay {
        struct watch_hub *h;
        size_t index;
        bool alive;
        struct rs_summary summary; /* taken before the visit: no nested view lock */
};

static bool replay_one(void *userdata, const struct rs_result *r)
{
        struct replay *rp = userdata;
        struct rs_event ev = { .kind = RS_EVENT_CONTAINER_RESULT, .result = r };
        Isula__Restore__V1__WatchEvent m;
        Isula__Restore__V1__RestoreSummary sum;
        Isula__Restore__V1__StageProgress prog;
        struct rpc_result_msg res;

        ev.summary = rp->summary;
        fill_event(&ev, &m, &sum, &prog, &res);
        rp->alive = send_or_drop(rp->h, rp->index, &m.base);
        return rp->alive;
}

/*
 * Replay (hub lock held, stream at `index`): the current summary as a RESTORE_STARTED or
 * RESTORE_FINISHED event, then every result published so far. Holding the hub lock means no
 * live event is interleaved: an event published meanwhile is delivered after the replay (a
 * result may then arrive twice, never not at all).
 */
static void replay(struct watch_hub *h, size_t index)
{
        struct rs_event ev = { 0 };
        struct replay rp = { .h = h, .index = index, .alive = true };
        Isula__Restore__V1__WatchEvent m;
        Isula__Restore__V1__RestoreSummary sum;
        Isula__Restore__V1__StageProgress prog;
        struct rpc_result_msg res;

        rs_engine_summary(h->engine, &ev.summary);
        if (ev.summary.generation == 0)
                return; /* nothing restored yet */
        ev.kind = ev.summary.phase == RS_PHASE_DONE ? RS_EVENT_RESTORE_FINISHED
                                                   : RS_EVENT_RESTORE_STARTED;
        fill_event(&ev, &m, &sum, &prog, &res);
        rp.summary = ev.summary;
        if (send_or_drop(h, index, &m.base))
                rs_engine_visit(h->engine, NULL, NULL, replay_one, &rp);
}

static void watch_cancelled(struct gs_call *call, void *userdata)
{
        struct watch_hub *h = userdata;

        pthread_mutex_lock(&h->mu);
        for (size_t i = 0; i < h->n; i++) {
                if (h->streams[i] == call) {
                        gs_stream_end(take_stream(h, i), GRPC_STATUS_CANCELLED,
                                      "watch stream cancelled");
                        break;
                }
        }
        pthread_mutex_unlock(&h->mu);
}

static void on_watch(struct gs_call *call, const ProtobufCMessage *msg, void *userdata)
{
        const Isula__Restore__V1__WatchRequest *req = (const void *)msg;
        struct watch_hub *h = userdata;

        pthread_mutex_lock(&h->mu);
        if (h->closed) {
                pthread_mutex_unlock(&h->mu);
                gs_call_fail(call, GRPC_STATUS_UNAVAILABLE, "restored is shutting down");
                return;
        }
        if (h->n == WATCH_MAX_STREAMS) {
                pthread_mutex_unlock(&h->mu);
                gs_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                             "too many Watch streams (at most %d at once)", WATCH_MAX_STREAMS);
                return;
        }
        h->streams[h->n++] = call;
        /* The cancel callback takes the hub lock too, so it cannot run before we are done. */
        if (gs_call_set_cancel_cb(call, watch_cancelled, h) < 0) {
                gs_stream_end(take_stream(h, h->n - 1), GRPC_STATUS_CANCELLED, "watch stream cancelled");
        } else if (req->replay) {
                replay(h, h->n - 1);
        }
        pthread_mutex_unlock(&h->mu);
}

int watch_hub_register(struct watch_hub *h, struct gs_server *s)
{
        struct gs_method m = {
                .path = "/isula.restore.v1.Restore/Watch",
                .input = &isula__restore__v1__watch_request__descriptor,
                .kind = GS_SERVER_STREAMING,
                .fn = on_watch,
                .userdata = h,
        };
        return gs_server_add_method(s, &m);
}

void watch_hub_close(struct watch_hub *h)
{
        pthread_mutex_lock(&h->mu);
        h->closed = true;
        while (h->n > 0)
                gs_stream_end(take_stream(h, h->n - 1), GRPC_STATUS_OK, "restored is shutting down");
        pthread_mutex_unlock(&h->mu);
}

void watch_hub_free(struct watch_hub *h)
{
        if (!h)
                return;
        pthread_mutex_destroy(&h->mu);
        free(h);
}
