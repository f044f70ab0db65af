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
 *   IO_ERROR            any other read error (EACCES, EIO, ...); also a container path that
 *                       vanished between the scan and the load
 *
 * Parsing follows lcr's generated parsers (research §1.4): case-sensitive keys, unknown keys
 * ignored, a known key of the wrong JSON type ignored, and a number that does not fit its C
 * type (int: ExitCode, Pid, PPid, RestartCount, Health.FailingStreak, Health.Log[].ExitCode,
 * RestartPolicy.MaximumRetryCount; uint64: StartTime, PStartTime) fails the whole document.
 * The "State" of config.v2.json is always checked that way (iSulad parses the whole file
 * first), so a bad number there is CONFIG_CORRUPT even when container_state.json is fine.
 *
 * container_state.json: parsed -> RS_STATE_FROM_FILE, state_doc = that document. Missing ->
 * RS_STATE_FROM_FALLBACK_MISSING. Unreadable for any other reason (corrupt, truncated, not an
 * object, FIFO, symlink, too large, a failing number, EACCES) -> RS_STATE_FROM_FALLBACK_CORRUPT
 * with state_warning = the sentence. Both fallbacks take state from config.v2.json "State" and
 * state_doc = a deep copy of it. The id, the name and their agreement with dir_name are not
 * judged here: registration does that.
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
