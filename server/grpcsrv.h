/*
 * grpcsrv.h - a small gRPC server on the C core API (grpc/grpc.h 1.51) with protobuf-c messages.
 *
 * Threads. One shared GRPC_CQ_NEXT completion queue polled by `threads` workers (recipe §7,
 * P12: no head-of-line blocking behind a slow handler). Handlers, authorizer and cancel callbacks
 * run on those workers; the library's own threads have every signal blocked. A handler may block
 * (it occupies one worker), or keep the call and finish it later from any thread.
 *
 * Calls and ownership.
 *   - A handler receives one reference to the call. It gives it back by ending the call exactly
 *     once: gs_call_reply(), gs_call_fail() or gs_stream_end(). After that it must not touch the
 *     call unless it took an extra reference with gs_call_ref() (released with gs_call_unref()).
 *   - The request message belongs to the call: for unary and server-streaming methods it stays
 *     valid until the call is freed; for bidi methods each message is freed when `fn` returns.
 *   - Every send is non-blocking: messages are packed immediately (the caller keeps ownership of
 *     its protobuf-c message) and queued per call, up to `stream_queue_max` messages and
 *     `stream_queue_bytes` bytes; beyond that gs_stream_send() returns -ENOBUFS.
 *   - Bidi handlers (GS_BIDI_STREAMING) are synchronous: `fn` is called once per request message, in
 *     order and never concurrently for one call, then once with req == NULL when the client
 *     half-closes or the call breaks; the handler must end the call from inside `fn`. The next
 *     message is read only after the replies to the previous one were written (backpressure).
 *   - Cancellation (client gone, deadline, server shutdown after the grace period) runs the
 *     call's cancel callback once; from then on sends return -EPIPE, ending is still required.
 *
 * Peers. Unix connections are accepted by our own loop (listener.h), which records SO_PEERCRED
 * and SO_PEERGROUPS by fd number before handing the fd to gRPC; gRPC names the connection "fd:N"
 * and keeps N open while any call on it lives, so each call finds its connection's credentials.
 * The authorizer sees them before any handler (health and reflection included) runs.
 *
 * Shutdown. gs_server_shutdown() stops accepting, lets calls finish for `grace_ms`, cancels the
 * rest, waits for every call context to be released (P4: a batch started after the completion
 * queue is shut down aborts the process), then stops the workers. Never call it from a handler.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <grpc/grpc.h>
#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>

struct gs_server;
struct gs_call;

/* Who is calling. Unix peers: SO_PEERCRED and SO_PEERGROUPS, taken at accept time. */
struct gs_peer {
        bool unix_cred; /* uid/gid/pid are valid */
        uid_t uid;
        gid_t gid;
        pid_t pid;
        bool groups_known;   /* SO_PEERGROUPS worked (Linux >= 4.13) */
        const gid_t *groups; /* the peer's supplementary groups at connect(); valid as long as the call */
        size_t n_groups;
        bool tcp;
        bool tls_authenticated; /* TCP peer presented a client certificate that verified */
        char addr[128];         /* "unix:/run/isulad/restore.sock", "ipv4:10.0.0.1:5123", ... */
};

enum gs_kind {
        GS_UNARY,
        GS_SERVER_STREAMING,
        GS_BIDI_STREAMING,
};

typedef void (*gs_handler_fn)(struct gs_call *call, const ProtobufCMessage *req, void *userdata);

struct gs_method {
        const char *path; /* "/isula.restore.v1.Restore/RestoreAll" */
        const ProtobufCMessageDescriptor *input;
        enum gs_kind kind;
        gs_handler_fn fn;
        void *userdata;
};

/*
 * Decides whether `peer` may call `method_path` (also unknown paths, health and reflection).
 * Returns GRPC_STATUS_OK to allow, or the status to fail the call with and a message in ret_msg.
 */
typedef grpc_status_code (*gs_authorize_fn)(void *userdata, const struct gs_peer *peer,
                                            const char *method_path, char *ret_msg, size_t msglen);

typedef void (*gs_cancel_fn)(struct gs_call *call, void *userdata);

