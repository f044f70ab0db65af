/*
 * main.c - restored: iSulad's container restore as a gRPC service on a local unix socket.
 *
 * Start-up: options -> logging -> engine -> gRPC server (Restore, Watch, health, reflection,
 * access control) -> listeners (systemd's sockets, else --socket; optional --listen) ->
 * READY=1. With --restore-on-start a restore runs at once and READY=1 waits for it.
 * SIGTERM/SIGINT: STOPPING=1, health NOT_SERVING, Watch streams ended, in-flight calls get a
 * grace period, socket removed. restored never signals, starts or removes a container, so
 * stopping it (KillMode=process) leaves every container as it was.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "access.h"
#include "engine.h"
#include "grpcsrv.h"
#include "health.h"
#include "log.h"
#include "options.h"
#include "reflection.h"
#include "rpc_restore.h"
#include "watch.h"

#define RESTORE_SERVICE "isula.restore.v1.Restore"

struct daemon {
        struct rd_options opt;
        struct rd_access_policy policy;
        struct rs_engine *engine;
        struct gs_server *server;
        struct health *health;
        struct reflection *reflection;
        struct watch_hub *watch;
        atomic_bool first_restore_done;
        atomic_bool stopping; /* shutdown_daemon() has begun */
        bool notify_ready_after_restore;
};

/* The peer's primary gid followed by its supplementary groups (as SO_PEERGROUPS saw them). */
static gid_t *peer_gids(const struct gs_peer *peer, size_t *ret_n)
{
        size_t n = peer->groups_known ? peer->n_groups : 0;
        gid_t *gids = calloc(n + 1, sizeof(gid_t));

        if (!gids)
                return NULL;
        gids[0] = peer->gid;
        if (n)
                memcpy(gids + 1, peer->groups, n * sizeof(gid_t));
        *ret_n = n + 1;
        return gids;
}

static grpc_status_code authorize(void *userdata, const struct gs_peer *peer, const char *method,
                                  char *ret_msg, size_t msglen)
{
        struct daemon *d = userdata;
        struct rd_peer_info info = {
                .tcp = peer->tcp,
                .tls_verified = peer->tls_authenticated,
                .uid = peer->unix_cred ? peer->uid : (uid_t)-1,
                .address = peer->addr,
        };
        gid_t *gids = NULL;
        int r;

        if (peer->unix_cred) {
                gids = peer_gids(peer, &info.n_gids);
                if (!gids) {
                        snprintf(ret_msg, msglen, "out of memory checking the caller's groups");
                        return GRPC_STATUS_RESOURCE_EXHAUSTED;
                }
                info.gids = gids;
        }
        r = rd_access_check(&d->policy, &info, method, d->opt.listen_allow_write, ret_msg, msglen);
        free(gids);
        return (grpc_status_code)r;
}

static void log_result(const struct rs_event *ev)
{
        const struct rs_result *r = ev->result;
        struct rd_log_fields f = { .generation = ev->summary.generation, .stage = r->stage,
                                   .reason = r->reason };
        const char *id = r->id && *r->id ? r->id : r->dir;

        if (r->outcome == RS_OUTCOME_FAILED)
                rd_log(RD_LOG_WARNING, id, &f, "%s/%s not restored: %s", r->runtime, r->dir,
                       r->error ? r->error : "");
        else if (rd_log_enabled(RD_LOG_DEBUG))
                rd_log(RD_LOG_DEBUG, id, &f, "%s/%s restored: %s, %s", r->runtime, r->dir,
                       rs_status_name(r->status), rs_action_name(r->action));
}

