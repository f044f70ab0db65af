/*
 * test_load.c - the load stage over real container directories: iSulad's key spellings and
 * parsing rules, the container_state.json fallback, every failure reason, and that a failed
 * load leaves every file exactly as it was.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "load.h"
#include "testutil.h"

#define ID       "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899"
#define IMG      "e4db68de4ff27c2adfea0c54bbb73a61a42f5b667c326de4d7d5b19ab71c6a3b"
#define DIR_REL  "engines/runc/" ID
#define GRAPH    "/var/lib/isulad"
#define CDIR     GRAPH "/engines/runc/" ID
#define STARTED  "2024-05-01T10:00:01.000000001+08:00"
#define FINISHED "2024-05-02T08:15:30.987654321+08:00"
#define NEVER    "0001-01-01T00:00:00Z"

/* config.v2.json as iSulad >= 2.0.8 writes it: 4-space indent, zero values omitted. */
#define CONFIG_HEAD                                                                                         \
        "{\n"                                                                                               \
        "    \"CommonConfig\": {\n"                                                                         \
        "        \"Path\": \"sh\",\n"                                                                       \
        "        \"Config\": {\n"                                                                           \
        "            \"Hostname\": \"3f4e5d6c7b8a\",\n"                                                     \
        "            \"Env\": [\n"                                                                          \
        "                \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\n"           \
        "            ],\n"                                                                                  \
        "            \"Cmd\": [\n"                                                                          \
        "                \"sh\"\n"                                                                          \
        "            ],\n"                                                                                  \
        "            \"Image\": \"busybox\",\n"                                                             \
        "            \"Labels\": {\n"                                                                       \
        "                \"app\": \"demo\"\n"                                                               \
        "            },\n"                                                                                  \
        "            \"Annotations\": {\n"                                                                  \
        "                \"log.console.driver\": \"json-file\",\n"                                          \
        "                \"log.console.file\": \"" CDIR "/console.log\",\n"                                 \
        "                \"log.console.filerotate\": \"7\",\n"                                              \
        "                \"log.console.filesize\": \"30KB\"\n"                                              \
        "            }%s\n"                                                                                 \
        "        },\n"                                                                                      \
        "        \"Created\": \"2024-05-01T10:00:00.123456789+08:00\",\n"                                   \
        "        \"Image\": \"busybox\",\n"                                                                 \
        "        \"ImageType\": \"oci\",\n"                                                                 \
        "        \"HostnamePath\": \"" CDIR "/hostname\",\n"                                                \
        "        \"HostsPath\": \"" CDIR "/hosts\",\n"                                                      \
        "        \"ResolvConfPath\": \"" CDIR "/resolv.conf\",\n"                                           \
        "        \"ShmPath\": \"" CDIR "/mounts/shm\",\n"                                                   \
        "        \"LogPath\": \"" CDIR "/console.log\",\n"                                                  \
        "        \"BaseFs\": \"" GRAPH "/storage/overlay/8a1c0e3f/merged\",\n"                              \
        "        \"Name\": \"web\",\n"                                                                      \
        "        \"id\": \"" ID "\"\n"                                                                      \
        "    },\n"                                                                                          \
        "    \"Image\": \"sha256:" IMG "\",\n"

#define HEALTHCHECK                                                                                         \
        ",\n            \"Healthcheck\": {\n"                                                               \
        "                \"Test\": [\n"                                                                     \
        "                    \"CMD-SHELL\",\n"                                                              \
        "                    \"wget -q -O /dev/null http://localhost/ || exit 1\"\n"                        \
        "                ],\n"                                                                              \
        "                \"Interval\": 30000000000,\n"                                                      \
        "                \"Retries\": 3\n"                                                                  \
        "            }"

static const char config_modern[] = "    \"State\": {\n\n    }\n}\n";

/* The pre-v2.0.8 layout: the whole state lived in config.v2.json. */
static const char config_legacy_state[] = "    \"State\": {\n"
                                          "        \"ExitCode\": 137,\n"
                                          "        \"FinishedAt\": \"" FINISHED "\",\n"
                                          "        \"StartedAt\": \"" STARTED "\",\n"
                                          "        \"RestartCount\": 2\n"
                                          "    }\n}\n";

static const char hostconfig[] = "{\n"
                                 "    \"Binds\": [\n"
                                 "        \"/srv/www:/usr/share/nginx/html:ro\"\n"
                                 "    ],\n"
                                 "    \"NetworkMode\": \"bridge\",\n"
                                 "    \"Runtime\": \"runc\",\n"
                                 "    \"RestartPolicy\": {\n"
                                 "        \"Name\": \"on-failure\",\n"
                                 "        \"MaximumRetryCount\": 3\n"
                                 "    },\n"
                                 "    \"CPUShares\": 512,\n"
                                 "    \"Memory\": 268435456\n"
                                 "}\n";

static const char state_running[] = "{\n"
                                    "    \"FinishedAt\": \"" NEVER "\",\n"
                                    "    \"Pid\": 4242,\n"
                                    "    \"PPid\": 4230,\n"
                                    "    \"StartTime\": 1234567,\n"
                                    "    \"PStartTime\": 1234500,\n"
                                    "    \"Running\": true,\n"
                                    "    \"StartedAt\": \"" STARTED "\",\n"
                                    "    \"Health\": {\n"
                                    "        \"Status\": \"healthy\",\n"
                                    "        \"FailingStreak\": 1,\n"
                                    "        \"Log\": [\n"
                                    "            {\n"
                                    "                \"Start\": \"2024-05-01T10:00:31.000000001+08:00\",\n"
                                    "                \"End\": \"2024-05-01T10:00:31.050000001+08:00\",\n"
                                    "                \"ExitCode\": 1,\n"
                                    "                \"Output\": \"connection refused\"\n"
                                    "            }\n"
                                    "        ]\n"
                                    "    }\n"
                                    "}\n";

static const char network_settings[] = "{\n"
                                       "    \"Bridge\": \"cni0\",\n"
                                       "    \"IPAddress\": \"10.88.0.12\",\n"
                                       "    \"IPPrefixLen\": 16,\n"
                                       "    \"Activation\": true\n"
                                       "}\n";

static char *root, *engines;

static void put(const char *file, const char *content)
{
        char rel[256];

        snprintf(rel, sizeof(rel), DIR_REL "/%s", file);
        tu_write(root, rel, content);
}

