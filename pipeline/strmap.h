/*
 * strmap.h - a small open-addressing hash map from strings to size_t (an index into the
 * caller's array), for the lookups that run once per container (image references, GC ids).
 *
 * Invariants: keys are borrowed, not copied (they must outlive the map, e.g. strings owned by
 * the caller's array); a key maps to one value (put replaces); the load factor stays <= 1/2;
 * lookups never modify the map, so concurrent rs_strmap_get() calls on a map nobody writes to
 * are safe without a lock.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct rs_strmap {
        const char **keys;   /* NULL = empty slot */
        size_t *values;
        size_t cap;          /* power of two, or 0 */
        size_t len;
};

/* Inserts or replaces. Returns 0 or -ENOMEM (the map is unchanged on failure). */
int rs_strmap_put(struct rs_strmap *m, const char *key, size_t value);
bool rs_strmap_get(const struct rs_strmap *m, const char *key, size_t *ret_value);
/* Removes key if present; returns whether it was. */
bool rs_strmap_del(struct rs_strmap *m, const char *key);
void rs_strmap_done(struct rs_strmap *m);
