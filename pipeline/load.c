/*
 * load.c - the load stage: iSulad's container_load() over one container directory.
 *
 * Reading rules are those of the lcr-generated parsers iSulad uses (research §1.4): keys are
 * case-sensitive, unknown keys are ignored, a known key of the wrong JSON type is silently
 * ignored, and a number that does not fit its C type fails the whole document. Only the
 * handful of keys restore decides on are read; the documents stay on disk untouched, except
 * that the state document is kept for a later write-back that preserves what it does not know.
 */
#include "load.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "jsonfile.h"

#define CONFIG_FILE     "config.v2.json"
#define HOSTCONFIG_FILE "hostconfig.json"
#define STATE_FILE      "container_state.json"
#define NETWORK_FILE    "network_settings.json"

/* Where a document came from, for messages: the file, the key path prefix, the reason. */
struct doc_ctx {
        const char *file;
        const char *prefix; /* "" for container_state.json, "State." inside config.v2.json */
        rs_reason reason;
};

static void json_putp(struct json_object **o)
{
        json_object_put(*o);
}

static int oom(struct rs_error *err)
{
        return rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, "out of memory");
}

/* A key of the wrong JSON type is as good as absent (lcr's get_val() with a type filter). */
static struct json_object *get_typed(struct json_object *obj, const char *key, json_type type)
{
        struct json_object *v = NULL;

        if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, type))
                return NULL;
        return v;
}

static void get_bool(struct json_object *obj, const char *key, bool *dst)
{
        struct json_object *v = get_typed(obj, key, json_type_boolean);

        if (v)
                *dst = json_object_get_boolean(v);
}

static int dup_string(struct json_object *obj, const char *key, char **dst)
{
        struct json_object *v = get_typed(obj, key, json_type_string);

        if (!v)
                return 0;
        *dst = strdup(json_object_get_string(v));
        return *dst ? 0 : -ENOMEM;
}

/* Copies a string value, truncated to fit; the caller only compares it. */
static void copy_string(struct json_object *v, char *dst, size_t size)
{
        size_t len = (size_t)json_object_get_string_len(v);

        if (len >= size)
                len = size - 1;
        memcpy(dst, json_object_get_string(v), len);
        dst[len] = '\0';
}

static struct json_object *get_number(struct json_object *obj, const char *key)
{
        struct json_object *v = NULL;

        if (!json_object_object_get_ex(obj, key, &v))
                return NULL;
        if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
                return NULL;
        return v;
}

/*
 * lcr's common_safe_int(): strtoll over the number's text, which refuses a fraction or an
 * exponent and anything outside int. Returns why the number fails, or NULL.
 */
static const char *read_int(struct json_object *obj, const char *key, int *dst)
{
        struct json_object *v = get_number(obj, key);
        int64_t i;

        if (!v)
                return NULL;
        if (json_object_is_type(v, json_type_double))
                return "is not an integer";
        i = json_object_get_int64(v);
        if (i < INT_MIN || i > INT_MAX)
                return "is out of range for int";
        *dst = (int)i;
        return NULL;
}

/*
 * lcr's common_safe_uint64(). json-c saturates an integer above 2^64-1 to UINT64_MAX, so that
 * value is refused too: no process start time (clock ticks since boot) ever reaches it.
 */
static const char *read_u64(struct json_object *obj, const char *key, uint64_t *dst)
{
        struct json_object *v = get_number(obj, key);
        uint64_t u;

        if (!v)
                return NULL;
        if (json_object_is_type(v, json_type_double))
                return "is not an integer";
        if (json_object_get_int64(v) < 0)
                return "is negative";
        u = json_object_get_uint64(v);
        if (u == UINT64_MAX)
                return "is out of range for uint64";
        *dst = u;
        return NULL;
}

static int bad_number(const struct doc_ctx *ctx, const char *key, const char *why, struct rs_error *err)
{
        return rs_fail(err, -ERANGE, ctx->reason, "%s: \"%s%s\" %s", ctx->file, ctx->prefix, key, why);
}

enum key_kind { K_BOOL, K_INT, K_U64, K_TIME, K_PRESENT };

struct state_key {
        const char *key;
        enum key_kind kind;
        size_t off;     /* the field in struct rs_state */
        size_t has_off; /* K_TIME: its has_* flag */
};

