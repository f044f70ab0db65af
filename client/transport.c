/* transport.c - unary and server-streaming calls on the gRPC C core, one pluck queue per call. */
#include "transport.h"

#include <errno.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "cleanup.h"

/* grpc_slice_to_c_string() allocates with gpr_malloc(). */
static void gpr_freep(void *p)
{
        gpr_free(*(void **)p);
}
#define _cleanup_gpr_free_ _cleanup_(gpr_freep)

struct rc_conn {
        grpc_channel *channel;
        char *address;   /* as the user wrote it */
        char *unix_path; /* NULL unless a unix socket: used to explain connection failures */
        bool tls;
};

/* Tags of the batches of one call; each call has its own queue, so small integers suffice. */
enum { TAG_UNARY = 1, TAG_SEND, TAG_RECV, TAG_STATUS, TAG_WATCH };
#define TAG(t) ((void *)(intptr_t)(t))

struct rc_stream {
        struct rc_conn *conn;
        char *what; /* the method's short name, for messages */
        grpc_completion_queue *cq;
        grpc_call *call;
        grpc_byte_buffer *send, *recv;
        grpc_metadata_array initial_md, trailing_md;
        grpc_status_code status;
        grpc_slice details;
        bool got_initial_md, send_pending, recv_pending, status_pending;
        bool got_message; /* the daemon answered at least once: a later UNAVAILABLE is a lost link */
};

