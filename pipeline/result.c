/* result.c - ownership helpers for struct rs_result. */
#include "result.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void rs_result_done(struct rs_result *r)
{
        if (!r)
                return;
        free(r->id);
        free(r->name);
        free(r->runtime);
        free(r->image);
        free(r->dir);
        free(r->error);
        free(r->exit_fifo);
        free(r->restart.policy);
        free(r->restart.reason);
        free(r->health_status);
        memset(r, 0, sizeof(*r));
}

static int dup_into(char **dst, const char *src)
{
        *dst = NULL;
        if (!src)
                return 0;
        *dst = strdup(src);
        return *dst ? 0 : -ENOMEM;
}

int rs_result_copy(const struct rs_result *src, struct rs_result *ret)
{
        struct rs_result r = *src;
        int rc = 0;

        rc |= dup_into(&r.id, src->id);
        rc |= dup_into(&r.name, src->name);
        rc |= dup_into(&r.runtime, src->runtime);
        rc |= dup_into(&r.image, src->image);
        rc |= dup_into(&r.dir, src->dir);
        rc |= dup_into(&r.error, src->error);
        rc |= dup_into(&r.exit_fifo, src->exit_fifo);
        rc |= dup_into(&r.restart.policy, src->restart.policy);
        rc |= dup_into(&r.restart.reason, src->restart.reason);
        rc |= dup_into(&r.health_status, src->health_status);
        if (rc) {
                rs_result_done(&r);
                return -ENOMEM;
        }
        *ret = r;
        return 0;
}
