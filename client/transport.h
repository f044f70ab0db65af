/*
 * transport.h - the smallest gRPC client restored needs, on the gRPC C core (grpc/grpc.h).
 *
 *   struct rc_conn *c;          one channel to one daemon; calls on it may run from any thread
 *   struct rc_status st;        what went wrong: the gRPC status code and a sentence for a human
 *
 *   rc_conn_open("/run/isulad/restore.sock", NULL, &c, &st);
 *   rc_unary(c, "/isula.restore.v1.Restore/RestoreAll", &req.base,
 *            &isula__restore__v1__restore_all_response__descriptor, 30000, &resp, &st);
 *
 * Every function returns 0 (or 1, see rc_stream_next) on success and a negative errno on failure;
 * on failure `st` holds the gRPC status (a local failure is reported as the status the call
 * would have ended with, e.g. UNAVAILABLE for a socket nobody listens on, with a message that
 * names the socket: "cannot connect to /run/isulad/restore.sock: No such file or directory — is
 * restored running?"). The errno is a convenience; the status code is what callers branch on.
 *
 * Addresses: an absolute or relative path is a unix socket; "host:port" is TCP; anything with a
 * gRPC scheme ("unix:", "unix-abstract:", "dns:", "ipv4:", "ipv6:") is used verbatim. TCP is
 * plaintext unless TLS files are given (restored's own TCP listener is TLS-only).
 *
 * grpc_init()/grpc_shutdown() are paired per connection (the core refcounts them), so a process
 * may hold several connections and other gRPC users.
 */
#pragma once

#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#define RC_STATUS_MSG_MAX 512
/* A RestoreAll response for 10,000+ containers is several MB; the core default is 4 MiB. */
#define RC_MAX_RECEIVE_BYTES (256 * 1024 * 1024)

/* The methods restored serves (CONTRACT §3), as gRPC paths. */
#define RC_METHOD_RESTORE_ALL   "/isula.restore.v1.Restore/RestoreAll"
#define RC_METHOD_LIST_RESTORED "/isula.restore.v1.Restore/ListRestored"
#define RC_METHOD_HANDLE        "/isula.restore.v1.Restore/HandleContainer"
#define RC_METHOD_WATCH         "/isula.restore.v1.Restore/Watch"
#define RC_METHOD_HEALTH_CHECK  "/grpc.health.v1.Health/Check"

struct rc_status {
        grpc_status_code code;
        char msg[RC_STATUS_MSG_MAX];
};

struct rc_conn;
struct rc_stream;

/* TLS for a TCP address; every file is PEM and optional (no CA: the system roots; cert and key:
 * both or neither, for a daemon that wants client certificates). */
struct rc_tls {
        const char *ca_file, *cert_file, *key_file;
};
/* PEM files larger than this are not certificates. */
#define RC_TLS_FILE_MAX (1024 * 1024)

/* Creates the channel (tls: NULL for plaintext); does not connect (the first call does). */
int rc_conn_open(const char *address, const struct rc_tls *tls, struct rc_conn **ret, struct rc_status *st);
/* Waits up to timeout_ms for the daemon to accept a connection (gRPC keeps retrying meanwhile). */
int rc_conn_wait_ready(struct rc_conn *c, int64_t timeout_ms, struct rc_status *st);
void rc_conn_free(struct rc_conn *c);
/* The address as the user gave it, for messages. */
const char *rc_conn_address(const struct rc_conn *c);

/*
 * One unary call: `method` is "/package.Service/Method"; timeout_ms <= 0 means no deadline.
 * On success *ret is the unpacked response (free with protobuf_c_message_free_unpacked).
 */
int rc_unary(struct rc_conn *c, const char *method, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc, int64_t timeout_ms, ProtobufCMessage **ret,
             struct rc_status *st);

/* Starts a server-streaming call; timeout_ms <= 0 means the stream has no overall deadline. */
int rc_stream_open(struct rc_conn *c, const char *method, const ProtobufCMessage *req, int64_t timeout_ms,
                   struct rc_stream **ret, struct rc_status *st);
/*
 * Waits up to wait_ms (< 0: forever) for the next message. Returns 1 with *ret set, 0 when the
 * server ended the stream with OK, -ETIMEDOUT when wait_ms passed (the stream stays usable: call
 * again), or another negative errno with st set (the stream is over).
 */
int rc_stream_next(struct rc_stream *s, const ProtobufCMessageDescriptor *desc, int64_t wait_ms,
                   ProtobufCMessage **ret, struct rc_status *st);
/* Cancels the call; safe from any thread while another thread is in rc_stream_next. */
void rc_stream_cancel(struct rc_stream *s);
/* Cancels if still running and releases everything; NULL-safe. */
void rc_stream_free(struct rc_stream *s);

/* "OK", "NOT_FOUND", ...: the canonical names of the gRPC status codes. */
const char *rc_status_code_name(grpc_status_code code);
/* The negative errno that best matches a gRPC status (NOT_FOUND -> -ENOENT, ...). */
int rc_status_to_errno(grpc_status_code code);