static void status_set(struct rc_status *st, grpc_status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void status_set(struct rc_status *st, grpc_status_code code, const char *fmt, ...)
{
        va_list ap;

        if (!st)
                return;
        st->code = code;
        va_start(ap, fmt);
        vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
        va_end(ap);
}

static void status_ok(struct rc_status *st)
{
        if (st) {
                st->code = GRPC_STATUS_OK;
                st->msg[0] = '\0';
        }
}

static const char *const status_names[] = {
    "OK",        "CANCELLED",       "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS",  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",    "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED",
};

const char *rc_status_code_name(grpc_status_code code)
{
        if ((unsigned)code < ARRAY_SIZE(status_names))
                return status_names[code];
        return "UNKNOWN";
}

int rc_status_to_errno(grpc_status_code code)
{
        static const int map[] = {
            [GRPC_STATUS_OK] = 0,
            [GRPC_STATUS_CANCELLED] = ECANCELED,
            [GRPC_STATUS_UNKNOWN] = EIO,
            [GRPC_STATUS_INVALID_ARGUMENT] = EINVAL,
            [GRPC_STATUS_DEADLINE_EXCEEDED] = ETIMEDOUT,
            [GRPC_STATUS_NOT_FOUND] = ENOENT,
            [GRPC_STATUS_ALREADY_EXISTS] = EEXIST,
            [GRPC_STATUS_PERMISSION_DENIED] = EACCES,
            [GRPC_STATUS_RESOURCE_EXHAUSTED] = ENOSPC,
            [GRPC_STATUS_FAILED_PRECONDITION] = EBUSY,
            [GRPC_STATUS_ABORTED] = ECONNABORTED,
            [GRPC_STATUS_OUT_OF_RANGE] = ERANGE,
            [GRPC_STATUS_UNIMPLEMENTED] = EOPNOTSUPP,
            [GRPC_STATUS_INTERNAL] = EPROTO,
            [GRPC_STATUS_UNAVAILABLE] = ENOTCONN,
            [GRPC_STATUS_DATA_LOSS] = EBADMSG,
            [GRPC_STATUS_UNAUTHENTICATED] = EACCES,
        };
        if ((unsigned)code < ARRAY_SIZE(map))
                return -map[code];
        return -EIO;
}

/* ---- addresses ---- */

static bool has_grpc_scheme(const char *a)
{
        static const char *const schemes[] = {"unix:", "unix-abstract:", "dns:", "ipv4:", "ipv6:"};

        for (size_t i = 0; i < ARRAY_SIZE(schemes); i++)
                if (strncmp(a, schemes[i], strlen(schemes[i])) == 0)
                        return true;
        return false;
}

/* Relative socket paths are made absolute so that messages and gRPC agree on what is meant. */
static char *absolute_path(const char *path)
{
        _cleanup_free_ char *cwd = NULL;
        char *abs = NULL;

        if (path[0] == '/')
                return strdup(path);
        cwd = getcwd(NULL, 0);
        if (!cwd || asprintf(&abs, "%s/%s", cwd, path) < 0)
                return NULL;
        return abs;
}

/* Splits the user's address into the gRPC target and, for unix sockets, the path. */
static int parse_address(const char *address, char **ret_target, char **ret_unix_path)
{
        _cleanup_free_ char *path = NULL;
        char *target = NULL;

        if (has_grpc_scheme(address)) {
                if (strncmp(address, "unix:", 5) == 0) {
                        const char *p = address + 5;
                        path = strdup(strncmp(p, "//", 2) == 0 ? p + 2 : p);
                        if (!path)
                                return -ENOMEM;
                }
                target = strdup(address);
        } else if (strchr(address, '/') || !strchr(address, ':')) {
                path = absolute_path(address);
                if (!path || asprintf(&target, "unix:%s", path) < 0)
                        target = NULL;
        } else {
                target = strdup(address); /* host:port */
        }
        if (!target)
                return -ENOMEM;
        *ret_target = target;
        *ret_unix_path = TAKE_PTR(path);
        return 0;
}

/* ---- connection ---- */

/* A private key should not linger in freed heap memory. */
static void erase_freep(char **p)
{
        if (*p) {
                explicit_bzero(*p, strlen(*p));
                free(*p);
        }
}

/* Reads a PEM file whole; NULL path gives NULL. */
static int read_pem(const char *path, char **ret, struct rc_status *st)
{
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t n;

        if (!path) {
                *ret = NULL;
                return 0;
        }
        f = fopen(path, "re");
        if (!f) {
                status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "%s: %s", path, strerror(errno));
                return -errno;
        }
        buf = malloc(RC_TLS_FILE_MAX + 1);
        if (!buf) {
                status_set(st, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
                return -ENOMEM;
        }
        n = fread(buf, 1, RC_TLS_FILE_MAX + 1, f);
        if (ferror(f) || n > RC_TLS_FILE_MAX) {
                status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "%s: %s", path,
                           ferror(f) ? "cannot read it" : "larger than 1 MiB: not a PEM file");
                return -EINVAL;
        }
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

static int make_credentials(const struct rc_conn *c, const struct rc_tls *tls,
                            grpc_channel_credentials **ret, struct rc_status *st)
{
        _cleanup_free_ char *ca = NULL, *cert = NULL;
        _cleanup_(erase_freep) char *key = NULL;
        grpc_ssl_pem_key_cert_pair pair;
        int r;

        if (!tls || (!tls->ca_file && !tls->cert_file && !tls->key_file)) {
                *ret = grpc_insecure_credentials_create();
                return 0;
        }
        if (c->unix_path) {
                status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "TLS applies to HOST:PORT addresses, not to %s",
                           c->unix_path);
                return -EINVAL;
        }
        if (!tls->cert_file != !tls->key_file) {
                status_set(st, GRPC_STATUS_INVALID_ARGUMENT,
                           "a client certificate needs its key, and a key its certificate");
                return -EINVAL;
        }
        if ((r = read_pem(tls->ca_file, &ca, st)) < 0 || (r = read_pem(tls->cert_file, &cert, st)) < 0 ||
            (r = read_pem(tls->key_file, &key, st)) < 0)
                return r;
        pair = (grpc_ssl_pem_key_cert_pair){.private_key = key, .cert_chain = cert};
        /* gRPC copies the PEM strings into the credentials. */
        *ret = grpc_ssl_credentials_create(ca, cert ? &pair : NULL, NULL, NULL);
        return *ret ? 0 : -EINVAL;
}

