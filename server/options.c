/*
 * options.c - defaults, then /etc/isulad/restored.json, then flags.
 *
 * One table describes every option: the flag, the config key (the same word), its argument,
 * its default and its help line. The command line is parsed in two passes so that --config is
 * known before the file is read and flags can then override what the file said.
 */
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cleanup.h"

#ifndef RESTORED_VERSION
#define RESTORED_VERSION "unknown"
#endif

#define CONFIG_MAX_DEPTH 8
#define HELP_WIDTH       80
#define HELP_INDENT      29

enum kind {
        K_DIR,    /* non-empty path */
        K_FILE,   /* non-empty path (TLS PEM files) */
        K_SOCKET, /* path that fits sockaddr_un */
        K_LISTEN, /* HOST:PORT */
        K_BOOL,
        K_UINT, /* min..max */
        K_GID,  /* number or group name */
        K_LEVEL,
        K_RUNTIME, /* NAME=PATH, repeatable */
        K_CONFIG,  /* command line only from here on */
        K_HELP,
        K_VERSION,
};

struct optdef {
        const char *name; /* the long flag without "--", and the config key */
        enum kind kind;
        size_t off; /* field in struct rd_options */
        unsigned min, max;
        const char *arg; /* metavar in --help */
        const char *def; /* default in --help; NULL: none shown */
        const char *help;
        const char *section; /* starts a new heading in --help */
};

#define F(field) offsetof(struct rd_options, field)

static const struct optdef optdefs[] = {
    {"graph", K_DIR, F(graph), 0, 0, "DIR", RD_DEFAULT_GRAPH,
     "iSulad's graph root, holding engines/<runtime>/<id>/ and the image store", "Paths:"},
    {"state", K_DIR, F(state), 0, 0, "DIR", RD_DEFAULT_STATE,
     "iSulad's state root, holding <runtime>/<id>/ (shim-pid, exit_fifo, runtime root)", NULL},
    {"socket", K_SOCKET, F(socket), 0, 0, "PATH", RD_DEFAULT_SOCKET,
     "unix socket of the API (mode 0660), created when systemd passes no socket", NULL},
    {"listen", K_LISTEN, F(listen), 0, 0, "HOST:PORT", "off",
     "also serve the API over TCP for remote agents; TLS only, read-only RPCs only", "Remote agents:"},
    {"tls-cert", K_FILE, F(tls_cert), 0, 0, "FILE", NULL, "server certificate (PEM); required with --listen",
     NULL},
    {"tls-key", K_FILE, F(tls_key), 0, 0, "FILE", NULL, "server private key (PEM); required with --listen",
     NULL},
    {"tls-ca", K_FILE, F(tls_ca), 0, 0, "FILE", "none, so any TLS client may read",
     "CA bundle (PEM) that client certificates must chain to; turns on mutual TLS", NULL},
    {"listen-allow-write", K_BOOL, F(listen_allow_write), 0, 0, NULL, "off",
     "let TCP clients call RestoreAll and HandleContainer too; needs --tls-ca", NULL},
    {"runtime", K_RUNTIME, F(runtimes), 0, 0, "NAME=PATH", "NAME looked up on $PATH",
     "OCI runtime binary for engine directory NAME; repeatable", "Restore:"},
    {"runtime-timeout", K_UINT, F(runtime_timeout), 1, 600, "SEC", "5",
     "time bound on each runtime query; a hung runtime fails only that container", NULL},
    {"workers", K_UINT, F(workers), 0, 1024, "N", "0 = sized for I/O",
     "threads that load and sync containers", NULL},
    {"max-parallel-restarts", K_UINT, F(max_parallel_restarts), 1, 1024, "N", "4",
     "restarts decided at restore that may be in flight at once", NULL},
    {"restore-on-start", K_BOOL, F(restore_on_start), 0, 0, NULL, "off",
     "restore the whole graph at start-up; systemd hears READY=1 once it has finished", NULL},
    {"read-gid", K_GID, F(read_gid), 0, 0, "GID", "none",
     "group (number or name) whose members may call ListRestored, Watch, health and "
     "reflection",
     "Access (root may always do everything):"},
    {"admin-gid", K_GID, F(admin_gid), 0, 0, "GID", "none, so root only",
     "group whose members may also call RestoreAll and HandleContainer", NULL},
    {"log-level", K_LEVEL, F(log_level), 0, 0, "LEVEL", "info",
     "error, warning, info or debug; the journal under systemd, stderr otherwise", "General:"},
    {"config", K_CONFIG, F(config), 0, 0, "FILE", RD_DEFAULT_CONFIG,
     "JSON config file; a missing default file is fine, a missing explicit one is an error", NULL},
    {"help", K_HELP, 0, 0, 0, NULL, NULL, "show this help and exit", NULL},
    {"version", K_VERSION, 0, 0, 0, NULL, NULL, "show the version and exit", NULL},
};

