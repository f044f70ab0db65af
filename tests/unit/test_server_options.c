/* test_server_options.c - defaults, flags, the config file, and every way they can be wrong. */
#include <check.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "testutil.h"

#define MAX_ARGS 64

static char *root;
static char *missing_default; /* a default config path that does not exist */
static char err[512];

static void setup(void)
{
        root = tu_mkdtemp();
        missing_default = tu_path(root, "absent/restored.json");
        err[0] = '\0';
}

static void teardown(void)
{
        tu_rm_rf(root);
        free(root);
        free(missing_default);
}

/* Runs rd_options_load_at with a NULL-terminated flag list; the default config is absent. */
static int load_v(struct rd_options *o, const char *default_config, va_list ap)
{
        char *argv[MAX_ARGS] = {"restored"};
        int argc = 1;
        const char *a;

        while ((a = va_arg(ap, const char *)) != NULL) {
                ck_assert_int_lt(argc, MAX_ARGS - 1);
                argv[argc++] = (char *)a;
        }
        argv[argc] = NULL;
        return rd_options_load_at(argc, argv, default_config, o, err, sizeof(err));
}

static int load(struct rd_options *o, ...)
{
        va_list ap;
        int r;

        va_start(ap, o);
        r = load_v(o, missing_default, ap);
        va_end(ap);
        return r;
}

static int load_default(struct rd_options *o, const char *default_config, ...)
{
        va_list ap;
        int r;

        va_start(ap, default_config);
        r = load_v(o, default_config, ap);
        va_end(ap);
        return r;
}

/* Writes a config file into the temp dir and returns its path (owned by the caller). */
static char *config(const char *json)
{
        tu_write(root, "restored.json", json);
        return tu_path(root, "restored.json");
}

static void assert_err(const char *needle)
{
        ck_assert_msg(strstr(err, needle) != NULL, "error \"%s\" lacks \"%s\"", err, needle);
}

static const char *runtime_path(const struct rd_options *o, const char *name)
{
        for (size_t i = 0; i < o->n_runtimes; i++)
                if (strcmp(o->runtimes[i].name, name) == 0)
                        return o->runtimes[i].path;
        return NULL;
}

START_TEST(no_flags_and_no_config_file_give_the_contract_defaults)
{
        struct rd_options o;

        ck_assert_int_eq(load(&o, NULL), 0);
        ck_assert_str_eq(o.graph, "/var/lib/isulad");
        ck_assert_str_eq(o.state, "/var/run/isulad");
        ck_assert_str_eq(o.socket, "/run/isulad/restore.sock");
        ck_assert_ptr_null(o.listen);
        ck_assert_ptr_null(o.tls_cert);
        ck_assert_ptr_null(o.tls_key);
        ck_assert_ptr_null(o.tls_ca);
        ck_assert(!o.listen_allow_write);
        ck_assert_uint_eq(o.n_runtimes, 0);
        ck_assert_uint_eq(o.runtime_timeout, 5);
        ck_assert_uint_eq(o.workers, 0);
        ck_assert_uint_eq(o.max_parallel_restarts, 4);
        ck_assert(!o.restore_on_start);
        ck_assert_uint_eq(o.read_gid, RD_GID_NONE);
        ck_assert_uint_eq(o.admin_gid, RD_GID_NONE);
        ck_assert_int_eq(o.log_level, RD_LOG_INFO);
        ck_assert_ptr_null(o.config); /* the missing default file is fine and not recorded */
        ck_assert_str_eq(err, "");
        rd_options_done(&o);
}
END_TEST