static void put_config(const char *config_extra, const char *state_tail)
{
        char *text = NULL;

        ck_assert_int_gt(asprintf(&text, CONFIG_HEAD "%s", config_extra, state_tail), 0);
        put("config.v2.json", text);
        free(text);
}

static char *cpath(const char *file)
{
        char rel[256];

        snprintf(rel, sizeof(rel), DIR_REL "/%s", file);
        return tu_path(root, rel);
}

static void setup_tree(void)
{
        root = tu_mkdtemp();
        engines = tu_path(root, "engines");
        put_config("", config_modern);
        put("hostconfig.json", hostconfig);
        put("container_state.json", state_running);
        put("network_settings.json", network_settings);
}

/*
 * The scale case writes 40,000 files: on tmpfs that takes a fraction of a second, on a busy
 * journaled disk it can take a minute of metadata I/O that measures the disk, not the loader.
 */
static void setup_scale(void)
{
        const char *saved = getenv("TMPDIR");
        _cleanup_free_ char *old = saved ? strdup(saved) : NULL;

        if (access("/dev/shm", W_OK) == 0)
                setenv("TMPDIR", "/dev/shm", 1);
        setup_tree();
        if (old)
                setenv("TMPDIR", old, 1);
        else
                unsetenv("TMPDIR");
}

static void setup(void)
{
        setup_tree();
        /* A FIFO opened without O_NONBLOCK would hang: a hang fails the test instead. */
        alarm(20);
}

static void teardown(void)
{
        alarm(0);
        tu_rm_rf(root);
        free(engines);
        free(root);
}

static int load(struct rs_container **c, struct rs_error *err)
{
        return rs_load_container(engines, "runc", ID, NULL, c, err);
}

/* ---- snapshots: "byte-identical after a failure" ---- */

static FILE *snap_out;

static int snap_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        char target[512];
        ssize_t n;

        fprintf(snap_out, "%s %o %jd %ju %ld.%09ld\n", path + strlen(root), st->st_mode,
                (intmax_t)st->st_size, (uintmax_t)st->st_ino, (long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
        if (S_ISLNK(st->st_mode) && (n = readlink(path, target, sizeof(target))) >= 0)
                fwrite(target, 1, (size_t)n, snap_out);
        if (S_ISREG(st->st_mode) && st->st_size <= (1 << 20)) {
                FILE *f = fopen(path, "re");
                char buf[4096];
                size_t got;
                ck_assert_ptr_nonnull(f);
                while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
                        fwrite(buf, 1, got, snap_out);
                fclose(f);
        }
        return 0;
}

/* Every path under root with its type, size, inode, mtime and bytes. */
static char *snapshot(size_t *ret_len)
{
        char *buf = NULL;

        snap_out = open_memstream(&buf, ret_len);
        ck_assert_ptr_nonnull(snap_out);
        ck_assert_int_eq(nftw(root, snap_one, 16, FTW_PHYS), 0);
        fclose(snap_out);
        return buf;
}

static void assert_unchanged(const char *before, size_t before_len, const char *what)
{
        size_t after_len = 0;
        _cleanup_free_ char *after = snapshot(&after_len);

        ck_assert_msg(before_len == after_len && memcmp(before, after, after_len) == 0,
                      "%s: the tree changed during load", what);
}

/* ---- mutations of one file ---- */

enum mutation { M_CONTENT, M_REMOVE, M_TRUNCATE, M_ZEROS, M_FIFO, M_SYMLINK, M_DIR, M_SPARSE, M_DEEP };

static void mutate(const char *file, enum mutation m, const char *content, size_t len)
{
        _cleanup_free_ char *p = cpath(file);
        struct stat st;
        int fd;

        if (m == M_TRUNCATE) {
                ck_assert_int_eq(truncate(p, (off_t)len), 0);
                return;
        }
        if (m == M_ZEROS) {
                ck_assert_int_eq(stat(p, &st), 0);
                _cleanup_free_ char *zeros = calloc(1, (size_t)st.st_size);
                put(file, "");
                fd = open(p, O_WRONLY | O_CLOEXEC);
                ck_assert_int_eq(write(fd, zeros, (size_t)st.st_size), st.st_size);
                close(fd);
                return;
        }
        ck_assert(unlink(p) == 0 || errno == ENOENT);
        switch (m) {
        case M_CONTENT:
                put(file, content);
                break;
        case M_FIFO:
                ck_assert_int_eq(mkfifo(p, 0600), 0);
                break;
        case M_SYMLINK: {
                /* A perfectly valid file behind the link: refused all the same. */
                _cleanup_free_ char *elsewhere = tu_path(root, "elsewhere.json");
                tu_write(root, "elsewhere.json", "{}");
                ck_assert_int_eq(symlink(elsewhere, p), 0);
                break;
        }
        case M_DIR:
                ck_assert_int_eq(mkdir(p, 0755), 0);
                break;
        case M_SPARSE:
                fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
                ck_assert_int_ge(fd, 0);
                ck_assert_int_eq(ftruncate(fd, 100 << 20), 0);
                close(fd);
                break;
        case M_DEEP: {
                _cleanup_free_ char *deep = malloc(10001);
                memset(deep, '[', 10000);
                deep[10000] = '\0';
                put(file, deep);
                break;
        }
        default:
                break;
        }
}

/* ---- the happy path ---- */

START_TEST(a_running_container_loads_every_field)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;
        struct rs_error err = {0};

        ck_assert_int_eq(load(&c, &err), 0);
        ck_assert_str_eq(c->runtime, "runc");
        ck_assert_str_eq(c->dir_name, ID);
        ck_assert_str_eq(c->id, ID);
        ck_assert_str_eq(c->name, "web");
        ck_assert_str_eq(c->image, "busybox");
        ck_assert_str_eq(c->image_type, "oci");
        ck_assert_str_eq(c->image_id, "sha256:" IMG);
        ck_assert(!c->is_sandbox);
        ck_assert(!c->health_configured);
        ck_assert_str_eq(c->restart_policy, "on-failure");
        ck_assert_int_eq(c->max_retry, 3);
        ck_assert(!c->auto_remove && !c->auto_remove_bak);
        ck_assert_int_eq(c->state_source, RS_STATE_FROM_FILE);
        ck_assert_ptr_null(c->state_warning);
        ck_assert(c->state.running);
        ck_assert_int_eq(c->state.pid, 4242);
        ck_assert_int_eq(c->state.ppid, 4230);
        ck_assert_uint_eq(c->state.start_time, 1234567);
        ck_assert_uint_eq(c->state.p_start_time, 1234500);
        ck_assert_str_eq(c->state.started_at, STARTED);
        ck_assert_str_eq(c->state.finished_at, NEVER);
        ck_assert(c->state.has_health);
        ck_assert_str_eq(c->state.health_status, "healthy");
        ck_assert_int_eq(c->state.failing_streak, 1);
        ck_assert_int_eq(rs_state_status(&c->state), RS_STATUS_RUNNING);
        ck_assert(json_object_is_type(c->state_doc, json_type_object));
        ck_assert_int_eq(err.reason, RS_REASON_NONE);
}
END_TEST

