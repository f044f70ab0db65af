/*
 * registry.c - id and name indexes (iSulad's id_name_manager + container_name_index).
 *
 * Entries live in one dense array; two open-addressing hash tables (linear probing, load
 * factor <= 1/2, power-of-two size) map an id or a name to an entry index, so exact lookups
 * and duplicate checks are O(1) and registering n containers is O(n). A unique-prefix lookup
 * scans the array, as iSulad's and Docker's truncindex-less stores do: it serves an operator's
 * request, not the restore loop. Names are keyed without their leading '/', so "/web" and
 * "web" are the same name.
 */
#include "registry.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

#define RS_ID_MAX       64
#define RS_NAME_MAX     1024
#define INDEX_MIN_SLOTS 64u
#define SHOW_MAX        96 /* bytes of a caller's string quoted in a message */

struct entry {
        char *id;
        char *name;  /* without the leading '/' */
        char *where; /* "runc/<dir>", for the loser's message */
        size_t slot;
};

struct index {
        uint32_t *slots; /* entry index + 1; 0 = empty */
        size_t mask;     /* number of slots - 1 */
        size_t key_off;  /* offsetof(struct entry, id or name) */
};

struct rs_registry {
        pthread_rwlock_t lock;
        struct entry *entries;
        size_t n, cap;
        struct index ids, names;
};