START_TEST(every_flag_sets_its_field)
{
        struct rd_options o;

        ck_assert_int_eq(load(&o, "--graph", "/g", "--state=/s", "--socket", "/tmp/r.sock", "--listen",
                              "127.0.0.1:7443", "--tls-cert", "/c.pem", "--tls-key", "/k.pem", "--tls-ca",
                              "/ca.pem", "--listen-allow-write", "--runtime", "runc=/usr/sbin/runc",
                              "--runtime", "kata-runtime=kata", "--runtime-timeout", "30", "--workers", "16",
                              "--max-parallel-restarts=2", "--restore-on-start", "--read-gid", "991",
                              "--admin-gid", "990", "--log-level", "debug", NULL),
                         0);
        ck_assert_str_eq(o.graph, "/g");
        ck_assert_str_eq(o.state, "/s");
        ck_assert_str_eq(o.socket, "/tmp/r.sock");
        ck_assert_str_eq(o.listen, "127.0.0.1:7443");
        ck_assert_str_eq(o.tls_cert, "/c.pem");
        ck_assert_str_eq(o.tls_key, "/k.pem");
        ck_assert_str_eq(o.tls_ca, "/ca.pem");
        ck_assert(o.listen_allow_write);
        ck_assert_uint_eq(o.n_runtimes, 2);
        ck_assert_str_eq(o.runtimes[0].name, "runc");
        ck_assert_str_eq(o.runtimes[0].path, "/usr/sbin/runc");
        ck_assert_str_eq(o.runtimes[1].name, "kata-runtime");
        ck_assert_str_eq(o.runtimes[1].path, "kata");
        ck_assert_uint_eq(o.runtime_timeout, 30);
        ck_assert_uint_eq(o.workers, 16);
        ck_assert_uint_eq(o.max_parallel_restarts, 2);
        ck_assert(o.restore_on_start);
        ck_assert_uint_eq(o.read_gid, 991);
        ck_assert_uint_eq(o.admin_gid, 990);
        ck_assert_int_eq(o.log_level, RD_LOG_DEBUG);
        rd_options_done(&o);
}
END_TEST

START_TEST(every_config_key_sets_its_field)
{
        struct rd_options o;
        char *path = config("{\"graph\": \"/g\", \"state\": \"/s\", \"socket\": \"/tmp/r.sock\","
                            " \"listen\": \"[::1]:7443\", \"tls-cert\": \"/c.pem\", \"tls-key\": \"/k.pem\","
                            " \"tls-ca\": \"/ca.pem\", \"listen-allow-write\": true,"
                            " \"runtime\": {\"runc\": \"/usr/bin/runc\", \"lcr\": \"/usr/bin/lcr\"},"
                            " \"runtime-timeout\": 600, \"workers\": 1024, \"max-parallel-restarts\": 1024,"
                            " \"restore-on-start\": true, \"read-gid\": 991, \"admin-gid\": \"root\","
                            " \"log-level\": \"warning\"}");

        ck_assert_int_eq(load(&o, "--config", path, NULL), 0);
        ck_assert_str_eq(o.graph, "/g");
        ck_assert_str_eq(o.state, "/s");
        ck_assert_str_eq(o.socket, "/tmp/r.sock");
        ck_assert_str_eq(o.listen, "[::1]:7443");
        ck_assert_str_eq(o.tls_cert, "/c.pem");
        ck_assert_str_eq(o.tls_key, "/k.pem");
        ck_assert_str_eq(o.tls_ca, "/ca.pem");
        ck_assert(o.listen_allow_write);
        ck_assert_uint_eq(o.n_runtimes, 2);
        ck_assert_str_eq(runtime_path(&o, "runc"), "/usr/bin/runc");
        ck_assert_str_eq(runtime_path(&o, "lcr"), "/usr/bin/lcr");
        ck_assert_uint_eq(o.runtime_timeout, 600);
        ck_assert_uint_eq(o.workers, 1024);
        ck_assert_uint_eq(o.max_parallel_restarts, 1024);
        ck_assert(o.restore_on_start);
        ck_assert_uint_eq(o.read_gid, 991);
        ck_assert_uint_eq(o.admin_gid, 0);
        ck_assert_int_eq(o.log_level, RD_LOG_WARNING);
        ck_assert_str_eq(o.config, path);
        rd_options_done(&o);
        free(path);
}
END_TEST

