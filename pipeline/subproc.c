/* subproc.c - posix_spawn with captured output and a deadline (see subproc.h). */
#include "subproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

extern char **environ;

/* After the child exits, a grandchild may still hold the pipes: wait this long, no more. */
#define DRAIN_GRACE_MS 200
/* Without pidfd_open (Linux < 5.3), exit is noticed by polling this often. */
#define POLL_FALLBACK_MS 10
#define CHUNK 4096

struct run {
        pid_t pid;
        int out_fd, err_fd, pid_fd;
        char *out;
        size_t out_len, out_cap, max_out;
        char err[RS_SPAWN_ERR_MAX];
        size_t err_len;
        bool exited, overflow, lost;
};

static int64_t mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

/* Keeps pipe ends off fds 0..2, so that the child's dup2() onto 0..2 cannot clobber them. */
static int lift(int *fd)
{
        int nfd;

        if (*fd > 2)
                return 0;
        nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
        if (nfd < 0)
                return -errno;
        close(*fd);
        *fd = nfd;
        return 0;
}

static int make_pipe(int p[2])
{
        int r;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        if ((r = lift(&p[0])) < 0 || (r = lift(&p[1])) < 0) {
                close_fd(&p[0]);
                close_fd(&p[1]);
                return r;
        }
        return 0;
}

static int setup_actions(posix_spawn_file_actions_t *fa, int out_w, int err_w, const char *cwd)
{
        int r = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);

        if (!r)
                r = posix_spawn_file_actions_adddup2(fa, out_w, 1);
        if (!r)
                r = posix_spawn_file_actions_adddup2(fa, err_w, 2);
        if (!r && cwd)
                r = posix_spawn_file_actions_addchdir_np(fa, cwd);
        /* whatever a non-CLOEXEC fd elsewhere in the daemon is, the runtime does not get it */
        if (!r)
                r = posix_spawn_file_actions_addclosefrom_np(fa, 3);
        return -r;
}

static int setup_attr(posix_spawnattr_t *attr)
{
        sigset_t none, all;

        sigemptyset(&none);
        sigfillset(&all);
        int r;

        /* a daemon blocks signals for signalfd; the runtime must not inherit that */
        r = posix_spawnattr_setsigmask(attr, &none);
        if (!r)
                r = posix_spawnattr_setsigdefault(attr, &all);
        /* a group of its own: a timeout kills whatever the runtime started too */
        if (!r)
                r = posix_spawnattr_setpgroup(attr, 0);
        if (!r)
                r = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                           POSIX_SPAWN_SETPGROUP);
        return -r;
}

