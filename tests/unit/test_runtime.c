/*
 * test_runtime.c - runtime status queries against fake runtimes (shell scripts), real
 * processes and, when available, real runc containers run by tests/shim/test-shim.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "runtime.h"
#include "testutil.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char *root, *state, *bin_dir;
static struct rs_runtime_bin bins[2];
static struct rs_runtime_cfg cfg;

static void setup(void)
{
        root = tu_mkdtemp();
        state = tu_path(root, "state");
        bin_dir = tu_path(root, "bin");
        tu_mkdir_p(root, "state");
        tu_mkdir_p(root, "bin");
        cfg = (struct rs_runtime_cfg){ .state_root = state, .bins = bins, .n_bins = 0,
                                       .timeout_ms = 2000 };
}

static void forget_runtimes(void);

static void teardown(void)
{
        forget_runtimes();
        tu_rm_rf(root);
        free(state);
        free(bin_dir);
        free(root);
}

/* Installs a fake runtime: a /bin/sh script named name, registered as --runtime name=PATH. */
static void fake_runtime(const char *name, const char *body)
{
        char rel[256], *text = NULL, *path;

        snprintf(rel, sizeof(rel), "bin/%s", name);
        ck_assert_int_gt(asprintf(&text, "#!/bin/sh\nprintf '%%s\\n' \"$@\" > \"$PWD/args\"\n%s\n", body), 0);
        tu_write(root, rel, text);
        free(text);
        path = tu_path(root, rel);
        ck_assert_int_eq(chmod(path, 0755), 0);
        bins[cfg.n_bins++] = (struct rs_runtime_bin){ .name = name, .path = path };
}

static void forget_runtimes(void)
{
        for (size_t i = 0; i < cfg.n_bins; i++)
                free((char *)bins[i].path);
        cfg.n_bins = 0;
}

/* <state>/<rt>/<id>/shim-pid = text */
static void shim_pid(const char *rt, const char *text)
{
        char rel[512];

        snprintf(rel, sizeof(rel), "state/%s/" ID "/shim-pid", rt);
        tu_write(root, rel, text);
}

static void shim_alive(const char *rt)
{
        char pid[32];

        snprintf(pid, sizeof(pid), "%d\n", getpid());   /* we are alive: a perfect shim */
        shim_pid(rt, pid);
}

static int query(const char *rt, struct rs_runtime_status *st, struct rs_error *err)
{
        memset(st, 0xa5, sizeof(*st));
        return rs_runtime_status(&cfg, rt, ID, NULL, st, err);
}