START_TEST(runtime_key_also_takes_an_array_of_name_equals_path)
{
        struct rd_options o;
        char *path = config("{\"runtime\": [\"runc=/usr/bin/runc\", \"crun=crun\"]}");

        ck_assert_int_eq(load(&o, "--config", path, NULL), 0);
        ck_assert_uint_eq(o.n_runtimes, 2);
        ck_assert_str_eq(runtime_path(&o, "runc"), "/usr/bin/runc");
        ck_assert_str_eq(runtime_path(&o, "crun"), "crun");
        rd_options_done(&o);
        free(path);
}
END_TEST

START_TEST(flags_override_the_file_and_runtimes_merge_by_name)
{
        struct rd_options o;
        char *path = config("{\"graph\": \"/from-file\", \"state\": \"/state-from-file\","
                            " \"workers\": 8, \"restore-on-start\": true,"
                            " \"runtime\": {\"runc\": \"/file/runc\", \"lcr\": \"/file/lcr\"}}");

        ck_assert_int_eq(load(&o, "--graph", "/from-flag", "--workers", "2", "--restore-on-start=false",
                              "--runtime", "runc=/flag/runc", "--config", path, NULL),
                         0);
        ck_assert_str_eq(o.graph, "/from-flag");
        ck_assert_str_eq(o.state, "/state-from-file"); /* not given as a flag: the file's */
        ck_assert_uint_eq(o.workers, 2);
        ck_assert(!o.restore_on_start);
        ck_assert_uint_eq(o.n_runtimes, 2);
        ck_assert_str_eq(runtime_path(&o, "runc"), "/flag/runc");
        ck_assert_str_eq(runtime_path(&o, "lcr"), "/file/lcr");
        rd_options_done(&o);
        free(path);
}
END_TEST

START_TEST(the_default_config_file_is_read_when_present)
{
        struct rd_options o;
        char *path = config("{\"max-parallel-restarts\": 9}");

        ck_assert_int_eq(load_default(&o, path, NULL), 0);
        ck_assert_uint_eq(o.max_parallel_restarts, 9);
        ck_assert_str_eq(o.config, path);
        rd_options_done(&o);
        free(path);
}
END_TEST

START_TEST(null_keeps_the_default)
{
        struct rd_options o;
        char *path = config("{\"listen\": null, \"admin-gid\": null, \"workers\": null, \"graph\": null}");

        ck_assert_int_eq(load(&o, "--config", path, NULL), 0);
        ck_assert_ptr_null(o.listen);
        ck_assert_uint_eq(o.admin_gid, RD_GID_NONE);
        ck_assert_uint_eq(o.workers, 0);
        ck_assert_str_eq(o.graph, "/var/lib/isulad");
        rd_options_done(&o);
        free(path);
}
END_TEST

START_TEST(the_shipped_example_config_is_valid)
{
        /* deploy/restored.json sits three levels above this file in the source tree. */
        char *src = strdup(__FILE__), *cut = strstr(src, "tests/unit/");
        char *example = NULL;
        struct rd_options o;

        ck_assert_ptr_nonnull(cut);
        *cut = '\0';
        ck_assert_int_gt(asprintf(&example, "%sdeploy/restored.json", src), 0);
        ck_assert_msg(access(example, R_OK) == 0, "%s: %m", example);
        ck_assert_msg(load(&o, "--config", example, NULL) == 0, "%s", err);
        ck_assert_str_eq(o.graph, RD_DEFAULT_GRAPH);
        ck_assert_uint_eq(o.runtime_timeout, RD_DEFAULT_RUNTIME_TIMEOUT);
        ck_assert_uint_eq(o.max_parallel_restarts, RD_DEFAULT_MAX_PARALLEL_RESTARTS);
        rd_options_done(&o);
        free(example);
        free(src);
}
END_TEST

