/*
 * listener.c - unix listening socket, single-instance lock, accept loop.
 */
#include "errbuf.h"
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"

struct listener {
        int fd;
        int lock_fd;     /* -1 for an adopted socket */
        char *path;      /* socket path; "" if unknown */
        char *lock_path; /* NULL for an adopted socket */
        bool owns_path;  /* we bound it, so we remove it */
        dev_t dev;       /* the socket inode we bound, so we never unlink someone else's */
        ino_t ino;
        int stop_fd; /* eventfd that wakes the accept loop */
        pthread_t thread;
        bool running;
        listener_accept_fn fn;
        void *userdata;
};


static int sockaddr_for(const char *path, struct sockaddr_un *ret)
{
        memset(ret, 0, sizeof(*ret));
        ret->sun_family = AF_UNIX;
        if (strlen(path) >= sizeof(ret->sun_path))
                return -ENAMETOOLONG;
        strcpy(ret->sun_path, path);
        return 0;
}

static struct listener *listener_alloc(void)
{
        struct listener *l = calloc(1, sizeof(*l));

        if (!l)
                return NULL;
        l->fd = l->lock_fd = l->stop_fd = -1;
        return l;
}

/* mkdir -p of the directory part of `path`. */
static int mkdir_parents(const char *path)
{
        _cleanup_free_ char *dir = strdup(path);
        char *p;

        if (!dir)
                return -ENOMEM;
        for (p = dir + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        return 0;
}

/*
 * Takes flock(LOCK_EX|LOCK_NB) on `lock_path`. The lock file is unlinked when its owner stops,
 * so after locking we check that the path still names the inode we locked: otherwise we locked
 * a file that was just removed and a third instance could lock the new one next to us.
 */
static int take_lock(const char *lock_path, int *ret_fd, char *errbuf, size_t errlen)
{
        for (int attempt = 0; attempt < 8; attempt++) {
                _cleanup_close_ int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                struct stat a, b;

                if (fd < 0)
                        return errbuf_fail(errbuf, errlen, -errno, "cannot open lock file %s: %s", lock_path,
                                    strerror(errno));
                if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                        if (errno == EWOULDBLOCK)
                                return errbuf_fail(errbuf, errlen, -EADDRINUSE,
                                            "another restored holds %s; refusing to start a second instance",
                                            lock_path);
                        return errbuf_fail(errbuf, errlen, -errno, "cannot lock %s: %s", lock_path,
                                    strerror(errno));
                }
                if (fstat(fd, &a) == 0 && stat(lock_path, &b) == 0 && a.st_dev == b.st_dev &&
                    a.st_ino == b.st_ino) {
                        *ret_fd = TAKE_FD(fd);
                        return 0;
                }
        }
        return errbuf_fail(errbuf, errlen, -EAGAIN, "cannot lock %s: it keeps being replaced", lock_path);
}

/* 0: somebody accepts connections on path; -ECONNREFUSED: stale; other: cannot tell. */
static int probe_socket(const char *path)
{
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        struct sockaddr_un sa;

        if (fd < 0)
                return -errno;
        if (sockaddr_for(path, &sa) < 0)
                return -ENAMETOOLONG;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                return 0;
        /* EAGAIN: the backlog is full, so it is very much alive. */
        return errno == EAGAIN ? 0 : -errno;
}

/* Decides what to do with whatever already is at `path` (recipe P6: never steal a live socket). */
static int clear_old_socket(const char *path, char *errbuf, size_t errlen)
{
        struct stat st;
        int r;

        if (lstat(path, &st) < 0) {
                if (errno == ENOENT)
                        return 0;
                return errbuf_fail(errbuf, errlen, -errno, "cannot stat %s: %s", path, strerror(errno));
        }
        if (!S_ISSOCK(st.st_mode))
                return errbuf_fail(errbuf, errlen, -EEXIST, "%s exists and is not a socket; refusing to replace it",
                            path);
        r = probe_socket(path);
        if (r == 0)
                return errbuf_fail(errbuf, errlen, -EADDRINUSE, "another restored is serving %s", path);
        if (r != -ECONNREFUSED)
                return errbuf_fail(errbuf, errlen, r, "cannot tell whether %s is in use: %s", path, strerror(-r));
        if (unlink(path) < 0 && errno != ENOENT)
                return errbuf_fail(errbuf, errlen, -errno, "cannot remove stale socket %s: %s", path,
                            strerror(errno));
        return 0;
}