static int start(struct run *run, const char *path, char *const argv[], const char *cwd)
{
        int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, r;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;

        if ((r = make_pipe(out)) < 0)
                return r;
        if ((r = make_pipe(errp)) < 0) {
                close_fd(&out[0]);
                close_fd(&out[1]);
                return r;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        r = setup_actions(&fa, out[1], errp[1], cwd);
        if (!r)
                r = setup_attr(&attr);
        if (!r)
                r = -posix_spawn(&run->pid, path, &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        close_fd(&out[1]);
        close_fd(&errp[1]);
        run->out_fd = out[0];
        run->err_fd = errp[0];
        return r;
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
        /* the child is ours and not reaped yet, so the pid cannot have been reused */
        return (int)syscall(SYS_pidfd_open, pid, 0);
#else
        (void)pid;
        return -1;
#endif
}

/*
 * Exited yet? WNOWAIT leaves it a zombie, so its pid (and process group id) stays reserved.
 * ECHILD means someone else reaped it (SIGCHLD ignored, or a waitpid(-1) elsewhere): from then
 * on its pid may belong to anyone, so it is never signalled.
 */
static bool child_exited(struct run *run)
{
        siginfo_t si = { 0 };

        if (waitid(P_PID, (id_t)run->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
                run->lost = errno == ECHILD;
                return run->lost;
        }
        return si.si_pid == run->pid;
}

static void read_out(struct run *run)
{
        char buf[CHUNK];
        ssize_t n = read(run->out_fd, buf, sizeof(buf));

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                close_fd(&run->out_fd);
                return;
        }
        if (run->out_len + (size_t)n > run->max_out) {
                run->overflow = true;
                return;
        }
        if (run->out_len + (size_t)n + 1 > run->out_cap) {
                size_t cap = run->out_cap ? run->out_cap : CHUNK;
                while (cap < run->out_len + (size_t)n + 1)
                        cap *= 2;
                char *bigger = realloc(run->out, cap);
                if (!bigger) {
                        run->overflow = true;
                        return;
                }
                run->out = bigger;
                run->out_cap = cap;
        }
        memcpy(run->out + run->out_len, buf, (size_t)n);
        run->out_len += (size_t)n;
}

static void read_err(struct run *run)
{
        char buf[CHUNK];
        ssize_t n = read(run->err_fd, buf, sizeof(buf));
        size_t room = sizeof(run->err) - 1 - run->err_len, take;

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                close_fd(&run->err_fd);
                return;
        }
        /* only the start is kept; the rest is read and dropped so the child never blocks */
        take = (size_t)n < room ? (size_t)n : room;
        memcpy(run->err + run->err_len, buf, take);
        run->err_len += take;
}

/* One poll over the open pipes (and the pidfd until exit), bounded by wait_ms. */
static void step(struct run *run, int wait_ms)
{
        struct pollfd pf[3];
        nfds_t n = 0;
        int pid_slot = -1;

        if (run->out_fd >= 0)
                pf[n++] = (struct pollfd){ .fd = run->out_fd, .events = POLLIN };
        if (run->err_fd >= 0)
                pf[n++] = (struct pollfd){ .fd = run->err_fd, .events = POLLIN };
        if (!run->exited && run->pid_fd >= 0) {
                pid_slot = (int)n;
                pf[n++] = (struct pollfd){ .fd = run->pid_fd, .events = POLLIN };
        }
        if (!run->exited && run->pid_fd < 0 && wait_ms > POLL_FALLBACK_MS)
                wait_ms = POLL_FALLBACK_MS;
        if (poll(pf, n, wait_ms) < 0)
                return;   /* EINTR: the caller recomputes the remaining time */
        for (nfds_t i = 0; i < n; i++) {
                if (!pf[i].revents || (int)i == pid_slot)
                        continue;
                if (pf[i].fd == run->out_fd)
                        read_out(run);
                else
                        read_err(run);
        }
        if (!run->exited && (run->pid_fd < 0 || (pid_slot >= 0 && pf[pid_slot].revents)))
                run->exited = child_exited(run);
}

/* Runs until exit and EOF on both pipes, the deadline, or too much output. */
static void pump(struct run *run, int64_t deadline)
{
        int64_t grace_end = -1;

        while (!run->overflow) {
                int64_t now = mono_ms(), end = deadline;

                if (run->exited && run->out_fd < 0 && run->err_fd < 0)
                        return;
                if (run->exited && grace_end < 0)
                        grace_end = now + DRAIN_GRACE_MS;
                if (grace_end >= 0 && grace_end < end)
                        end = grace_end;
                if (now >= end)
                        return;
                step(run, (int)(end - now));
        }
}

/* Kills the child's group while the zombie leader still reserves the group id, then reaps. */
static int finish(struct run *run, bool kill_group)
{
        int status = 0;

        if (run->lost)
                return 0;
        if (kill_group)
                kill(-run->pid, SIGKILL);
        while (waitpid(run->pid, &status, 0) < 0 && errno == EINTR)
                ;
        return status;
}

static void run_done(struct run *run)
{
        close_fd(&run->out_fd);
        close_fd(&run->err_fd);
        close_fd(&run->pid_fd);
        free(run->out);
}

int rs_spawn_capture(const char *path, char *const argv[], const char *cwd, int timeout_ms,
                     size_t max_out, struct rs_spawn_result *ret)
{
        struct run run = { .out_fd = -1, .err_fd = -1, .pid_fd = -1, .max_out = max_out };
        int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
        int r, status;

        r = start(&run, path, argv, cwd);
        if (r < 0) {
                run_done(&run);
                return r;
        }
        run.pid_fd = open_pidfd(run.pid);
        pump(&run, deadline);
        /* still running, or a straggler holding our pipes: the group goes */
        status = finish(&run, !run.exited || run.out_fd >= 0 || run.err_fd >= 0 || run.overflow);
        r = run.lost ? -ECHILD : run.overflow ? -E2BIG : !run.exited ? -ETIME : 0;
        if (r == 0 && !run.out && !(run.out = malloc(1)))
                r = -ENOMEM;
        if (r < 0) {
                run_done(&run);
                return r;
        }
        run.out[run.out_len] = '\0';
        run.err[run.err_len] = '\0';
        *ret = (struct rs_spawn_result){ .status = status, .out = run.out, .out_len = run.out_len };
        memcpy(ret->err, run.err, sizeof(ret->err));
        run.out = NULL;
        run_done(&run);
        return 0;
}

void rs_spawn_result_done(struct rs_spawn_result *r)
{
        if (!r)
                return;
        free(r->out);
        r->out = NULL;
        r->out_len = 0;
}