START_TEST(a_missing_explicit_config_file_is_an_error)
{
        struct rd_options o = {.workers = 77};
        char *path = tu_path(root, "nope.json");

        ck_assert_int_lt(load(&o, "--config", path, NULL), 0);
        assert_err("--config ");
        assert_err(path);
        assert_err("No such file or directory");
        ck_assert_uint_eq(o.workers, 77); /* ret untouched on error */
        free(path);
}
END_TEST

START_TEST(a_directory_as_config_file_is_an_error)
{
        ck_assert_int_lt(load(&(struct rd_options){0}, "--config", root, NULL), 0);
        assert_err("not a regular file");
}
END_TEST

/* Config file errors: the message names the file and the key. */
static const struct {
        const char *json;
        const char *message; /* after "<file>: " */
} bad_files[] = {
    {"{\"workers\": \"many\"}", "key \"workers\": expected a number from 0 to 1024, got \"many\""},
    {"{\"workers\": 1025}", "key \"workers\": expected a number from 0 to 1024, got 1025"},
    {"{\"workers\": -1}", "key \"workers\": expected a number from 0 to 1024, got -1"},
    {"{\"workers\": 2.5}", "key \"workers\": expected a number from 0 to 1024, got 2.5"},
    {"{\"runtime-timeout\": 0}", "key \"runtime-timeout\": expected a number from 1 to 600, got 0"},
    {"{\"runtime-timeout\": 601}", "key \"runtime-timeout\": expected a number from 1 to 600, got 601"},
    {"{\"max-parallel-restarts\": 0}",
     "key \"max-parallel-restarts\": expected a number from 1 to 1024, got 0"},
    {"{\"max-parallel-restarts\": 1025}",
     "key \"max-parallel-restarts\": expected a number from 1 to 1024, got 1025"},
    {"{\"restore-on-start\": \"yes\"}", "key \"restore-on-start\": expected true or false, got \"yes\""},
    {"{\"graph\": 5}", "key \"graph\": expected a string, got 5"},
    {"{\"graph\": \"\"}", "key \"graph\": expected a non-empty path"},
    {"{\"log-level\": \"loud\"}", "key \"log-level\": expected error, warning, info or debug, got \"loud\""},
    {"{\"admin-gid\": true}", "key \"admin-gid\": expected a group number or name, got true"},
    {"{\"admin-gid\": \"no-such-group-here\"}",
     "key \"admin-gid\": no such group, got \"no-such-group-here\""},
    {"{\"read-gid\": -5}", "key \"read-gid\": group number out of range, got -5"},
    {"{\"runtime\": \"runc\"}", "key \"runtime\": expected an object {\"NAME\": \"PATH\"} or an array"},
    {"{\"runtime\": {\"runc\": 1}}", "key \"runtime\": expected a path string for each runtime, got 1"},
    {"{\"runtime\": [\"runc\"]}", "key \"runtime\": expected NAME=PATH, got \"runc\""},
    {"{\"runtime\": {\"a/b\": \"/x\"}}",
     "key \"runtime\": expected NAME=PATH with NAME an engine directory name, got \"a/b\": \"/x\""},
    {"{\"runtime\": {\"runc\": \"rel/runc\"}}",
     "key \"runtime\": expected NAME=PATH with PATH absolute or a command name, got \"runc\": \"rel/runc\""},
    {"{\"runtime\": [7]}", "key \"runtime\": expected \"NAME=PATH\" strings, got 7"},
    {"{\"listen\": \"7443\"}", "key \"listen\": expected HOST:PORT"},
    {"{\"wrokers\": 4}", "unknown key \"wrokers\""},
    {"{\"config\": \"/x\"}", "key \"config\" is only valid on the command line"},
    {"{\"help\": true}", "key \"help\" is only valid on the command line"},
    {"[1, 2]", "expected a JSON object at the top level"},
    {"{\"graph\": \"/g\"", "invalid JSON: unexpected end of input at byte 14"},
    {"{\"graph\" \"/g\"}", "invalid JSON at byte 9"},
    {"{} {}", "invalid JSON: unexpected data after the object at byte 3"},
    {"", "invalid JSON: unexpected end of input at byte 0"},
};