START_TEST(dir_path_joins_engines_runtime_and_dir)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;
        _cleanup_free_ char *want = tu_path(root, DIR_REL);

        ck_assert_int_eq(load(&c, NULL), 0);
        ck_assert_str_eq(c->dir_path, want);
}
END_TEST

START_TEST(a_successful_load_writes_nothing)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;
        size_t len = 0;
        _cleanup_free_ char *before = snapshot(&len);

        ck_assert_int_eq(load(&c, NULL), 0);
        assert_unchanged(before, len, "success");
}
END_TEST

START_TEST(absent_keys_take_isulads_defaults)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;
        struct rs_state zero = {0};

        put("config.v2.json", "{\"CommonConfig\": {\"id\": \"" ID "\", \"Name\": \"web\"}, "
                              "\"State\": {}}");
        put("hostconfig.json", "{}");
        put("container_state.json", "{}");
        ck_assert_int_eq(load(&c, NULL), 0);
        ck_assert_ptr_null(c->image);
        ck_assert_ptr_null(c->image_type);
        ck_assert_ptr_null(c->image_id);
        ck_assert_ptr_null(c->restart_policy);
        ck_assert_int_eq(c->max_retry, 0);
        ck_assert(!c->auto_remove && !c->auto_remove_bak && !c->is_sandbox);
        ck_assert(memcmp(&c->state, &zero, sizeof(zero)) == 0);
        /* Both times absent: iSulad says unknown, not created. */
        ck_assert_int_eq(rs_state_status(&c->state), RS_STATUS_UNKNOWN);
        ck_assert_int_eq(c->state_source, RS_STATE_FROM_FILE);
}
END_TEST

START_TEST(a_stopped_container_keeps_exit_code_restart_count_and_manual_stop)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;

        put("container_state.json",
            "{\n    \"ExitCode\": 137,\n    \"FinishedAt\": \"" FINISHED "\",\n    \"StartedAt\": \"" STARTED
            "\",\n    \"HasBeenManuallyStopped\": true,\n"
            "    \"RestartCount\": 2,\n    \"RemovalInprogress\": true,\n"
            "    \"OOMKilled\": true,\n    \"Dead\": true,\n"
            "    \"Error\": \"\"\n}\n");
        ck_assert_int_eq(load(&c, NULL), 0);
        ck_assert_int_eq(c->state.exit_code, 137);
        ck_assert_int_eq(c->state.restart_count, 2);
        ck_assert(c->state.has_been_manually_stopped);
        ck_assert(c->state.removal_inprogress && c->state.oom_killed && c->state.dead);
        ck_assert(c->state.has_error);
        ck_assert(!c->state.running && !c->state.has_health);
        ck_assert_int_eq(rs_state_status(&c->state), RS_STATUS_STOPPED);
}
END_TEST

START_TEST(wrong_typed_keys_are_ignored)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;
        struct rs_state zero = {0};

        put("config.v2.json",
            "{\"CommonConfig\": {\"id\": \"" ID "\", \"Name\": \"web\", \"Image\": 7, "
            "\"ImageType\": [\"oci\"], \"SandboxInfo\": {\"IsSandboxContainer\": \"true\"}, "
            "\"Config\": {\"Healthcheck\": {\"Test\": \"CMD true\"}}}, \"Image\": null, "
            "\"State\": {\"Running\": 1}}");
        put("hostconfig.json", "{\"RestartPolicy\": \"always\", \"AutoRemove\": 1, "
                               "\"AutoRemoveBak\": \"true\"}");
        put("container_state.json",
            "{\"Running\": \"true\", \"Paused\": 1, \"Pid\": \"4242\", \"ExitCode\": true, "
            "\"StartTime\": \"1234567\", \"StartedAt\": 5, \"FinishedAt\": null, "
            "\"Error\": false, \"RestartCount\": [1], \"Health\": \"healthy\"}");
        ck_assert_int_eq(load(&c, NULL), 0);
        ck_assert_int_eq(c->state_source, RS_STATE_FROM_FILE);
        ck_assert(memcmp(&c->state, &zero, sizeof(zero)) == 0);
        ck_assert_ptr_null(c->image);
        ck_assert_ptr_null(c->image_type);
        ck_assert_ptr_null(c->image_id);
        ck_assert_ptr_null(c->restart_policy);
        ck_assert(!c->is_sandbox && !c->health_configured);
        ck_assert(!c->auto_remove && !c->auto_remove_bak);
}
END_TEST

START_TEST(wrong_typed_keys_inside_health_and_restart_policy_are_ignored)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;

        put("hostconfig.json", "{\"RestartPolicy\": {\"Name\": 3, \"MaximumRetryCount\": \"5\"}}");
        put("container_state.json",
            "{\"Running\": true, \"Health\": {\"Status\": 1, \"FailingStreak\": \"2\", "
            "\"Log\": [\"not an entry\", {\"ExitCode\": \"x\"}]}}");
        ck_assert_int_eq(load(&c, NULL), 0);
        ck_assert_ptr_null(c->restart_policy);
        ck_assert_int_eq(c->max_retry, 0);
        ck_assert(c->state.has_health);
        ck_assert_str_eq(c->state.health_status, "");
        ck_assert_int_eq(c->state.failing_streak, 0);
}
END_TEST

