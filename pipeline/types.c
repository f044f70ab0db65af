/* types.c - the words the pipeline uses for its enums (CLI tables, logs, messages). */
#include "types.h"

#include <stddef.h>

#include "cleanup.h"

static const char *pick(const char *const *names, size_t n, int v)
{
        if (v < 0 || (size_t)v >= n || !names[v])
                return "invalid";
        return names[v];
}

const char *rs_status_name(rs_status s)
{
        /* iSulad's words for the derived status (isula ps). */
        static const char *const names[] = {
                [RS_STATUS_UNKNOWN] = "unknown",       [RS_STATUS_CREATED] = "created",
                [RS_STATUS_STARTING] = "starting",     [RS_STATUS_RUNNING] = "running",
                [RS_STATUS_PAUSED] = "paused",         [RS_STATUS_RESTARTING] = "restarting",
                [RS_STATUS_STOPPED] = "exited",
        };
        return pick(names, ARRAY_SIZE(names), s);
}

const char *rs_action_name(rs_action a)
{
        static const char *const names[] = {
                [RS_ACTION_NONE] = "none",               [RS_ACTION_SKIP_GC] = "skip-gc",
                [RS_ACTION_REATTACH] = "reattach",       [RS_ACTION_AUTO_REMOVE] = "auto-remove",
                [RS_ACTION_RESTART] = "restart",         [RS_ACTION_KEEP_STOPPED] = "keep-stopped",
        };
        return pick(names, ARRAY_SIZE(names), a);
}

const char *rs_reason_name(rs_reason r)
{
        static const char *const names[] = {
                [RS_REASON_NONE] = "",
                [RS_REASON_CONFIG_MISSING] = "config-missing",
                [RS_REASON_CONFIG_CORRUPT] = "config-corrupt",
                [RS_REASON_HOSTCONFIG_MISSING] = "hostconfig-missing",
                [RS_REASON_HOSTCONFIG_CORRUPT] = "hostconfig-corrupt",
                [RS_REASON_STATE_CORRUPT] = "state-corrupt",
                [RS_REASON_INVALID_ID] = "invalid-id",
                [RS_REASON_ID_MISMATCH] = "id-mismatch",
                [RS_REASON_INVALID_NAME] = "invalid-name",
                [RS_REASON_DUPLICATE_ID] = "duplicate-id",
                [RS_REASON_DUPLICATE_NAME] = "duplicate-name",
                [RS_REASON_IMAGE_MISSING] = "image-missing",
                [RS_REASON_IMAGE_UNKNOWN] = "image-unknown",
                [RS_REASON_NOT_A_DIRECTORY] = "not-a-directory",
                [RS_REASON_TOO_LARGE] = "too-large",
                [RS_REASON_IO_ERROR] = "io-error",
                [RS_REASON_RUNTIME_TIMEOUT] = "runtime-timeout",
                [RS_REASON_INTERNAL] = "internal",
        };
        return pick(names, ARRAY_SIZE(names), r);
}

const char *rs_stage_name(rs_stage s)
{
        static const char *const names[] = {
                [RS_STAGE_UNSPECIFIED] = "",   [RS_STAGE_LOAD] = "load",
                [RS_STAGE_VERIFY] = "verify",  [RS_STAGE_SYNC] = "sync",
                [RS_STAGE_REGISTER] = "register", [RS_STAGE_HANDLE] = "handle",
        };
        return pick(names, ARRAY_SIZE(names), s);
}
