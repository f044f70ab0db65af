/*
 * grpcsrv_call.c - one call, from the posted request to the last reference.
 *
 * References: the posted request holds one; once the call arrives it becomes the handler's,
 * given back by ending the call. Each batch in flight (close, send, receive) holds one more,
 * so a completion never finds its context freed, whichever worker it runs on (recipe §7: events
 * of one call run concurrently on different threads).
 *
 * Batches: one RECV_CLOSE_ON_SERVER from dispatch on (it is how cancellation is noticed), at
 * most one send batch at a time (messages wait in a bounded queue) and, for bidi, at most one
 * RECV_MESSAGE. Batches are started under the call mutex; that is fine because completions are
 * always delivered through the CQ, never inline.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/support/alloc.h>

#include "bb.h"
#include "grpcsrv_internal.h"

struct gs_call {
        struct gs_tag t_new, t_send, t_recv, t_close;
        struct gs_server *srv;
        struct gs_method_entry *me; /* NULL: the generic request, i.e. an unknown method */
        atomic_int refs;

        grpc_call *call;
        gpr_timespec deadline;
        grpc_metadata_array md;
        grpc_call_details details; /* generic request only */
        char *generic_path;
        grpc_byte_buffer *payload; /* the initial request, or the bidi message being received */
        ProtobufCMessage *req;
        struct gs_peer peer;
        int cancelled; /* written by RECV_CLOSE_ON_SERVER */
        bool arrived;  /* a client's call, not just a posted request: counted in srv->active */

        pthread_mutex_t mu;            /* protects everything below */
        grpc_byte_buffer **q;          /* ring of packed messages waiting to be sent */
        unsigned q_head, q_len, q_cap; /* q_cap grows by doubling up to stream_queue_max + 1 */
        size_t q_bytes;                /* bytes queued, for stream_queue_bytes */
        grpc_byte_buffer *in_flight;
        grpc_slice status_details; /* kept until the final batch completes (P14) */
        grpc_status_code code;
        bool md_sent;       /* initial metadata is in a batch already (P1) */
        bool sending;       /* a send batch is in flight */
        bool ended;         /* the handler ended the call: status is queued */
        bool final_started; /* SEND_STATUS_FROM_SERVER is in a batch */
        bool gone;          /* cancelled or broken: nothing more can be sent */
        bool recv_wanted;   /* bidi: read the next message once the queue drained */
        gs_cancel_fn cancel_fn;
        void *cancel_ud;
};

static void on_new_registered(struct gs_tag *t, bool ok);
static void on_new_generic(struct gs_tag *t, bool ok);
static void on_send(struct gs_tag *t, bool ok);
static void on_recv(struct gs_tag *t, bool ok);
static void on_close(struct gs_tag *t, bool ok);
static void call_end(struct gs_call *c, grpc_byte_buffer *bb, grpc_status_code code, const char *msg);

static struct gs_call *call_new(struct gs_server *s, struct gs_method_entry *me)
{
        struct gs_call *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->t_new.cb = me ? on_new_registered : on_new_generic;
        c->t_send.cb = on_send;
        c->t_recv.cb = on_recv;
        c->t_close.cb = on_close;
        c->srv = s;
        c->me = me;
        atomic_init(&c->refs, 1);
        grpc_metadata_array_init(&c->md);
        if (!me)
                grpc_call_details_init(&c->details);
        c->status_details = grpc_empty_slice();
        pthread_mutex_init(&c->mu, NULL);
        gs_server_live_inc(s);
        return c;
}

static void drop_queue_locked(struct gs_call *c)
{
        while (c->q_len) {
                grpc_byte_buffer_destroy(c->q[c->q_head]);
                c->q_head = (c->q_head + 1) % c->q_cap;
                c->q_len--;
        }
        c->q_bytes = 0;
}