START_TEST(keys_are_case_sensitive)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;

        /* Docker spells it RemovalInProgress; iSulad's schema says RemovalInprogress. */
        put("container_state.json", "{\"running\": true, \"pid\": 5, \"RemovalInProgress\": true, "
                                    "\"StartedAt\": \"" STARTED "\", \"finishedAt\": \"x\"}");
        put("hostconfig.json", "{\"autoRemoveBak\": true, \"AutoRemove\": true}");
        ck_assert_int_eq(load(&c, NULL), 0);
        ck_assert(!c->state.running && c->state.pid == 0 && !c->state.removal_inprogress);
        ck_assert(c->state.has_started_at && !c->state.has_finished_at);
        ck_assert(c->auto_remove && !c->auto_remove_bak);
}
END_TEST

START_TEST(auto_remove_bak_is_read_on_its_own)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;

        /* `isula restart` clears AutoRemove for its duration; AutoRemoveBak keeps the truth. */
        put("hostconfig.json", "{\"AutoRemove\": false, \"AutoRemoveBak\": true, "
                               "\"RestartPolicy\": {\"Name\": \"no\"}}");
        ck_assert_int_eq(load(&c, NULL), 0);
        ck_assert(!c->auto_remove && c->auto_remove_bak);
        ck_assert_str_eq(c->restart_policy, "no");
}
END_TEST

START_TEST(unknown_keys_are_tolerated_and_kept_in_order_in_state_doc)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;
        const char *text = "{\"FinishedAt\":\"" NEVER "\",\"FutureKey\":{\"x\":[1,2]},\"Pid\":4242,"
                           "\"Running\":true,\"StartedAt\":\"" STARTED "\",\"Zeta\":null}";

        put("container_state.json", text);
        ck_assert_int_eq(load(&c, NULL), 0);
        ck_assert_int_eq(c->state.pid, 4242);
        ck_assert_str_eq(json_object_to_json_string_ext(c->state_doc, JSON_C_TO_STRING_PLAIN), text);
}
END_TEST

START_TEST(the_id_and_name_are_not_validated_at_load)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;

        /* Registration judges them (INVALID_ID, ID_MISMATCH, INVALID_NAME), not load. */
        put("config.v2.json", "{\"CommonConfig\": {\"id\": \"NOT-HEX\", \"Name\": \"-x\"}, "
                              "\"State\": {}}");
        ck_assert_int_eq(load(&c, NULL), 0);
        ck_assert_str_eq(c->id, "NOT-HEX");
        ck_assert_str_eq(c->name, "-x");
}
END_TEST

START_TEST(a_sandbox_container_is_flagged)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;

        put("config.v2.json",
            "{\"CommonConfig\": {\"id\": \"" ID "\", \"Name\": \"k8s_POD_nginx_default_1\", "
            "\"Image\": \"pause:3.9\", \"ImageType\": \"oci\", \"SandboxInfo\": {\"sandboxer\": "
            "\"shim\", \"id\": \"" ID "\", \"IsSandboxContainer\": true}}, \"State\": {}}");
        ck_assert_int_eq(load(&c, NULL), 0);
        ck_assert(c->is_sandbox);
}
END_TEST

struct health_row {
        const char *healthcheck; /* inserted after Annotations */
        bool configured;
};

static const struct health_row health_rows[] = {
    {HEALTHCHECK, true},
    {",\"Healthcheck\": {\"Test\": [\"CMD\", \"/bin/check\"]}", true},
    {",\"Healthcheck\": {\"Test\": [\"NONE\"]}", false},
    {",\"Healthcheck\": {\"Test\": [\"cmd\", \"x\"]}", false},
    {",\"Healthcheck\": {\"Test\": []}", false},
    {",\"Healthcheck\": {\"Test\": [5]}", false},
    {",\"Healthcheck\": {\"Test\": \"CMD\"}", false},
    {",\"Healthcheck\": {}", false},
    {"", false},
};

START_TEST(health_configured_table)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;

        put_config(health_rows[_i].healthcheck, config_modern);
        ck_assert_int_eq(load(&c, NULL), 0);
        ck_assert_msg(c->health_configured == health_rows[_i].configured, "row %d", _i);
}
END_TEST

/* ---- numbers: lcr's common_safe_int / common_safe_uint64 ---- */

struct number_row {
        const char *state;   /* container_state.json */
        const char *warning; /* NULL: parses */
};

static const struct number_row number_rows[] = {
    {"{\"ExitCode\": 2147483647}", NULL},
    {"{\"ExitCode\": -1}", NULL},
    {"{\"Pid\": -2147483648}", NULL},
    {"{\"StartTime\": 0, \"PStartTime\": 18446744073709551614}", NULL},
    {"{\"ExitCode\": -0}", NULL},
    {"{\"ExitCode\": 1e20}", "container_state.json: \"ExitCode\" is not an integer"},
    {"{\"ExitCode\": 1.0}", "container_state.json: \"ExitCode\" is not an integer"},
    {"{\"ExitCode\": 2147483648}", "container_state.json: \"ExitCode\" is out of range for int"},
    {"{\"Pid\": -2147483649}", "container_state.json: \"Pid\" is out of range for int"},
    {"{\"PPid\": 99999999999999999999}", "container_state.json: \"PPid\" is out of range for int"},
    {"{\"RestartCount\": 1e3}", "container_state.json: \"RestartCount\" is not an integer"},
    {"{\"StartTime\": -1}", "container_state.json: \"StartTime\" is negative"},
    {"{\"StartTime\": 18446744073709551616}",
     "container_state.json: \"StartTime\" is out of range for uint64"},
    {"{\"PStartTime\": 1.5e3}", "container_state.json: \"PStartTime\" is not an integer"},
    {"{\"Health\": {\"FailingStreak\": 3000000000}}",
     "container_state.json: \"Health.FailingStreak\" is out of range for int"},
    {"{\"Health\": {\"Log\": [{\"ExitCode\": 0}, {\"ExitCode\": 1e2}]}}",
     "container_state.json: \"Health.Log[1].ExitCode\" is not an integer"},
};

START_TEST(state_numbers_table)
{
        const struct number_row *row = &number_rows[_i];
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;

        put_config("", config_legacy_state);
        put("container_state.json", row->state);
        ck_assert_int_eq(load(&c, NULL), 0);
        if (!row->warning) {
                ck_assert_msg(c->state_source == RS_STATE_FROM_FILE, "%s", row->state);
                return;
        }
        ck_assert_msg(c->state_source == RS_STATE_FROM_FALLBACK_CORRUPT, "%s", row->state);
        ck_assert_str_eq(c->state_warning, row->warning);
        /* The whole file is dropped, not just the key: the legacy State is used instead. */
        ck_assert_int_eq(c->state.exit_code, 137);
        ck_assert_int_eq(c->state.restart_count, 2);
        ck_assert_int_eq(rs_state_status(&c->state), RS_STATUS_STOPPED);
}
END_TEST

