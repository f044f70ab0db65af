/*
 * grpcsrv.c - server lifecycle: methods, listeners, peer credentials, workers, shutdown.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <grpc/grpc_posix.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "errbuf.h"
#include "cleanup.h"
#include "grpcsrv_internal.h"

#define GS_DEFAULT_THREADS     4
#define GS_DEFAULT_MAX_RECV    (4u << 20)
#define GS_DEFAULT_MAX_SEND    (256u << 20) /* ListRestored of 10,000 containers is several MB */
#define GS_DEFAULT_STREAMS     100
#define GS_DEFAULT_GRACE_MS    2000
#define GS_DEFAULT_DRAIN_MS    10000
#define GS_DEFAULT_QUEUE       65536 /* a Watch replay sends one event per container */
#define GS_DEFAULT_QUEUE_BYTES (64u << 20)
#define GS_QUEUE_CEILING       (1u << 24) /* so that stream_queue_max + 1 cannot wrap */
#define GS_PEM_MAX             (1u << 20)
#define GS_GROUPS_MAX          65536 /* the kernel's NGROUPS_MAX */


/* ---- live call contexts (P4) ---- */

void gs_server_live_inc(struct gs_server *s)
{
        atomic_fetch_add(&s->live, 1);
}

void gs_server_live_dec(struct gs_server *s)
{
        if (atomic_fetch_sub(&s->live, 1) == 1) {
                pthread_mutex_lock(&s->live_mu);
                pthread_cond_broadcast(&s->live_cond);
                pthread_mutex_unlock(&s->live_mu);
        }
}

/* Waits until every call context is released. Returns false on timeout. */
static bool wait_live_zero(struct gs_server *s, unsigned timeout_ms)
{
        struct timespec until;
        bool zero;

        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&s->live_mu);
        while (atomic_load(&s->live) > 0)
                if (pthread_cond_timedwait(&s->live_cond, &s->live_mu, &until) == ETIMEDOUT)
                        break;
        zero = atomic_load(&s->live) == 0;
        pthread_mutex_unlock(&s->live_mu);
        return zero;
}

/* ---- creation ---- */

static void apply_defaults(struct gs_server_options *o)
{
        if (!o->threads)
                o->threads = GS_DEFAULT_THREADS;
        if (!o->max_recv_msg)
                o->max_recv_msg = GS_DEFAULT_MAX_RECV;
        if (!o->max_send_msg)
                o->max_send_msg = GS_DEFAULT_MAX_SEND;
        if (!o->max_concurrent_streams)
                o->max_concurrent_streams = GS_DEFAULT_STREAMS;
        if (!o->grace_ms)
                o->grace_ms = GS_DEFAULT_GRACE_MS;
        if (!o->drain_ms)
                o->drain_ms = GS_DEFAULT_DRAIN_MS;
        if (!o->stream_queue_max)
                o->stream_queue_max = GS_DEFAULT_QUEUE;
        if (o->stream_queue_max > GS_QUEUE_CEILING)
                o->stream_queue_max = GS_QUEUE_CEILING;
        if (!o->stream_queue_bytes)
                o->stream_queue_bytes = GS_DEFAULT_QUEUE_BYTES;
}

static grpc_server *create_grpc_server(const struct gs_server_options *o)
{
        grpc_arg args[4];
        grpc_channel_args ca = {.num_args = 4, .args = args};

        memset(args, 0, sizeof(args));
        args[0].type = GRPC_ARG_INTEGER;
        args[0].key = (char *)GRPC_ARG_ALLOW_REUSEPORT; /* P10: a second instance must fail to bind */
        args[0].value.integer = 0;
        args[1].type = GRPC_ARG_INTEGER;
        args[1].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
        args[1].value.integer = o->max_recv_msg > INT32_MAX ? INT32_MAX : (int)o->max_recv_msg;
        args[2].type = GRPC_ARG_INTEGER;
        args[2].key = (char *)GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
        args[2].value.integer = o->max_send_msg > INT32_MAX ? INT32_MAX : (int)o->max_send_msg;
        args[3].type = GRPC_ARG_INTEGER;
        args[3].key = (char *)GRPC_ARG_MAX_CONCURRENT_STREAMS;
        args[3].value.integer =
            o->max_concurrent_streams > INT32_MAX ? INT32_MAX : (int)o->max_concurrent_streams;
        return grpc_server_create(&ca, NULL);
}

