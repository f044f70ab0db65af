/* gc.c - garbage.json: load, look up, append, durable save (see gc.h). */
#include "gc.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "durable.h"
#include "jsonfile.h"
#include "strmap.h"

/* 10k entries of ~200 bytes is 2 MB; a file 16 times that is not a GC list. */
#define GC_MAX_SIZE (32u << 20)
#define GC_MAX_DEPTH 16
#define GC_KEY "GcContainers"

struct rs_gc_list {
        pthread_mutex_t mu;
        char *path;
        struct json_object *doc;      /* the whole file, kept for unknown keys */
        struct json_object *entries;  /* doc's GcContainers array (borrowed), NULL if absent */
        struct rs_strmap ids;         /* keys borrowed from the "id" strings inside doc */
        bool dirty;
};

static void json_putp(struct json_object **o)
{
        json_object_put(*o);
}

static int index_entries(struct rs_gc_list *l)
{
        size_t n = json_object_array_length(l->entries);

        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(l->entries, i), *id;

                /* entries we cannot read stay in the file untouched, but own no id */
                if (!json_object_object_get_ex(e, "id", &id) || !json_object_is_type(id, json_type_string))
                        continue;
                if (!rs_strmap_get(&l->ids, json_object_get_string(id), NULL) &&
                    rs_strmap_put(&l->ids, json_object_get_string(id), i) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Accepts the parsed file: an object whose GcContainers, when present, is an array. */
static int adopt_doc(struct rs_gc_list *l, struct json_object *doc, struct rs_error *err)
{
        struct json_object *arr = NULL;

        if (!json_object_is_type(doc, json_type_object))
                return rs_fail(err, -EBADMSG, RS_REASON_STATE_CORRUPT,
                               "%s: top level is not an object", l->path);
        if (json_object_object_get_ex(doc, GC_KEY, &arr) && !json_object_is_type(arr, json_type_array))
                return rs_fail(err, -EBADMSG, RS_REASON_STATE_CORRUPT,
                               "%s: \"" GC_KEY "\" is not an array", l->path);
        l->doc = json_object_get(doc);
        l->entries = arr;
        if (arr && index_entries(l) < 0)
                return rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, "%s: out of memory", l->path);
        return 0;
}

static int read_file(struct rs_gc_list *l, struct rs_error *err)
{
        _cleanup_(json_putp) struct json_object *doc = NULL;
        int r;

        r = rs_json_read_path(l->path, GC_MAX_SIZE, GC_MAX_DEPTH, RS_REASON_NONE,
                              RS_REASON_STATE_CORRUPT, &doc, err);
        if (r == -ENOENT) {
                /* iSulad: no garbage.json = nothing under collection */
                rs_error_clear(err);
                l->doc = json_object_new_object();
                return l->doc ? 0 : rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, "out of memory");
        }
        if (r < 0)
                return r;
        return adopt_doc(l, doc, err);
}

int rs_gc_load(const char *graph_root, struct rs_gc_list **ret_list, struct rs_error *err)
{
        struct rs_gc_list *l = calloc(1, sizeof(*l));
        int r;

        if (!l || asprintf(&l->path, "%s/" RS_GC_FILE, graph_root) < 0) {
                free(l);
                return rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, "out of memory");
        }
        pthread_mutex_init(&l->mu, NULL);
        r = read_file(l, err);
        if (r < 0) {
                rs_gc_free(l);
                return r;
        }
        *ret_list = l;
        return 0;
}

void rs_gc_free(struct rs_gc_list *l)
{
        if (!l)
                return;
        rs_strmap_done(&l->ids);
        json_object_put(l->doc);
        free(l->path);
        pthread_mutex_destroy(&l->mu);
        free(l);
}

bool rs_gc_contains(struct rs_gc_list *l, const char *id)
{
        bool found;

        pthread_mutex_lock(&l->mu);
        found = rs_strmap_get(&l->ids, id, NULL);
        pthread_mutex_unlock(&l->mu);
        return found;
}