START_TEST(good_numbers_keep_their_values)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;

        put("container_state.json",
            "{\"ExitCode\": -1, \"Pid\": 2147483647, \"PPid\": -2147483648, "
            "\"StartTime\": 18446744073709551614, \"PStartTime\": 9223372036854775808}");
        ck_assert_int_eq(load(&c, NULL), 0);
        ck_assert_int_eq(c->state.exit_code, -1);
        ck_assert_int_eq(c->state.pid, 2147483647);
        ck_assert_int_eq(c->state.ppid, -2147483647 - 1);
        ck_assert_uint_eq(c->state.start_time, 18446744073709551614ull);
        ck_assert_uint_eq(c->state.p_start_time, 9223372036854775808ull);
}
END_TEST

/* ---- the container_state.json fallback ---- */

START_TEST(a_missing_state_file_falls_back_to_the_config_state)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;

        put_config("", config_legacy_state);
        mutate("container_state.json", M_REMOVE, NULL, 0);
        ck_assert_int_eq(load(&c, NULL), 0);
        ck_assert_int_eq(c->state_source, RS_STATE_FROM_FALLBACK_MISSING);
        ck_assert_ptr_null(c->state_warning);
        ck_assert_int_eq(c->state.exit_code, 137);
        ck_assert_int_eq(c->state.restart_count, 2);
        ck_assert_str_eq(c->state.started_at, STARTED);
        ck_assert_int_eq(rs_state_status(&c->state), RS_STATUS_STOPPED);
        ck_assert_str_eq(json_object_to_json_string_ext(c->state_doc, JSON_C_TO_STRING_PLAIN),
                         "{\"ExitCode\":137,\"FinishedAt\":\"" FINISHED "\",\"StartedAt\":\"" STARTED
                         "\",\"RestartCount\":2}");
}
END_TEST

START_TEST(a_modern_empty_config_state_falls_back_to_unknown)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;

        /* Since v2.0.8 the config State is {}: nothing to recover, status unknown. */
        mutate("container_state.json", M_REMOVE, NULL, 0);
        ck_assert_int_eq(load(&c, NULL), 0);
        ck_assert_int_eq(c->state_source, RS_STATE_FROM_FALLBACK_MISSING);
        ck_assert_int_eq(rs_state_status(&c->state), RS_STATUS_UNKNOWN);
        ck_assert_str_eq(json_object_to_json_string_ext(c->state_doc, JSON_C_TO_STRING_PLAIN), "{}");
}
END_TEST

struct unreadable_row {
        enum mutation m;
        const char *content;
        size_t len;
        const char *warning;
};

static const struct unreadable_row unreadable_rows[] = {
    {M_CONTENT, "", 0, "container_state.json: empty file"},
    {M_TRUNCATE, NULL, 120, "container_state.json: unexpected end of input at byte 120"},
    {M_ZEROS, NULL, 0, "container_state.json: NUL byte at byte 0"},
    {M_CONTENT, "{\"Running\": true} {", 0, "container_state.json: trailing data at byte 18"},
    {M_CONTENT, "[{\"Running\": true}]", 0, "container_state.json: top level is not an object"},
    {M_CONTENT, "\"running\"", 0, "container_state.json: top level is not an object"},
    {M_FIFO, NULL, 0, "container_state.json: not a regular file (fifo)"},
    {M_DIR, NULL, 0, "container_state.json: not a regular file (directory)"},
    {M_SYMLINK, NULL, 0, "container_state.json: is a symbolic link; refusing to follow"},
    {M_SPARSE, NULL, 0, "container_state.json: file is 104857600 bytes, over the 4194304-byte limit"},
    {M_DEEP, NULL, 0, "container_state.json: nesting deeper than 64 at byte 64"},
};

START_TEST(an_unreadable_state_file_falls_back_and_says_why)
{
        const struct unreadable_row *row = &unreadable_rows[_i];
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;
        _cleanup_free_ char *before = NULL;
        size_t len = 0;

        put_config("", config_legacy_state);
        mutate("container_state.json", row->m, row->content, row->len);
        before = snapshot(&len);
        ck_assert_int_eq(load(&c, NULL), 0);
        ck_assert_int_eq(c->state_source, RS_STATE_FROM_FALLBACK_CORRUPT);
        ck_assert_str_eq(c->state_warning, row->warning);
        ck_assert_int_eq(c->state.exit_code, 137);
        ck_assert(json_object_is_type(c->state_doc, json_type_object));
        assert_unchanged(before, len, row->warning);
}
END_TEST

START_TEST(a_bad_number_in_the_fallback_state_fails_the_load)
{
        struct rs_container *c = NULL;
        struct rs_error err = {0};

        put("config.v2.json", "{\"CommonConfig\": {\"id\": \"" ID "\", \"Name\": \"web\"}, "
                              "\"State\": {\"ExitCode\": 137, \"Pid\": 1e9}}");
        mutate("container_state.json", M_CONTENT, "{\"Running\": tr", 0);
        ck_assert_int_eq(load(&c, &err), -ERANGE);
        ck_assert_int_eq(err.reason, RS_REASON_CONFIG_CORRUPT);
        ck_assert_str_eq(err.msg, "config.v2.json: \"State.Pid\" is not an integer");
        ck_assert_ptr_null(c);
}
END_TEST

/* ---- failures ---- */

struct fail_row {
        const char *file;
        enum mutation m;
        const char *content;
        size_t len;
        int rc;
        rs_reason reason;
        const char *msg;
};

#define CFG       "config.v2.json"
#define HC        "hostconfig.json"
#define NET       "network_settings.json"
#define OK_COMMON "\"CommonConfig\": {\"id\": \"" ID "\", \"Name\": \"web\"}"