/* Where a value came from, for messages: "--workers" or "FILE: key \"workers\"". */
struct errctx {
        char *buf;
        size_t len;
        const char *file; /* NULL: the command line */
};

static int fail(const struct errctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const struct errctx *c, const char *fmt, ...)
{
        va_list ap;

        if (c->buf && c->len) {
                va_start(ap, fmt);
                vsnprintf(c->buf, c->len, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* Prefixes a value error with its origin. */
static int fail_value(const struct errctx *c, const struct optdef *d, const char *what, const char *got)
    __attribute__((nonnull(1, 2, 3)));
static int fail_value(const struct errctx *c, const struct optdef *d, const char *what, const char *got)
{
        if (c->file)
                return fail(c, "%s: key \"%s\": %s%s%s", c->file, d->name, what, got ? ", got " : "",
                            got ? got : "");
        return fail(c, "--%s: %s%s%s", d->name, what, got ? ", got " : "", got ? got : "");
}

/* A value as the user wrote it, shortened: "\"many\"" or 12. */
static const char *quoted(char *buf, size_t len, const char *s)
{
        if (strlen(s) > 60)
                snprintf(buf, len, "\"%.57s...\"", s);
        else
                snprintf(buf, len, "\"%s\"", s);
        return buf;
}

static const char *json_shown(char *buf, size_t len, struct json_object *v)
{
        const char *s =
            json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (strlen(s) > 60)
                snprintf(buf, len, "%.57s...", s);
        else
                snprintf(buf, len, "%s", s);
        return buf;
}

static void *field(struct rd_options *o, const struct optdef *d)
{
        return (char *)o + d->off;
}

static int set_str(char **slot, const char *v)
{
        char *copy = strdup(v);

        if (!copy)
                return -ENOMEM;
        free(*slot);
        *slot = copy;
        return 0;
}

static int parse_uint(const char *s, unsigned long long *ret)
{
        char *end = NULL;
        unsigned long long v;

        if (!*s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int uint_range_error(const struct errctx *c, const struct optdef *d, const char *got)
{
        char what[80];

        snprintf(what, sizeof(what), "expected a number from %u to %u", d->min, d->max);
        return fail_value(c, d, what, got);
}

static int set_uint(struct rd_options *o, const struct optdef *d, unsigned long long v, const char *got,
                    const struct errctx *c)
{
        if (v < d->min || v > d->max)
                return uint_range_error(c, d, got);
        *(unsigned *)field(o, d) = (unsigned)v;
        return 0;
}

/* getgrnam_r because the daemon may have threads already; a big group needs a big buffer. */
static int lookup_group(const char *name, gid_t *ret_gid)
{
        long hint = sysconf(_SC_GETGR_R_SIZE_MAX);
        size_t size = hint > 0 ? (size_t)hint : 16384;

        for (; size <= 4 * 1024 * 1024; size *= 2) {
                _cleanup_free_ char *buf = malloc(size);
                struct group gr, *found = NULL;
                int r;

                if (!buf)
                        return -ENOMEM;
                r = getgrnam_r(name, &gr, buf, size, &found);
                if (r == ERANGE)
                        continue;
                if (r != 0 || !found)
                        return -ENOENT;
                *ret_gid = found->gr_gid;
                return 0;
        }
        return -E2BIG;
}

/* A group by number or by name. */
static int set_gid(struct rd_options *o, const struct optdef *d, const char *s, const struct errctx *c)
{
        unsigned long long n;
        char shown[80];
        gid_t gid;
        int r;

        quoted(shown, sizeof(shown), s);
        if (parse_uint(s, &n) == 0) {
                if (n >= RD_GID_NONE)
                        return fail_value(c, d, "group number out of range", shown);
                *(gid_t *)field(o, d) = (gid_t)n;
                return 0;
        }
        if (!*s)
                return fail_value(c, d, "expected a group number or name", shown);
        r = lookup_group(s, &gid);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail_value(c, d, "no such group", shown);
        *(gid_t *)field(o, d) = gid;
        return 0;
}

/* HOST:PORT with a port 1..65535; an IPv6 host needs brackets, as gRPC expects. */
static int check_listen(const char *s)
{
        const char *colon = strrchr(s, ':');
        unsigned long long port;

        if (!colon || colon == s)
                return -EINVAL;
        if (parse_uint(colon + 1, &port) < 0 || port < 1 || port > 65535)
                return -EINVAL;
        if (s[0] == '[')
                return colon[-1] == ']' && colon - s > 2 ? 0 : -EINVAL;
        return memchr(s, ':', (size_t)(colon - s)) ? -EINVAL : 0;
}

static int runtime_upsert(struct rd_options *o, const char *name, size_t name_len, const char *path)
{
        _cleanup_free_ char *n = strndup(name, name_len);
        _cleanup_free_ char *p = strdup(path);
        struct rs_runtime_bin *rt;

        if (!n || !p)
                return -ENOMEM;
        for (size_t i = 0; i < o->n_runtimes; i++) {
                if (strcmp(o->runtimes[i].name, n) == 0) {
                        free((char *)o->runtimes[i].path);
                        o->runtimes[i].path = TAKE_PTR(p);
                        return 0;
                }
        }
        if (o->n_runtimes >= RD_RUNTIMES_MAX)
                return -E2BIG;
        rt = realloc(o->runtimes, (o->n_runtimes + 1) * sizeof(*rt));
        if (!rt)
                return -ENOMEM;
        o->runtimes = rt;
        rt[o->n_runtimes++] = (struct rs_runtime_bin){.name = TAKE_PTR(n), .path = TAKE_PTR(p)};
        return 0;
}

/*
 * NAME is an engine directory name (no '/'); PATH is absolute or a bare command looked up on
 * $PATH. A relative path with a '/' would depend on restored's working directory.
 */
static int set_runtime(struct rd_options *o, const struct optdef *d, const char *name, size_t name_len,
                       const char *path, const char *got, const struct errctx *c)
{
        int r;

        if (name_len == 0 || memchr(name, '/', name_len) || (name_len == 1 && name[0] == '.') ||
            (name_len == 2 && name[0] == '.' && name[1] == '.'))
                return fail_value(c, d, "expected NAME=PATH with NAME an engine directory name", got);
        if (!*path || (path[0] != '/' && strchr(path, '/')))
                return fail_value(c, d, "expected NAME=PATH with PATH absolute or a command name", got);
        r = runtime_upsert(o, name, name_len, path);
        if (r == -E2BIG) {
                char what[64];
                snprintf(what, sizeof(what), "more than %d runtimes", RD_RUNTIMES_MAX);
                return fail_value(c, d, what, NULL);
        }
        return r;
}

static int set_runtime_pair(struct rd_options *o, const struct optdef *d, const char *s,
                            const struct errctx *c)
{
        const char *eq = strchr(s, '=');
        char shown[80];

        quoted(shown, sizeof(shown), s);
        if (!eq)
                return fail_value(c, d, "expected NAME=PATH", shown);
        return set_runtime(o, d, s, (size_t)(eq - s), eq + 1, shown, c);
}

static int set_bool_text(struct rd_options *o, const struct optdef *d, const char *s, const struct errctx *c)
{
        char shown[80];

        if (!s || strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "1") == 0)
                *(bool *)field(o, d) = true;
        else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "0") == 0)
                *(bool *)field(o, d) = false;
        else
                return fail_value(c, d, "expected true or false", quoted(shown, sizeof(shown), s));
        return 0;
}

/* Applies a textual value (a flag's argument, or a JSON string) for any kind. */
static int set_text(struct rd_options *o, const struct optdef *d, const char *s, const struct errctx *c)
{
        char shown[80];
        unsigned long long n;

        quoted(shown, sizeof(shown), s);
        switch (d->kind) {
        case K_DIR:
        case K_FILE:
        case K_CONFIG:
                if (!*s)
                        return fail_value(c, d, "expected a non-empty path", NULL);
                return set_str(field(o, d), s);
        case K_SOCKET:
                if (!*s || strlen(s) >= sizeof(((struct sockaddr_un *)0)->sun_path))
                        return fail_value(c, d, "expected a non-empty path shorter than 108 bytes", shown);
                return set_str(field(o, d), s);
        case K_LISTEN:
                if (check_listen(s) < 0)
                        return fail_value(c, d, "expected HOST:PORT such as 0.0.0.0:7443 or [::1]:7443",
                                          shown);
                return set_str(field(o, d), s);
        case K_UINT:
                if (parse_uint(s, &n) < 0)
                        return uint_range_error(c, d, shown);
                return set_uint(o, d, n, shown, c);
        case K_GID:
                return set_gid(o, d, s, c);
        case K_LEVEL:
                if (rd_log_level_from_string(s, field(o, d)) < 0)
                        return fail_value(c, d, "expected error, warning, info or debug", shown);
                return 0;
        case K_RUNTIME:
                return set_runtime_pair(o, d, s, c);
        case K_BOOL:
                return set_bool_text(o, d, s, c);
        case K_HELP:
        case K_VERSION:
                break;
        }
        return fail_value(c, d, "takes no value", NULL);
}

/* ---- the config file ---- */

static int json_runtime(struct rd_options *o, const struct optdef *d, struct json_object *v,
                        const struct errctx *c)
{
        char shown[80];
        int r;

        if (json_object_is_type(v, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        struct json_object *e = json_object_array_get_idx(v, i);
                        if (!json_object_is_type(e, json_type_string))
                                return fail_value(c, d, "expected \"NAME=PATH\" strings",
                                                  json_shown(shown, sizeof(shown), e));
                        if ((r = set_runtime_pair(o, d, json_object_get_string(e), c)) < 0)
                                return r;
                }
                return 0;
        }
        if (!json_object_is_type(v, json_type_object))
                return fail_value(c, d, "expected an object {\"NAME\": \"PATH\"} or an array",
                                  json_shown(shown, sizeof(shown), v));
        json_object_object_foreach(v, rt_name, rt_path)
        {
                if (!json_object_is_type(rt_path, json_type_string))
                        return fail_value(c, d, "expected a path string for each runtime",
                                          json_shown(shown, sizeof(shown), rt_path));
                snprintf(shown, sizeof(shown), "\"%.30s\": \"%.40s\"", rt_name,
                         json_object_get_string(rt_path));
                r = set_runtime(o, d, rt_name, strlen(rt_name), json_object_get_string(rt_path), shown,
                                c);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int json_uint(struct rd_options *o, const struct optdef *d, struct json_object *v,
                     const struct errctx *c)
{
        char shown[80];
        int64_t n;

        json_shown(shown, sizeof(shown), v);
        if (!json_object_is_type(v, json_type_int))
                return uint_range_error(c, d, shown);
        n = json_object_get_int64(v);
        if (n < 0)
                return uint_range_error(c, d, shown);
        return set_uint(o, d, (unsigned long long)n, shown, c);
}

static int apply_json(struct rd_options *o, const struct optdef *d, struct json_object *v,
                      const struct errctx *c)
{
        char shown[80];

        if (!v) /* null: keep the default, so an example file can list every key */
                return 0;
        switch (d->kind) {
        case K_BOOL:
                if (!json_object_is_type(v, json_type_boolean))
                        return fail_value(c, d, "expected true or false",
                                          json_shown(shown, sizeof(shown), v));
                *(bool *)field(o, d) = json_object_get_boolean(v);
                return 0;
        case K_UINT:
                return json_uint(o, d, v, c);
        case K_RUNTIME:
                return json_runtime(o, d, v, c);
        case K_GID:
                if (json_object_is_type(v, json_type_int)) {
                        snprintf(shown, sizeof(shown), "%" PRId64, json_object_get_int64(v));
                        if (json_object_get_int64(v) < 0)
                                return fail_value(c, d, "group number out of range", shown);
                        return set_gid(o, d, shown, c);
                }
                break;
        default:
                break;
        }
        if (!json_object_is_type(v, json_type_string))
                return fail_value(c, d,
                                  d->kind == K_GID ? "expected a group number or name" : "expected a string",
                                  json_shown(shown, sizeof(shown), v));
        return set_text(o, d, json_object_get_string(v), c);
}

static const struct optdef *find_def(const char *name, size_t len)
{
        for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++)
                if (strlen(optdefs[i].name) == len && strncmp(optdefs[i].name, name, len) == 0)
                        return &optdefs[i];
        return NULL;
}

static int apply_file(struct rd_options *o, struct json_object *root, const struct errctx *c)
{
        if (!json_object_is_type(root, json_type_object))
                return fail(c, "%s: expected a JSON object at the top level", c->file);
        json_object_object_foreach(root, key, val)
        {
                const struct optdef *d = find_def(key, strlen(key));
                int r;

                if (!d)
                        return fail(c,
                                    "%s: unknown key \"%s\" (the keys are the long flags of "
                                    "restored --help, without the dashes)",
                                    c->file, key);
                if (d->kind >= K_CONFIG)
                        return fail(c, "%s: key \"%s\" is only valid on the command line", c->file, key);
                if ((r = apply_json(o, d, val, c)) < 0)
                        return r;
        }
        return 0;
}

/* Reads a regular file of bounded size; O_NONBLOCK so a FIFO put there never hangs start-up. */
static int read_config(const char *path, char **ret_buf, size_t *ret_len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t used = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (st.st_size > RD_CONFIG_MAX_SIZE)
                return -EFBIG;
        buf = malloc((size_t)st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf + used, (size_t)st.st_size - used);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0 || (used += (size_t)n) == (size_t)st.st_size)
                        break;
        }
        buf[used] = '\0';
        *ret_len = used;
        *ret_buf = TAKE_PTR(buf);
        return 0;
}

static int parse_config(const char *buf, size_t len, struct json_object **ret, const struct errctx *c)
{
        struct json_tokener *tok = json_tokener_new_ex(CONFIG_MAX_DEPTH);
        struct json_object *root;
        enum json_tokener_error jerr;
        size_t end;

        if (!tok)
                return -ENOMEM;
        root = json_tokener_parse_ex(tok, buf, (int)len);
        jerr = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!root && jerr == json_tokener_continue)
                return fail(c, "%s: invalid JSON: unexpected end of input at byte %zu", c->file, len);
        if (!root || jerr != json_tokener_success)
                return fail(c, "%s: invalid JSON at byte %zu: %s", c->file, end,
                            json_tokener_error_desc(jerr));
        for (size_t i = end; i < len; i++) {
                if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r') {
                        json_object_put(root);
                        return fail(c, "%s: invalid JSON: unexpected data after the object at byte %zu",
                                    c->file, i);
                }
        }
        *ret = root;
        return 0;
}