int gs_server_new(const struct gs_server_options *opt, struct gs_server **ret)
{
        struct gs_server *s = calloc(1, sizeof(*s));
        pthread_condattr_t ca;

        if (!s)
                return -ENOMEM;
        if (opt)
                s->opt = *opt;
        apply_defaults(&s->opt);
        atomic_init(&s->live, 0);
        atomic_init(&s->stopping, false);
        pthread_mutex_init(&s->conn_mu, NULL);
        pthread_mutex_init(&s->live_mu, NULL);
        pthread_condattr_init(&ca);
        /* wait_live_zero() computes its deadline on CLOCK_MONOTONIC. */
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->live_cond, &ca);
        pthread_condattr_destroy(&ca);
        pthread_mutex_init(&s->state_mu, NULL);
        s->state = GS_NEW;
        grpc_init();
        s->grpc_inited = true;
        s->srv = create_grpc_server(&s->opt);
        s->cq = grpc_completion_queue_create_for_next(NULL);
        s->shutdown_cq = grpc_completion_queue_create_for_next(NULL);
        s->insecure = grpc_insecure_server_credentials_create();
        if (!s->srv || !s->cq || !s->shutdown_cq || !s->insecure) {
                gs_server_free(s);
                return -ENOMEM;
        }
        grpc_server_register_completion_queue(s->srv, s->cq, NULL);
        grpc_server_register_completion_queue(s->srv, s->shutdown_cq, NULL);
        *ret = s;
        return 0;
}

/* "/pkg.Service/Method" -> a malloc'd "pkg.Service", or NULL if the path is malformed. */
static char *service_of(const char *path)
{
        const char *slash;

        if (!path || path[0] != '/')
                return NULL;
        slash = strchr(path + 1, '/');
        if (!slash || slash == path + 1 || !slash[1] || strchr(slash + 1, '/'))
                return NULL;
        return strndup(path + 1, (size_t)(slash - path - 1));
}

static int add_service(struct gs_server *s, char *svc)
{
        char **v;

        for (size_t i = 0; i < s->n_services; i++)
                if (strcmp(s->services[i], svc) == 0) {
                        free(svc);
                        return 0;
                }
        v = realloc(s->services, (s->n_services + 1) * sizeof(*v));
        if (!v) {
                free(svc);
                return -ENOMEM;
        }
        s->services = v;
        s->services[s->n_services++] = svc;
        return 0;
}