static void on_restore_finished(struct daemon *d, const struct rs_summary *s)
{
        struct rd_log_fields f = { .generation = s->generation,
                                   RD_LOG_KV({ "total", NULL, s->total },
                                             { "restored", NULL, s->restored },
                                             { "failed", NULL, s->failed },
                                             { "running", NULL, s->running },
                                             { "duration_ms", NULL, (int64_t)(s->duration_us / 1000) }) };

        if (s->error[0])
                rd_log(RD_LOG_ERROR, NULL, &(struct rd_log_fields){ .generation = s->generation },
                       "part of the graph was not restored: %s", s->error);
        rd_log(s->failed ? RD_LOG_WARNING : RD_LOG_INFO, NULL, &f, "restore %s%s",
               s->failed ? "finished with failed containers" : "finished",
               s->dry_run ? " (dry run)" : "");
        sd_notifyf(0, "STATUS=generation %llu: %u restored, %u failed of %u in %.1f s%s",
                   (unsigned long long)s->generation, s->restored, s->failed, s->total,
                   s->duration_us / 1e6, s->dry_run ? " (dry run)" : "");
        /* A dry run restores nothing: health and READY=1 wait for a real restore. */
        if (s->dry_run)
                return;
        /* A start-up restore that finishes after SIGTERM (shutdown waits for it) must not turn
         * health back to SERVING nor send READY=1 after STOPPING=1. */
        if (!atomic_exchange(&d->first_restore_done, true) && !atomic_load(&d->stopping)) {
                /* Health is NOT_SERVING until the first restore has finished (CONTRACT §3). */
                health_set(d->health, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
                if (d->notify_ready_after_restore)
                        sd_notify(0, "READY=1");
        }
}

static void on_engine_event(void *userdata, const struct rs_event *ev)
{
        struct daemon *d = userdata;

        watch_hub_publish(d->watch, ev);
        switch (ev->kind) {
        case RS_EVENT_RESTORE_STARTED:
                rd_log(RD_LOG_INFO, NULL, &(struct rd_log_fields){ .generation = ev->summary.generation },
                       "restore started: %u container directories%s", ev->summary.total,
                       ev->summary.dry_run ? " (dry run)" : "");
                break;
        case RS_EVENT_PROGRESS:
                sd_notifyf(0, "STATUS=restoring generation %llu: %s %u/%u",
                           (unsigned long long)ev->summary.generation, rs_stage_name(ev->stage),
                           ev->stage_done, ev->stage_total);
                break;
        case RS_EVENT_CONTAINER_RESULT:
                log_result(ev);
                break;
        case RS_EVENT_STATUS_CHANGED:
                rd_log(RD_LOG_INFO, ev->result->id, NULL, "container is now %s",
                       rs_status_name(ev->result->status));
                break;
        case RS_EVENT_RESTORE_FINISHED:
                on_restore_finished(d, &ev->summary);
                break;
        }
}

static int mkdir_parents(const char *path)
{
        char *copy = strdup(path);
        int r = 0;

        if (!copy)
                return -ENOMEM;
        for (char *p = copy + 1; *p && r == 0; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(copy, 0755) < 0 && errno != EEXIST)
                        r = -errno;
                *p = '/';
        }
        free(copy);
        return r;
}

/* systemd's sockets when socket-activated, else our own --socket. */
static int listen_local(struct daemon *d)
{
        char err[512];
        int n = sd_listen_fds(1), served = 0;
        gid_t gid = d->opt.read_gid != RD_GID_NONE ? d->opt.read_gid : d->opt.admin_gid;

        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
                        rd_log_warning("ignoring passed fd %d: not a listening unix stream socket", fd);
                        continue;
                }
                if (gs_server_listen_fd(d->server, fd, err, sizeof(err)) < 0) {
                        rd_log_error("cannot serve the socket passed by systemd: %s", err);
                        return -1;
                }
                rd_log_info("serving the socket passed by systemd (fd %d)", fd);
                served++;
        }
        /* Socket-activated but handed nothing we can serve (say a TCP ListenStream=): running
         * anyway would report READY=1 while every client that woke us hangs. */
        if (n > 0 && served == 0) {
                rd_log_error("systemd passed %d socket%s, none of them a listening unix stream socket; "
                             "refusing to run without a listener",
                             n, n == 1 ? "" : "s");
                return -1;
        }
        if (n > 0)
                return 0;
        if (mkdir_parents(d->opt.socket) < 0) {
                rd_log_error("cannot create the directory of %s: %m", d->opt.socket);
                return -1;
        }
        /* 0660: root and the socket's group connect; per-call rights are checked from the
         * peer's credentials anyway (access.h). */
        if (gs_server_listen_unix(d->server, d->opt.socket, 0660, gid, err, sizeof(err)) < 0) {
                rd_log_error("%s", err);
                return -1;
        }
        rd_log_info("listening on %s", d->opt.socket);
        return 0;
}

static int listen_tcp(struct daemon *d)
{
        char err[512];
        int port = 0;

        if (!d->opt.listen)
                return 0;
        if (gs_server_listen_tcp(d->server, d->opt.listen, d->opt.tls_cert, d->opt.tls_key,
                                 d->opt.tls_ca, err, sizeof(err), &port) < 0) {
                rd_log_error("cannot listen on %s: %s", d->opt.listen, err);
                return -1;
        }
        rd_log_info("listening on %s (TLS%s, port %d%s)", d->opt.listen,
                    d->opt.tls_ca ? ", client certificates required" : "", port,
                    d->opt.listen_allow_write ? "" : ", read-only");
        return 0;
}