static int config_open_error(const char *path, bool explicit, int r, const struct errctx *c)
{
        const char *why = r == -EBADFD  ? "not a regular file"
                          : r == -EFBIG ? "larger than 1 MiB"
                                        : strerror(-r);
        if (explicit)
                return fail(c, "--config %s: cannot read the config file: %s", path, why);
        return fail(c, "%s: cannot read the config file: %s", path, why);
}

static int load_config(struct rd_options *o, const char *path, bool explicit, char *errbuf, size_t errlen)
{
        struct errctx c = {.buf = errbuf, .len = errlen, .file = path};
        _cleanup_free_ char *buf = NULL;
        struct json_object *root = NULL;
        size_t len = 0;
        int r;

        r = read_config(path, &buf, &len);
        if (r == -ENOENT && !explicit)
                return 0; /* no config file is the common case */
        if (r < 0)
                return config_open_error(path, explicit, r, &c);
        if ((r = parse_config(buf, len, &root, &c)) < 0)
                return r;
        r = apply_file(o, root, &c);
        json_object_put(root);
        if (r < 0)
                return r;
        return set_str(&o->config, path);
}

/* ---- the command line ---- */

struct flag {
        const struct optdef *def;
        const char *value; /* NULL for a bare boolean flag */
};

struct cmdline {
        struct flag *flags;
        size_t n;
        const char *config;
        bool help, version;
};