/* Zero means the default. */
struct gs_server_options {
        unsigned threads;                /* workers; default 4 */
        size_t max_recv_msg;             /* default 4 MiB; larger requests: RESOURCE_EXHAUSTED */
        size_t max_send_msg;             /* default 256 MiB */
        unsigned max_concurrent_streams; /* per connection; default 100 */
        unsigned grace_ms;               /* shutdown grace before cancelling calls; default 2000 */
        unsigned drain_ms;               /* after cancelling, wait this long for handlers; default 10000 */
        unsigned stream_queue_max;       /* queued messages per call; default 65536 */
        size_t stream_queue_bytes;       /* queued bytes per call; default 64 MiB */
};

/* Calls grpc_init(); gs_server_free() calls grpc_shutdown(). */
int gs_server_new(const struct gs_server_options *opt, struct gs_server **ret);
/* Before gs_server_start(). The path is copied; `input` and `userdata` must outlive the server. */
int gs_server_add_method(struct gs_server *s, const struct gs_method *m);
/* Before gs_server_start(). Without an authorizer every call is allowed. */
void gs_server_set_authorizer(struct gs_server *s, gs_authorize_fn fn, void *userdata);

/*
 * Listens on a unix socket (before gs_server_start). Refuses when another server answers on
 * `path` or the path is not a socket; removes a stale socket; holds flock("<path>.lock").
 * The socket gets `mode` and, unless gid is (gid_t)-1, group `gid` before it accepts anyone.
 */
int gs_server_listen_unix(struct gs_server *s, const char *path, mode_t mode, gid_t gid, char *errbuf,
                          size_t errlen);
/* Serves an already listening unix socket (socket activation); it is never unlinked. */
int gs_server_listen_fd(struct gs_server *s, int listen_fd, char *errbuf, size_t errlen);
/*
 * Listens on TCP with TLS (cert and key are required). With ca_pem_path, clients must present a
 * certificate signed by it (mutual TLS). Writes the bound port (useful with port 0) to ret_port.
 */
int gs_server_listen_tcp(struct gs_server *s, const char *host_port, const char *cert_pem_path,
                         const char *key_pem_path, const char *ca_pem_path, char *errbuf, size_t errlen,
                         int *ret_port);

int gs_server_start(struct gs_server *s);
/*
 * Thread-safe and idempotent. Returns 0, or -ETIMEDOUT if handlers still held calls after
 * grace_ms + drain_ms: the server is then left running down in the background and
 * gs_server_free() only releases what is safe (the process is expected to exit).
 */
int gs_server_shutdown(struct gs_server *s);
/* Shuts down if needed, then frees. Accepts NULL. */
void gs_server_free(struct gs_server *s);

/* Distinct service names of the registered methods ("grpc.health.v1.Health", ...), in order of
 * registration. Returns the count; fills at most `max` pointers that live as long as the server. */
size_t gs_server_services(const struct gs_server *s, const char **ret_names, size_t max);

/* Ending a call (exactly once per call, from any thread). */
void gs_call_reply(struct gs_call *c, const ProtobufCMessage *resp); /* resp, then OK */
void gs_call_fail(struct gs_call *c, grpc_status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void gs_stream_end(struct gs_call *c, grpc_status_code code, const char *msg); /* after queued sends */

/*
 * Ends a stream at once with `code`, dropping what is still queued: for a client that cannot
 * keep up (gs_stream_end would send the status only after the whole backlog). Consumes the
 * handler's reference like the other ends.
 */
void gs_stream_abort(struct gs_call *c, grpc_status_code code, const char *msg);

/* 0; -ENOBUFS queue full (abort the call with RESOURCE_EXHAUSTED); -EPIPE the call is gone. */
int gs_stream_send(struct gs_call *c, const ProtobufCMessage *msg);

/*
 * Runs `fn` once, on a worker, if the call is cancelled before it is ended; the call stays valid
 * while fn runs. fn may race with an end from another thread, so `userdata` should be a
 * long-lived object that finds its per-call state under its own lock. Returns -EPIPE (and fn
 * will never run) if the call is already gone. NULL clears it.
 */
int gs_call_set_cancel_cb(struct gs_call *c, gs_cancel_fn fn, void *userdata);

const struct gs_peer *gs_call_peer(const struct gs_call *c);
const char *gs_call_method(const struct gs_call *c);
/* True once the client went away or the server cancelled the call. */
bool gs_call_is_cancelled(struct gs_call *c);
void gs_call_ref(struct gs_call *c);
void gs_call_unref(struct gs_call *c);
