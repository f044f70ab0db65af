/*
 * types.h - the plain vocabulary of the restore pipeline.
 *
 * Every enum here has the same numbering as its namesake in api/isula/restore/v1/restore.proto,
 * so the RPC layer converts with a cast. The pipeline itself knows nothing of gRPC or protobuf.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef enum {
        RS_STATUS_UNKNOWN = 0,
        RS_STATUS_CREATED = 1,
        RS_STATUS_STARTING = 2,
        RS_STATUS_RUNNING = 3,
        RS_STATUS_PAUSED = 4,
        RS_STATUS_RESTARTING = 5,
        RS_STATUS_STOPPED = 6,
} rs_status;

typedef enum {
        RS_OUTCOME_UNSPECIFIED = 0,
        RS_OUTCOME_RESTORED = 1,
        RS_OUTCOME_FAILED = 2,
} rs_outcome;

typedef enum {
        RS_STAGE_UNSPECIFIED = 0,
        RS_STAGE_LOAD = 1,
        RS_STAGE_VERIFY = 2,
        RS_STAGE_SYNC = 3,
        RS_STAGE_REGISTER = 4,
        RS_STAGE_HANDLE = 5,
} rs_stage;

typedef enum {
        RS_ACTION_NONE = 0,
        RS_ACTION_SKIP_GC = 1,
        RS_ACTION_REATTACH = 2,
        RS_ACTION_AUTO_REMOVE = 3,
        RS_ACTION_RESTART = 4,
        RS_ACTION_KEEP_STOPPED = 5,
} rs_action;

typedef enum {
        RS_REASON_NONE = 0,
        RS_REASON_CONFIG_MISSING = 1,
        RS_REASON_CONFIG_CORRUPT = 2,
        RS_REASON_HOSTCONFIG_MISSING = 3,
        RS_REASON_HOSTCONFIG_CORRUPT = 4,
        RS_REASON_STATE_CORRUPT = 5,
        RS_REASON_INVALID_ID = 6,
        RS_REASON_ID_MISMATCH = 7,
        RS_REASON_INVALID_NAME = 8,
        RS_REASON_DUPLICATE_ID = 9,
        RS_REASON_DUPLICATE_NAME = 10,
        RS_REASON_IMAGE_MISSING = 11,
        RS_REASON_IMAGE_UNKNOWN = 12,
        RS_REASON_NOT_A_DIRECTORY = 13,
        RS_REASON_TOO_LARGE = 14,
        RS_REASON_IO_ERROR = 15,
        RS_REASON_RUNTIME_TIMEOUT = 16,
        RS_REASON_INTERNAL = 17,
} rs_reason;

/* --runtime NAME=PATH: the binary restored runs for engine directory NAME. */
struct rs_runtime_bin {
        const char *name;
        const char *path;
};

const char *rs_status_name(rs_status s);   /* "running", "stopped", ... (iSulad's words) */
const char *rs_action_name(rs_action a);   /* "reattach", "restart", ... */
const char *rs_reason_name(rs_reason r);   /* "config-corrupt", ... */
const char *rs_stage_name(rs_stage s);     /* "load", "verify", ... */