static bool takes_value(const struct optdef *d)
{
        return d->kind != K_BOOL && d->kind != K_HELP && d->kind != K_VERSION;
}

static int unknown_flag(const char *arg, const struct errctx *c)
{
        char shown[80];

        return fail(c, "unknown flag %s (see restored --help)", quoted(shown, sizeof(shown), arg));
}

/* One argv element (and its value, which may be the next element). */
static int scan_one(int argc, char **argv, int *i, struct cmdline *cl, const struct errctx *c)
{
        const char *arg = argv[*i], *name, *eq, *value = NULL;
        const struct optdef *d;

        if (strcmp(arg, "-h") == 0)
                arg = "--help";
        if (strncmp(arg, "--", 2) != 0 || !arg[2])
                return arg[0] == '-' ? unknown_flag(arg, c)
                                     : fail(c, "unexpected argument \"%s\": restored takes only flags", arg);
        name = arg + 2;
        eq = strchr(name, '=');
        d = find_def(name, eq ? (size_t)(eq - name) : strlen(name));
        if (!d)
                return unknown_flag(arg, c);
        if (eq)
                value = eq + 1;
        else if (takes_value(d)) {
                if (*i + 1 >= argc)
                        return fail(c, "--%s needs a value (%s)", d->name, d->arg);
                value = argv[++*i];
        }
        if (value && (d->kind == K_HELP || d->kind == K_VERSION))
                return fail(c, "--%s takes no value", d->name);
        if (d->kind == K_HELP)
                cl->help = true;
        else if (d->kind == K_VERSION)
                cl->version = true;
        else if (d->kind == K_CONFIG)
                cl->config = value;
        else
                cl->flags[cl->n++] = (struct flag){.def = d, .value = value};
        return 0;
}