int gs_server_add_method(struct gs_server *s, const struct gs_method *m)
{
        struct gs_method_entry *v, *e;
        char *svc;

        if (s->state != GS_NEW)
                return -EBUSY;
        if (!m->fn || !m->input || !(svc = service_of(m->path)))
                return -EINVAL;
        if (add_service(s, svc) < 0)
                return -ENOMEM;
        v = realloc(s->methods, (s->n_methods + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        s->methods = v;
        e = &s->methods[s->n_methods];
        memset(e, 0, sizeof(*e));
        e->m = *m;
        e->path = strdup(m->path);
        if (!e->path)
                return -ENOMEM;
        e->m.path = e->path;
        /* P3: unary and server-streaming get their only message with the call; bidi reads its own. */
        e->handle = grpc_server_register_method(
            s->srv, e->path, NULL,
            m->kind == GS_BIDI_STREAMING ? GRPC_SRM_PAYLOAD_NONE : GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER,
            0);
        if (!e->handle) {
                free(e->path);
                return -EEXIST;
        }
        s->n_methods++;
        return 0;
}

void gs_server_set_authorizer(struct gs_server *s, gs_authorize_fn fn, void *userdata)
{
        s->authz = fn;
        s->authz_ud = userdata;
}

size_t gs_server_services(const struct gs_server *s, const char **ret_names, size_t max)
{
        for (size_t i = 0; i < s->n_services && i < max; i++)
                ret_names[i] = s->services[i];
        return s->n_services;
}

/* ---- unix listeners and peer credentials ---- */

static int add_listener(struct gs_server *s, struct listener *l)
{
        struct listener **v = realloc(s->listeners, (s->n_listeners + 1) * sizeof(*v));

        if (!v)
                return -ENOMEM;
        s->listeners = v;
        s->listeners[s->n_listeners++] = l;
        return 0;
}

int gs_server_listen_unix(struct gs_server *s, const char *path, mode_t mode, gid_t gid, char *errbuf,
                          size_t errlen)
{
        struct listener *l;
        int r;

        if (s->state != GS_NEW)
                return errbuf_fail(errbuf, errlen, -EBUSY, "listeners must be added before the server starts");
        r = listener_open_unix(path, mode, gid, &l, errbuf, errlen);
        if (r < 0)
                return r;
        r = add_listener(s, l);
        if (r < 0) {
                listener_free(l);
                return errbuf_fail(errbuf, errlen, r, "out of memory");
        }
        return 0;
}

int gs_server_listen_fd(struct gs_server *s, int listen_fd, char *errbuf, size_t errlen)
{
        struct listener *l;
        int r;

        if (s->state != GS_NEW)
                return errbuf_fail(errbuf, errlen, -EBUSY, "listeners must be added before the server starts");
        r = listener_adopt_fd(listen_fd, &l, errbuf, errlen);
        if (r < 0)
                return r;
        r = add_listener(s, l);
        if (r < 0) {
                listener_free(l);
                return errbuf_fail(errbuf, errlen, r, "out of memory");
        }
        return 0;
}

/* SO_PEERGROUPS answers ERANGE with the size it needs. -ENOPROTOOPT before Linux 4.13. */
static int peer_groups(int fd, gid_t **ret, size_t *ret_n)
{
        socklen_t len = 64 * sizeof(gid_t);

        for (;;) {
                _cleanup_free_ gid_t *v = malloc(len);
                socklen_t got = len;

                if (!v)
                        return -ENOMEM;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, v, &got) == 0) {
                        *ret_n = got / sizeof(gid_t);
                        *ret = TAKE_PTR(v);
                        return 0;
                }
                if (errno != ERANGE || got <= len || got > GS_GROUPS_MAX * sizeof(gid_t))
                        return -errno;
                len = got;
        }
}

/*
 * Records the credentials of a connection under its fd number, before gRPC sees the fd.
 * gRPC names such a connection "fd:N" (grpc_server_add_channel_from_fd) and only closes N when
 * the transport is destroyed, which needs every call on it gone; so while we hold a call, N
 * still is that call's connection (checked: a call held after its client died keeps N open,
 * and new connections get other numbers). The inode check makes a stale entry fail closed.
 */
static int conn_record(struct gs_server *s, int fd, const struct ucred *cred, const char *path)
{
        struct gs_conn c = {.used = true, .have_cred = cred != NULL, .path = path};
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        c.dev = st.st_dev;
        c.ino = st.st_ino;
        if (cred)
                c.cred = *cred;
        c.groups_known = peer_groups(fd, &c.groups, &c.n_groups) == 0;
        pthread_mutex_lock(&s->conn_mu);
        if ((size_t)fd >= s->n_conns) {
                size_t n = (size_t)fd * 2 + 16;
                struct gs_conn *v = realloc(s->conns, n * sizeof(*v));

                if (!v) {
                        pthread_mutex_unlock(&s->conn_mu);
                        free(c.groups);
                        return -ENOMEM;
                }
                memset(v + s->n_conns, 0, (n - s->n_conns) * sizeof(*v));
                s->conns = v;
                s->n_conns = n;
        }
        free(s->conns[fd].groups); /* the previous connection that had this number */
        s->conns[fd] = c;
        pthread_mutex_unlock(&s->conn_mu);
        return 0;
}