static void call_free(struct gs_call *c)
{
        struct gs_server *s = c->srv;

        drop_queue_locked(c);
        free(c->q);
        if (c->in_flight)
                grpc_byte_buffer_destroy(c->in_flight);
        if (c->payload)
                grpc_byte_buffer_destroy(c->payload);
        if (c->req)
                protobuf_c_message_free_unpacked(c->req, NULL);
        if (c->call)
                grpc_call_unref(c->call);
        grpc_metadata_array_destroy(&c->md);
        if (!c->me)
                grpc_call_details_destroy(&c->details);
        gpr_free(c->generic_path);
        free((gid_t *)c->peer.groups);
        grpc_slice_unref(c->status_details);
        pthread_mutex_destroy(&c->mu);
        if (c->arrived)
                atomic_fetch_sub(&s->active, 1);
        free(c);
        gs_server_live_dec(s); /* last: the server may be torn down right after this */
}

void gs_call_ref(struct gs_call *c)
{
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void gs_call_unref(struct gs_call *c)
{
        if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
                call_free(c);
}

/* ---- posting requests ---- */

int gs_post_registered(struct gs_server *s, struct gs_method_entry *me)
{
        struct gs_call *c = call_new(s, me);
        /* P3: the payload pointer must be NULL exactly for GRPC_SRM_PAYLOAD_NONE (bidi). */
        grpc_byte_buffer **payload = me->m.kind == GS_BIDI_STREAMING ? NULL : &c->payload;

        if (!c)
                return -ENOMEM;
        if (grpc_server_request_registered_call(s->srv, me->handle, &c->call, &c->deadline, &c->md, payload,
                                                s->cq, s->cq, &c->t_new) != GRPC_CALL_OK) {
                gs_call_unref(c);
                return -EIO;
        }
        return 0;
}

/* P2: without an outstanding generic request, calls to unknown methods hang. */
int gs_post_generic(struct gs_server *s)
{
        struct gs_call *c = call_new(s, NULL);

        if (!c)
                return -ENOMEM;
        if (grpc_server_request_call(s->srv, &c->call, &c->details, &c->md, s->cq, s->cq, &c->t_new) !=
            GRPC_CALL_OK) {
                gs_call_unref(c);
                return -EIO;
        }
        return 0;
}

/* ---- sending ---- */

/*
 * Makes room for one more message. The ring starts small and doubles, so that an idle Watch
 * stream costs little while a replay of 10,000 results still fits; its ceiling is one slot
 * above stream_queue_max, so that a final reply always fits.
 */
static int grow_queue_locked(struct gs_call *c)
{
        unsigned max = c->srv->opt.stream_queue_max + 1, cap;
        grpc_byte_buffer **v;

        if (c->q_len < c->q_cap)
                return 0;
        if (c->q_cap >= max)
                return -ENOBUFS;
        cap = c->q_cap ? (c->q_cap > max / 2 ? max : c->q_cap * 2) : (max < 16 ? max : 16);
        v = malloc(cap * sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (unsigned i = 0; i < c->q_len; i++) /* unwrap the ring */
                v[i] = c->q[(c->q_head + i) % c->q_cap];
        free(c->q);
        c->q = v;
        c->q_cap = cap;
        c->q_head = 0;
        return 0;
}

static int push_locked(struct gs_call *c, grpc_byte_buffer *bb)
{
        int r = grow_queue_locked(c);

        if (r < 0)
                return r;
        c->q[(c->q_head + c->q_len) % c->q_cap] = bb;
        c->q_len++;
        c->q_bytes += grpc_byte_buffer_length(bb);
        return 0;
}

static grpc_byte_buffer *pop_locked(struct gs_call *c)
{
        grpc_byte_buffer *bb = c->q[c->q_head];

        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_len--;
        c->q_bytes -= grpc_byte_buffer_length(bb);
        return bb;
}

/* A slow reader must not pin unbounded memory; one message alone is always accepted. */
static bool queue_full_locked(const struct gs_call *c, size_t len)
{
        const struct gs_server_options *o = &c->srv->opt;

        return c->q_len >= o->stream_queue_max || (c->q_len && c->q_bytes + len > o->stream_queue_bytes);
}

static void mark_gone_locked(struct gs_call *c)
{
        c->gone = true;
        drop_queue_locked(c);
}

/*
 * Starts the next send batch unless one is in flight: initial metadata the first time (P1: even
 * a trailers-only error needs it, or the client hangs), the next queued message, and the status
 * once the handler ended and the queue is empty, so a unary reply is a single batch.
 */
static void kick_locked(struct gs_call *c)
{
        grpc_op ops[3];
        size_t n = 0;

        if (c->sending || c->final_started || c->gone || (c->q_len == 0 && !c->ended))
                return;
        memset(ops, 0, sizeof(ops));
        if (!c->md_sent)
                ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        if (c->q_len) {
                c->in_flight = pop_locked(c);
                ops[n].op = GRPC_OP_SEND_MESSAGE;
                ops[n++].data.send_message.send_message = c->in_flight;
        }
        if (c->ended && c->q_len == 0) {
                ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
                ops[n].data.send_status_from_server.status = c->code;
                ops[n++].data.send_status_from_server.status_details = &c->status_details;
                c->final_started = true;
        }
        c->md_sent = true;
        c->sending = true;
        gs_call_ref(c);
        if (grpc_call_start_batch(c->call, ops, n, &c->t_send, NULL) != GRPC_CALL_OK) {
                /* Only a bug gets here; treat the call as broken rather than hang it. */
                c->sending = false;
                mark_gone_locked(c);
                atomic_fetch_sub(&c->refs, 1); /* never the last: our caller holds one */
        }
}

static void start_recv_locked(struct gs_call *c)
{
        grpc_op op;

        memset(&op, 0, sizeof(op));
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &c->payload;
        c->recv_wanted = false;
        gs_call_ref(c);
        if (grpc_call_start_batch(c->call, &op, 1, &c->t_recv, NULL) != GRPC_CALL_OK) {
                mark_gone_locked(c);
                pthread_mutex_unlock(&c->mu);
                on_recv(&c->t_recv, false); /* lets the handler end the call */
                pthread_mutex_lock(&c->mu);
        }
}

static void on_send(struct gs_tag *t, bool ok)
{
        struct gs_call *c = container_of(t, struct gs_call, t_send);

        pthread_mutex_lock(&c->mu);
        if (c->in_flight)
                grpc_byte_buffer_destroy(c->in_flight);
        c->in_flight = NULL;
        c->sending = false;
        if (!ok)
                mark_gone_locked(c);
        kick_locked(c);
        /* Bidi backpressure: the next request is read only once our answers were written. */
        if (!c->sending && c->recv_wanted)
                start_recv_locked(c);
        pthread_mutex_unlock(&c->mu);
        gs_call_unref(c);
}

int gs_stream_send(struct gs_call *c, const ProtobufCMessage *msg)
{
        grpc_byte_buffer *bb;
        int r;

        if (bb_pack(msg, &bb) < 0)
                return -ENOMEM;
        pthread_mutex_lock(&c->mu);
        if (c->gone || c->ended)
                r = -EPIPE;
        else if (queue_full_locked(c, grpc_byte_buffer_length(bb)))
                r = -ENOBUFS;
        else
                r = push_locked(c, bb);
        if (r == 0)
                kick_locked(c);
        pthread_mutex_unlock(&c->mu);
        if (r < 0)
                grpc_byte_buffer_destroy(bb);
        return r;
}

/* Ends the call on behalf of its handler, consuming the handler's reference. */
static void call_end(struct gs_call *c, grpc_byte_buffer *bb, grpc_status_code code, const char *msg)
{
        pthread_mutex_lock(&c->mu);
        if (c->ended) {
                /* Ending twice is a caller bug; the reference was already given back. */
                pthread_mutex_unlock(&c->mu);
                if (bb)
                        grpc_byte_buffer_destroy(bb);
                return;
        }
        c->ended = true;
        c->cancel_fn = NULL;
        c->code = code;
        grpc_slice_unref(c->status_details);
        c->status_details = grpc_slice_from_copied_string(msg ? msg : "");
        if (bb && !c->gone) {
                if (push_locked(c, bb) == 0)
                        bb = NULL;
                else
                        c->code = GRPC_STATUS_RESOURCE_EXHAUSTED; /* never OK without the reply */
        }
        kick_locked(c);
        pthread_mutex_unlock(&c->mu);
        if (bb)
                grpc_byte_buffer_destroy(bb);
        gs_call_unref(c);
}

void gs_call_reply(struct gs_call *c, const ProtobufCMessage *resp)
{
        grpc_byte_buffer *bb = NULL;

        if (resp && bb_pack(resp, &bb) < 0) {
                call_end(c, NULL, GRPC_STATUS_INTERNAL, "cannot encode the response");
                return;
        }
        call_end(c, bb, GRPC_STATUS_OK, NULL);
}

void gs_call_fail(struct gs_call *c, grpc_status_code code, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        call_end(c, NULL, code, msg);
}

void gs_stream_end(struct gs_call *c, grpc_status_code code, const char *msg)
{
        call_end(c, NULL, code, msg);
}

void gs_stream_abort(struct gs_call *c, grpc_status_code code, const char *msg)
{
        pthread_mutex_lock(&c->mu);
        if (c->ended) {
                pthread_mutex_unlock(&c->mu);
                return;
        }
        c->ended = true;
        c->cancel_fn = NULL;
        mark_gone_locked(c); /* the backlog is dropped; no batch starts after this */
        pthread_mutex_unlock(&c->mu);
        /* A queued status would wait behind a send that a client who stopped reading never
         * lets complete. A server-side cancel with a status goes out at once: chttp2 writes it
         * as trailers whatever the stream's flow-control window. */
        grpc_call_cancel_with_status(c->call, code, msg ? msg : "", NULL);
        gs_call_unref(c);
}

/* ---- cancellation ---- */

static void on_close(struct gs_tag *t, bool ok)
{
        struct gs_call *c = container_of(t, struct gs_call, t_close);
        gs_cancel_fn fn = NULL;
        void *ud = NULL;

        pthread_mutex_lock(&c->mu);
        /* cancelled == 0 means our status went out: a normal end, nothing to tell anyone. */
        if (c->cancelled || !ok) {
                mark_gone_locked(c);
                if (!c->ended) {
                        fn = c->cancel_fn;
                        ud = c->cancel_ud;
                }
                c->cancel_fn = NULL;
        }
        pthread_mutex_unlock(&c->mu);
        if (fn)
                fn(c, ud);
        gs_call_unref(c);
}

static void start_close(struct gs_call *c)
{
        grpc_op op;

        memset(&op, 0, sizeof(op));
        op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        op.data.recv_close_on_server.cancelled = &c->cancelled;
        gs_call_ref(c);
        if (grpc_call_start_batch(c->call, &op, 1, &c->t_close, NULL) != GRPC_CALL_OK) {
                pthread_mutex_lock(&c->mu);
                mark_gone_locked(c);
                pthread_mutex_unlock(&c->mu);
                gs_call_unref(c);
        }
}

int gs_call_set_cancel_cb(struct gs_call *c, gs_cancel_fn fn, void *userdata)
{
        int r = 0;

        pthread_mutex_lock(&c->mu);
        if (c->gone && fn) {
                r = -EPIPE;
        } else {
                c->cancel_fn = fn;
                c->cancel_ud = userdata;
        }
        pthread_mutex_unlock(&c->mu);
        return r;
}

bool gs_call_is_cancelled(struct gs_call *c)
{
        bool gone;

        pthread_mutex_lock(&c->mu);
        gone = c->gone;
        pthread_mutex_unlock(&c->mu);
        return gone;
}

const struct gs_peer *gs_call_peer(const struct gs_call *c)
{
        return &c->peer;
}

const char *gs_call_method(const struct gs_call *c)
{
        return c->me ? c->me->path : c->generic_path ? c->generic_path : "";
}

/* ---- arrival and dispatch ---- */

static bool authorize(struct gs_call *c)
{
        struct gs_server *s = c->srv;
        char msg[256] = "";
        grpc_status_code code;

        if (!s->authz)
                return true;
        code = s->authz(s->authz_ud, &c->peer, gs_call_method(c), msg, sizeof(msg));
        if (code == GRPC_STATUS_OK)
                return true;
        call_end(c, NULL, code, msg[0] ? msg : "permission denied");
        return false;
}

/* Calls the bidi handler; returns whether the handler ended the call. */
static bool deliver(struct gs_call *c, const ProtobufCMessage *msg)
{
        bool ended;

        c->me->m.fn(c, msg, c->me->m.userdata);
        pthread_mutex_lock(&c->mu);
        ended = c->ended;
        if (!ended && msg) {
                if (c->sending || c->q_len)
                        c->recv_wanted = true;
                else
                        start_recv_locked(c);
        }
        pthread_mutex_unlock(&c->mu);
        return ended;
}

static void on_recv(struct gs_tag *t, bool ok)
{
        struct gs_call *c = container_of(t, struct gs_call, t_recv);
        grpc_byte_buffer *bb = c->payload;
        ProtobufCMessage *msg = NULL;

        c->payload = NULL;
        if (!ok || !bb) {
                /* Half-close or a broken call: the synchronous bidi handler must end it now. */
                if (!deliver(c, NULL))
                        call_end(c, NULL, GRPC_STATUS_INTERNAL, "the handler did not end the stream");
        } else if (bb_unpack(c->me->m.input, bb, &msg) < 0) {
                gs_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT, "cannot decode %s", c->me->m.input->name);
        } else {
                deliver(c, msg);
                protobuf_c_message_free_unpacked(msg, NULL);
        }
        if (bb)
                grpc_byte_buffer_destroy(bb);
        gs_call_unref(c);
}

static void dispatch(struct gs_call *c)
{
        const struct gs_method *m = &c->me->m;
        int r;

        gs_server_peer_of(c->srv, c->call, &c->peer);
        start_close(c);
        if (!authorize(c))
                return;
        if (m->kind == GS_BIDI_STREAMING) {
                pthread_mutex_lock(&c->mu);
                start_recv_locked(c);
                pthread_mutex_unlock(&c->mu);
                return;
        }
        r = bb_unpack(m->input, c->payload, &c->req);
        grpc_byte_buffer_destroy(c->payload);
        c->payload = NULL;
        if (r < 0) {
                gs_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT, "cannot decode %s", m->input->name);
                return;
        }
        m->fn(c, c->req, m->userdata);
}