static int scan_cmdline(int argc, char **argv, struct cmdline *cl, const struct errctx *c)
{
        int r;

        cl->flags = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*cl->flags));
        if (!cl->flags)
                return -ENOMEM;
        for (int i = 1; i < argc; i++)
                if ((r = scan_one(argc, argv, &i, cl, c)) < 0)
                        return r;
        if (cl->config && !*cl->config)
                return fail(c, "--config: expected a non-empty path");
        return 0;
}

static int apply_flags(struct rd_options *o, const struct cmdline *cl, const struct errctx *c)
{
        int r;

        for (size_t i = 0; i < cl->n; i++) {
                const struct flag *f = &cl->flags[i];
                r = f->def->kind == K_BOOL ? set_bool_text(o, f->def, f->value, c)
                                           : set_text(o, f->def, f->value, c);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- defaults, cross-checks, entry points ---- */

static int set_defaults(struct rd_options *o)
{
        *o = (struct rd_options){
            .runtime_timeout = RD_DEFAULT_RUNTIME_TIMEOUT,
            .max_parallel_restarts = RD_DEFAULT_MAX_PARALLEL_RESTARTS,
            .read_gid = RD_GID_NONE,
            .admin_gid = RD_GID_NONE,
            .log_level = RD_LOG_INFO,
        };
        if (set_str(&o->graph, RD_DEFAULT_GRAPH) < 0 || set_str(&o->state, RD_DEFAULT_STATE) < 0 ||
            set_str(&o->socket, RD_DEFAULT_SOCKET) < 0)
                return -ENOMEM;
        return 0;
}

/* The TCP listener is the only way in from another host; refuse half-configured TLS. */
static int check_tls(const struct rd_options *o, const struct errctx *c)
{
        if (!!o->tls_cert != !!o->tls_key)
                return fail(c, "--tls-cert and --tls-key must be given together");
        if (o->listen && !o->tls_cert)
                return fail(c, "--listen requires --tls-cert and --tls-key: the TCP listener "
                               "only speaks TLS");
        if (!o->listen && (o->tls_cert || o->tls_ca))
                return fail(c, "--tls-cert, --tls-key and --tls-ca only apply to --listen, "
                               "which is not set");
        if (!o->listen && o->listen_allow_write)
                return fail(c, "--listen-allow-write only applies to --listen, which is not set");
        if (o->listen_allow_write && !o->tls_ca)
                return fail(c, "--listen-allow-write requires --tls-ca: without client "
                               "certificates anyone who reaches the port could restart containers");
        return 0;
}

void rd_options_done(struct rd_options *o)
{
        if (!o)
                return;
        free(o->graph);
        free(o->state);
        free(o->socket);
        free(o->listen);
        free(o->tls_cert);
        free(o->tls_key);
        free(o->tls_ca);
        free(o->config);
        for (size_t i = 0; i < o->n_runtimes; i++) {
                free((char *)o->runtimes[i].name);
                free((char *)o->runtimes[i].path);
        }
        free(o->runtimes);
        *o = (struct rd_options){.read_gid = RD_GID_NONE, .admin_gid = RD_GID_NONE};
}

static int build(struct rd_options *o, const struct cmdline *cl, const char *default_config, char *errbuf,
                 size_t errlen)
{
        struct errctx c = {.buf = errbuf, .len = errlen};
        int r;

        if ((r = set_defaults(o)) < 0)
                return r;
        r = load_config(o, cl->config ? cl->config : default_config, cl->config != NULL, errbuf, errlen);
        if (r < 0)
                return r;
        if ((r = apply_flags(o, cl, &c)) < 0)
                return r;
        return check_tls(o, &c);
}

int rd_options_load(int argc, char **argv, struct rd_options *ret, char *errbuf, size_t errlen)
{
        return rd_options_load_at(argc, argv, RD_DEFAULT_CONFIG, ret, errbuf, errlen);
}

int rd_options_load_at(int argc, char **argv, const char *default_config, struct rd_options *ret,
                       char *errbuf, size_t errlen)
{
        struct errctx c = {.buf = errbuf, .len = errlen};
        struct cmdline cl = {0};
        struct rd_options o = {0};
        int r;

        if (errbuf && errlen)
                errbuf[0] = '\0';
        r = scan_cmdline(argc, argv, &cl, &c);
        if (r >= 0 && (cl.help || cl.version)) {
                if (cl.help)
                        rd_options_print_help(stdout);
                else
                        printf("restored %s\n", RESTORED_VERSION);
                fflush(stdout);
                r = 1;
        } else if (r >= 0) {
                r = build(&o, &cl, default_config, errbuf, errlen);
        }
        free(cl.flags);
        if (r == -ENOMEM && errbuf && errlen && !errbuf[0])
                snprintf(errbuf, errlen, "out of memory while reading the configuration");
        if (r != 0) {
                rd_options_done(&o);
                return r;
        }
        *ret = o;
        return 0;
}

/* ---- --help ---- */

/* Marks a space the wrapping must not break at: "(default: 4)" stays on one line. */
#define NBSP '\x01'

/* Prints text word-wrapped from column HELP_INDENT, starting at column `col`. */
static void print_wrapped(FILE *f, int col, const char *text)
{
        const char *p = text;

        while (*p) {
                const char *word = p;
                int n;

                while (*p && *p != ' ')
                        p++;
                n = (int)(p - word);
                if (col > HELP_INDENT && col + 1 + n > HELP_WIDTH) {
                        fprintf(f, "\n%*s", HELP_INDENT, "");
                        col = HELP_INDENT;
                } else if (col > HELP_INDENT) {
                        fputc(' ', f);
                        col++;
                }
                for (int k = 0; k < n; k++)
                        fputc(word[k] == NBSP ? ' ' : word[k], f);
                col += n;
                while (*p == ' ')
                        p++;
        }
        fputc('\n', f);
}

static void print_option(FILE *f, const struct optdef *d)
{
        char head[64], text[512];
        int col;

        snprintf(head, sizeof(head), "  %s--%s%s%s", d->kind == K_HELP ? "-h, " : "", d->name,
                 d->arg ? " " : "", d->arg ? d->arg : "");
        col = fprintf(f, "%s", head);
        if (col >= HELP_INDENT - 1) {
                fprintf(f, "\n%*s", HELP_INDENT, "");
        } else {
                fprintf(f, "%*s", HELP_INDENT - col, "");
        }
        if (d->def)
                snprintf(text, sizeof(text), "%s (default:%c%s)", d->help, NBSP, d->def);
        else
                snprintf(text, sizeof(text), "%s", d->help);
        for (char *p = strstr(text, "(default:"); p && *p; p++)
                if (*p == ' ')
                        *p = NBSP;
        print_wrapped(f, HELP_INDENT, text);
}

void rd_options_print_help(FILE *f)
{
        fputs("Usage: restored [OPTION]...\n"
              "\n"
              "restored restores the containers iSulad left on disk. It loads every container\n"
              "in the graph, checks its image and its processes against the host, reattaches,\n"
              "restarts or keeps it stopped as iSulad would, and reports each result over a\n"
              "gRPC API. A container that fails to restore is reported, never deleted.\n",
              f);
        for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++) {
                if (optdefs[i].section)
                        fprintf(f, "\n%s\n", optdefs[i].section);
                print_option(f, &optdefs[i]);
        }
        fputs("\n"
              "Config file:\n"
              "  Every option but --config, --help and --version is also a key of the JSON\n"
              "  file " RD_DEFAULT_CONFIG ", spelled like the flag without the\n"
              "  dashes. Flags override the file; null keeps the default. An unknown key or a\n"
              "  bad value stops start-up with a message naming the file and the key:\n"
              "    {\"graph\": \"/var/lib/isulad\", \"restore-on-start\": true,\n"
              "     \"admin-gid\": \"isula\", \"runtime\": {\"runc\": \"/usr/bin/runc\"}}\n"
              "\n"
              "Examples:\n"
              "  restored --restore-on-start --admin-gid isula --read-gid adm\n"
              "  restored --graph /srv/isulad --socket /tmp/restore.sock --log-level debug\n"
              "  restorectl restore --dry-run    (what would a restore do? ask the daemon)\n"
              "\n"
              "Under systemd: systemctl enable --now restored.socket restored.service\n"
              "Documentation: man 8 restored, man 1 restorectl, docs/operations.md\n"
              "(installed as share/doc/restored/operations.md).\n",
              f);
}
