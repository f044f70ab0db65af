/*
 * test-shim - a tiny stand-in for isulad-shim, for integration tests of restored.
 *
 *   test-shim --state <state>/<rt>/<id> --bundle <bundle> --runtime <runc path> --id <id>
 *             [--root <runtime root>]      default: <state>/<rt>/<id>/<rt>, as iSulad lays it out
 *
 * Leaves behind exactly what restored inspects in the workdir (the --state directory):
 *   shim-pid   this shim's pid (decimal), as iSulad's double-forked launcher writes it
 *   pid        the container's init pid, written by the runtime (--pid-file)
 *   exit_fifo  a FIFO (0600); on the container's exit the shim writes its exit code there as one
 *              native-endian int (128+signal when killed), as isulad-shim does
 *   <rt>/      the runtime's --root
 *   shim.log   the shim's and the container's stdout/stderr
 *
 * The shim daemonises (fork, setsid, fork), becomes a child subreaper so the container's init
 * (whose runc parent exits) is reparented to it, runs `runtime create` then `runtime start`,
 * and waits. The command returns (exit 0) once the container runs, or exits 1 with the reason
 * on stderr. Killing the shim (SIGKILL) leaves the container running without a shim, which is
 * the "shim died" case restore must handle.
 *
 * The exit FIFO: isulad-shim opens it O_WRONLY while the daemon holds the read end. Here no
 * reader may exist when the shim starts, and a blocking open would hang, so the shim opens it
 * O_RDWR|O_NONBLOCK and keeps it: its 4-byte write always succeeds and stays readable for
 * whoever has the FIFO open when the container exits.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

struct opts {
        const char *state, *bundle, *runtime, *id;
        char root[PATH_MAX];
};

static int ready_fd = -1;

/* Reports a failure to the waiting launcher (if still connected) and exits. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
        char msg[1024];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (n < 0)
                n = 0;
        if ((size_t)n >= sizeof(msg))
                n = sizeof(msg) - 1;
        fprintf(stderr, "test-shim: %s\n", msg);
        if (ready_fd >= 0 && write(ready_fd, msg, (size_t)n) < 0)
                _exit(1);
        _exit(1);
}

static void usage(void)
{
        fprintf(stderr, "usage: test-shim --state DIR --bundle DIR --runtime PATH --id ID "
                        "[--root DIR]\n");
        exit(2);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
        static const struct option longopts[] = {
                { "state", required_argument, NULL, 's' }, { "bundle", required_argument, NULL, 'b' },
                { "runtime", required_argument, NULL, 'r' }, { "id", required_argument, NULL, 'i' },
                { "root", required_argument, NULL, 'R' }, { NULL, 0, NULL, 0 },
        };
        int c;

        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (c) {
                case 's': o->state = optarg; break;
                case 'b': o->bundle = optarg; break;
                case 'r': o->runtime = optarg; break;
                case 'i': o->id = optarg; break;
                case 'R': snprintf(o->root, sizeof(o->root), "%s", optarg); break;
                default: usage();
                }
        }
        if (!o->state || !o->bundle || !o->runtime || !o->id || optind != argc)
                usage();
}

static int fmt(char *dst, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));

/* mkdir -p: <state>/<rt> need not exist yet (iSulad creates it on first use). */
static int mkdir_p(const char *path)
{
        char buf[PATH_MAX];

        if (fmt(buf, sizeof(buf), "%s", path) < 0)
                return -1;
        for (char *s = buf + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(buf, 0711) < 0 && errno != EEXIST)
                        return -1;
                *s = '/';
        }
        return mkdir(buf, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* snprintf that reports truncation instead of silently cutting a path. */
static int fmt(char *dst, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));