#define S_OFF(f) offsetof(struct rs_state, f)

/* container_state.json in schema order (lcr container/state.json), spelled exactly. */
static const struct state_key state_keys[] = {
    {"Dead", K_BOOL, S_OFF(dead), 0},
    {"Error", K_PRESENT, S_OFF(has_error), 0},
    {"ExitCode", K_INT, S_OFF(exit_code), 0},
    {"FinishedAt", K_TIME, S_OFF(finished_at), S_OFF(has_finished_at)},
    {"OOMKilled", K_BOOL, S_OFF(oom_killed), 0},
    {"Paused", K_BOOL, S_OFF(paused), 0},
    {"Pid", K_INT, S_OFF(pid), 0},
    {"PPid", K_INT, S_OFF(ppid), 0},
    {"StartTime", K_U64, S_OFF(start_time), 0},
    {"PStartTime", K_U64, S_OFF(p_start_time), 0},
    {"RemovalInprogress", K_BOOL, S_OFF(removal_inprogress), 0},
    {"Restarting", K_BOOL, S_OFF(restarting), 0},
    {"Running", K_BOOL, S_OFF(running), 0},
    {"StartedAt", K_TIME, S_OFF(started_at), S_OFF(has_started_at)},
    {"Starting", K_BOOL, S_OFF(starting), 0},
    {"RestartCount", K_INT, S_OFF(restart_count), 0},
    {"HasBeenManuallyStopped", K_BOOL, S_OFF(has_been_manually_stopped), 0},
};

/* Reads one key into its field; returns why a number fails, or NULL. */
static const char *read_state_key(struct json_object *obj, const struct state_key *k, struct rs_state *st)
{
        char *field = (char *)st + k->off;
        struct json_object *v;

        switch (k->kind) {
        case K_BOOL:
                get_bool(obj, k->key, (bool *)field);
                return NULL;
        case K_INT:
                return read_int(obj, k->key, (int *)field);
        case K_U64:
                return read_u64(obj, k->key, (uint64_t *)field);
        case K_PRESENT:
                *(bool *)field = get_typed(obj, k->key, json_type_string) != NULL;
                return NULL;
        case K_TIME:
                v = get_typed(obj, k->key, json_type_string);
                if (v) {
                        copy_string(v, field, RS_TIME_MAX);
                        *(bool *)((char *)st + k->has_off) = true;
                }
                return NULL;
        }
        return NULL;
}

/* Health {Status, FailingStreak, Log[{Start, End, ExitCode, Output}]} (lcr defs.json). */
static int parse_health(struct json_object *state, const struct doc_ctx *ctx, struct rs_state *st,
                        struct rs_error *err)
{
        struct json_object *h = get_typed(state, "Health", json_type_object), *log, *v;
        const char *why;
        int exit_code;

        if (!h)
                return 0;
        st->has_health = true;
        v = get_typed(h, "Status", json_type_string);
        if (v)
                copy_string(v, st->health_status, sizeof(st->health_status));
        if ((why = read_int(h, "FailingStreak", &st->failing_streak)))
                return bad_number(ctx, "Health.FailingStreak", why, err);
        log = get_typed(h, "Log", json_type_array);
        for (size_t i = 0; log && i < json_object_array_length(log); i++) {
                v = json_object_array_get_idx(log, i);
                if (json_object_is_type(v, json_type_object) && (why = read_int(v, "ExitCode", &exit_code)))
                        return rs_fail(err, -ERANGE, ctx->reason, "%s: \"%sHealth.Log[%zu].ExitCode\" %s",
                                       ctx->file, ctx->prefix, i, why);
        }
        return 0;
}

/* Parses a container_state object; the result replaces the defaults wholesale, as in iSulad. */
static int parse_state(struct json_object *obj, const struct doc_ctx *ctx, struct rs_state *ret_state,
                       struct rs_error *err)
{
        struct rs_state st = {0};
        const char *why;
        int r;

        for (size_t i = 0; i < ARRAY_SIZE(state_keys); i++)
                if ((why = read_state_key(obj, &state_keys[i], &st)))
                        return bad_number(ctx, state_keys[i].key, why, err);
        r = parse_health(obj, ctx, &st, err);
        if (r < 0)
                return r;
        *ret_state = st;
        return 0;
}

