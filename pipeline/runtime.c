/* runtime.c - runtime status queries (see runtime.h). */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "jsonfile.h"
#include "procfs.h"
#include "subproc.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SMALL_FILE_MAX 4096

rs_runtime_kind rs_runtime_classify(const char *engine_dir)
{
        const char *p;
        int dots = 0;

        if (strcmp(engine_dir, "lcr") == 0)
                return RS_RT_LCR;
        /* is_valid_v2_runtime(): four dot-separated parts, "io" and "containerd" first */
        if (strncmp(engine_dir, "io.containerd.", 14) != 0)
                return RS_RT_RUNC;
        for (p = engine_dir; *p; p++)
                dots += *p == '.';
        return dots == 3 ? RS_RT_SHIMV2 : RS_RT_RUNC;
}

/* ---- small files -------------------------------------------------------------------------- */

/* Reads a small regular file without following a symlink or blocking on a FIFO. */
static int read_small(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        ssize_t n;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADF;
        do
                n = read(fd, buf, size - 1);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return 0;
}

/* "1234\n" -> 1234; anything else -> -EINVAL (iSulad: util_safe_int on the trimmed text). */
static int parse_pid(const char *s, int *ret)
{
        char *end;
        long v;

        while (*s == ' ' || *s == '\t')
                s++;
        errno = 0;
        v = strtol(s, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\n')
                end++;
        if (errno || end == s || *end || v <= 0 || v > INT32_MAX)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

static void set_detail(struct rs_runtime_status *st, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void set_failed(struct rs_runtime_status *st, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void set_detail(struct rs_runtime_status *st, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(st->detail, sizeof(st->detail), fmt, ap);
        va_end(ap);
}

static void set_failed(struct rs_runtime_status *st, const char *fmt, ...)
{
        va_list ap;

        st->status = RS_STATUS_STOPPED;
        st->pid = 0;
        st->failed = true;
        va_start(ap, fmt);
        vsnprintf(st->detail, sizeof(st->detail), fmt, ap);
        va_end(ap);
}

/* ---- freezer (reduced-fidelity PAUSED for lcr and shim v2) ------------------------------- */

static bool file_says(const char *path, const char *word)
{
        char buf[64];

        return read_small(path, buf, sizeof(buf)) == 0 && strncmp(buf, word, strlen(word)) == 0;
}

/* Is one /proc/<pid>/cgroup line's cgroup frozen? v2 "0::/p", v1 "N:freezer:/p". */
static bool line_frozen(const char *line)
{
        char path[4096 + 64];
        const char *rel;

        if (strncmp(line, "0::", 3) == 0) {
                rel = line + 3;
                snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cgroup.freeze", rel);
                if (file_says(path, "1"))
                        return true;
                snprintf(path, sizeof(path), "/sys/fs/cgroup/unified%s/cgroup.freeze", rel);
                return file_says(path, "1");
        }
        rel = strstr(line, ":freezer:");
        if (!rel)
                return false;
        snprintf(path, sizeof(path), "/sys/fs/cgroup/freezer%s/freezer.state", rel + 9);
        return file_says(path, "FROZEN") || file_says(path, "FREEZING");
}

static bool frozen(int pid)
{
        char path[64], buf[SMALL_FILE_MAX];
        char *save = NULL;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
        if (read_small(path, buf, sizeof(buf)) < 0)
                return false;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                if (line_frozen(line))
                        return true;
        return false;
}

static void set_alive(struct rs_runtime_status *st, int pid)
{
        st->status = frozen(pid) ? RS_STATUS_PAUSED : RS_STATUS_RUNNING;
        st->pid = pid;
}

/* ---- lcr and shim v2 (reduced fidelity) ------------------------------------------------- */

static int lcr_status(const struct rs_runtime_cfg *cfg, const char *id, struct rs_runtime_status *st)
{
        char path[4096], buf[SMALL_FILE_MAX];
        uint64_t start, pstart;
        int pid, ppid, r;

        snprintf(path, sizeof(path), "%s/lcr/%s/pid.file", cfg->state_root, id);
        r = read_small(path, buf, sizeof(buf));
        if (r < 0 || sscanf(buf, "%d %" SCNu64 " %d %" SCNu64, &pid, &start, &ppid, &pstart) != 4) {
                /* no (readable) pid.file: lcr never started it, or the state dir is gone */
                st->status = RS_STATUS_STOPPED;
                set_detail(st, "%s: %s", path,
                           r < 0 ? strerror(-r) : "not \"<pid> <start> <ppid> <pstart>\"");
                return 0;
        }
        set_detail(st, "pid %d from %s", pid, path);
        if (!rs_proc_alive(pid, start)) {
                st->status = RS_STATUS_STOPPED;
                return 0;
        }
        set_alive(st, pid);
        return 0;
}

static void shimv2_status(const struct rs_state *persisted, struct rs_runtime_status *st)
{
        int pid = persisted ? persisted->pid : 0;

        set_detail(st, "persisted pid %d checked in /proc", pid);
        if (!rs_runtime_detect_process(RS_RT_SHIMV2, pid, persisted ? persisted->start_time : 0)) {
                st->status = RS_STATUS_STOPPED;
                return;
        }
        set_alive(st, pid);
}

int rs_runtime_read_identity(rs_runtime_kind kind, int pid, struct rs_process *ret)
{
        if (kind != RS_RT_SHIMV2)
                return rs_proc_read_identity(pid, ret);
        if (pid <= 0)
                return -ESRCH;
        *ret = (struct rs_process){ .pid = pid };
        return 0;
}

bool rs_runtime_detect_process(rs_runtime_kind kind, int pid, uint64_t start_time)
{
        /* shim v2 identities carry no start time (see rs_runtime_read_identity) */
        if (kind == RS_RT_SHIMV2 && start_time == 0)
                return rs_proc_exists(pid);
        return rs_proc_alive(pid, start_time);
}

/* ---- runc-compatible runtimes ---------------------------------------------------------------- */

static bool is_executable_file(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int rs_runtime_find_binary(const struct rs_runtime_cfg *cfg, const char *runtime, char **ret_path)
{
        const char *path_env = getenv("PATH");
        _cleanup_free_ char *dirs = NULL;
        char *save = NULL;

        for (size_t i = 0; i < cfg->n_bins; i++)
                if (strcmp(cfg->bins[i].name, runtime) == 0)
                        return (*ret_path = strdup(cfg->bins[i].path)) ? 0 : -ENOMEM;
        dirs = strdup(path_env && *path_env ? path_env : DEFAULT_PATH);
        if (!dirs)
                return -ENOMEM;
        for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                char *cand = NULL;

                if (d[0] != '/')
                        continue;   /* never a relative PATH entry for a root daemon */
                if (asprintf(&cand, "%s/%s", d, runtime) < 0)
                        return -ENOMEM;
                if (is_executable_file(cand)) {
                        *ret_path = cand;
                        return 0;
                }
                free(cand);
        }
        return -ENOENT;
}

/* iSulad reads <workdir>/shim-pid and kill(pid, 0)s it; a zombie shim is not alive either. */
static bool shim_alive(const char *workdir, struct rs_runtime_status *st)
{
        char path[4096 + 16], buf[64];
        int pid, r;

        snprintf(path, sizeof(path), "%s/shim-pid", workdir);
        r = read_small(path, buf, sizeof(buf));
        if (r < 0) {
                set_failed(st, "%s: %s", path, strerror(-r));
                return false;
        }
        if (parse_pid(buf, &pid) < 0) {
                set_failed(st, "%s: not a pid", path);
                return false;
        }
        if (!rs_proc_exists(pid)) {
                set_failed(st, "isulad-shim (pid %d from %s) is not running", pid, path);
                return false;
        }
        return true;
}

static rs_status map_oci_status(const char *s)
{
        if (strcmp(s, "running") == 0)
                return RS_STATUS_RUNNING;
        if (strcmp(s, "paused") == 0)
                return RS_STATUS_PAUSED;
        if (strcmp(s, "stopped") == 0)
                return RS_STATUS_STOPPED;
        return RS_STATUS_UNKNOWN;   /* "created", "creating", anything new */
}

static void json_putp(struct json_object **o)
{
        json_object_put(*o);
}

/* The OCI state JSON on stdout: {"status": "...", "pid": N, ...}. */
static void parse_oci_state(const char *what, const char *out, size_t len,
                            struct rs_runtime_status *st)
{
        _cleanup_(json_putp) struct json_object *doc = NULL;
        struct json_object *status = NULL, *pid = NULL;
        struct rs_error perr = { 0 };

        if (rs_json_parse(what, out, len, 16, RS_REASON_INTERNAL, &doc, &perr) < 0) {
                set_failed(st, "%s", perr.msg);
                return;
        }
        if (!json_object_object_get_ex(doc, "status", &status) ||
            !json_object_is_type(status, json_type_string)) {
                set_failed(st, "%s: no \"status\" in the output", what);
                return;
        }
        st->status = map_oci_status(json_object_get_string(status));
        if (json_object_object_get_ex(doc, "pid", &pid) && json_object_is_type(pid, json_type_int))
                st->pid = json_object_get_int(pid);
        set_detail(st, "%s: \"%s\", pid %d", what, json_object_get_string(status), st->pid);
}

/* The first line of the runtime's stderr, for a one-sentence message. */
static const char *first_line(char *s)
{
        char *nl = strchr(s, '\n');

        if (nl)
                *nl = '\0';
        return s[0] ? s : "no message";
}

static void judge_exit(const char *what, struct rs_spawn_result *res, struct rs_runtime_status *st)
{
        if (WIFSIGNALED(res->status)) {
                set_failed(st, "%s: killed by signal %d", what, WTERMSIG(res->status));
                return;
        }
        if (WEXITSTATUS(res->status) != 0) {
                set_failed(st, "%s: exit status %d: %s", what, WEXITSTATUS(res->status),
                           first_line(res->err));
                return;
        }
        parse_oci_state(what, res->out, res->out_len, st);
}

static int exec_state(const struct rs_runtime_cfg *cfg, const char *runtime, const char *id,
                      const char *workdir, struct rs_runtime_status *st, struct rs_error *err)
{
        _cleanup_free_ char *bin = NULL, *root = NULL;
        struct rs_spawn_result res;
        char what[512];
        int timeout = cfg->timeout_ms > 0 ? cfg->timeout_ms : RS_RUNTIME_TIMEOUT_MS_DEFAULT;
        int r;

        snprintf(what, sizeof(what), "%s state %s", runtime, id);
        r = rs_runtime_find_binary(cfg, runtime, &bin);
        if (r < 0)
                return rs_fail(err, r, RS_REASON_INTERNAL, "%s: no binary for runtime \"%s\" "
                               "(give --runtime %s=PATH or put it on PATH)", what, runtime, runtime);
        if (asprintf(&root, "%s/%s", workdir, runtime) < 0)
                return rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, "out of memory");
        /* iSulad omits --root for kata-runtime, which keeps its own state */
        char *argv_root[] = { bin, "--root", root, "state", (char *)id, NULL };
        char *argv_kata[] = { bin, "state", (char *)id, NULL };
        r = rs_spawn_capture(bin, strcmp(runtime, "kata-runtime") ? argv_root : argv_kata, workdir,
                             timeout, RS_RUNTIME_MAX_OUTPUT, &res);
        if (r == -ETIME)
                return rs_fail(err, r, RS_REASON_RUNTIME_TIMEOUT, "%s: no answer within %g s", what,
                               timeout / 1000.0);
        if (r == -E2BIG) {
                set_failed(st, "%s: more than %u bytes of output", what, RS_RUNTIME_MAX_OUTPUT);
                return 0;
        }
        if (r < 0)
                return rs_fail(err, r, RS_REASON_INTERNAL, "%s: cannot run %s: %s", what, bin,
                               strerror(-r));
        judge_exit(what, &res, st);
        rs_spawn_result_done(&res);
        return 0;
}

static int runc_status(const struct rs_runtime_cfg *cfg, const char *runtime, const char *id,
                       struct rs_runtime_status *st, struct rs_error *err)
{
        _cleanup_free_ char *workdir = NULL;

        if (asprintf(&workdir, "%s/%s/%s", cfg->state_root, runtime, id) < 0)
                return rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, "out of memory");
        /* a host reboot empties <state> (tmpfs): no shim-pid, so every container is stopped */
        if (!shim_alive(workdir, st))
                return 0;
        return exec_state(cfg, runtime, id, workdir, st, err);
}

int rs_runtime_status(const struct rs_runtime_cfg *cfg, const char *runtime, const char *id,
                      const struct rs_state *persisted, struct rs_runtime_status *ret,
                      struct rs_error *err)
{
        struct rs_runtime_status st = { .status = RS_STATUS_UNKNOWN };
        int r = 0;

        if (!cfg->state_root || !runtime || !id || strchr(id, '/') || strchr(runtime, '/'))
                return rs_fail(err, -EINVAL, RS_REASON_INTERNAL, "runtime status: bad arguments");
        switch (rs_runtime_classify(runtime)) {
        case RS_RT_LCR:
                r = lcr_status(cfg, id, &st);
                break;
        case RS_RT_SHIMV2:
                shimv2_status(persisted, &st);
                break;
        case RS_RT_RUNC:
                r = runc_status(cfg, runtime, id, &st, err);
                break;
        }
        if (r < 0)
                return r;
        *ret = st;
        return 0;
}
