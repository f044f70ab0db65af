/* monitor.c - one epoll thread over pidfds; see monitor.h. */
#include "monitor.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "procfs.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* the same number on every architecture (unified syscall table) */
#endif

#define NBUCKETS         4096
#define EVENTS_PER_WAIT  64
#define POLL_INTERVAL_MS 1000

struct watch {
        struct watch *next; /* hash chain, then zombie or fired list */
        char *key;
        int pid;
        uint64_t start_time;
        int pidfd;    /* -1: polled through /proc */
        bool removed; /* unlinked; an event already fetched for it is ignored */
};

struct rs_monitor {
        rs_monitor_fn fn;
        void *userdata;
        int epfd, evfd;
        pthread_t thread;
        bool thread_started;

        pthread_mutex_t mu; /* everything below */
        bool stop;
        bool polling; /* no pidfd_open: new watches are polled */
        size_t count, max;
        struct watch *buckets[NBUCKETS];
        /*
         * Unlinked watches whose memory the thread may still hold in an epoll_wait() batch
         * (epoll_event.data.ptr). Only the thread frees them, between two waits.
         */
        struct watch *zombies;
};

static size_t bucket_of(const char *key)
{
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */

        for (const unsigned char *p = (const unsigned char *)key; *p; p++)
                h = (h ^ *p) * 1099511628211ULL;
        return h % NBUCKETS;
}

static void watch_free(struct watch *w)
{
        if (!w)
                return;
        if (w->pidfd >= 0)
                close(w->pidfd);
        free(w->key);
        free(w);
}

static void free_list(struct watch *w)
{
        while (w) {
                struct watch *next = w->next;
                watch_free(w);
                w = next;
        }
}

static struct watch **find_locked(struct rs_monitor *m, const char *key)
{
        struct watch **pp = &m->buckets[bucket_of(key)];

        while (*pp && strcmp((*pp)->key, key) != 0)
                pp = &(*pp)->next;
        return pp;
}

/* Unlinks *pp, stops its epoll interest and queues it for freeing by the thread. */
static struct watch *unlink_locked(struct rs_monitor *m, struct watch **pp)
{
        struct watch *w = *pp;

        *pp = w->next;
        if (w->pidfd >= 0) {
                epoll_ctl(m->epfd, EPOLL_CTL_DEL, w->pidfd, NULL);
                close(w->pidfd);
                w->pidfd = -1;
        }
        w->removed = true;
        m->count--;
        return w;
}

static void wake(struct rs_monitor *m)
{
        uint64_t one = 1;

        /* EAGAIN means the counter is already non-zero: the thread is woken anyway. */
        (void)!write(m->evfd, &one, sizeof(one));
}

static void drain_wakeups(struct rs_monitor *m)
{
        uint64_t v;

        (void)!read(m->evfd, &v, sizeof(v));
}

/* A pidfd turned readable: its process has exited (or is a zombie). */
static void on_exit_event(struct rs_monitor *m, struct watch *w)
{
        pthread_mutex_lock(&m->mu);
        if (w->removed) { /* unwatched after this batch was fetched */
                pthread_mutex_unlock(&m->mu);
                return;
        }
        w = unlink_locked(m, find_locked(m, w->key));
        w->next = m->zombies;
        m->zombies = w;
        pthread_mutex_unlock(&m->mu);
        /* Unlocked, so the callback may watch and unwatch; w->key lives until the next wait. */
        m->fn(m->userdata, w->key);
}

/* Fallback without pidfd_open: one /proc read per polled watch, under the lock. */
static struct watch *collect_dead_locked(struct rs_monitor *m)
{
        struct watch *dead = NULL;

        for (size_t b = 0; b < NBUCKETS; b++) {
                struct watch **pp = &m->buckets[b];
                while (*pp) {
                        struct watch *w = *pp;
                        if (w->pidfd >= 0 || rs_proc_alive(w->pid, w->start_time)) {
                                pp = &w->next;
                                continue;
                        }
                        unlink_locked(m, pp);
                        w->next = dead;
                        dead = w;
                }
        }
        return dead;
}

static void poll_proc(struct rs_monitor *m)
{
        struct watch *dead;

        pthread_mutex_lock(&m->mu);
        dead = collect_dead_locked(m);
        pthread_mutex_unlock(&m->mu);
        for (struct watch *w = dead; w; w = w->next)
                m->fn(m->userdata, w->key);
        free_list(dead);
}

/* Frees the zombies; returns the epoll timeout for the next wait, or -2 to stop. */
static int between_waits(struct rs_monitor *m, bool *ret_polling)
{
        struct watch *zombies;
        int timeout;

        pthread_mutex_lock(&m->mu);
        zombies = TAKE_PTR(m->zombies);
        *ret_polling = m->polling && m->count > 0;
        timeout = m->stop ? -2 : *ret_polling ? POLL_INTERVAL_MS : -1;
        pthread_mutex_unlock(&m->mu);
        free_list(zombies);
        return timeout;
}

static void *monitor_thread(void *arg)
{
        struct rs_monitor *m = arg;
        struct epoll_event evs[EVENTS_PER_WAIT];
        bool polling;
        int timeout, n;

        while ((timeout = between_waits(m, &polling)) != -2) {
                n = epoll_wait(m->epfd, evs, EVENTS_PER_WAIT, timeout);
                if (n < 0 && errno != EINTR)
                        break; /* EBADF/EINVAL: nothing left to wait on */
                for (int i = 0; i < n; i++) {
                        if (evs[i].data.ptr)
                                on_exit_event(m, evs[i].data.ptr);
                        else
                                drain_wakeups(m);
                }
                if (polling)
                        poll_proc(m);
        }
        return NULL;
}

