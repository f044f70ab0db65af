/* statefile.c - minimal, durable edits of container_state.json (see statefile.h). */
#include "statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "durable.h"

#define CORRUPT_SUFFIXES 10

enum ftype { F_BOOL, F_INT, F_U64, F_TIME, F_ERROR, F_HEALTH };

struct field {
        const char *key;
        enum ftype type;
        size_t off;       /* of the value in struct rs_state (F_BOOL, F_INT, F_U64, F_TIME) */
        size_t has_off;   /* of its has_* flag (F_TIME) */
};

#define FLD(k, t, m) { k, t, offsetof(struct rs_state, m), 0 }
#define TIMEFLD(k, m) { k, F_TIME, offsetof(struct rs_state, m), offsetof(struct rs_state, has_##m) }

/* Schema order of lcr's container/state.json: new keys are appended in this order. */
static const struct field fields[] = {
        FLD("Dead", F_BOOL, dead),
        { "Error", F_ERROR, 0, 0 },
        FLD("ExitCode", F_INT, exit_code),
        TIMEFLD("FinishedAt", finished_at),
        FLD("OOMKilled", F_BOOL, oom_killed),
        FLD("Paused", F_BOOL, paused),
        FLD("Pid", F_INT, pid),
        FLD("PPid", F_INT, ppid),
        FLD("StartTime", F_U64, start_time),
        FLD("PStartTime", F_U64, p_start_time),
        FLD("RemovalInprogress", F_BOOL, removal_inprogress),
        FLD("Restarting", F_BOOL, restarting),
        FLD("Running", F_BOOL, running),
        TIMEFLD("StartedAt", started_at),
        FLD("Starting", F_BOOL, starting),
        FLD("RestartCount", F_INT, restart_count),
        FLD("HasBeenManuallyStopped", F_BOOL, has_been_manually_stopped),
        { "Health", F_HEALTH, 0, 0 },
};

#define AT(s, off, type) (*(const type *)((const char *)(s) + (off)))

static bool health_equal(const struct rs_state *a, const struct rs_state *b)
{
        return a->has_health == b->has_health && a->failing_streak == b->failing_streak &&
               strcmp(a->health_status, b->health_status) == 0;
}

static bool field_equal(const struct field *f, const struct rs_state *a, const struct rs_state *b)
{
        switch (f->type) {
        case F_BOOL:
                return AT(a, f->off, bool) == AT(b, f->off, bool);
        case F_INT:
                return AT(a, f->off, int) == AT(b, f->off, int);
        case F_U64:
                return AT(a, f->off, uint64_t) == AT(b, f->off, uint64_t);
        case F_TIME:
                return AT(a, f->has_off, bool) == AT(b, f->has_off, bool) &&
                       strcmp((const char *)a + f->off, (const char *)b + f->off) == 0;
        case F_ERROR:
                return a->has_error == b->has_error;
        case F_HEALTH:
                return health_equal(a, b);
        }
        return false;
}

bool rs_state_equal(const struct rs_state *a, const struct rs_state *b)
{
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
                if (!field_equal(&fields[i], a, b))
                        return false;
        return true;
}

bool rs_state_needs_save(const struct rs_container *c, const struct rs_state *orig)
{
        return c->state_source != RS_STATE_FROM_FILE || !rs_state_equal(&c->state, orig);
}

/*
 * want: sets key to v, replacing an existing key where it stands (json-c keeps its position).
 * !want: deletes key, as iSulad omits zero values. v is consumed either way.
 */