/*
 * bind, then chmod/chown, then listen: connect() fails until listen(), so no client ever sees
 * the umask-derived mode (recipe P7).
 */
static int bind_and_listen(struct listener *l, mode_t mode, gid_t gid, char *errbuf, size_t errlen)
{
        struct sockaddr_un sa;
        struct stat st;

        if (sockaddr_for(l->path, &sa) < 0)
                return errbuf_fail(errbuf, errlen, -ENAMETOOLONG, "socket path %s is longer than %zu bytes",
                            l->path, sizeof(sa.sun_path) - 1);
        l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (l->fd < 0)
                return errbuf_fail(errbuf, errlen, -errno, "socket: %s", strerror(errno));
        if (bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return errbuf_fail(errbuf, errlen, -errno, "cannot bind %s: %s", l->path, strerror(errno));
        l->owns_path = true;
        if (stat(l->path, &st) == 0) {
                l->dev = st.st_dev;
                l->ino = st.st_ino;
        }
        if (chmod(l->path, mode) < 0)
                return errbuf_fail(errbuf, errlen, -errno, "cannot chmod %s to %04o: %s", l->path, (unsigned)mode,
                            strerror(errno));
        if (gid != (gid_t)-1 && chown(l->path, (uid_t)-1, gid) < 0)
                return errbuf_fail(errbuf, errlen, -errno, "cannot chown %s to group %u: %s", l->path,
                            (unsigned)gid, strerror(errno));
        if (listen(l->fd, SOMAXCONN) < 0)
                return errbuf_fail(errbuf, errlen, -errno, "cannot listen on %s: %s", l->path, strerror(errno));
        return 0;
}

int listener_open_unix(const char *path, mode_t mode, gid_t gid, struct listener **ret, char *errbuf,
                       size_t errlen)
{
        struct listener *l;
        int r;

        if (!path || path[0] != '/')
                return errbuf_fail(errbuf, errlen, -EINVAL, "socket path must be absolute: %s",
                            path ? path : "(null)");
        l = listener_alloc();
        if (!l || !(l->path = strdup(path)) || asprintf(&l->lock_path, "%s.lock", path) < 0) {
                if (l)
                        l->lock_path = NULL;
                listener_free(l);
                return errbuf_fail(errbuf, errlen, -ENOMEM, "out of memory");
        }
        r = mkdir_parents(path);
        if (r < 0)
                r = errbuf_fail(errbuf, errlen, r, "cannot create the directory of %s: %s", path, strerror(-r));
        if (r >= 0)
                r = take_lock(l->lock_path, &l->lock_fd, errbuf, errlen);
        if (r >= 0)
                r = clear_old_socket(path, errbuf, errlen);
        if (r >= 0)
                r = bind_and_listen(l, mode, gid, errbuf, errlen);
        if (r < 0) {
                listener_free(l);
                return r;
        }
        *ret = l;
        return 0;
}

static int check_adoptable(int fd, char *errbuf, size_t errlen)
{
        int v = 0;
        socklen_t len = sizeof(v);

        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0)
                return errbuf_fail(errbuf, errlen, -errno, "fd %d is not a socket: %s", fd, strerror(errno));
        if (v != AF_UNIX)
                return errbuf_fail(errbuf, errlen, -EAFNOSUPPORT,
                            "fd %d is not a unix socket (only unix sockets may be passed in: TCP needs TLS)",
                            fd);
        len = sizeof(v);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 || v != SOCK_STREAM)
                return errbuf_fail(errbuf, errlen, -EPROTOTYPE, "fd %d is not a stream socket", fd);
        len = sizeof(v);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0 || !v)
                return errbuf_fail(errbuf, errlen, -EINVAL, "fd %d is not listening", fd);
        return 0;
}