static int required_object(struct json_object *obj, const char *key, const char *label,
                           struct json_object **ret, struct rs_error *err)
{
        struct json_object *v = get_typed(obj, key, json_type_object);

        /* lcr: "Required field '%s' not present"; a wrong type reads as absent. */
        if (!v)
                return rs_fail(err, -EBADMSG, RS_REASON_CONFIG_CORRUPT,
                               CONFIG_FILE ": required object \"%s\" is missing", label);
        *ret = v;
        return 0;
}

static int required_string(struct json_object *obj, const char *key, const char *label, char **dst,
                           struct rs_error *err)
{
        struct json_object *v = get_typed(obj, key, json_type_string);

        if (!v)
                return rs_fail(err, -EBADMSG, RS_REASON_CONFIG_CORRUPT,
                               CONFIG_FILE ": required string \"%s\" is missing", label);
        /* "\u0000" would cut the C string short and could turn a bad id into a valid one. */
        if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
                return rs_fail(err, -EBADMSG, RS_REASON_CONFIG_CORRUPT,
                               CONFIG_FILE ": \"%s\" contains a NUL character", label);
        *dst = strdup(json_object_get_string(v));
        return *dst ? 0 : oom(err);
}

/* iSulad's health monitor starts only for a probe of type CMD (get_probe_type()). */
static bool healthcheck_configured(struct json_object *common)
{
        struct json_object *cfg = get_typed(common, "Config", json_type_object), *hc, *test, *t0;

        hc = cfg ? get_typed(cfg, "Healthcheck", json_type_object) : NULL;
        test = hc ? get_typed(hc, "Test", json_type_array) : NULL;
        if (!test || json_object_array_length(test) == 0)
                return false;
        t0 = json_object_array_get_idx(test, 0);
        if (!json_object_is_type(t0, json_type_string))
                return false;
        return strcmp(json_object_get_string(t0), "CMD") == 0 ||
               strcmp(json_object_get_string(t0), "CMD-SHELL") == 0;
}

static int parse_common(struct json_object *common, struct rs_container *c, struct rs_error *err)
{
        struct json_object *sandbox = get_typed(common, "SandboxInfo", json_type_object);
        int r;

        r = required_string(common, "id", "CommonConfig.id", &c->id, err);
        if (r < 0)
                return r;
        r = required_string(common, "Name", "CommonConfig.Name", &c->name, err);
        if (r < 0)
                return r;
        if (dup_string(common, "Image", &c->image) < 0 ||
            dup_string(common, "ImageType", &c->image_type) < 0)
                return oom(err);
        if (sandbox)
                get_bool(sandbox, "IsSandboxContainer", &c->is_sandbox);
        c->health_configured = healthcheck_configured(common);
        return 0;
}

/*
 * config.v2.json. Its "State" is parsed even when container_state.json exists: iSulad parses
 * the whole document first, so a bad number there fails the load whatever the state file says.
 */
static int parse_config(struct json_object *doc, struct rs_container *c, struct json_object **ret_state_obj,
                        struct rs_state *ret_state, struct rs_error *err)
{
        static const struct doc_ctx ctx = {CONFIG_FILE, "State.", RS_REASON_CONFIG_CORRUPT};
        struct json_object *common = NULL, *state = NULL;
        int r;

        if (!json_object_is_type(doc, json_type_object))
                return rs_fail(err, -EBADMSG, RS_REASON_CONFIG_CORRUPT,
                               CONFIG_FILE ": top level is not an object");
        r = required_object(doc, "CommonConfig", "CommonConfig", &common, err);
        if (r < 0)
                return r;
        r = required_object(doc, "State", "State", &state, err);
        if (r < 0)
                return r;
        r = parse_common(common, c, err);
        if (r < 0)
                return r;
        if (dup_string(doc, "Image", &c->image_id) < 0)
                return oom(err);
        r = parse_state(state, &ctx, ret_state, err);
        if (r < 0)
                return r;
        *ret_state_obj = state;
        return 0;
}