size_t rs_gc_count(struct rs_gc_list *l)
{
        size_t n;

        pthread_mutex_lock(&l->mu);
        n = l->entries ? json_object_array_length(l->entries) : 0;
        pthread_mutex_unlock(&l->mu);
        return n;
}

/* iSulad's generator omits zero values; StartTime can exceed INT64_MAX in principle. */
static int add_uint(struct json_object *o, const char *key, uint64_t v)
{
        struct json_object *n;

        if (v == 0)
                return 0;
        n = v > INT64_MAX ? json_object_new_uint64(v) : json_object_new_int64((int64_t)v);
        if (!n || json_object_object_add(o, key, n) < 0) {
                json_object_put(n);
                return -ENOMEM;
        }
        return 0;
}

static int add_str(struct json_object *o, const char *key, const char *v)
{
        struct json_object *s = json_object_new_string(v);

        if (!s || json_object_object_add(o, key, s) < 0) {
                json_object_put(s);
                return -ENOMEM;
        }
        return 0;
}

/* One entry, keys in schema order. */
static struct json_object *new_entry(const char *id, const char *runtime, const struct rs_process *p)
{
        _cleanup_(json_putp) struct json_object *e = json_object_new_object();

        if (!e || add_str(e, "id", id) < 0 || add_str(e, "runtime", runtime) < 0 ||
            add_uint(e, "pid", p->pid > 0 ? (uint64_t)p->pid : 0) < 0 ||
            add_uint(e, "StartTime", p->start_time) < 0 ||
            add_uint(e, "ppid", p->ppid > 0 ? (uint64_t)p->ppid : 0) < 0 ||
            add_uint(e, "PStartTime", p->p_start_time) < 0)
                return NULL;
        return TAKE_PTR(e);
}

static int ensure_array(struct rs_gc_list *l)
{
        struct json_object *arr;

        if (l->entries)
                return 0;
        arr = json_object_new_array();
        if (!arr || json_object_object_add(l->doc, GC_KEY, arr) < 0) {
                json_object_put(arr);
                return -ENOMEM;
        }
        l->entries = arr;
        return 0;
}

static int add_locked(struct rs_gc_list *l, const char *id, const char *runtime,
                      const struct rs_process *proc)
{
        struct json_object *e, *idobj;
        size_t idx;

        if (rs_strmap_get(&l->ids, id, NULL))
                return 0;
        if (ensure_array(l) < 0 || !(e = new_entry(id, runtime ? runtime : "", proc)))
                return -ENOMEM;
        idx = json_object_array_length(l->entries);
        if (json_object_array_add(l->entries, e) < 0) {
                json_object_put(e);
                return -ENOMEM;
        }
        json_object_object_get_ex(e, "id", &idobj);
        if (rs_strmap_put(&l->ids, json_object_get_string(idobj), idx) < 0) {
                json_object_array_del_idx(l->entries, idx, 1);
                return -ENOMEM;
        }
        l->dirty = true;
        return 1;
}

int rs_gc_add(struct rs_gc_list *l, const char *id, const char *runtime,
              const struct rs_process *proc)
{
        static const struct rs_process none;
        int r;

        pthread_mutex_lock(&l->mu);
        r = add_locked(l, id, runtime, proc ? proc : &none);
        pthread_mutex_unlock(&l->mu);
        return r;
}

static int save_locked(struct rs_gc_list *l, struct rs_error *err)
{
        const char *text;
        int r;

        if (!l->dirty)
                return 0;
        text = json_object_to_json_string_ext(
                l->doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, "%s: out of memory", l->path);
        /* a new file gets iSulad's CONFIG_FILE_MODE (save_gc_config) */
        r = rs_durable_write(l->path, text, strlen(text), 0640, err);
        if (r < 0)
                return r;
        l->dirty = false;
        return 1;
}

int rs_gc_save(struct rs_gc_list *l, struct rs_error *err)
{
        int r;

        pthread_mutex_lock(&l->mu);
        r = save_locked(l, err);
        pthread_mutex_unlock(&l->mu);
        return r;
}