static int fmt(char *dst, size_t size, const char *f, ...)
{
        va_list ap;
        int n;

        va_start(ap, f);
        n = vsnprintf(dst, size, f, ap);
        va_end(ap);
        return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Absolute paths for everything: the shim works from the state dir. */
static int absolutize(struct opts *o)
{
        static char state[PATH_MAX], bundle[PATH_MAX];
        char tmp[PATH_MAX], cwd[PATH_MAX];

        if (!realpath(o->state, state) || !realpath(o->bundle, bundle) || !getcwd(cwd, sizeof(cwd)))
                return -1;
        o->state = state;
        o->bundle = bundle;
        if (!o->root[0]) {
                /* <state>/<rt>/<id>  ->  <state>/<rt>/<id>/<rt> */
                memcpy(tmp, state, sizeof(tmp));
                return fmt(o->root, sizeof(o->root), "%s/%s", state, basename(dirname(tmp)));
        }
        if (o->root[0] != '/') {
                memcpy(tmp, o->root, sizeof(tmp));
                return fmt(o->root, sizeof(o->root), "%s/%s", cwd, tmp);
        }
        return 0;
}

/* Runs argv to completion (the shim is a subreaper: reap only this pid). */
static int run(char *const argv[])
{
        int status;
        pid_t pid = fork();

        if (pid < 0)
                die("fork: %m");
        if (pid == 0) {
                execvp(argv[0], argv);
                fprintf(stderr, "test-shim: exec %s: %m\n", argv[0]);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        die("waitpid: %m");
        return status;
}

static void write_file(const char *name, const char *text)
{
        char tmp[PATH_MAX];
        int fd;

        snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0)
                die("write %s: %m", name);
        if (rename(tmp, name) < 0)
                die("rename %s: %m", name);
}

static int read_pid_file(const char *name)
{
        char buf[32] = { 0 };
        int fd = open(name, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                die("open %s: %m", name);
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0 || atoi(buf) <= 0)
                die("%s: no pid", name);
        return atoi(buf);
}

/* stdin from /dev/null; stdout and stderr (the container's too) to shim.log */
static void redirect_stdio(void)
{
        int in = open("/dev/null", O_RDONLY), log = open("shim.log", O_WRONLY | O_CREAT | O_APPEND, 0644);

        if (in < 0 || log < 0 || dup2(in, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
                die("stdio: %m");
        close(in);
        close(log);
}

static int open_exit_fifo(void)
{
        int fd;

        if (mkfifo("exit_fifo", 0600) < 0 && errno != EEXIST)
                die("mkfifo exit_fifo: %m");
        fd = open("exit_fifo", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                die("open exit_fifo: %m");
        return fd;
}

static void start_container(const struct opts *o)
{
        char *create[] = { (char *)o->runtime, "--root", (char *)o->root, "create", "--bundle",
                           (char *)o->bundle, "--pid-file", "pid", (char *)o->id, NULL };
        char *start[] = { (char *)o->runtime, "--root", (char *)o->root, "start", (char *)o->id, NULL };
        char *del[] = { (char *)o->runtime, "--root", (char *)o->root, "delete", "--force",
                        (char *)o->id, NULL };
        int st;

        st = run(create);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                die("%s create %s failed (status %d); see %s/shim.log", o->runtime, o->id, st, o->state);
        st = run(start);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                run(del);
                die("%s start %s failed (status %d); see %s/shim.log", o->runtime, o->id, st, o->state);
        }
}

/* Waits for the container's init; returns isulad-shim's exit code for it. */
static int wait_container(int cpid)
{
        int status;
        pid_t pid;

        for (;;) {
                pid = waitpid(-1, &status, 0);
                if (pid < 0 && errno == EINTR)
                        continue;
                if (pid < 0)
                        return 255;   /* not our descendant after all: nothing to wait for */
                if (pid != cpid)
                        continue;     /* another reparented orphan */
                if (WIFSIGNALED(status))
                        return 128 + WTERMSIG(status);
                return WEXITSTATUS(status);
        }
}

static void shim_main(const struct opts *o)
{
        char text[32];
        int fifo, cpid, code;

        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                die("PR_SET_CHILD_SUBREAPER: %m");
        if (chdir(o->state) < 0)
                die("chdir %s: %m", o->state);
        redirect_stdio();
        snprintf(text, sizeof(text), "%d", (int)getpid());
        write_file("shim-pid", text);
        fifo = open_exit_fifo();
        start_container(o);
        cpid = read_pid_file("pid");
        snprintf(text, sizeof(text), "ok %d", cpid);
        if (write(ready_fd, text, strlen(text)) < 0)
                _exit(1);
        close(ready_fd);
        ready_fd = -1;
        code = wait_container(cpid);
        if (write(fifo, &code, sizeof(code)) != (ssize_t)sizeof(code))
                fprintf(stderr, "test-shim: write exit_fifo: %m\n");
        _exit(0);
}

/* The launcher: waits for the shim to say "ok <pid>" (or why not) on the ready pipe. */
static int launcher(int rfd, pid_t first)
{
        char msg[1024] = { 0 };
        size_t len = 0;
        ssize_t n;

        while (len < sizeof(msg) - 1 && (n = read(rfd, msg + len, sizeof(msg) - 1 - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                len += (size_t)n;
        }
        waitpid(first, NULL, 0);
        if (strncmp(msg, "ok ", 3) == 0) {
                printf("%s\n", msg + 3);
                return 0;
        }
        fprintf(stderr, "test-shim: %s\n", len ? msg : "the shim died before the container started");
        return 1;
}

int main(int argc, char **argv)
{
        struct opts o = { 0 };
        int p[2];
        pid_t first;

        parse_args(argc, argv, &o);
        if (mkdir_p(o.state) < 0) {
                fprintf(stderr, "test-shim: mkdir %s: %m\n", o.state);
                return 1;
        }
        if (absolutize(&o) < 0) {
                fprintf(stderr, "test-shim: %s or %s: %m\n", o.state, o.bundle);
                return 1;
        }
        if (pipe2(p, O_CLOEXEC) < 0)
                return 1;
        signal(SIGPIPE, SIG_IGN);
        first = fork();
        if (first < 0)
                return 1;
        if (first > 0) {
                close(p[1]);
                return launcher(p[0], first);
        }
        close(p[0]);
        ready_fd = p[1];
        if (setsid() < 0)
                die("setsid: %m");
        if (fork() != 0)
                _exit(0);   /* the shim is the grandchild: no controlling terminal, init's child */
        shim_main(&o);
        return 0;
}