START_TEST(bad_config_files_name_the_file_and_the_key)
{
        char *path = config(bad_files[_i].json);
        char *expected = NULL;

        ck_assert_int_gt(asprintf(&expected, "%s: %s", path, bad_files[_i].message), 0);
        ck_assert_msg(load(&(struct rd_options){0}, "--config", path, NULL) < 0, "accepted %s",
                      bad_files[_i].json);
        ck_assert_msg(strncmp(err, expected, strlen(expected)) == 0, "got \"%s\"\nwanted \"%s\"", err,
                      expected);
        free(expected);
        free(path);
}
END_TEST

/* Flag errors: the message names the flag. */
static const struct {
        const char *args[4];
        const char *message; /* prefix of the error */
} bad_flags[] = {
    {{"--workers", "many"}, "--workers: expected a number from 0 to 1024, got \"many\""},
    {{"--workers", "-1"}, "--workers: expected a number from 0 to 1024, got \"-1\""},
    {{"--workers", "1025"}, "--workers: expected a number from 0 to 1024, got \"1025\""},
    {{"--workers", ""}, "--workers: expected a number from 0 to 1024, got \"\""},
    {{"--runtime-timeout", "0"}, "--runtime-timeout: expected a number from 1 to 600, got \"0\""},
    {{"--runtime-timeout", "601"}, "--runtime-timeout: expected a number from 1 to 600, got \"601\""},
    {{"--runtime-timeout", "5s"}, "--runtime-timeout: expected a number from 1 to 600, got \"5s\""},
    {{"--max-parallel-restarts", "0"},
     "--max-parallel-restarts: expected a number from 1 to 1024, got \"0\""},
    {{"--max-parallel-restarts=99999999999999999999"},
     "--max-parallel-restarts: expected a number from 1 to 1024, got \"99999999999999999999\""},
    {{"--graph", ""}, "--graph: expected a non-empty path"},
    {{"--graph"}, "--graph needs a value (DIR)"},
    {{"--log-level", "verbose"}, "--log-level: expected error, warning, info or debug, got \"verbose\""},
    {{"--runtime", "runc"}, "--runtime: expected NAME=PATH, got \"runc\""},
    {{"--runtime", "=/usr/bin/runc"}, "--runtime: expected NAME=PATH with NAME an engine directory name"},
    {{"--runtime", "a/b=/usr/bin/runc"}, "--runtime: expected NAME=PATH with NAME an engine directory name"},
    {{"--runtime", "..=/usr/bin/runc"}, "--runtime: expected NAME=PATH with NAME an engine directory name"},
    {{"--runtime", "runc="}, "--runtime: expected NAME=PATH with PATH absolute or a command name"},
    {{"--runtime", "runc=bin/runc"}, "--runtime: expected NAME=PATH with PATH absolute or a command name"},
    {{"--admin-gid", "no-such-group-here"}, "--admin-gid: no such group, got \"no-such-group-here\""},
    {{"--read-gid", "4294967295"}, "--read-gid: group number out of range"},
    {{"--socket", "/tmp/0123456789012345678901234567890123456789012345678901234567890123456789"
                  "01234567890123456789012345678901234567890"},
     "--socket: expected a non-empty path shorter than 108 bytes"},
    {{"--listen", "7443"}, "--listen: expected HOST:PORT"},
    {{"--listen", ":7443"}, "--listen: expected HOST:PORT"},
    {{"--listen", "host:0"}, "--listen: expected HOST:PORT"},
    {{"--listen", "host:65536"}, "--listen: expected HOST:PORT"},
    {{"--listen", "::1:7443"}, "--listen: expected HOST:PORT"},
    {{"--listen", "[]:7443"}, "--listen: expected HOST:PORT"},
    {{"--restore-on-start=maybe"}, "--restore-on-start: expected true or false, got \"maybe\""},
    {{"--wrokers", "4"}, "unknown flag \"--wrokers\""},
    {{"-w"}, "unknown flag \"-w\""},
    {{"--"}, "unknown flag \"--\""},
    {{"serve"}, "unexpected argument \"serve\": restored takes only flags"},
    {{"--help=yes"}, "--help takes no value"},
    {{"--config", ""}, "--config: expected a non-empty path"},
    {{"--tls-cert", "/c.pem"}, "--tls-cert and --tls-key must be given together"},
    {{"--tls-key", "/k.pem"}, "--tls-cert and --tls-key must be given together"},
    {{"--listen", "0.0.0.0:7443"}, "--listen requires --tls-cert and --tls-key"},
    {{"--tls-ca", "/ca.pem"}, "--tls-cert, --tls-key and --tls-ca only apply to --listen"},
    {{"--listen-allow-write"}, "--listen-allow-write only applies to --listen"},
};