static const struct fail_row fail_rows[] = {
    {CFG, M_REMOVE, NULL, 0, -ENOENT, RS_REASON_CONFIG_MISSING, CFG ": no such file"},
    {CFG, M_CONTENT, "", 0, -EBADMSG, RS_REASON_CONFIG_CORRUPT, CFG ": empty file"},
    {CFG, M_TRUNCATE, NULL, 812, -EBADMSG, RS_REASON_CONFIG_CORRUPT,
     CFG ": unexpected end of input at byte 812"},
    {CFG, M_ZEROS, NULL, 0, -EBADMSG, RS_REASON_CONFIG_CORRUPT, CFG ": NUL byte at byte 0"},
    {CFG, M_CONTENT, "{\"CommonConfig\": {}, \"State\": {}} }", 0, -EBADMSG, RS_REASON_CONFIG_CORRUPT,
     CFG ": trailing data at byte 34"},
    {CFG, M_CONTENT, "[]", 0, -EBADMSG, RS_REASON_CONFIG_CORRUPT, CFG ": top level is not an object"},
    {CFG, M_CONTENT, "{\"State\": {}}", 0, -EBADMSG, RS_REASON_CONFIG_CORRUPT,
     CFG ": required object \"CommonConfig\" is missing"},
    {CFG, M_CONTENT, "{\"CommonConfig\": \"x\", \"State\": {}}", 0, -EBADMSG, RS_REASON_CONFIG_CORRUPT,
     CFG ": required object \"CommonConfig\" is missing"},
    {CFG, M_CONTENT, "{\"commonconfig\": {\"id\": \"" ID "\", \"Name\": \"web\"}, \"State\": {}}", 0,
     -EBADMSG, RS_REASON_CONFIG_CORRUPT, CFG ": required object \"CommonConfig\" is missing"},
    {CFG, M_CONTENT, "{" OK_COMMON "}", 0, -EBADMSG, RS_REASON_CONFIG_CORRUPT,
     CFG ": required object \"State\" is missing"},
    {CFG, M_CONTENT, "{" OK_COMMON ", \"State\": null}", 0, -EBADMSG, RS_REASON_CONFIG_CORRUPT,
     CFG ": required object \"State\" is missing"},
    {CFG, M_CONTENT, "{\"CommonConfig\": {\"Name\": \"web\"}, \"State\": {}}", 0, -EBADMSG,
     RS_REASON_CONFIG_CORRUPT, CFG ": required string \"CommonConfig.id\" is missing"},
    {CFG, M_CONTENT, "{\"CommonConfig\": {\"ID\": \"" ID "\", \"Name\": \"web\"}, \"State\": {}}", 0,
     -EBADMSG, RS_REASON_CONFIG_CORRUPT, CFG ": required string \"CommonConfig.id\" is missing"},
    {CFG, M_CONTENT, "{\"CommonConfig\": {\"id\": 42, \"Name\": \"web\"}, \"State\": {}}", 0, -EBADMSG,
     RS_REASON_CONFIG_CORRUPT, CFG ": required string \"CommonConfig.id\" is missing"},
    {CFG, M_CONTENT, "{\"CommonConfig\": {\"id\": \"" ID "\"}, \"State\": {}}", 0, -EBADMSG,
     RS_REASON_CONFIG_CORRUPT, CFG ": required string \"CommonConfig.Name\" is missing"},
    {CFG, M_CONTENT, "{\"CommonConfig\": {\"id\": \"" ID "\", \"Name\": null}, \"State\": {}}", 0, -EBADMSG,
     RS_REASON_CONFIG_CORRUPT, CFG ": required string \"CommonConfig.Name\" is missing"},
    {CFG, M_CONTENT,
     "{\"CommonConfig\": {\"id\": \"abc\\u0000def\", \"Name\": \"web\"}, "
     "\"State\": {}}",
     0, -EBADMSG, RS_REASON_CONFIG_CORRUPT, CFG ": \"CommonConfig.id\" contains a NUL character"},
    {CFG, M_CONTENT, "{" OK_COMMON ", \"State\": {\"ExitCode\": 1e20}}", 0, -ERANGE,
     RS_REASON_CONFIG_CORRUPT, CFG ": \"State.ExitCode\" is not an integer"},
    {CFG, M_CONTENT, "{" OK_COMMON ", \"State\": {\"StartTime\": -5}}", 0, -ERANGE, RS_REASON_CONFIG_CORRUPT,
     CFG ": \"State.StartTime\" is negative"},
    {CFG, M_CONTENT, "{" OK_COMMON ", \"State\": {\"Health\": {\"FailingStreak\": 4294967296}}}", 0, -ERANGE,
     RS_REASON_CONFIG_CORRUPT, CFG ": \"State.Health.FailingStreak\" is out of range for int"},
    {CFG, M_FIFO, NULL, 0, -EBADF, RS_REASON_CONFIG_CORRUPT, CFG ": not a regular file (fifo)"},
    {CFG, M_DIR, NULL, 0, -EBADF, RS_REASON_CONFIG_CORRUPT, CFG ": not a regular file (directory)"},
    {CFG, M_SYMLINK, NULL, 0, -ELOOP, RS_REASON_CONFIG_CORRUPT,
     CFG ": is a symbolic link; refusing to follow"},
    {CFG, M_SPARSE, NULL, 0, -EFBIG, RS_REASON_TOO_LARGE,
     CFG ": file is 104857600 bytes, over the 4194304-byte limit"},
    {CFG, M_DEEP, NULL, 0, -E2BIG, RS_REASON_TOO_LARGE, CFG ": nesting deeper than 64 at byte 64"},

    {HC, M_REMOVE, NULL, 0, -ENOENT, RS_REASON_HOSTCONFIG_MISSING, HC ": no such file"},
    {HC, M_CONTENT, "", 0, -EBADMSG, RS_REASON_HOSTCONFIG_CORRUPT, HC ": empty file"},
    {HC, M_TRUNCATE, NULL, 100, -EBADMSG, RS_REASON_HOSTCONFIG_CORRUPT,
     HC ": unexpected end of input at byte 100"},
    {HC, M_ZEROS, NULL, 0, -EBADMSG, RS_REASON_HOSTCONFIG_CORRUPT, HC ": NUL byte at byte 0"},
    {HC, M_CONTENT, "[\"no\"]", 0, -EBADMSG, RS_REASON_HOSTCONFIG_CORRUPT,
     HC ": top level is not an object"},
    {HC, M_CONTENT, "{\"RestartPolicy\": {\"Name\": \"on-failure\", \"MaximumRetryCount\": 1e20}}", 0,
     -ERANGE, RS_REASON_HOSTCONFIG_CORRUPT, HC ": \"RestartPolicy.MaximumRetryCount\" is not an integer"},
    {HC, M_CONTENT, "{\"RestartPolicy\": {\"MaximumRetryCount\": 4294967296}}", 0, -ERANGE,
     RS_REASON_HOSTCONFIG_CORRUPT, HC ": \"RestartPolicy.MaximumRetryCount\" is out of range for int"},
    {HC, M_FIFO, NULL, 0, -EBADF, RS_REASON_HOSTCONFIG_CORRUPT, HC ": not a regular file (fifo)"},
    {HC, M_SYMLINK, NULL, 0, -ELOOP, RS_REASON_HOSTCONFIG_CORRUPT,
     HC ": is a symbolic link; refusing to follow"},
    {HC, M_SPARSE, NULL, 0, -EFBIG, RS_REASON_TOO_LARGE,
     HC ": file is 104857600 bytes, over the 4194304-byte limit"},
    {HC, M_DEEP, NULL, 0, -E2BIG, RS_REASON_TOO_LARGE, HC ": nesting deeper than 64 at byte 64"},

    {NET, M_CONTENT, "", 0, -EBADMSG, RS_REASON_STATE_CORRUPT, NET ": empty file"},
    {NET, M_TRUNCATE, NULL, 30, -EBADMSG, RS_REASON_STATE_CORRUPT,
     NET ": unexpected end of input at byte 30"},
    {NET, M_ZEROS, NULL, 0, -EBADMSG, RS_REASON_STATE_CORRUPT, NET ": NUL byte at byte 0"},
    {NET, M_FIFO, NULL, 0, -EBADF, RS_REASON_STATE_CORRUPT, NET ": not a regular file (fifo)"},
    {NET, M_DIR, NULL, 0, -EBADF, RS_REASON_STATE_CORRUPT, NET ": not a regular file (directory)"},
    {NET, M_SYMLINK, NULL, 0, -ELOOP, RS_REASON_STATE_CORRUPT,
     NET ": is a symbolic link; refusing to follow"},
    {NET, M_SPARSE, NULL, 0, -EFBIG, RS_REASON_TOO_LARGE,
     NET ": file is 104857600 bytes, over the 4194304-byte limit"},
    {NET, M_DEEP, NULL, 0, -E2BIG, RS_REASON_TOO_LARGE, NET ": nesting deeper than 64 at byte 64"},
};