static void on_accept(void *userdata, struct listener *l, int fd, const struct ucred *cred)
{
        struct gs_server *s = userdata;

        if (conn_record(s, fd, cred, listener_path(l)) < 0) {
                close(fd);
                return;
        }
        /* Takes ownership of fd; the server's channel args (message sizes...) apply. */
        grpc_server_add_channel_from_fd(s->srv, fd, s->insecure);
}

static void conn_lookup(struct gs_server *s, int fd, struct gs_peer *p)
{
        struct gs_conn e = {0};
        gid_t *groups = NULL;
        struct stat st;

        pthread_mutex_lock(&s->conn_mu);
        if (fd >= 0 && (size_t)fd < s->n_conns)
                e = s->conns[fd];
        if (e.groups_known && (groups = malloc((e.n_groups ? e.n_groups : 1) * sizeof(*groups))))
                memcpy(groups, e.groups, e.n_groups * sizeof(*groups));
        pthread_mutex_unlock(&s->conn_mu);
        if (!e.used || fstat(fd, &st) < 0 || st.st_dev != e.dev || st.st_ino != e.ino) {
                free(groups);
                return; /* fail closed: no credentials */
        }
        p->unix_cred = e.have_cred;
        p->uid = e.cred.uid;
        p->gid = e.cred.gid;
        p->pid = e.cred.pid;
        p->groups_known = groups != NULL;
        p->groups = groups;
        p->n_groups = groups ? e.n_groups : 0;
        snprintf(p->addr, sizeof(p->addr), "unix:%s", e.path);
}

static void tls_lookup(grpc_call *call, struct gs_peer *p)
{
        grpc_auth_context *ctx = grpc_call_auth_context(call);

        if (!ctx)
                return;
        p->tls_authenticated = grpc_auth_context_peer_is_authenticated(ctx) != 0;
        grpc_auth_context_release(ctx);
}

void gs_server_peer_of(struct gs_server *s, grpc_call *call, struct gs_peer *ret)
{
        char *peer = grpc_call_get_peer(call);
        int fd, end = 0;

        memset(ret, 0, sizeof(*ret));
        ret->uid = (uid_t)-1;
        ret->gid = (gid_t)-1;
        if (!peer)
                return;
        if (sscanf(peer, "fd:%d%n", &fd, &end) == 1 && peer[end] == '\0') {
                conn_lookup(s, fd, ret);
        } else if (strncmp(peer, "ipv4:", 5) == 0 || strncmp(peer, "ipv6:", 5) == 0) {
                ret->tcp = true;
                tls_lookup(call, ret);
        }
        if (!ret->addr[0])
                snprintf(ret->addr, sizeof(ret->addr), "%s", peer);
        gpr_free(peer);
}

/* ---- TCP with TLS ---- */

static int read_pem(const char *path, char **ret, char *errbuf, size_t errlen)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *buf = NULL;
        size_t n;

        if (!f)
                return errbuf_fail(errbuf, errlen, -errno, "cannot open %s: %s", path, strerror(errno));
        buf = malloc(GS_PEM_MAX + 1);
        if (!buf)
                return errbuf_fail(errbuf, errlen, -ENOMEM, "out of memory");
        n = fread(buf, 1, GS_PEM_MAX + 1, f);
        if (ferror(f))
                return errbuf_fail(errbuf, errlen, -EIO, "cannot read %s", path);
        if (n > GS_PEM_MAX)
                return errbuf_fail(errbuf, errlen, -EFBIG, "%s is larger than %u bytes", path, GS_PEM_MAX);
        buf[n] = '\0';
        /* gRPC only parses PEM at the first handshake; catch the obvious mistake now. */
        if (!strstr(buf, "-----BEGIN "))
                return errbuf_fail(errbuf, errlen, -EINVAL, "%s is not a PEM file", path);
        *ret = TAKE_PTR(buf);
        return 0;
}