START_TEST(bad_flags_name_the_flag)
{
        char *argv[8] = {"restored"};
        int argc = 1;

        for (size_t i = 0; i < 4 && bad_flags[_i].args[i]; i++)
                argv[argc++] = (char *)bad_flags[_i].args[i];
        ck_assert_msg(
            rd_options_load_at(argc, argv, missing_default, &(struct rd_options){0}, err, sizeof(err)) < 0,
            "accepted %s %s", argv[1], argc > 2 ? argv[2] : "");
        ck_assert_msg(strncmp(err, bad_flags[_i].message, strlen(bad_flags[_i].message)) == 0,
                      "got \"%s\"\nwanted \"%s\"", err, bad_flags[_i].message);
}
END_TEST

START_TEST(range_boundaries_are_accepted)
{
        struct rd_options o;

        ck_assert_int_eq(
            load(&o, "--runtime-timeout", "1", "--workers", "0", "--max-parallel-restarts", "1", NULL), 0);
        ck_assert_uint_eq(o.runtime_timeout, 1);
        ck_assert_uint_eq(o.workers, 0);
        ck_assert_uint_eq(o.max_parallel_restarts, 1);
        rd_options_done(&o);
        ck_assert_int_eq(load(&o, "--runtime-timeout", "600", "--workers", "1024", "--max-parallel-restarts",
                              "1024", NULL),
                         0);
        ck_assert_uint_eq(o.runtime_timeout, 600);
        ck_assert_uint_eq(o.workers, 1024);
        ck_assert_uint_eq(o.max_parallel_restarts, 1024);
        rd_options_done(&o);
}
END_TEST

START_TEST(group_names_resolve_through_the_group_database)
{
        struct group *daemon_group = getgrnam("daemon");
        struct rd_options o;

        ck_assert_int_eq(load(&o, "--admin-gid", "root", "--read-gid", "4242", NULL), 0);
        ck_assert_uint_eq(o.admin_gid, 0);
        ck_assert_uint_eq(o.read_gid, 4242); /* a number needs no group entry */
        rd_options_done(&o);
        if (daemon_group) {
                gid_t want = daemon_group->gr_gid;
                ck_assert_int_eq(load(&o, "--read-gid", "daemon", NULL), 0);
                ck_assert_uint_eq(o.read_gid, want);
                rd_options_done(&o);
        }
}
END_TEST

START_TEST(tls_options_are_accepted_together)
{
        struct rd_options o;

        ck_assert_int_eq(load(&o, "--listen", "0.0.0.0:7443", "--tls-cert", "/c", "--tls-key", "/k", NULL),
                         0);
        ck_assert_ptr_null(o.tls_ca); /* TLS without client certificates: read-only for all */
        rd_options_done(&o);
}
END_TEST

START_TEST(listen_allow_write_needs_client_certificates)
{
        ck_assert_int_lt(load(&(struct rd_options){0}, "--listen", "0.0.0.0:7443", "--tls-cert", "/c",
                              "--tls-key", "/k", "--listen-allow-write", NULL),
                         0);
        assert_err("--listen-allow-write requires --tls-ca");
}
END_TEST