int rc_conn_open(const char *address, const struct rc_tls *tls, struct rc_conn **ret, struct rc_status *st)
{
        _cleanup_free_ char *target = NULL;
        grpc_channel_credentials *creds = NULL;
        struct rc_conn *c;
        int r;

        if (!address || !*address) {
                status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "no socket path given");
                return -EINVAL;
        }
        c = calloc(1, sizeof(*c));
        if (!c || !(c->address = strdup(address)) || parse_address(address, &target, &c->unix_path) < 0) {
                rc_conn_free(c);
                status_set(st, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
                return -ENOMEM;
        }

        grpc_arg args[] = {
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
             .value.integer = RC_MAX_RECEIVE_BYTES},
            /* A local daemon that restarts should be found again within a second, not after
             * gRPC's default backoff of up to two minutes. */
            {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, .value.integer = 100},
            {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, .value.integer = 1000},
        };
        grpc_channel_args cargs = {.num_args = ARRAY_SIZE(args), .args = args};

        grpc_init(); /* paired with grpc_shutdown() in rc_conn_free(), or just below */
        r = make_credentials(c, tls, &creds, st);
        if (r < 0) {
                grpc_shutdown();
                rc_conn_free(c);
                return r;
        }
        c->tls = tls && (tls->ca_file || tls->cert_file || tls->key_file);
        /* Never NULL: a target gRPC cannot resolve gives a channel whose calls fail UNAVAILABLE. */
        c->channel = grpc_channel_create(target, creds, &cargs);
        grpc_channel_credentials_release(creds);
        status_ok(st);
        *ret = c;
        return 0;
}

void rc_conn_free(struct rc_conn *c)
{
        if (!c)
                return;
        if (c->channel) {
                grpc_channel_destroy(c->channel);
                grpc_shutdown();
        }
        free(c->address);
        free(c->unix_path);
        free(c);
}

const char *rc_conn_address(const struct rc_conn *c)
{
        return c->address;
}

/* Connects to the socket ourselves: gRPC's own message ("failed to connect to all addresses")
 * hides whether the socket is missing, refused or forbidden, which is what the user must fix. */
static int probe_unix(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        return 0;
}

/* Rewrites an UNAVAILABLE status into "cannot connect to ..." when nobody is listening. */
static void explain_unavailable(const struct rc_conn *c, struct rc_status *st, const char *details)
{
        int r;

        if (!c->unix_path) {
                status_set(st, GRPC_STATUS_UNAVAILABLE, "cannot connect to %s: %s%s", c->address, details,
                           c->tls ? "" : " — restored's TCP listener needs TLS");
                return;
        }
        r = probe_unix(c->unix_path);
        if (r == 0) /* someone listens: the daemon itself ended the call (e.g. shutting down) */
                status_set(st, GRPC_STATUS_UNAVAILABLE, "%s: %s", c->unix_path, details);
        else if (r == -EACCES || r == -EPERM)
                status_set(st, GRPC_STATUS_UNAVAILABLE,
                           "cannot connect to %s: %s — is this user in the socket's group?", c->unix_path,
                           strerror(-r));
        else
                status_set(st, GRPC_STATUS_UNAVAILABLE, "cannot connect to %s: %s — is restored running?",
                           c->unix_path, strerror(-r));
}

static gpr_timespec deadline_after(int64_t ms)
{
        if (ms < 0)
                return gpr_inf_future(GPR_CLOCK_MONOTONIC);
        return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

/* Shuts a pluck queue down; every batch on it must have been plucked already. */
static void cq_destroy(grpc_completion_queue *cq)
{
        if (!cq)
                return;
        grpc_completion_queue_shutdown(cq);
        while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
               GRPC_QUEUE_SHUTDOWN)
                ;
        grpc_completion_queue_destroy(cq);
}