static int tls_creds(const char *cert, const char *key, const char *ca, grpc_server_credentials **ret,
                     char *errbuf, size_t errlen)
{
        _cleanup_free_ char *cert_pem = NULL, *key_pem = NULL, *ca_pem = NULL;
        grpc_ssl_pem_key_cert_pair pair;
        int r;

        if ((r = read_pem(cert, &cert_pem, errbuf, errlen)) < 0 ||
            (r = read_pem(key, &key_pem, errbuf, errlen)) < 0)
                return r;
        if (ca && (r = read_pem(ca, &ca_pem, errbuf, errlen)) < 0)
                return r;
        pair.private_key = key_pem;
        pair.cert_chain = cert_pem;
        /* The credentials copy the PEM strings. */
        *ret = grpc_ssl_server_credentials_create_ex(
            ca_pem, &pair, 1,
            ca ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
               : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
            NULL);
        if (!*ret)
                return errbuf_fail(errbuf, errlen, -EINVAL, "cannot create TLS credentials from %s and %s", cert,
                            key);
        return 0;
}

int gs_server_listen_tcp(struct gs_server *s, const char *host_port, const char *cert_pem_path,
                         const char *key_pem_path, const char *ca_pem_path, char *errbuf, size_t errlen,
                         int *ret_port)
{
        grpc_server_credentials *creds;
        int port, r;

        if (s->state != GS_NEW)
                return errbuf_fail(errbuf, errlen, -EBUSY, "listeners must be added before the server starts");
        if (!cert_pem_path || !key_pem_path)
                return errbuf_fail(errbuf, errlen, -EINVAL,
                            "refusing to listen on TCP %s without TLS: a certificate and a key are required",
                            host_port);
        r = tls_creds(cert_pem_path, key_pem_path, ca_pem_path, &creds, errbuf, errlen);
        if (r < 0)
                return r;
        port = grpc_server_add_http2_port(s->srv, host_port, creds);
        grpc_server_credentials_release(creds);
        /* P10: with SO_REUSEPORT off, 0 also means another process has the port. */
        if (port <= 0)
                return errbuf_fail(errbuf, errlen, -EADDRINUSE,
                            "cannot listen on %s: address in use, not local, or not HOST:PORT", host_port);
        if (ret_port)
                *ret_port = port;
        return 0;
}

/* ---- running ---- */

static void *worker(void *arg)
{
        struct gs_server *s = arg;

        for (;;) {
                grpc_event ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);

                if (ev.type == GRPC_QUEUE_SHUTDOWN)
                        break;
                if (ev.type == GRPC_OP_COMPLETE) {
                        struct gs_tag *t = ev.tag;

                        t->cb(t, ev.success != 0);
                }
        }
        return NULL;
}

static int start_workers(struct gs_server *s)
{
        sigset_t all, old;
        int r = 0;

        s->workers = calloc(s->opt.threads, sizeof(*s->workers));
        if (!s->workers)
                return -ENOMEM;
        /* The daemon takes its signals with sigwait(); gRPC and our threads must never see them. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        for (; s->n_workers < s->opt.threads; s->n_workers++) {
                r = -pthread_create(&s->workers[s->n_workers], NULL, worker, s);
                if (r < 0)
                        break;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return s->n_workers ? 0 : r;
}

/* N requests per method, so that N workers can run the same method at once (recipe §7). */
static int post_requests(struct gs_server *s)
{
        for (unsigned i = 0; i < s->opt.threads; i++) {
                for (size_t m = 0; m < s->n_methods; m++)
                        if (gs_post_registered(s, &s->methods[m]) < 0)
                                return -EIO;
                if (gs_post_generic(s) < 0)
                        return -EIO;
        }
        return 0;
}

int gs_server_start(struct gs_server *s)
{
        int r;

        pthread_mutex_lock(&s->state_mu);
        if (s->state != GS_NEW) {
                pthread_mutex_unlock(&s->state_mu);
                return -EBUSY;
        }
        grpc_server_start(s->srv);
        s->state = GS_STARTED;
        r = post_requests(s);
        if (r >= 0)
                r = start_workers(s);
        for (size_t i = 0; r >= 0 && i < s->n_listeners; i++)
                r = listener_start(s->listeners[i], on_accept, s);
        pthread_mutex_unlock(&s->state_mu);
        return r;
}

/* Waits for the shutdown tag; after `ms` returns false. */
static bool wait_shutdown_tag(struct gs_server *s, unsigned ms)
{
        gpr_timespec until =
            gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));

        return grpc_completion_queue_next(s->shutdown_cq, until, NULL).type == GRPC_OP_COMPLETE;
}