START_TEST(tls_checks_apply_to_the_merged_configuration)
{
        /* listen comes from the file, the certificate from the flags: together they are valid. */
        char *path = config("{\"listen\": \"127.0.0.1:7443\"}");
        struct rd_options o;

        ck_assert_int_lt(load(&o, "--config", path, NULL), 0);
        assert_err("--listen requires --tls-cert and --tls-key");
        ck_assert_int_eq(load(&o, "--config", path, "--tls-cert", "/c", "--tls-key", "/k", NULL), 0);
        ck_assert_str_eq(o.listen, "127.0.0.1:7443");
        rd_options_done(&o);
        free(path);
}
END_TEST

START_TEST(a_later_flag_wins_over_an_earlier_one)
{
        struct rd_options o;

        ck_assert_int_eq(
            load(&o, "--graph", "/a", "--graph", "/b", "--runtime", "runc=/x", "--runtime", "runc=/y", NULL),
            0);
        ck_assert_str_eq(o.graph, "/b");
        ck_assert_uint_eq(o.n_runtimes, 1);
        ck_assert_str_eq(o.runtimes[0].path, "/y");
        rd_options_done(&o);
}
END_TEST

START_TEST(boolean_flags_take_an_optional_value)
{
        struct rd_options o;

        ck_assert_int_eq(load(&o, "--restore-on-start=true", NULL), 0);
        ck_assert(o.restore_on_start);
        rd_options_done(&o);
        ck_assert_int_eq(load(&o, "--restore-on-start", "--restore-on-start=no", NULL), 0);
        ck_assert(!o.restore_on_start);
        rd_options_done(&o);
}
END_TEST

START_TEST(log_levels_parse)
{
        static const struct {
                const char *word;
                enum rd_log_level level;
        } levels[] = {{"error", RD_LOG_ERROR},
                      {"warning", RD_LOG_WARNING},
                      {"info", RD_LOG_INFO},
                      {"debug", RD_LOG_DEBUG}};
        struct rd_options o;

        for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
                ck_assert_int_eq(load(&o, "--log-level", levels[i].word, NULL), 0);
                ck_assert_int_eq(o.log_level, levels[i].level);
                rd_options_done(&o);
        }
}
END_TEST

/* Runs a load with stdout sent to a file; returns what was printed. */
static char *capture_stdout(int *ret_r, const char *flag)
{
        char *argv[] = {"restored", (char *)flag, NULL};
        char *path = tu_path(root, "stdout");
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int saved = dup(STDOUT_FILENO);
        char *out;

        ck_assert_int_ge(fd, 0);
        fflush(stdout);
        dup2(fd, STDOUT_FILENO);
        *ret_r = rd_options_load_at(2, argv, missing_default, &(struct rd_options){0}, err, sizeof(err));
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
        close(saved);
        close(fd);
        out = tu_read(root, "stdout", NULL);
        free(path);
        return out;
}

START_TEST(help_teaches_every_flag_with_its_default_and_exits_zero)
{
        static const char *const flags[] = {
            "--graph DIR",
            "--state DIR",
            "--socket PATH",
            "--listen HOST:PORT",
            "--tls-cert FILE",
            "--tls-key FILE",
            "--tls-ca FILE",
            "--listen-allow-write",
            "--runtime NAME=PATH",
            "--runtime-timeout SEC",
            "--workers N",
            "--max-parallel-restarts N",
            "--restore-on-start",
            "--read-gid GID",
            "--admin-gid GID",
            "--log-level LEVEL",
            "--config FILE",
            "--help",
            "--version",
            /* defaults */
            "(default: /var/lib/isulad)",
            "(default: /var/run/isulad)",
            "(default: /run/isulad/restore.sock)",
            "(default: 5)",
            "(default: 4)",
            "(default: info)",
            "(default: /etc/isulad/restored.json)",
            /* the config file, an example, the docs */
            "Config file:",
            "Examples:",
            "man 8 restored",
            "operations.md",
        };
        int r;
        char *out = capture_stdout(&r, "--help");

        ck_assert_int_eq(r, 1);
        for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
                ck_assert_msg(strstr(out, flags[i]), "--help lacks \"%s\"", flags[i]);
        free(out);
        out = capture_stdout(&r, "-h");
        ck_assert_int_eq(r, 1);
        ck_assert_ptr_nonnull(strstr(out, "Usage: restored"));
        free(out);
}
END_TEST