static int setup_engine(struct daemon *d)
{
        struct rs_config cfg = {
                .graph_root = d->opt.graph,
                .state_root = d->opt.state,
                .runtime_bins = d->opt.runtimes,
                .n_runtime_bins = d->opt.n_runtimes,
                .runtime_timeout_ms = (int)d->opt.runtime_timeout * 1000,
                .workers = d->opt.workers,
                .max_parallel_restarts = d->opt.max_parallel_restarts,
        };
        int r = rs_engine_new(&cfg, &d->engine);

        if (r < 0) {
                rd_log_error("cannot create the restore engine: %s", strerror(-r));
                return -1;
        }
        rs_engine_set_listener(d->engine, on_engine_event, d);
        return 0;
}

static int setup_server(struct daemon *d)
{
        static const char *const services[] = { RESTORE_SERVICE };
        struct gs_server_options so = { 0 };
        char err[256] = "";

        if (gs_server_new(&so, &d->server) < 0 || watch_hub_new(d->engine, &d->watch) < 0) {
                rd_log_error("cannot create the gRPC server");
                return -1;
        }
        gs_server_set_authorizer(d->server, authorize, d);
        if (rpc_restore_register(d->engine, d->server) < 0 ||
            watch_hub_register(d->watch, d->server) < 0 ||
            health_new(d->server, services, 1, &d->health) < 0) {
                rd_log_error("cannot register the gRPC services");
                return -1;
        }
        if (reflection_new(restored_descriptor_set, restored_descriptor_set_len, &d->reflection, err,
                           sizeof(err)) < 0 ||
            reflection_register(d->reflection, d->server) < 0) {
                rd_log_error("cannot set up server reflection: %s", err);
                return -1;
        }
        return 0;
}

static void restore_on_start(struct daemon *d)
{
        struct rs_request req = { 0 };
        struct rs_error err = { 0 };

        if (rs_engine_restore(d->engine, &req, NULL, NULL, &err) < 0)
                rd_log_error("cannot start the restore: %s", err.msg);
}

static void shutdown_daemon(struct daemon *d)
{
        atomic_store(&d->stopping, true);
        sd_notify(0, "STOPPING=1");
        rd_log_info("shutting down");
        if (d->health)
                health_set(d->health, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
        if (d->watch)
                watch_hub_close(d->watch);
        if (d->server && gs_server_shutdown(d->server) < 0)
                rd_log_warning("some calls did not finish within the shutdown grace period");
        /* Waits for a running restore: its writes are each crash-safe, but finishing them
         * keeps the view and garbage.json consistent. */
        rs_engine_free(d->engine);
        d->engine = NULL;
        gs_server_free(d->server);
        health_free(d->health);
        reflection_free(d->reflection);
        watch_hub_free(d->watch);
}

static int wait_for_signal(const sigset_t *set)
{
        for (;;) {
                int sig;
                if (sigwait(set, &sig) != 0)
                        return -1;
                if (sig == SIGTERM || sig == SIGINT)
                        return sig;
                if (sig == SIGHUP)
                        rd_log_info("SIGHUP ignored: restart restored to change its configuration");
        }
}

static int run(struct daemon *d)
{
        sigset_t set;
        int sig;

        /* Blocked before grpc_init() so that every gRPC thread inherits the mask (recipe §3). */
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);

        d->policy = (struct rd_access_policy){ .read_gid = d->opt.read_gid,
                                               .admin_gid = d->opt.admin_gid,
                                               .tcp_require_client_cert = d->opt.tls_ca != NULL };
        d->notify_ready_after_restore = d->opt.restore_on_start;
        if (setup_engine(d) < 0 || setup_server(d) < 0 || listen_local(d) < 0 || listen_tcp(d) < 0 ||
            gs_server_start(d->server) < 0) {
                shutdown_daemon(d);
                return EXIT_FAILURE;
        }
        rd_log_info("restored %s serving graph %s, state %s", RESTORED_VERSION, d->opt.graph,
                    d->opt.state);
        if (d->opt.restore_on_start)
                restore_on_start(d);
        else
                sd_notify(0, "READY=1\nSTATUS=serving; no restore has run yet");
        sig = wait_for_signal(&set);
        rd_log_info("received %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
        shutdown_daemon(d);
        return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
        struct daemon d = { 0 };
        char err[512] = "";
        int r = rd_options_load(argc, argv, &d.opt, err, sizeof(err));

        if (r == 1)
                return EXIT_SUCCESS;
        if (r < 0) {
                fprintf(stderr, "restored: %s\nTry 'restored --help' for more information.\n", err);
                return 2;
        }
        rd_log_init(d.opt.log_level);
        r = run(&d);
        rd_options_done(&d.opt);
        return r;
}
