/* strmap.c - linear-probing string map (see strmap.h). */
#include "strmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
        /* FNV-1a: keys are ids and image names, not attacker-chosen at restore time */
        uint64_t h = 14695981039346656037ULL;

        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

static size_t find(const struct rs_strmap *m, const char *key)
{
        size_t i = (size_t)hash(key) & (m->cap - 1);

        while (m->keys[i] && strcmp(m->keys[i], key) != 0)
                i = (i + 1) & (m->cap - 1);
        return i;
}

static int grow(struct rs_strmap *m)
{
        struct rs_strmap bigger = { .cap = m->cap ? m->cap * 2 : 16 };

        bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
        bigger.values = calloc(bigger.cap, sizeof(*bigger.values));
        if (!bigger.keys || !bigger.values) {
                rs_strmap_done(&bigger);
                return -ENOMEM;
        }
        for (size_t i = 0; i < m->cap; i++) {
                if (!m->keys[i])
                        continue;
                size_t j = find(&bigger, m->keys[i]);
                bigger.keys[j] = m->keys[i];
                bigger.values[j] = m->values[i];
                bigger.len++;
        }
        rs_strmap_done(m);
        *m = bigger;
        return 0;
}

int rs_strmap_put(struct rs_strmap *m, const char *key, size_t value)
{
        size_t i;

        if ((m->len + 1) * 2 > m->cap && grow(m) < 0)
                return -ENOMEM;
        i = find(m, key);
        if (!m->keys[i]) {
                m->keys[i] = key;
                m->len++;
        }
        m->values[i] = value;
        return 0;
}

bool rs_strmap_get(const struct rs_strmap *m, const char *key, size_t *ret_value)
{
        size_t i;

        if (m->len == 0)
                return false;
        i = find(m, key);
        if (!m->keys[i])
                return false;
        if (ret_value)
                *ret_value = m->values[i];
        return true;
}

bool rs_strmap_del(struct rs_strmap *m, const char *key)
{
        size_t i, j;

        if (m->len == 0)
                return false;
        i = find(m, key);
        if (!m->keys[i])
                return false;
        m->keys[i] = NULL;
        m->len--;
        /* re-insert the rest of the probe run so no later key becomes unreachable */
        for (j = (i + 1) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1)) {
                const char *k = m->keys[j];
                size_t v = m->values[j], to;

                m->keys[j] = NULL;
                to = find(m, k);
                m->keys[to] = k;
                m->values[to] = v;
        }
        return true;
}

void rs_strmap_done(struct rs_strmap *m)
{
        free(m->keys);
        free(m->values);
        *m = (struct rs_strmap){ 0 };
}