static int set_key(struct json_object *o, const char *key, struct json_object *v, bool want)
{
        if (!want) {
                json_object_put(v);
                json_object_object_del(o, key);
                return 0;
        }
        if (!v || json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static struct json_object *new_u64(uint64_t v)
{
        return v > INT64_MAX ? json_object_new_uint64(v) : json_object_new_int64((int64_t)v);
}

/* Health: only Status and FailingStreak are restored's; Log and unknown keys stay. */
static int apply_health(struct json_object *doc, const struct rs_state *now)
{
        struct json_object *h = NULL;

        if (!now->has_health)
                return set_key(doc, "Health", NULL, false);
        if (!json_object_object_get_ex(doc, "Health", &h) || !json_object_is_type(h, json_type_object)) {
                h = json_object_new_object();
                if (set_key(doc, "Health", h, true) < 0)
                        return -ENOMEM;
        }
        if (set_key(h, "Status", json_object_new_string(now->health_status), now->health_status[0]) < 0)
                return -ENOMEM;
        return set_key(h, "FailingStreak", json_object_new_int(now->failing_streak),
                       now->failing_streak != 0);
}

static int apply_field(struct json_object *doc, const struct field *f, const struct rs_state *now)
{
        switch (f->type) {
        case F_BOOL:
                return set_key(doc, f->key, json_object_new_boolean(1), AT(now, f->off, bool));
        case F_INT:
                return set_key(doc, f->key, json_object_new_int(AT(now, f->off, int)),
                               AT(now, f->off, int) != 0);
        case F_U64:
                return set_key(doc, f->key, new_u64(AT(now, f->off, uint64_t)),
                               AT(now, f->off, uint64_t) != 0);
        case F_TIME:
                return set_key(doc, f->key, json_object_new_string((const char *)now + f->off),
                               AT(now, f->has_off, bool));
        case F_ERROR:
                /* restored only ever clears Error (set_running); it has no text to write */
                return now->has_error ? 0 : set_key(doc, f->key, NULL, false);
        case F_HEALTH:
                return apply_health(doc, now);
        }
        return -EINVAL;
}

int rs_state_apply(struct json_object *doc, const struct rs_state *base, const struct rs_state *now)
{
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
                if (field_equal(&fields[i], base, now))
                        continue;
                if (apply_field(doc, &fields[i], now) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static bool same_inode(int dirfd, const char *a, const char *b)
{
        struct stat sa, sb;

        return fstatat(dirfd, a, &sa, AT_SYMLINK_NOFOLLOW) == 0 &&
               fstatat(dirfd, b, &sb, AT_SYMLINK_NOFOLLOW) == 0 && sa.st_dev == sb.st_dev &&
               sa.st_ino == sb.st_ino;
}

/*
 * Keeps the unreadable container_state.json beside the new one. link() leaves the original
 * in place until the rename replaces it, so a crash in between loses nothing; a directory
 * cannot be linked and is renamed instead. An existing .corrupt is never overwritten.
 */
static int keep_corrupt(int dirfd, struct rs_error *err)
{
        char name[64];

        for (int i = 0; i < CORRUPT_SUFFIXES; i++) {
                if (i == 0)
                        snprintf(name, sizeof(name), RS_STATE_FILE ".corrupt");
                else
                        snprintf(name, sizeof(name), RS_STATE_FILE ".corrupt.%d", i);
                if (same_inode(dirfd, RS_STATE_FILE, name))
                        return 0;   /* kept by an earlier attempt whose write failed */
                if (linkat(dirfd, RS_STATE_FILE, dirfd, name, 0) == 0)
                        return 0;
                if (errno == EPERM && renameat2(dirfd, RS_STATE_FILE, dirfd, name, RENAME_NOREPLACE) == 0)
                        return 0;
                if (errno == ENOENT)
                        return 0;   /* gone since load: nothing left to keep */
                if (errno != EEXIST)
                        return rs_fail(err, -errno, RS_REASON_IO_ERROR,
                                       RS_STATE_FILE ": cannot keep the unreadable file as %s: %m",
                                       name);
        }
        return rs_fail(err, -EEXIST, RS_REASON_IO_ERROR,
                       RS_STATE_FILE ": cannot keep the unreadable file: .corrupt .. .corrupt.%d "
                       "all exist", CORRUPT_SUFFIXES - 1);
}

static int write_doc(int dirfd, struct json_object *doc, struct rs_error *err)
{
        /* "key": value, like iSulad's yajl beautify (which indents by 4, json-c by 2) */
        const char *text = json_object_to_json_string_ext(
                doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                             JSON_C_TO_STRING_NOSLASHESCAPE);

        if (!text)
                return rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, RS_STATE_FILE ": out of memory");
        /* 0640: iSulad's CONFIG_FILE_MODE for container files */
        return rs_durable_write_at(dirfd, RS_STATE_FILE, text, strlen(text), 0640, err);
}

int rs_state_save(struct rs_container *c, const struct rs_state *orig, bool dry_run,
                  bool *ret_written, struct rs_error *err)
{
        _cleanup_close_ int dirfd = -1;
        int r;

        if (dry_run || !rs_state_needs_save(c, orig)) {
                *ret_written = false;
                return 0;
        }
        if (!c->state_doc || !json_object_is_type(c->state_doc, json_type_object))
                return rs_fail(err, -EINVAL, RS_REASON_INTERNAL,
                               RS_STATE_FILE ": no state document to write");
        dirfd = open(c->dir_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dirfd < 0)
                return rs_fail(err, -errno, RS_REASON_IO_ERROR, "%s: cannot open: %m", c->dir_path);
        if (c->state_source == RS_STATE_FROM_FALLBACK_CORRUPT && (r = keep_corrupt(dirfd, err)) < 0)
                return r;
        if (rs_state_apply(c->state_doc, orig, &c->state) < 0)
                return rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, RS_STATE_FILE ": out of memory");
        r = write_doc(dirfd, c->state_doc, err);
        if (r < 0)
                return r;
        c->state_source = RS_STATE_FROM_FILE;
        *ret_written = true;
        return 0;
}