/* Half the fd budget at most: the daemon needs the rest for clients and restore workers. */
static size_t compute_max(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
            rl.rlim_cur / 2 >= RS_MONITOR_MAX_WATCHES)
                return RS_MONITOR_MAX_WATCHES;
        return rl.rlim_cur / 2;
}

static int monitor_open_fds(struct rs_monitor *m)
{
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

        m->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (m->epfd < 0)
                return -errno;
        m->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (m->evfd < 0)
                return -errno;
        if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->evfd, &ev) < 0)
                return -errno;
        return 0;
}

int rs_monitor_new(rs_monitor_fn fn, void *userdata, struct rs_monitor **ret)
{
        struct rs_monitor *m;
        int rc;

        if (!fn || !ret)
                return -EINVAL;
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->fn = fn;
        m->userdata = userdata;
        m->epfd = m->evfd = -1;
        m->max = compute_max();
        pthread_mutex_init(&m->mu, NULL);
        rc = monitor_open_fds(m);
        if (rc == 0)
                rc = -pthread_create(&m->thread, NULL, monitor_thread, m);
        if (rc < 0) {
                rs_monitor_free(m);
                return rc;
        }
        m->thread_started = true;
        *ret = m;
        return 0;
}

void rs_monitor_free(struct rs_monitor *m)
{
        if (!m)
                return;
        if (m->thread_started) {
                pthread_mutex_lock(&m->mu);
                m->stop = true;
                pthread_mutex_unlock(&m->mu);
                wake(m);
                pthread_join(m->thread, NULL);
        }
        for (size_t b = 0; b < NBUCKETS; b++)
                free_list(m->buckets[b]);
        free_list(m->zombies);
        if (m->evfd >= 0)
                close(m->evfd);
        if (m->epfd >= 0)
                close(m->epfd);
        pthread_mutex_destroy(&m->mu);
        free(m);
}

/*
 * Opens the pidfd, THEN checks the start time: a pidfd pins the process it was opened for, so
 * if /proc still shows our start time after the open, the pidfd is our process. Checked the
 * other way round, the pid could be reused between the check and the open.
 * Returns the pidfd, -1 when pidfd_open is unsupported (the caller polls), or a negative errno.
 */
static int open_verified(int pid, uint64_t start_time, bool polling)
{
        _cleanup_close_ int fd = -1;

        if (!polling) {
                fd = (int)syscall(SYS_pidfd_open, pid, 0); /* O_CLOEXEC is implied */
                if (fd < 0 && errno != ENOSYS)
                        return errno == EINVAL ? -ESRCH : -errno;
        }
        if (!rs_proc_alive(pid, start_time))
                return -ESRCH;
        return fd >= 0 ? TAKE_FD(fd) : -1;
}

static int add_locked(struct rs_monitor *m, struct watch *w)
{
        struct watch **pp = find_locked(m, w->key);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};

        if (*pp)
                return -EEXIST;
        if (m->count >= m->max)
                return -ENOSPC;
        if (w->pidfd >= 0 && epoll_ctl(m->epfd, EPOLL_CTL_ADD, w->pidfd, &ev) < 0)
                return -errno;
        *pp = w;
        m->count++;
        if (w->pidfd < 0)
                m->polling = true;
        return 0;
}

static int watch_new(const char *key, int pid, uint64_t start_time, struct watch **ret)
{
        struct watch *w = calloc(1, sizeof(*w));

        if (!w || !(w->key = strdup(key))) {
                free(w);
                return -ENOMEM;
        }
        w->pid = pid;
        w->start_time = start_time;
        w->pidfd = -1;
        *ret = w;
        return 0;
}

int rs_monitor_watch(struct rs_monitor *m, const char *key, int pid, uint64_t start_time)
{
        struct watch *w = NULL;
        bool polling;
        int fd, rc;

        if (!m || !key || !key[0] || strlen(key) >= RS_MONITOR_KEY_MAX || pid <= 0)
                return -EINVAL;
        pthread_mutex_lock(&m->mu);
        polling = m->polling;
        pthread_mutex_unlock(&m->mu);
        fd = open_verified(pid, start_time, polling);
        if (fd < -1)
                return fd;
        rc = watch_new(key, pid, start_time, &w);
        if (rc < 0) {
                if (fd >= 0)
                        close(fd);
                return rc;
        }
        w->pidfd = fd;
        pthread_mutex_lock(&m->mu);
        rc = add_locked(m, w);
        pthread_mutex_unlock(&m->mu);
        if (rc < 0)
                watch_free(w);
        else if (fd < 0)
                wake(m); /* the thread may be waiting without a timeout */
        return rc;
}

int rs_monitor_unwatch(struct rs_monitor *m, const char *key)
{
        struct watch **pp;
        struct watch *w;

        if (!m || !key)
                return -EINVAL;
        pthread_mutex_lock(&m->mu);
        pp = find_locked(m, key);
        if (!*pp) {
                pthread_mutex_unlock(&m->mu);
                return -ENOENT;
        }
        w = unlink_locked(m, pp);
        w->next = m->zombies;
        m->zombies = w;
        pthread_mutex_unlock(&m->mu);
        wake(m); /* so the zombie is freed promptly */
        return 0;
}

size_t rs_monitor_count(struct rs_monitor *m)
{
        size_t n;

        pthread_mutex_lock(&m->mu);
        n = m->count;
        pthread_mutex_unlock(&m->mu);
        return n;
}

size_t rs_monitor_max(struct rs_monitor *m)
{
        return m->max;
}

void rs_monitor_force_polling(struct rs_monitor *m)
{
        pthread_mutex_lock(&m->mu);
        m->polling = true;
        pthread_mutex_unlock(&m->mu);
}