int rc_conn_wait_ready(struct rc_conn *c, int64_t timeout_ms, struct rc_status *st)
{
        gpr_timespec deadline = deadline_after(timeout_ms);
        grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
        grpc_connectivity_state s = grpc_channel_check_connectivity_state(c->channel, 1);
        bool expired = false;

        while (s != GRPC_CHANNEL_READY && s != GRPC_CHANNEL_SHUTDOWN && !expired) {
                grpc_channel_watch_connectivity_state(c->channel, s, deadline, cq, TAG(TAG_WATCH));
                grpc_event ev = grpc_completion_queue_pluck(cq, TAG(TAG_WATCH),
                                                            gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
                expired = !ev.success;
                /* try_to_connect: an idle channel (after a failed attempt) must try again. */
                s = grpc_channel_check_connectivity_state(c->channel, 1);
        }
        cq_destroy(cq);
        if (s == GRPC_CHANNEL_READY) {
                status_ok(st);
                return 0;
        }
        explain_unavailable(c, st, "not ready before the deadline");
        return -ENOTCONN;
}

/* ---- messages ---- */

static grpc_byte_buffer *pack(const ProtobufCMessage *m)
{
        size_t n = protobuf_c_message_get_packed_size(m);
        grpc_slice s = grpc_slice_malloc(n);
        grpc_byte_buffer *bb;

        protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(s));
        bb = grpc_raw_byte_buffer_create(&s, 1);
        grpc_slice_unref(s);
        return bb;
}

static ProtobufCMessage *unpack(const ProtobufCMessageDescriptor *d, grpc_byte_buffer *bb)
{
        grpc_byte_buffer_reader r;
        ProtobufCMessage *m;
        grpc_slice s;

        if (!bb || !grpc_byte_buffer_reader_init(&r, bb))
                return NULL;
        s = grpc_byte_buffer_reader_readall(&r);
        grpc_byte_buffer_reader_destroy(&r);
        m = protobuf_c_message_unpack(d, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
        grpc_slice_unref(s);
        return m;
}

/* Turns a final status into st and a return value; `what` names the call for messages. */
static int finish_status(const struct rc_conn *c, grpc_status_code code, grpc_slice details,
                         const char *what, int64_t timeout_ms, struct rc_status *st)
{
        _cleanup_gpr_free_ char *d = grpc_slice_to_c_string(details);

        if (code == GRPC_STATUS_OK) {
                status_ok(st);
                return 0;
        }
        if (code == GRPC_STATUS_UNAVAILABLE)
                explain_unavailable(c, st, d && *d ? d : "unavailable");
        else if (code == GRPC_STATUS_DEADLINE_EXCEEDED && timeout_ms > 0)
                status_set(st, code, "%s: no answer within %.1f s (deadline exceeded)", what,
                           (double)timeout_ms / 1000.0);
        else if (d && *d)
                status_set(st, code, "%s", d);
        else
                status_set(st, code, "%s failed: %s", what, rc_status_code_name(code));
        return rc_status_to_errno(code);
}

/* "/isula.restore.v1.Restore/RestoreAll" -> "RestoreAll", for messages. */
static const char *method_short(const char *method)
{
        const char *p = strrchr(method, '/');
        return p ? p + 1 : method;
}

static grpc_call *create_call(struct rc_conn *c, grpc_completion_queue *cq, const char *method,
                              int64_t timeout_ms)
{
        return grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                        grpc_slice_from_static_string(method), NULL,
                                        deadline_after(timeout_ms > 0 ? timeout_ms : -1), NULL);
}

/* ---- unary ---- */

struct unary_io {
        grpc_byte_buffer *send, *recv;
        grpc_metadata_array initial_md, trailing_md;
        grpc_status_code status;
        grpc_slice details;
};

