/*
 * grpcsrv_internal.h - shared between grpcsrv.c (server, listeners, peers) and grpcsrv_call.c
 * (the per-call state machine). Not for users of grpcsrv.h.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "grpcsrv.h"
#include "listener.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/*
 * Every asynchronous operation carries a tag whose first field is its completion function.
 * A worker calls it with the event's success flag.
 */
struct gs_tag {
        void (*cb)(struct gs_tag *t, bool ok);
};

struct gs_method_entry {
        struct gs_method m;
        char *path;   /* our copy of m.path */
        void *handle; /* grpc_server_register_method() */
};

/* One accepted unix connection, indexed by fd number (see gs_server_peer_of()). */
struct gs_conn {
        bool used;
        bool have_cred;
        dev_t dev;
        ino_t ino;
        struct ucred cred;
        bool groups_known;
        gid_t *groups; /* SO_PEERGROUPS; malloc'd */
        size_t n_groups;
        const char *path; /* the listener's socket path */
};

enum gs_state {
        GS_NEW,
        GS_STARTED,
        GS_STOPPED,
        GS_ABANDONED, /* shutdown timed out with calls still held by handlers */
};

struct gs_server {
        struct gs_server_options opt;
        grpc_server *srv;
        grpc_completion_queue *cq;          /* shared by all workers (recipe §7, P12) */
        grpc_completion_queue *shutdown_cq; /* only for the shutdown tag */
        grpc_server_credentials *insecure;  /* for connections we accept ourselves */

        struct gs_method_entry *methods;
        size_t n_methods;
        char **services;
        size_t n_services;
        gs_authorize_fn authz;
        void *authz_ud;

        struct listener **listeners;
        size_t n_listeners;
        pthread_mutex_t conn_mu;
        struct gs_conn *conns;
        size_t n_conns;

        pthread_t *workers;
        unsigned n_workers;

        /* P4: call contexts alive, including posted requests; the CQ may only be shut down at 0. */
        atomic_int live;
        atomic_int active;      /* calls from clients still alive (not posted requests) */
        atomic_bool stopping;
        pthread_mutex_t live_mu;
        pthread_cond_t live_cond;

        pthread_mutex_t state_mu;
        enum gs_state state;
        bool grpc_inited;
};

/* grpcsrv_call.c */
int gs_post_registered(struct gs_server *s, struct gs_method_entry *me);
int gs_post_generic(struct gs_server *s);

/* grpcsrv.c */
/* Fills ret; ret->groups is malloc'd (free it with the call). */
void gs_server_peer_of(struct gs_server *s, grpc_call *call, struct gs_peer *ret);
void gs_server_live_inc(struct gs_server *s);
void gs_server_live_dec(struct gs_server *s);