START_TEST(load_failure_table)
{
        const struct fail_row *row = &fail_rows[_i];
        struct rs_container *c = NULL;
        struct rs_error err = {0};
        _cleanup_free_ char *before = NULL;
        size_t len = 0;
        int r;

        mutate(row->file, row->m, row->content, row->len);
        before = snapshot(&len);
        r = load(&c, &err);
        ck_assert_msg(r == row->rc, "%s: rc %d, want %d", row->msg, r, row->rc);
        ck_assert_msg(err.reason == row->reason, "%s: reason %s", row->msg, rs_reason_name(err.reason));
        ck_assert_str_eq(err.msg, row->msg);
        ck_assert_ptr_null(c); /* written only on success */
        assert_unchanged(before, len, row->msg);
}
END_TEST

START_TEST(a_missing_network_settings_file_is_fine)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;
        struct rs_error err = {0};

        mutate(NET, M_REMOVE, NULL, 0);
        ck_assert_int_eq(load(&c, &err), 0);
        ck_assert_int_eq(err.reason, RS_REASON_NONE);
        ck_assert_str_eq(err.msg, "");
}
END_TEST

START_TEST(a_symlinked_container_dir_is_refused)
{
        _cleanup_free_ char *real = tu_path(root, "elsewhere/" ID);
        _cleanup_free_ char *dir = tu_path(root, DIR_REL);
        _cleanup_free_ char *before = NULL;
        struct rs_container *c = NULL;
        struct rs_error err = {0};
        size_t len = 0;

        tu_mkdir_p(root, "elsewhere");
        ck_assert_int_eq(rename(dir, real), 0);
        ck_assert_int_eq(symlink(real, dir), 0);
        before = snapshot(&len);
        ck_assert_int_eq(load(&c, &err), -ELOOP);
        ck_assert_int_eq(err.reason, RS_REASON_NOT_A_DIRECTORY);
        ck_assert_str_eq(err.msg, "runc/" ID ": is a symbolic link; refusing to follow");
        ck_assert_ptr_null(c);
        assert_unchanged(before, len, "symlinked dir");
}
END_TEST

START_TEST(a_file_in_place_of_the_container_dir_is_refused)
{
        struct rs_container *c = NULL;
        struct rs_error err = {0};

        tu_write(root, "engines/runc/0123abcd", "not a directory");
        ck_assert_int_eq(rs_load_container(engines, "runc", "0123abcd", NULL, &c, &err), -ENOTDIR);
        ck_assert_int_eq(err.reason, RS_REASON_NOT_A_DIRECTORY);
        ck_assert_str_eq(err.msg, "runc/0123abcd: not a directory");
}
END_TEST

START_TEST(a_vanished_container_dir_is_an_io_error)
{
        struct rs_container *c = NULL;
        struct rs_error err = {0};

        ck_assert_int_eq(rs_load_container(engines, "runc", "feedface", NULL, &c, &err), -ENOENT);
        ck_assert_int_eq(err.reason, RS_REASON_IO_ERROR);
        ck_assert_str_eq(err.msg, "runc/feedface: No such file or directory");
}
END_TEST

START_TEST(a_fifo_in_place_of_every_file_never_hangs)
{
        const char *files[] = {CFG, HC, "container_state.json", NET};
        struct rs_container *c = NULL;

        /* alarm() in setup turns a hang into a failure; all four at once, the worst case. */
        for (size_t i = 0; i < ARRAY_SIZE(files); i++)
                mutate(files[i], M_FIFO, NULL, 0);
        ck_assert_int_eq(load(&c, NULL), -EBADF);
        ck_assert_ptr_null(c);
}
END_TEST

START_TEST(limits_are_honoured)
{
        struct rs_load_limits small = {.max_file_size = 256, .max_depth = 3};
        struct rs_container *c = NULL;
        struct rs_error err = {0};

        ck_assert_int_eq(rs_load_container(engines, "runc", ID, &small, &c, &err), -EFBIG);
        ck_assert_int_eq(err.reason, RS_REASON_TOO_LARGE);
        ck_assert(strstr(err.msg, "over the 256-byte limit") != NULL);
        put("config.v2.json", "{" OK_COMMON ", \"State\": {}}");
        put("hostconfig.json", "{}");
        put("container_state.json", "{}");
        mutate(NET, M_REMOVE, NULL, 0);
        ck_assert_int_eq(rs_load_container(engines, "runc", ID, &small, &c, &err), 0);
        rs_container_free(c);
        c = NULL;
        put("hostconfig.json", "{\"RestartPolicy\": {\"Name\": [\"no\"]}}");
        ck_assert_int_eq(rs_load_container(engines, "runc", ID, &small, &c, &err), -E2BIG);
        ck_assert_str_eq(err.msg, HC ": nesting deeper than 3 at byte 28");
}
END_TEST