static bool unary_run(grpc_call *call, grpc_completion_queue *cq, struct unary_io *io)
{
        grpc_op ops[6];

        memset(ops, 0, sizeof(ops));
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = io->send;
        ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[3].data.recv_initial_metadata.recv_initial_metadata = &io->initial_md;
        ops[4].op = GRPC_OP_RECV_MESSAGE;
        ops[4].data.recv_message.recv_message = &io->recv;
        ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        ops[5].data.recv_status_on_client.trailing_metadata = &io->trailing_md;
        ops[5].data.recv_status_on_client.status = &io->status;
        ops[5].data.recv_status_on_client.status_details = &io->details;
        if (grpc_call_start_batch(call, ops, ARRAY_SIZE(ops), TAG(TAG_UNARY), NULL) != GRPC_CALL_OK)
                return false;
        /* The call's deadline bounds this wait. */
        grpc_completion_queue_pluck(cq, TAG(TAG_UNARY), gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        return true;
}

int rc_unary(struct rc_conn *c, const char *method, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc, int64_t timeout_ms, ProtobufCMessage **ret,
             struct rc_status *st)
{
        struct unary_io io = {.send = pack(req), .details = grpc_empty_slice()};
        grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
        grpc_call *call = create_call(c, cq, method, timeout_ms);
        ProtobufCMessage *resp = NULL;
        int r;

        grpc_metadata_array_init(&io.initial_md);
        grpc_metadata_array_init(&io.trailing_md);
        if (!unary_run(call, cq, &io)) {
                status_set(st, GRPC_STATUS_INTERNAL, "%s: could not start the call", method_short(method));
                r = -EPROTO;
        } else {
                r = finish_status(c, io.status, io.details, method_short(method), timeout_ms, st);
        }
        if (r == 0 && !(resp = unpack(resp_desc, io.recv))) {
                status_set(st, GRPC_STATUS_INTERNAL, "%s: the response is not a valid %s",
                           method_short(method), resp_desc->name);
                r = -EBADMSG;
        }
        grpc_byte_buffer_destroy(io.send);
        if (io.recv)
                grpc_byte_buffer_destroy(io.recv);
        grpc_metadata_array_destroy(&io.initial_md);
        grpc_metadata_array_destroy(&io.trailing_md);
        grpc_slice_unref(io.details);
        grpc_call_unref(call);
        cq_destroy(cq);
        if (r == 0)
                *ret = resp;
        return r;
}

/* ---- server streaming ---- */

static bool stream_start(struct rc_stream *s)
{
        grpc_op send[3], status[1];

        memset(send, 0, sizeof(send));
        memset(status, 0, sizeof(status));
        send[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        send[1].op = GRPC_OP_SEND_MESSAGE;
        send[1].data.send_message.send_message = s->send;
        send[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        if (grpc_call_start_batch(s->call, send, ARRAY_SIZE(send), TAG(TAG_SEND), NULL) != GRPC_CALL_OK)
                return false;
        s->send_pending = true;
        /* Started now so that the final status is collected however the stream ends. */
        status[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        status[0].data.recv_status_on_client.trailing_metadata = &s->trailing_md;
        status[0].data.recv_status_on_client.status = &s->status;
        status[0].data.recv_status_on_client.status_details = &s->details;
        if (grpc_call_start_batch(s->call, status, 1, TAG(TAG_STATUS), NULL) != GRPC_CALL_OK)
                return false;
        s->status_pending = true;
        return true;
}

int rc_stream_open(struct rc_conn *c, const char *method, const ProtobufCMessage *req, int64_t timeout_ms,
                   struct rc_stream **ret, struct rc_status *st)
{
        struct rc_stream *s = calloc(1, sizeof(*s));

        if (!s) {
                status_set(st, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
                return -ENOMEM;
        }
        s->conn = c;
        s->what = strdup(method_short(method));
        s->details = grpc_empty_slice();
        grpc_metadata_array_init(&s->initial_md);
        grpc_metadata_array_init(&s->trailing_md);
        s->send = pack(req);
        s->cq = grpc_completion_queue_create_for_pluck(NULL);
        s->call = create_call(c, s->cq, method, timeout_ms);
        if (!stream_start(s)) {
                rc_stream_free(s);
                status_set(st, GRPC_STATUS_INTERNAL, "%s: could not start the call", method_short(method));
                return -EPROTO;
        }
        status_ok(st);
        *ret = s;
        return 0;
}

static bool stream_request_next(struct rc_stream *s)
{
        grpc_op ops[2];
        size_t n = 0;

        memset(ops, 0, sizeof(ops));
        if (!s->got_initial_md) {
                ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
                ops[n++].data.recv_initial_metadata.recv_initial_metadata = &s->initial_md;
        }
        ops[n].op = GRPC_OP_RECV_MESSAGE;
        ops[n++].data.recv_message.recv_message = &s->recv;
        if (grpc_call_start_batch(s->call, ops, n, TAG(TAG_RECV), NULL) != GRPC_CALL_OK)
                return false;
        s->got_initial_md = true;
        s->recv_pending = true;
        return true;
}

static void pluck_pending(struct rc_stream *s, bool *pending, int tag)
{
        if (*pending) {
                grpc_completion_queue_pluck(s->cq, TAG(tag), gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
                *pending = false;
        }
}

/* The server sent no more messages: the status batch completes now or very soon. */
static int stream_finish(struct rc_stream *s, struct rc_status *st)
{
        int r;

        pluck_pending(s, &s->status_pending, TAG_STATUS);
        r = finish_status(s->conn, s->status, s->details, s->what ? s->what : "stream", 0, st);
        if (r < 0 && s->got_message && s->status == GRPC_STATUS_UNAVAILABLE) {
                _cleanup_gpr_free_ char *d = grpc_slice_to_c_string(s->details);
                status_set(st, GRPC_STATUS_UNAVAILABLE, "lost the connection to %s: %s — did restored stop?",
                           s->conn->address, d && *d ? d : "unavailable");
        }
        return r;
}

int rc_stream_next(struct rc_stream *s, const ProtobufCMessageDescriptor *desc, int64_t wait_ms,
                   ProtobufCMessage **ret, struct rc_status *st)
{
        ProtobufCMessage *m;
        grpc_event ev;

        if (!s->recv_pending && s->status_pending && !stream_request_next(s)) {
                status_set(st, GRPC_STATUS_INTERNAL, "could not read from the stream");
                return -EPROTO;
        }
        if (!s->recv_pending)
                return stream_finish(s, st);
        ev = grpc_completion_queue_pluck(s->cq, TAG(TAG_RECV), deadline_after(wait_ms), NULL);
        if (ev.type == GRPC_QUEUE_TIMEOUT)
                return -ETIMEDOUT;
        s->recv_pending = false;
        if (!s->recv)
                return stream_finish(s, st);
        s->got_message = true;
        m = unpack(desc, s->recv);
        grpc_byte_buffer_destroy(s->recv);
        s->recv = NULL;
        if (!m) {
                grpc_call_cancel(s->call, NULL);
                status_set(st, GRPC_STATUS_INTERNAL, "the stream sent a message that is not a valid %s",
                           desc->name);
                return -EBADMSG;
        }
        status_ok(st);
        *ret = m;
        return 1;
}

void rc_stream_cancel(struct rc_stream *s)
{
        if (s && s->call)
                grpc_call_cancel(s->call, NULL);
}

void rc_stream_free(struct rc_stream *s)
{
        if (!s)
                return;
        if (s->call) {
                /* Every batch must complete before the queue can go: cancelling makes them. */
                grpc_call_cancel(s->call, NULL);
                pluck_pending(s, &s->send_pending, TAG_SEND);
                pluck_pending(s, &s->recv_pending, TAG_RECV);
                pluck_pending(s, &s->status_pending, TAG_STATUS);
                grpc_call_unref(s->call);
        }
        cq_destroy(s->cq);
        if (s->send)
                grpc_byte_buffer_destroy(s->send);
        if (s->recv)
                grpc_byte_buffer_destroy(s->recv);
        grpc_metadata_array_destroy(&s->initial_md);
        grpc_metadata_array_destroy(&s->trailing_md);
        grpc_slice_unref(s->details);
        free(s->what);
        free(s);
}