static int parse_hostconfig(struct json_object *doc, struct rs_container *c, struct rs_error *err)
{
        static const struct doc_ctx ctx = {HOSTCONFIG_FILE, "RestartPolicy.", RS_REASON_HOSTCONFIG_CORRUPT};
        struct json_object *policy;
        const char *why;

        if (!json_object_is_type(doc, json_type_object))
                return rs_fail(err, -EBADMSG, RS_REASON_HOSTCONFIG_CORRUPT,
                               HOSTCONFIG_FILE ": top level is not an object");
        policy = get_typed(doc, "RestartPolicy", json_type_object);
        if (policy) {
                if (dup_string(policy, "Name", &c->restart_policy) < 0)
                        return oom(err);
                if ((why = read_int(policy, "MaximumRetryCount", &c->max_retry)))
                        return bad_number(&ctx, "MaximumRetryCount", why, err);
        }
        get_bool(doc, "AutoRemove", &c->auto_remove);
        /* The one restore consults: `isula restart` clears AutoRemove for its duration. */
        get_bool(doc, "AutoRemoveBak", &c->auto_remove_bak);
        return 0;
}

static int load_hostconfig(int dfd, const struct rs_load_limits *lim, struct rs_container *c,
                           struct rs_error *err)
{
        _cleanup_(json_putp) struct json_object *doc = NULL;
        int r;

        r = rs_json_read_at(dfd, HOSTCONFIG_FILE, lim->max_file_size, lim->max_depth,
                            RS_REASON_HOSTCONFIG_MISSING, RS_REASON_HOSTCONFIG_CORRUPT, &doc, err);
        if (r < 0)
                return r;
        return parse_hostconfig(doc, c, err);
}

/* Reads and parses container_state.json; any failure leaves the reason in serr. */
static int read_state_file(int dfd, const struct rs_load_limits *lim, struct json_object **ret_doc,
                           struct rs_state *ret_state, struct rs_error *serr)
{
        static const struct doc_ctx ctx = {STATE_FILE, "", RS_REASON_STATE_CORRUPT};
        _cleanup_(json_putp) struct json_object *doc = NULL;
        int r;

        r = rs_json_read_at(dfd, STATE_FILE, lim->max_file_size, lim->max_depth, RS_REASON_STATE_CORRUPT,
                            RS_REASON_STATE_CORRUPT, &doc, serr);
        if (r < 0)
                return r;
        if (!json_object_is_type(doc, json_type_object))
                return rs_fail(serr, -EBADMSG, RS_REASON_STATE_CORRUPT,
                               STATE_FILE ": top level is not an object");
        r = parse_state(doc, &ctx, ret_state, serr);
        if (r < 0)
                return r;
        *ret_doc = TAKE_PTR(doc);
        return 0;
}

/*
 * iSulad's container_load_container_state(): when container_state.json is missing or does
 * not parse, WARN and use the "State" of config.v2.json (the pre-v2.0.8 layout). The copy is
 * what a later write-back rewrites; the unreadable original is kept (CONTRACT §4.5).
 */
static int load_state(int dfd, const struct rs_load_limits *lim, struct json_object *config_state,
                      const struct rs_state *fallback, struct rs_container *c, struct rs_error *err)
{
        struct json_object *doc = NULL;
        struct rs_error serr = {0};
        int r;

        r = read_state_file(dfd, lim, &doc, &c->state, &serr);
        if (r == 0) {
                c->state_source = RS_STATE_FROM_FILE;
                c->state_doc = doc;
                return 0;
        }
        if (serr.reason == RS_REASON_INTERNAL) {
                if (err)
                        *err = serr;
                return r;
        }
        if (r != -ENOENT) {
                c->state_warning = strdup(serr.msg);
                if (!c->state_warning)
                        return oom(err);
        }
        if (json_object_deep_copy(config_state, &c->state_doc, NULL) < 0)
                return oom(err);
        c->state = *fallback;
        c->state_source = r == -ENOENT ? RS_STATE_FROM_FALLBACK_MISSING : RS_STATE_FROM_FALLBACK_CORRUPT;
        return 0;
}