START_TEST(an_unreadable_config_is_an_io_error)
{
        struct rs_container *c = NULL;
        struct rs_error err = {0};
        _cleanup_free_ char *p = cpath(CFG);

        if (geteuid() == 0)
                return; /* root reads a mode-000 file */
        ck_assert_int_eq(chmod(p, 0), 0);
        ck_assert_int_eq(load(&c, &err), -EACCES);
        ck_assert_int_eq(err.reason, RS_REASON_IO_ERROR);
        ck_assert_str_eq(err.msg, CFG ": Permission denied");
}
END_TEST

/* ---- scale ---- */

#define MANY 10000

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_at(int dfd, const char *name, const char *content)
{
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        size_t len = strlen(content);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
        close(fd);
}

/* 10,000 container directories, written with *at() calls to keep the fixture cheap. */
static void write_many(const char *config)
{
        _cleanup_free_ char *runc = tu_path(root, "engines/runc");
        int rfd = open(runc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char id[65];

        ck_assert_int_ge(rfd, 0);
        for (int i = 0; i < MANY; i++) {
                int dfd;
                snprintf(id, sizeof(id), "%064x", i);
                ck_assert_int_eq(mkdirat(rfd, id, 0750), 0);
                dfd = openat(rfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ck_assert_int_ge(dfd, 0);
                write_at(dfd, "config.v2.json", config);
                write_at(dfd, "hostconfig.json", hostconfig);
                write_at(dfd, "container_state.json", state_running);
                write_at(dfd, "network_settings.json", network_settings);
                close(dfd);
        }
        close(rfd);
}

START_TEST(ten_thousand_containers_load_quickly)
{
        _cleanup_free_ char *config = NULL;
        double t0, elapsed;
        char id[65];

        ck_assert_int_gt(asprintf(&config, CONFIG_HEAD "%s", HEALTHCHECK, config_modern), 0);
        write_many(config);
        t0 = now_s();
        for (int i = 0; i < MANY; i++) {
                struct rs_container *c = NULL;
                snprintf(id, sizeof(id), "%064x", i);
                ck_assert_int_eq(rs_load_container(engines, "runc", id, NULL, &c, NULL), 0);
                ck_assert(c->health_configured && c->state.running);
                rs_container_free(c);
        }
        elapsed = now_s() - t0;
        fprintf(stderr, "load: %d containers in %.3f s on one thread\n", MANY, elapsed);
        /* About 0.3 s on one core of the 2-core CI machine at -O2; the bound leaves room for a
         * Debug build under ASan on a busy machine and still catches a quadratic slip. */
        ck_assert_msg(elapsed < 15.0, "took %.3f s", elapsed);
}
END_TEST

static Suite *load_suite(void)
{
        Suite *s = suite_create("load");
        TCase *ok = tcase_create("success");
        TCase *num = tcase_create("numbers");
        TCase *fallback = tcase_create("fallback");
        TCase *fail = tcase_create("failure");
        TCase *scale = tcase_create("scale");
        TCase *all[] = {ok, num, fallback, fail, scale};

        for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
                /* The scale case is bounded by its own timeout rather than the FIFO alarm. */
                tcase_add_checked_fixture(all[i], all[i] == scale ? setup_scale : setup, teardown);
                suite_add_tcase(s, all[i]);
        }
        tcase_add_test(ok, a_running_container_loads_every_field);
        tcase_add_test(ok, dir_path_joins_engines_runtime_and_dir);
        tcase_add_test(ok, a_successful_load_writes_nothing);
        tcase_add_test(ok, absent_keys_take_isulads_defaults);
        tcase_add_test(ok, a_stopped_container_keeps_exit_code_restart_count_and_manual_stop);
        tcase_add_test(ok, wrong_typed_keys_are_ignored);
        tcase_add_test(ok, wrong_typed_keys_inside_health_and_restart_policy_are_ignored);
        tcase_add_test(ok, keys_are_case_sensitive);
        tcase_add_test(ok, auto_remove_bak_is_read_on_its_own);
        tcase_add_test(ok, unknown_keys_are_tolerated_and_kept_in_order_in_state_doc);
        tcase_add_test(ok, the_id_and_name_are_not_validated_at_load);
        tcase_add_test(ok, a_sandbox_container_is_flagged);
        tcase_add_test(ok, a_missing_network_settings_file_is_fine);
        tcase_add_loop_test(ok, health_configured_table, 0, (int)ARRAY_SIZE(health_rows));
        tcase_add_loop_test(num, state_numbers_table, 0, (int)ARRAY_SIZE(number_rows));
        tcase_add_test(num, good_numbers_keep_their_values);
        tcase_add_test(fallback, a_missing_state_file_falls_back_to_the_config_state);
        tcase_add_test(fallback, a_modern_empty_config_state_falls_back_to_unknown);
        tcase_add_test(fallback, a_bad_number_in_the_fallback_state_fails_the_load);
        tcase_add_loop_test(fallback, an_unreadable_state_file_falls_back_and_says_why, 0,
                            (int)ARRAY_SIZE(unreadable_rows));
        tcase_add_loop_test(fail, load_failure_table, 0, (int)ARRAY_SIZE(fail_rows));
        tcase_add_test(fail, a_symlinked_container_dir_is_refused);
        tcase_add_test(fail, a_file_in_place_of_the_container_dir_is_refused);
        tcase_add_test(fail, a_vanished_container_dir_is_an_io_error);
        tcase_add_test(fail, a_fifo_in_place_of_every_file_never_hangs);
        tcase_add_test(fail, limits_are_honoured);
        tcase_add_test(fail, an_unreadable_config_is_an_io_error);
        tcase_add_test(scale, ten_thousand_containers_load_quickly);
        tcase_set_timeout(scale, 110);
        return s;
}

int main(void)
{
        return tu_run_suite(load_suite());
}
