/*
 * load.h - the load stage: read one container directory into a struct rs_container.
 *
 * Reads config.v2.json, hostconfig.json, container_state.json (falling back to the "State" of
 * config.v2.json when missing or unreadable, as iSulad does) and checks that
 * network_settings.json, when present, parses. Never writes, never follows a symlink, never
 * blocks on a FIFO or device, never reads more than limits->max_file_size bytes of a file.
 *
 * Failure reasons (err->reason), with err->msg naming the file and the cause:
 *   NOT_A_DIRECTORY     the container path is a symlink or not a directory
 *   CONFIG_MISSING      config.v2.json absent
 *   CONFIG_CORRUPT      config.v2.json unparsable, not a regular file, or without
 *                       CommonConfig / State / id / Name (iSulad's required keys)
 *   HOSTCONFIG_MISSING  hostconfig.json absent
 *   HOSTCONFIG_CORRUPT  hostconfig.json unparsable or not a regular file
 *   STATE_CORRUPT       network_settings.json present but unparsable (iSulad fails the load)
 *   TOO_LARGE           a file over limits->max_file_size (or deeper than max_depth)
 *   IO_ERROR            any other read error (EACCES, EIO, ...)
 */
#pragma once

#include <stddef.h>

#include "container.h"
#include "error.h"

struct rs_load_limits {
        size_t max_file_size;   /* bytes; default RS_LOAD_MAX_FILE_SIZE */
        int max_depth;          /* JSON nesting; default RS_LOAD_MAX_DEPTH */
};

#define RS_LOAD_MAX_FILE_SIZE (4u << 20)
#define RS_LOAD_MAX_DEPTH 64

/*
 * engines_dir: <graph>/engines. On success *ret_container is a new container (free with
 * rs_container_free). limits may be NULL for the defaults.
 */
int rs_load_container(const char *engines_dir, const char *runtime, const char *dir_name,
                      const struct rs_load_limits *limits, struct rs_container **ret_container,
                      struct rs_error *err);