/* iSulad fails the load when network_settings.json exists but does not parse. */
static int check_network_settings(int dfd, const struct rs_load_limits *lim, struct rs_error *err)
{
        _cleanup_(json_putp) struct json_object *doc = NULL;
        int r;

        r = rs_json_read_at(dfd, NETWORK_FILE, lim->max_file_size, lim->max_depth, RS_REASON_NONE,
                            RS_REASON_STATE_CORRUPT, &doc, err);
        if (r == -ENOENT) {
                rs_error_clear(err);
                return 0;
        }
        return r;
}

/*
 * Opening first and asking lstat() only on failure avoids a race and a second path walk per
 * container. O_NOFOLLOW|O_DIRECTORY fails on a symlink with ENOTDIR, so lstat() tells which.
 */
static int open_container_dir(const struct rs_container *c, int *ret_fd, struct rs_error *err)
{
        struct stat st;
        int fd, e;

        fd = open(c->dir_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
                *ret_fd = fd;
                return 0;
        }
        e = errno;
        if ((e == ENOTDIR || e == ELOOP) && lstat(c->dir_path, &st) == 0) {
                if (S_ISLNK(st.st_mode))
                        return rs_fail(err, -ELOOP, RS_REASON_NOT_A_DIRECTORY,
                                       "%s/%s: is a symbolic link; refusing to follow", c->runtime,
                                       c->dir_name);
                return rs_fail(err, -ENOTDIR, RS_REASON_NOT_A_DIRECTORY, "%s/%s: not a directory",
                               c->runtime, c->dir_name);
        }
        return rs_fail(err, -e, RS_REASON_IO_ERROR, "%s/%s: %s", c->runtime, c->dir_name, strerror(e));
}

static int container_new(const char *engines_dir, const char *runtime, const char *dir_name,
                         struct rs_container **ret, struct rs_error *err)
{
        _cleanup_(rs_container_freep) struct rs_container *c = calloc(1, sizeof(*c));

        if (!c)
                return oom(err);
        c->runtime = strdup(runtime);
        c->dir_name = strdup(dir_name);
        if (!c->runtime || !c->dir_name ||
            asprintf(&c->dir_path, "%s/%s/%s", engines_dir, runtime, dir_name) < 0) {
                c->dir_path = NULL;
                return oom(err);
        }
        *ret = TAKE_PTR(c);
        return 0;
}

static struct rs_load_limits effective_limits(const struct rs_load_limits *limits)
{
        struct rs_load_limits lim = {RS_LOAD_MAX_FILE_SIZE, RS_LOAD_MAX_DEPTH};

        if (limits && limits->max_file_size > 0)
                lim.max_file_size = limits->max_file_size;
        if (limits && limits->max_depth > 0)
                lim.max_depth = limits->max_depth;
        return lim;
}

/* The files in iSulad's order, so the first failure reported is the one iSulad would hit. */
static int load_files(int dfd, const struct rs_load_limits *lim, struct rs_container *c,
                      struct rs_error *err)
{
        _cleanup_(json_putp) struct json_object *config = NULL;
        struct json_object *config_state = NULL;
        struct rs_state fallback;
        int r;

        r = rs_json_read_at(dfd, CONFIG_FILE, lim->max_file_size, lim->max_depth, RS_REASON_CONFIG_MISSING,
                            RS_REASON_CONFIG_CORRUPT, &config, err);
        if (r < 0)
                return r;
        r = parse_config(config, c, &config_state, &fallback, err);
        if (r < 0)
                return r;
        r = load_hostconfig(dfd, lim, c, err);
        if (r < 0)
                return r;
        r = load_state(dfd, lim, config_state, &fallback, c, err);
        if (r < 0)
                return r;
        return check_network_settings(dfd, lim, err);
}

int rs_load_container(const char *engines_dir, const char *runtime, const char *dir_name,
                      const struct rs_load_limits *limits, struct rs_container **ret_container,
                      struct rs_error *err)
{
        _cleanup_(rs_container_freep) struct rs_container *c = NULL;
        _cleanup_close_ int dfd = -1;
        struct rs_load_limits lim = effective_limits(limits);
        int r;

        r = container_new(engines_dir, runtime, dir_name, &c, err);
        if (r < 0)
                return r;
        r = open_container_dir(c, &dfd, err);
        if (r < 0)
                return r;
        r = load_files(dfd, &lim, c, err);
        if (r < 0)
                return r;
        *ret_container = TAKE_PTR(c);
        return 0;
}