static int64_t ms_since(const struct timespec *a)
{
        struct timespec b;

        clock_gettime(CLOCK_MONOTONIC, &b);
        return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

START_TEST(engine_dir_names_pick_the_runtime_kind)
{
        ck_assert_int_eq(rs_runtime_classify("lcr"), RS_RT_LCR);
        ck_assert_int_eq(rs_runtime_classify("io.containerd.kata.v2"), RS_RT_SHIMV2);
        ck_assert_int_eq(rs_runtime_classify("io.containerd.runc.v2"), RS_RT_SHIMV2);
        ck_assert_int_eq(rs_runtime_classify("runc"), RS_RT_RUNC);
        ck_assert_int_eq(rs_runtime_classify("crun"), RS_RT_RUNC);
        ck_assert_int_eq(rs_runtime_classify("kata-runtime"), RS_RT_RUNC);
        ck_assert_int_eq(rs_runtime_classify("io.containerd.runc.v1"), RS_RT_SHIMV2);
        ck_assert_int_eq(rs_runtime_classify("io.containerd.a.b.v2"), RS_RT_RUNC);
        ck_assert_int_eq(rs_runtime_classify("io.containerd.v2"), RS_RT_RUNC);
        ck_assert_int_eq(rs_runtime_classify("org.containerd.kata.v2"), RS_RT_RUNC);
        ck_assert_int_eq(rs_runtime_classify("lcr2"), RS_RT_RUNC);
}
END_TEST

START_TEST(running_answer_gives_status_and_pid_from_the_runtime)
{
        struct rs_runtime_status st;
        struct rs_error err = { 0 };
        char *args, *want = NULL;

        fake_runtime("runc", "echo '{\"ociVersion\":\"1.0.2\",\"id\":\"x\",\"status\":\"running\",\"pid\":4242}'");
        shim_alive("runc");
        ck_assert_msg(query("runc", &st, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(st.status, RS_STATUS_RUNNING);
        ck_assert_int_eq(st.pid, 4242);
        ck_assert(!st.failed);
        /* iSulad's command line, run from the shim's workdir */
        args = tu_read(state, "runc/" ID "/args", NULL);
        ck_assert_int_gt(asprintf(&want, "--root\n%s/runc/" ID "/runc\nstate\n" ID "\n", state), 0);
        ck_assert_str_eq(args, want);
        free(args);
        free(want);
}
END_TEST

START_TEST(oci_status_words_map_as_in_isulad)
{
        static const struct {
                const char *word;
                rs_status want;
        } rows[] = {
                { "running", RS_STATUS_RUNNING }, { "paused", RS_STATUS_PAUSED },
                { "stopped", RS_STATUS_STOPPED }, { "created", RS_STATUS_UNKNOWN },
                { "creating", RS_STATUS_UNKNOWN }, { "Running", RS_STATUS_UNKNOWN },
        };
        struct rs_runtime_status st;
        struct rs_error err = { 0 };

        shim_alive("runc");
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                char body[128];
                snprintf(body, sizeof(body), "echo '{\"status\":\"%s\",\"pid\":7}'", rows[i].word);
                forget_runtimes();
                fake_runtime("runc", body);
                ck_assert_int_eq(query("runc", &st, &err), 0);
                ck_assert_msg(st.status == rows[i].want && !st.failed, "\"%s\" -> %d", rows[i].word,
                              st.status);
        }
}
END_TEST

START_TEST(garbage_output_is_a_failed_status_call)
{
        static const char *const bodies[] = {
                "echo 'this is not json'", "echo '[1,2]'", "echo '{\"pid\":3}'", "true",
                "echo '{\"status\":\"running\"'",
        };
        struct rs_runtime_status st;
        struct rs_error err = { 0 };

        shim_alive("runc");
        for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
                forget_runtimes();
                fake_runtime("runc", bodies[i]);
                ck_assert_int_eq(query("runc", &st, &err), 0);
                ck_assert_msg(st.failed && st.status == RS_STATUS_STOPPED, "%s", bodies[i]);
                ck_assert(strstr(st.detail, "runc state " ID));
        }
}
END_TEST

START_TEST(nonzero_exit_is_a_failed_status_call_with_the_runtime_message)
{
        struct rs_runtime_status st;
        struct rs_error err = { 0 };

        fake_runtime("runc", "echo 'container \"x\" does not exist' >&2\necho ignored >&2\nexit 1");
        shim_alive("runc");
        ck_assert_int_eq(query("runc", &st, &err), 0);
        ck_assert(st.failed);
        ck_assert_int_eq(st.status, RS_STATUS_STOPPED);
        ck_assert_msg(strstr(st.detail, "exit status 1: container \"x\" does not exist"), "%s", st.detail);
        ck_assert(!strstr(st.detail, "ignored"));
}
END_TEST

START_TEST(hung_runtime_times_out_within_the_deadline_and_leaves_nothing_running)
{
        struct rs_runtime_status st, sentinel;
        struct rs_error err = { 0 };
        struct timespec t0;
        char *gpid_text;
        int gpid;

        /* a background grandchild too: the whole process group must go */
        fake_runtime("runc", "sleep 30 &\necho $! > \"$PWD/gpid\"\nwait");
        shim_alive("runc");
        cfg.timeout_ms = 300;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ck_assert_int_eq(query("runc", &st, &err), -ETIME);
        ck_assert_int_lt(ms_since(&t0), 2000);
        ck_assert_int_eq(err.reason, RS_REASON_RUNTIME_TIMEOUT);
        ck_assert_str_eq(err.msg, "runc state " ID ": no answer within 0.3 s");
        memset(&sentinel, 0xa5, sizeof(sentinel));
        ck_assert(memcmp(&st, &sentinel, sizeof(st)) == 0);   /* *ret untouched on error */
        gpid_text = tu_read(state, "runc/" ID "/gpid", NULL);
        ck_assert_ptr_nonnull(gpid_text);
        gpid = atoi(gpid_text);
        free(gpid_text);
        for (int i = 0; i < 100 && rs_proc_exists(gpid); i++)
                usleep(10000);
        ck_assert_msg(!rs_proc_exists(gpid), "sleep %d survived the timeout", gpid);
}
END_TEST

START_TEST(output_over_64k_is_a_failed_status_call)
{
        struct rs_runtime_status st;
        struct rs_error err = { 0 };

        fake_runtime("runc", "head -c 70000 /dev/zero | tr '\\0' ' '\necho '{\"status\":\"running\"}'");
        shim_alive("runc");
        ck_assert_int_eq(query("runc", &st, &err), 0);
        ck_assert(st.failed);
        ck_assert_msg(strstr(st.detail, "more than 65536 bytes"), "%s", st.detail);
}
END_TEST

START_TEST(kata_runtime_is_asked_without_root)
{
        struct rs_runtime_status st;
        struct rs_error err = { 0 };
        char *args;

        fake_runtime("kata-runtime", "echo '{\"status\":\"paused\",\"pid\":9}'");
        shim_alive("kata-runtime");
        ck_assert_int_eq(query("kata-runtime", &st, &err), 0);
        ck_assert_int_eq(st.status, RS_STATUS_PAUSED);
        args = tu_read(state, "kata-runtime/" ID "/args", NULL);
        ck_assert_str_eq(args, "state\n" ID "\n");
        free(args);
}
END_TEST

START_TEST(dead_or_missing_shim_fails_without_running_the_runtime)
{
        static const char *const texts[] = { NULL, "", "abc", "-5", "0", "12x" };
        struct rs_runtime_status st;
        struct rs_error err = { 0 };
        char dead[32], *args;
        pid_t child = fork();

        /* the child never asserts: it shares Check's message file with the test */
        if (child == 0)
                _exit(0);
        ck_assert_int_ge(child, 0);
        waitpid(child, NULL, 0);
        fake_runtime("runc", "echo '{\"status\":\"running\",\"pid\":1}'");
        for (size_t i = 0; i <= sizeof(texts) / sizeof(texts[0]); i++) {
                const char *t = i < sizeof(texts) / sizeof(texts[0]) ? texts[i] : dead;
                snprintf(dead, sizeof(dead), "%d", child);   /* reaped: no such process */
                if (t)
                        shim_pid("runc", t);
                ck_assert_int_eq(query("runc", &st, &err), 0);
                ck_assert_msg(st.failed && st.status == RS_STATUS_STOPPED, "shim-pid \"%s\"", t ? t : "(none)");
        }
        args = tu_read(state, "runc/" ID "/args", NULL);
        ck_assert_ptr_null(args);
}
END_TEST

START_TEST(host_reboot_empty_state_dir_means_stopped)
{
        struct rs_runtime_status st;
        struct rs_error err = { 0 };

        fake_runtime("runc", "echo '{\"status\":\"running\",\"pid\":1}'");
        ck_assert_int_eq(query("runc", &st, &err), 0);
        ck_assert(st.failed);
        ck_assert_int_eq(st.status, RS_STATUS_STOPPED);
        ck_assert(strstr(st.detail, "shim-pid"));
}
END_TEST

START_TEST(missing_runtime_binary_fails_the_container)
{
        struct rs_runtime_status st;
        struct rs_error err = { 0 };
        char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

        shim_alive("no-such-rt");
        setenv("PATH", bin_dir, 1);
        ck_assert_int_eq(query("no-such-rt", &st, &err), -ENOENT);
        ck_assert_int_eq(err.reason, RS_REASON_INTERNAL);
        ck_assert(strstr(err.msg, "--runtime no-such-rt=PATH"));
        bins[0] = (struct rs_runtime_bin){ .name = "no-such-rt", .path = strdup("/nonexistent/rt") };
        cfg.n_bins = 1;
        ck_assert_int_eq(query("no-such-rt", &st, &err), -ENOENT);
        ck_assert(strstr(err.msg, "cannot run /nonexistent/rt"));
        if (old)
                setenv("PATH", old, 1);
        free(old);
}
END_TEST

START_TEST(runtime_without_a_table_entry_is_found_on_path)
{
        struct rs_runtime_status st;
        struct rs_error err = { 0 };
        char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL, *p = NULL;

        tu_write(root, "bin/myrt", "#!/bin/sh\necho '{\"status\":\"stopped\"}'\n");
        p = tu_path(root, "bin/myrt");
        ck_assert_int_eq(chmod(p, 0755), 0);
        free(p);
        ck_assert_int_gt(asprintf(&p, "/nonexistent:%s:/usr/bin:/bin", bin_dir), 0);
        setenv("PATH", p, 1);
        shim_alive("myrt");
        ck_assert_int_eq(query("myrt", &st, &err), 0);
        ck_assert_int_eq(st.status, RS_STATUS_STOPPED);
        ck_assert(!st.failed);
        if (old)
                setenv("PATH", old, 1);
        free(old);
        free(p);
}
END_TEST

START_TEST(runtime_reaped_behind_our_back_is_an_error_not_a_hang)
{
        struct rs_runtime_status st;
        struct rs_error err = { 0 };
        struct timespec t0;

        /* SIGCHLD ignored: the kernel reaps our runtime child before we can */
        signal(SIGCHLD, SIG_IGN);
        fake_runtime("runc", "echo '{\"status\":\"running\",\"pid\":7}'");
        shim_alive("runc");
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ck_assert_int_eq(query("runc", &st, &err), -ECHILD);
        ck_assert_int_lt(ms_since(&t0), 1500);
        ck_assert_int_eq(err.reason, RS_REASON_INTERNAL);
        signal(SIGCHLD, SIG_DFL);
}
END_TEST

static int count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        int n = 0;

        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

static void *query_many(void *arg)
{
        int *ok = arg;

        for (int i = 0; i < 25; i++) {
                struct rs_runtime_status st;
                struct rs_error err = { 0 };
                if (rs_runtime_status(&cfg, "runc", ID, NULL, &st, &err) == 0 &&
                    st.status == RS_STATUS_RUNNING && st.pid == 77)
                        (*ok)++;
        }
        return NULL;
}

START_TEST(parallel_queries_from_many_threads_neither_mix_nor_leak)
{
        pthread_t th[8];
        int ok[8] = { 0 }, fds = count_fds();

        fake_runtime("runc", "echo '{\"status\":\"running\",\"pid\":77}'");
        shim_alive("runc");
        for (int i = 0; i < 8; i++)
                pthread_create(&th[i], NULL, query_many, &ok[i]);
        for (int i = 0; i < 8; i++) {
                pthread_join(th[i], NULL);
                ck_assert_int_eq(ok[i], 25);
        }
        ck_assert_int_eq(count_fds(), fds);
}
END_TEST

static pid_t spawn_sleeper(uint64_t *ret_start)
{
        struct rs_proc_stat st;
        pid_t pid = fork();

        /* the child never asserts: it shares Check's message file with the test */
        if (pid == 0) {
                pause();
                _exit(0);
        }
        ck_assert_int_ge(pid, 0);
        ck_assert_int_eq(rs_proc_read_stat(NULL, pid, &st), 0);
        *ret_start = st.start_time;
        return pid;
}

static void reap(pid_t pid)
{
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

START_TEST(lcr_pid_file_is_checked_against_proc)
{
        struct rs_runtime_status st;
        struct rs_error err = { 0 };
        uint64_t start;
        pid_t pid = spawn_sleeper(&start);
        char text[128];

        ck_assert_int_eq(query("lcr", &st, &err), 0);   /* no pid.file */
        ck_assert_int_eq(st.status, RS_STATUS_STOPPED);
        snprintf(text, sizeof(text), "%d %llu %d 1\n", pid, (unsigned long long)start, getpid());
        tu_write(state, "lcr/" ID "/pid.file", text);
        ck_assert_int_eq(query("lcr", &st, &err), 0);
        ck_assert_int_eq(st.status, RS_STATUS_RUNNING);
        ck_assert_int_eq(st.pid, pid);
        /* the same pid with another start time: a reused pid, not the container */
        snprintf(text, sizeof(text), "%d %llu %d 1\n", pid, (unsigned long long)start + 1, getpid());
        tu_write(state, "lcr/" ID "/pid.file", text);
        ck_assert_int_eq(query("lcr", &st, &err), 0);
        ck_assert_int_eq(st.status, RS_STATUS_STOPPED);
        reap(pid);
}
END_TEST

START_TEST(shim_v2_persisted_pid_is_checked_against_proc)
{
        struct rs_runtime_status st;
        struct rs_error err = { 0 };
        struct rs_state s = { 0 };
        struct rs_process id;
        uint64_t start;
        pid_t pid = spawn_sleeper(&start);

        s.pid = pid;
        s.start_time = start;
        ck_assert_int_eq(rs_runtime_status(&cfg, "io.containerd.kata.v2", ID, &s, &st, &err), 0);
        ck_assert_int_eq(st.status, RS_STATUS_RUNNING);
        ck_assert_int_eq(st.pid, pid);
        s.start_time = 0;   /* iSulad records no start time for shim v2 */
        ck_assert_int_eq(rs_runtime_status(&cfg, "io.containerd.kata.v2", ID, &s, &st, &err), 0);
        ck_assert_int_eq(st.status, RS_STATUS_RUNNING);
        s.start_time = start + 5;
        ck_assert_int_eq(rs_runtime_status(&cfg, "io.containerd.kata.v2", ID, &s, &st, &err), 0);
        ck_assert_int_eq(st.status, RS_STATUS_STOPPED);
        ck_assert_int_eq(rs_runtime_read_identity(RS_RT_SHIMV2, pid, &id), 0);
        ck_assert(id.pid == pid && id.ppid == 0 && id.start_time == 0 && id.p_start_time == 0);
        ck_assert_int_eq(rs_runtime_read_identity(RS_RT_RUNC, pid, &id), 0);
        ck_assert(id.pid == pid && id.ppid == getpid() && id.start_time == start);
        reap(pid);
        s.start_time = 0;
        ck_assert_int_eq(rs_runtime_status(&cfg, "io.containerd.kata.v2", ID, &s, &st, &err), 0);
        ck_assert_int_eq(st.status, RS_STATUS_STOPPED);
        ck_assert(!rs_runtime_detect_process(RS_RT_SHIMV2, pid, 0));
}
END_TEST

/* A process in a frozen freezer cgroup (v1, else v2) is paused, for lcr and shim v2. */
START_TEST(frozen_cgroup_reads_as_paused)
{
        struct rs_runtime_status st;
        struct rs_error err = { 0 };
        struct rs_state s = { 0 };
        char cg[128], file[192], text[32];
        uint64_t start;
        pid_t pid;
        bool v1 = access("/sys/fs/cgroup/freezer", F_OK) == 0;

        snprintf(cg, sizeof(cg), "%s/restored-test-%d", v1 ? "/sys/fs/cgroup/freezer" : "/sys/fs/cgroup",
                 getpid());
        if (mkdir(cg, 0755) < 0) {
                fprintf(stderr, "frozen_cgroup_reads_as_paused: SKIPPED (mkdir %s: %m)\n", cg);
                return;
        }
        pid = spawn_sleeper(&start);
        snprintf(text, sizeof(text), "%d", pid);
        snprintf(file, sizeof(file), "%s/cgroup.procs", cg);
        tu_write("", file + 1, text);
        snprintf(file, sizeof(file), v1 ? "%s/freezer.state" : "%s/cgroup.freeze", cg);
        tu_write("", file + 1, v1 ? "FROZEN" : "1");
        s.pid = pid;
        s.start_time = start;
        ck_assert_int_eq(rs_runtime_status(&cfg, "io.containerd.x.v2", ID, &s, &st, &err), 0);
        tu_write("", file + 1, v1 ? "THAWED" : "0");
        reap(pid);
        rmdir(cg);
        ck_assert_int_eq(st.status, RS_STATUS_PAUSED);
}
END_TEST

/* ---- real runc, real shim ------------------------------------------------------------------ */

static bool find_beside_exe(const char *name, char *out, size_t size)
{
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        char *slash;

        if (n <= 0)
                return false;
        exe[n] = '\0';
        slash = strrchr(exe, '/');
        *slash = '\0';
        if ((size_t)snprintf(out, size, "%s/%s", exe, name) >= size)
                return false;
        return access(out, X_OK) == 0;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command line (test scaffolding only; restored itself never uses a shell). */
static int sh(const char *fmt, ...)
{
        char *cmd = NULL;
        va_list ap;
        int st;

        va_start(ap, fmt);
        ck_assert_int_ge(vasprintf(&cmd, fmt, ap), 0);
        va_end(ap);
        st = system(cmd);
        free(cmd);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(real_runc_container_is_running_then_paused_then_shimless)
{
        char shim[PATH_MAX], mkbundle[PATH_MAX], *pid_text, *shim_text;
        struct rs_runtime_status st;
        struct rs_error err = { 0 };
        struct timespec t0;
        int cpid, spid, n = 30;

        if (geteuid() != 0 || sh("command -v runc >/dev/null 2>&1") != 0 ||
            !find_beside_exe("test-shim", shim, sizeof(shim)) ||
            !find_beside_exe("mkbundle.sh", mkbundle, sizeof(mkbundle))) {
                fprintf(stderr, "real_runc_container...: SKIPPED (needs root, runc, test-shim, mkbundle.sh)\n");
                return;
        }
        ck_assert_int_eq(sh("%s %s/bundle >/dev/null && %s --state %s/runc/%s --bundle %s/bundle "
                            "--runtime runc --id %s >/dev/null",
                            mkbundle, root, shim, state, ID, root, ID), 0);
        pid_text = tu_read(state, "runc/" ID "/pid", NULL);
        shim_text = tu_read(state, "runc/" ID "/shim-pid", NULL);
        cpid = atoi(pid_text);
        spid = atoi(shim_text);
        free(pid_text);
        free(shim_text);

        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < n; i++) {
                ck_assert_msg(query("runc", &st, &err) == 0, "%s", err.msg);
                ck_assert_int_eq(st.status, RS_STATUS_RUNNING);
                ck_assert_int_eq(st.pid, cpid);
        }
        fprintf(stderr, "runc state: %.2f ms per query (%d queries)\n",
                (double)ms_since(&t0) / n, n);

        ck_assert_int_eq(sh("runc --root %s/runc/%s/runc pause %s", state, ID, ID), 0);
        ck_assert_int_eq(query("runc", &st, &err), 0);
        ck_assert_int_eq(st.status, RS_STATUS_PAUSED);
        ck_assert_int_eq(sh("runc --root %s/runc/%s/runc resume %s", state, ID, ID), 0);

        /* the shim dies, the container lives on: iSulad's status call fails -> stopped */
        kill(spid, SIGKILL);
        for (int i = 0; i < 100 && rs_proc_exists(spid); i++)
                usleep(10000);
        ck_assert_int_eq(query("runc", &st, &err), 0);
        ck_assert(st.failed);
        ck_assert_int_eq(st.status, RS_STATUS_STOPPED);

        ck_assert_int_eq(sh("runc --root %s/runc/%s/runc delete --force %s", state, ID, ID), 0);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("runtime");
        TCase *fake = tcase_create("fake"), *proc = tcase_create("proc"), *real = tcase_create("real");

        tcase_add_checked_fixture(fake, setup, teardown);
        tcase_add_test(fake, engine_dir_names_pick_the_runtime_kind);
        tcase_add_test(fake, running_answer_gives_status_and_pid_from_the_runtime);
        tcase_add_test(fake, oci_status_words_map_as_in_isulad);
        tcase_add_test(fake, garbage_output_is_a_failed_status_call);
        tcase_add_test(fake, nonzero_exit_is_a_failed_status_call_with_the_runtime_message);
        tcase_add_test(fake, hung_runtime_times_out_within_the_deadline_and_leaves_nothing_running);
        tcase_add_test(fake, output_over_64k_is_a_failed_status_call);
        tcase_add_test(fake, kata_runtime_is_asked_without_root);
        tcase_add_test(fake, dead_or_missing_shim_fails_without_running_the_runtime);
        tcase_add_test(fake, host_reboot_empty_state_dir_means_stopped);
        tcase_add_test(fake, missing_runtime_binary_fails_the_container);
        tcase_add_test(fake, runtime_without_a_table_entry_is_found_on_path);
        tcase_add_test(fake, parallel_queries_from_many_threads_neither_mix_nor_leak);
        tcase_add_test(fake, runtime_reaped_behind_our_back_is_an_error_not_a_hang);
        tcase_add_checked_fixture(proc, setup, teardown);
        tcase_add_test(proc, lcr_pid_file_is_checked_against_proc);
        tcase_add_test(proc, shim_v2_persisted_pid_is_checked_against_proc);
        tcase_add_test(proc, frozen_cgroup_reads_as_paused);
        tcase_add_checked_fixture(real, setup, teardown);
        tcase_set_timeout(real, 60);
        tcase_add_test(real, real_runc_container_is_running_then_paused_then_shimless);
        suite_add_tcase(s, fake);
        suite_add_tcase(s, proc);
        suite_add_tcase(s, real);
        return s;
}

int main(void)
{
        return tu_run_suite(suite());
}