/*
 * The grace period is for calls in flight. gRPC also waits for idle client connections (a
 * client such as iSulad keeps its channel open), so once no call is active there is nothing
 * to be graceful about: the caller cancels, which disconnects them. True if the tag came.
 */
static bool wait_calls_or_tag(struct gs_server *s, unsigned grace_ms)
{
        for (unsigned waited = 0; waited < grace_ms; waited += 20) {
                if (wait_shutdown_tag(s, 20))
                        return true;
                if (atomic_load(&s->active) == 0)
                        return false;
        }
        return false;
}

static void drain_cq(grpc_completion_queue *cq)
{
        while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
               GRPC_QUEUE_SHUTDOWN)
                ;
}

/* The P4 sequence. Returns false if handlers kept calls beyond grace + drain. */
static bool stop_grpc(struct gs_server *s)
{
        static int shutdown_tag;

        if (s->srv) {
                grpc_server_shutdown_and_notify(s->srv, s->shutdown_cq, &shutdown_tag);
                if (!wait_calls_or_tag(s, s->opt.grace_ms)) {
                        /* Streams such as Watch never end by themselves. */
                        grpc_server_cancel_all_calls(s->srv);
                        if (!wait_shutdown_tag(s, s->opt.drain_ms))
                                return false;
                }
        }
        /* The shutdown tag can overtake the completions of cancelled calls (P4): wait for them. */
        if (!wait_live_zero(s, s->opt.drain_ms))
                return false;
        /* From here on no batch may start: every call context is gone. */
        if (s->cq) {
                grpc_completion_queue_shutdown(s->cq);
                for (unsigned i = 0; i < s->n_workers; i++)
                        pthread_join(s->workers[i], NULL);
                if (!s->n_workers)
                        drain_cq(s->cq);
                s->n_workers = 0;
        }
        if (s->shutdown_cq) {
                grpc_completion_queue_shutdown(s->shutdown_cq);
                drain_cq(s->shutdown_cq);
        }
        return true;
}

int gs_server_shutdown(struct gs_server *s)
{
        int r = 0;

        pthread_mutex_lock(&s->state_mu);
        atomic_store(&s->stopping, true);
        /* No new connections may reach gRPC once it is shutting down. */
        for (size_t i = 0; i < s->n_listeners; i++)
                listener_stop(s->listeners[i]);
        if (s->state == GS_STARTED || s->state == GS_NEW)
                s->state = stop_grpc(s) ? GS_STOPPED : GS_ABANDONED;
        if (s->state == GS_ABANDONED)
                r = -ETIMEDOUT;
        pthread_mutex_unlock(&s->state_mu);
        return r;
}

void gs_server_free(struct gs_server *s)
{
        if (!s)
                return;
        if (gs_server_shutdown(s) < 0)
                return; /* calls are still alive: freeing anything would be a use-after-free */
        for (size_t i = 0; i < s->n_listeners; i++)
                listener_free(s->listeners[i]);
        free(s->listeners);
        if (s->srv)
                grpc_server_destroy(s->srv);
        if (s->cq)
                grpc_completion_queue_destroy(s->cq);
        if (s->shutdown_cq)
                grpc_completion_queue_destroy(s->shutdown_cq);
        if (s->insecure)
                grpc_server_credentials_release(s->insecure);
        for (size_t i = 0; i < s->n_methods; i++)
                free(s->methods[i].path);
        free(s->methods);
        for (size_t i = 0; i < s->n_services; i++)
                free(s->services[i]);
        free(s->services);
        for (size_t i = 0; i < s->n_conns; i++)
                free(s->conns[i].groups);
        free(s->conns);
        free(s->workers);
        pthread_mutex_destroy(&s->conn_mu);
        pthread_mutex_destroy(&s->live_mu);
        pthread_cond_destroy(&s->live_cond);
        pthread_mutex_destroy(&s->state_mu);
        if (s->grpc_inited)
                grpc_shutdown();
        free(s);
}