START_TEST(version_prints_the_version_and_exits_zero)
{
        int r;
        char *out = capture_stdout(&r, "--version");

        ck_assert_int_eq(r, 1);
        ck_assert_str_eq(out, "restored " RESTORED_VERSION "\n");
        free(out);
}
END_TEST

START_TEST(help_wins_over_a_bad_config_file)
{
        /* --help must work on a broken installation: it never reads the config file. */
        char *path = config("{not json");
        char *argv[] = {"restored", "--help", NULL};
        int saved = dup(STDOUT_FILENO), devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

        fflush(stdout);
        dup2(devnull, STDOUT_FILENO);
        ck_assert_int_eq(rd_options_load_at(2, argv, path, &(struct rd_options){0}, err, sizeof(err)), 1);
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
        close(saved);
        close(devnull);
        free(path);
}
END_TEST

START_TEST(done_is_idempotent_and_null_safe)
{
        struct rd_options o;

        ck_assert_int_eq(load(&o, "--runtime", "runc=/x", NULL), 0);
        rd_options_done(&o);
        rd_options_done(&o);
        rd_options_done(NULL);
        ck_assert_ptr_null(o.graph);
        ck_assert_uint_eq(o.n_runtimes, 0);
}
END_TEST

static Suite *options_suite(void)
{
        Suite *s = suite_create("options");
        TCase *tc = tcase_create("options");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, no_flags_and_no_config_file_give_the_contract_defaults);
        tcase_add_test(tc, every_flag_sets_its_field);
        tcase_add_test(tc, every_config_key_sets_its_field);
        tcase_add_test(tc, runtime_key_also_takes_an_array_of_name_equals_path);
        tcase_add_test(tc, flags_override_the_file_and_runtimes_merge_by_name);
        tcase_add_test(tc, the_default_config_file_is_read_when_present);
        tcase_add_test(tc, null_keeps_the_default);
        tcase_add_test(tc, the_shipped_example_config_is_valid);
        tcase_add_test(tc, a_missing_explicit_config_file_is_an_error);
        tcase_add_test(tc, a_directory_as_config_file_is_an_error);
        tcase_add_loop_test(tc, bad_config_files_name_the_file_and_the_key, 0,
                            (int)(sizeof(bad_files) / sizeof(bad_files[0])));
        tcase_add_loop_test(tc, bad_flags_name_the_flag, 0, (int)(sizeof(bad_flags) / sizeof(bad_flags[0])));
        tcase_add_test(tc, range_boundaries_are_accepted);
        tcase_add_test(tc, group_names_resolve_through_the_group_database);
        tcase_add_test(tc, tls_options_are_accepted_together);
        tcase_add_test(tc, listen_allow_write_needs_client_certificates);
        tcase_add_test(tc, tls_checks_apply_to_the_merged_configuration);
        tcase_add_test(tc, a_later_flag_wins_over_an_earlier_one);
        tcase_add_test(tc, boolean_flags_take_an_optional_value);
        tcase_add_test(tc, log_levels_parse);
        tcase_add_test(tc, help_teaches_every_flag_with_its_default_and_exits_zero);
        tcase_add_test(tc, version_prints_the_version_and_exits_zero);
        tcase_add_test(tc, help_wins_over_a_bad_config_file);
        tcase_add_test(tc, done_is_idempotent_and_null_safe);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return tu_run_suite(options_suite());
}
