/*
 * listener.h - a unix stream listening socket with its own accept loop (no gRPC in here).
 *
 * We listen ourselves instead of letting gRPC bind "unix:PATH" because gRPC silently unlinks
 * whatever is at PATH, so a second daemon would steal the socket of a running one (recipe P6),
 * because the mode and group must be right before the first client can connect (P7), and
 * because only the accepting side can take SO_PEERCRED for each connection.
 *
 * One thread per listener runs accept4(SOCK_NONBLOCK|SOCK_CLOEXEC) and hands every connection,
 * with its credentials, to the callback, which owns the fd from then on.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct listener;

/* cred is NULL when SO_PEERCRED failed; the callback owns `fd`. Runs on the accept thread. */
typedef void (*listener_accept_fn)(void *userdata, struct listener *l, int fd, const struct ucred *cred);

/*
 * Creates, binds and listens on `path`, mode `mode`, group `gid` ((gid_t)-1: keep). Creates
 * missing parent directories (0755). Takes flock("<path>.lock") for as long as the listener
 * lives. Refuses (-EADDRINUSE) when a server answers on path, (-EEXIST) when path is not a
 * socket; a stale socket (connection refused) is removed. errbuf gets a sentence on failure.
 */
int listener_open_unix(const char *path, mode_t mode, gid_t gid, struct listener **ret, char *errbuf,
                       size_t errlen);

/* Takes over an already listening AF_UNIX stream socket (socket activation); never unlinked. */
int listener_adopt_fd(int fd, struct listener **ret, char *errbuf, size_t errlen);

/* Starts the accept thread (all signals blocked in it). */
int listener_start(struct listener *l, listener_accept_fn fn, void *userdata);

/* Joins the accept thread, closes the socket, removes the path and lock file we created. Idempotent. */
void listener_stop(struct listener *l);

/* Stops if needed, then frees. Accepts NULL. */
void listener_free(struct listener *l);

/* The socket path ("" for an adopted socket whose name is unknown). */
const char *listener_path(const struct listener *l);