int listener_adopt_fd(int fd, struct listener **ret, char *errbuf, size_t errlen)
{
        struct sockaddr_un sa = {0};
        socklen_t len = sizeof(sa);
        struct listener *l;
        int flags, r;

        r = check_adoptable(fd, errbuf, errlen);
        if (r < 0)
                return r;
        /* The accept loop drains until EAGAIN, and the fd must not leak into children. */
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return errbuf_fail(errbuf, errlen, -errno, "cannot make fd %d non-blocking: %s", fd,
                            strerror(errno));
        l = listener_alloc();
        if (!l)
                return errbuf_fail(errbuf, errlen, -ENOMEM, "out of memory");
        if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
            len <= offsetof(struct sockaddr_un, sun_path))
                sa.sun_path[0] = '\0';
        sa.sun_path[sizeof(sa.sun_path) - 1] = '\0';
        l->path = strdup(sa.sun_path);
        if (!l->path) {
                free(l);
                return errbuf_fail(errbuf, errlen, -ENOMEM, "out of memory");
        }
        l->fd = fd;
        *ret = l;
        return 0;
}

/* Too many open files: back off instead of spinning on a listen fd that stays readable. */
static bool backoff(struct listener *l)
{
        struct pollfd p = {.fd = l->stop_fd, .events = POLLIN};

        return poll(&p, 1, 100) == 0;
}

/* Accepts until EAGAIN. Returns false when the loop must stop. */
static bool accept_all(struct listener *l)
{
        for (;;) {
                struct ucred cred;
                socklen_t len = sizeof(cred);
                int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

                if (fd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        if (errno == EAGAIN)
                                return true;
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                                return backoff(l);
                        return false;
                }
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                        l->fn(l->userdata, l, fd, NULL);
                else
                        l->fn(l->userdata, l, fd, &cred);
        }
}

static void *accept_loop(void *arg)
{
        struct listener *l = arg;
        struct pollfd p[2] = {{.fd = l->fd, .events = POLLIN}, {.fd = l->stop_fd, .events = POLLIN}};

        for (;;) {
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[1].revents)
                        break;
                if (p[0].revents & POLLNVAL)
                        break;
                if ((p[0].revents & (POLLIN | POLLERR | POLLHUP)) && !accept_all(l))
                        break;
        }
        return NULL;
}

int listener_start(struct listener *l, listener_accept_fn fn, void *userdata)
{
        sigset_t all, old;
        int r;

        if (l->running)
                return -EALREADY;
        if (l->stop_fd < 0) {
                l->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (l->stop_fd < 0)
                        return -errno;
        }
        l->fn = fn;
        l->userdata = userdata;
        /* The daemon handles signals with sigwait(); our threads must never take them. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        r = pthread_create(&l->thread, NULL, accept_loop, l);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0)
                return -r;
        l->running = true;
        return 0;
}

/* Removes our socket, but only if the path still is the inode we bound. */
static void remove_path(struct listener *l)
{
        struct stat st;

        if (l->owns_path && lstat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
                unlink(l->path);
        l->owns_path = false;
}

void listener_stop(struct listener *l)
{
        uint64_t one = 1;

        if (!l)
                return;
        if (l->running) {
                if (write(l->stop_fd, &one, sizeof(one)) < 0) {
                        /* An eventfd write only fails on overflow, which means it is already signalled. */
                }
                pthread_join(l->thread, NULL);
                l->running = false;
        }
        remove_path(l);
        if (l->fd >= 0)
                close(l->fd);
        l->fd = -1;
        /* Unlink the lock before releasing it; take_lock() copes with the window. */
        if (l->lock_fd >= 0) {
                unlink(l->lock_path);
                close(l->lock_fd);
                l->lock_fd = -1;
        }
}

void listener_free(struct listener *l)
{
        if (!l)
                return;
        listener_stop(l);
        if (l->stop_fd >= 0)
                close(l->stop_fd);
        free(l->path);
        free(l->lock_path);
        free(l);
}

const char *listener_path(const struct listener *l)
{
        return l->path ? l->path : "";
}