static void on_new_registered(struct gs_tag *t, bool ok)
{
        struct gs_call *c = container_of(t, struct gs_call, t_new);

        /* P5: a request fails only when the server shuts down; re-posting would spin. */
        if (!ok) {
                gs_call_unref(c);
                return;
        }
        c->arrived = true;
        atomic_fetch_add(&c->srv->active, 1);
        /* Re-post first, so that a request is always outstanding for this method. */
        if (!atomic_load(&c->srv->stopping))
                (void)gs_post_registered(c->srv, c->me);
        dispatch(c);
}

static void on_new_generic(struct gs_tag *t, bool ok)
{
        struct gs_call *c = container_of(t, struct gs_call, t_new);

        if (!ok) {
                gs_call_unref(c);
                return;
        }
        c->arrived = true;
        atomic_fetch_add(&c->srv->active, 1);
        if (!atomic_load(&c->srv->stopping))
                (void)gs_post_generic(c->srv);
        c->generic_path = grpc_slice_to_c_string(c->details.method);
        gs_server_peer_of(c->srv, c->call, &c->peer);
        start_close(c);
        /* Authorize first, so that an unauthorized peer cannot even probe which methods exist. */
        if (!authorize(c))
                return;
        gs_call_fail(c, GRPC_STATUS_UNIMPLEMENTED, "unknown method %s", c->generic_path);
}