static bool is_alnum(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ^[a-f0-9]{1,64}$ */
bool rs_id_valid(const char *id)
{
        size_t n;

        if (!id)
                return false;
        for (n = 0; id[n]; n++) {
                char c = id[n];
                if (n == RS_ID_MAX || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return false;
        }
        return n > 0;
}

/* ^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$ and at most 1024 bytes: two characters at least. */
bool rs_name_valid(const char *name)
{
        const char *s, *p;

        if (!name || strnlen(name, RS_NAME_MAX + 1) > RS_NAME_MAX)
                return false;
        s = name[0] == '/' ? name + 1 : name;
        if (!is_alnum(s[0]))
                return false;
        for (p = s + 1; *p; p++)
                if (!is_alnum(*p) && *p != '_' && *p != '.' && *p != '-')
                        return false;
        return p - s >= 2;
}

static const char *bare_name(const char *name)
{
        return name[0] == '/' ? name + 1 : name;
}

/*
 * Quotes a caller's string safely: printable ASCII only (a valid id or name is nothing else,
 * and the message travels in a proto3 string that must be UTF-8), cut at SHOW_MAX bytes.
 */
static const char *shown(const char *s, char buf[static SHOW_MAX + 4])
{
        size_t i;

        for (i = 0; s[i] && i < SHOW_MAX; i++)
                buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
        strcpy(buf + i, s[i] ? "..." : "");
        return buf;
}

/* FNV-1a: ids are random hex and names short, so a simple hash spreads them well. */
static size_t hash_str(const char *s)
{
        uint64_t h = 0xcbf29ce484222325ull;

        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
        return (size_t)(h ^ (h >> 32));
}

static const char *entry_key(const struct entry *e, size_t key_off)
{
        return *(char *const *)((const char *)e + key_off);
}

/* The slot holding key, or the empty slot where it would go. */
static uint32_t *index_probe(const struct rs_registry *r, const struct index *ix, const char *key)
{
        for (size_t i = hash_str(key) & ix->mask;; i = (i + 1) & ix->mask) {
                uint32_t v = ix->slots[i];
                if (v == 0 || strcmp(entry_key(&r->entries[v - 1], ix->key_off), key) == 0)
                        return &ix->slots[i];
        }
}

static const struct entry *index_find(const struct rs_registry *r, const struct index *ix, const char *key)
{
        uint32_t v = *index_probe(r, ix, key);

        return v ? &r->entries[v - 1] : NULL;
}

static int index_init(struct index *ix, size_t nslots, size_t key_off)
{
        ix->slots = calloc(nslots, sizeof(*ix->slots));
        if (!ix->slots)
                return -ENOMEM;
        ix->mask = nslots - 1;
        ix->key_off = key_off;
        return 0;
}

/* Rebuilds ix with nslots slots from the entry array. */
static int index_rebuild(struct rs_registry *r, struct index *ix, size_t nslots)
{
        struct index fresh;

        if (index_init(&fresh, nslots, ix->key_off) < 0)
                return -ENOMEM;
        free(ix->slots);
        *ix = fresh;
        for (size_t i = 0; i < r->n; i++)
                *index_probe(r, ix, entry_key(&r->entries[i], ix->key_off)) = (uint32_t)(i + 1);
        return 0;
}

/* Room for one more entry: the array doubles, and the indexes stay at most half full. */
static int reserve_one(struct rs_registry *r)
{
        if (r->n == UINT32_MAX - 1)
                return -ENOMEM;
        if (r->n == r->cap) {
                size_t cap = r->cap ? r->cap * 2 : 64;
                struct entry *e = reallocarray(r->entries, cap, sizeof(*e));
                if (!e)
                        return -ENOMEM;
                r->entries = e;
                r->cap = cap;
        }
        /* Each index checked on its own, so a failed rebuild never leaves one over-full. */
        if ((r->n + 1) * 2 > r->ids.mask + 1 && index_rebuild(r, &r->ids, (r->ids.mask + 1) * 2) < 0)
                return -ENOMEM;
        if ((r->n + 1) * 2 > r->names.mask + 1 && index_rebuild(r, &r->names, (r->names.mask + 1) * 2) < 0)
                return -ENOMEM;
        return 0;
}

int rs_registry_new(struct rs_registry **ret)
{
        _cleanup_free_ struct rs_registry *r = calloc(1, sizeof(*r));
        pthread_rwlockattr_t attr;

        if (!r)
                return -ENOMEM;
        if (index_init(&r->ids, INDEX_MIN_SLOTS, offsetof(struct entry, id)) < 0)
                return -ENOMEM;
        if (index_init(&r->names, INDEX_MIN_SLOTS, offsetof(struct entry, name)) < 0) {
                free(r->ids.slots);
                return -ENOMEM;
        }
        /* glibc's default lets a stream of readers (ListRestored, Watch) starve registration. */
        pthread_rwlockattr_init(&attr);
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        pthread_rwlock_init(&r->lock, &attr);
        pthread_rwlockattr_destroy(&attr);
        *ret = TAKE_PTR(r);
        return 0;
}

static void drop_entries(struct rs_registry *r)
{
        for (size_t i = 0; i < r->n; i++) {
                free(r->entries[i].id);
                free(r->entries[i].name);
                free(r->entries[i].where);
        }
        r->n = 0;
}

void rs_registry_free(struct rs_registry *r)
{
        if (!r)
                return;
        drop_entries(r);
        free(r->entries);
        free(r->ids.slots);
        free(r->names.slots);
        pthread_rwlock_destroy(&r->lock);
        free(r);
}

void rs_registry_clear(struct rs_registry *r)
{
        pthread_rwlock_wrlock(&r->lock);
        drop_entries(r);
        memset(r->ids.slots, 0, (r->ids.mask + 1) * sizeof(*r->ids.slots));
        memset(r->names.slots, 0, (r->names.mask + 1) * sizeof(*r->names.slots));
        pthread_rwlock_unlock(&r->lock);
}

static int validate(const char *id, const char *name, struct rs_error *err)
{
        char buf[SHOW_MAX + 4];

        if (!rs_id_valid(id))
                return rs_fail(err, -EINVAL, RS_REASON_INVALID_ID,
                               "invalid container id \"%s\": must be 1 to 64 lowercase hex digits",
                               shown(id ? id : "", buf));
        if (!rs_name_valid(name))
                return rs_fail(err, -EINVAL, RS_REASON_INVALID_NAME,
                               "invalid container name \"%s\": must match "
                               "[a-zA-Z0-9][a-zA-Z0-9_.-]+ and be at most 1024 bytes",
                               shown(name ? name : "", buf));
        return 0;
}

/* iSulad's map_store_add() refuses an existing key; the entry already there keeps it. */
static int check_unique(const struct rs_registry *r, const char *id, const char *bare, struct rs_error *err)
{
        const struct entry *e = index_find(r, &r->ids, id);

        if (e)
                return rs_fail(err, -EEXIST, RS_REASON_DUPLICATE_ID, "id \"%s\" is already used by %s", id,
                               e->where);
        e = index_find(r, &r->names, bare);
        if (e)
                return rs_fail(err, -EEXIST, RS_REASON_DUPLICATE_NAME, "name \"%s\" is already used by %s",
                               bare, e->where);
        return 0;
}

static int append(struct rs_registry *r, const char *id, const char *bare, const char *where, size_t slot)
{
        struct entry e = {strdup(id), strdup(bare), strdup(where ? where : ""), slot};

        if (!e.id || !e.name || !e.where || reserve_one(r) < 0) {
                free(e.id);
                free(e.name);
                free(e.where);
                return -ENOMEM;
        }
        r->entries[r->n++] = e;
        *index_probe(r, &r->ids, e.id) = (uint32_t)r->n;
        *index_probe(r, &r->names, e.name) = (uint32_t)r->n;
        return 0;
}

int rs_registry_add(struct rs_registry *r, const char *id, const char *name, const char *where, size_t slot,
                    struct rs_error *err)
{
        int ret;

        ret = validate(id, name, err);
        if (ret < 0)
                return ret;
        pthread_rwlock_wrlock(&r->lock);
        ret = check_unique(r, id, bare_name(name), err);
        if (ret == 0 && append(r, id, bare_name(name), where, slot) < 0)
                ret = rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, "out of memory");
        pthread_rwlock_unlock(&r->lock);
        return ret;
}

/* Docker's and iSulad's unique-prefix rule: one match resolves, several are ambiguous. */
static size_t prefix_matches(const struct rs_registry *r, const char *prefix, const struct entry **ret_match)
{
        size_t len = strlen(prefix), count = 0;

        if (!rs_id_valid(prefix))
                return 0;
        for (size_t i = 0; i < r->n; i++)
                if (strncmp(r->entries[i].id, prefix, len) == 0 && count++ == 0)
                        *ret_match = &r->entries[i];
        return count;
}

/* Under the read lock: exact id, then exact name, then a unique id prefix. */
static int resolve(const struct rs_registry *r, const char *key, size_t *ret_slot, struct rs_error *err)
{
        const struct entry *e = index_find(r, &r->ids, key);
        char buf[SHOW_MAX + 4];
        size_t n;

        if (!e)
                e = index_find(r, &r->names, bare_name(key));
        if (e) {
                *ret_slot = e->slot;
                return 0;
        }
        n = prefix_matches(r, key, &e);
        if (n > 1)
                return rs_fail(err, -ENOTUNIQ, RS_REASON_NONE, "prefix \"%s\" matches %zu containers", key,
                               n);
        if (n == 0)
                return rs_fail(err, -ENOENT, RS_REASON_NONE, "no container with id or name \"%s\"",
                               shown(key, buf));
        *ret_slot = e->slot;
        return 0;
}

int rs_registry_lookup(struct rs_registry *r, const char *key, size_t *ret_slot, struct rs_error *err)
{
        size_t slot = 0;
        int ret;

        if (!key)
                key = "";
        pthread_rwlock_rdlock(&r->lock);
        ret = resolve(r, key, &slot, err);
        pthread_rwlock_unlock(&r->lock);
        if (ret == 0)
                *ret_slot = slot;
        return ret;
}

size_t rs_registry_count(struct rs_registry *r)
{
        size_t n;

        pthread_rwlock_rdlock(&r->lock);
        n = r->n;
        pthread_rwlock_unlock(&r->lock);
        return n;
}
