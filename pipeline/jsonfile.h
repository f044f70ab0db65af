/*
 * jsonfile.h - bounded, non-blocking reading and parsing of one JSON file.
 *
 * The file is opened relative to a directory fd with O_NOFOLLOW|O_NONBLOCK (a FIFO or device
 * in place of a file is refused without ever blocking), must be a regular file no larger than
 * max_size, and must hold exactly one JSON value no deeper than max_depth. Errors name the
 * file and the byte offset: "config.v2.json: unexpected end of input at byte 812".
 */
#pragma once

#include <stddef.h>

#include "error.h"

struct json_object;

/*
 * Returns 0 and *ret_doc on success. On failure returns a negative errno and fills err with
 * reason: `missing_reason` for ENOENT, `corrupt_reason` for bad content or file type,
 * RS_REASON_TOO_LARGE, or RS_REASON_IO_ERROR.
 */
int rs_json_read_at(int dirfd, const char *name, size_t max_size, int max_depth,
                    rs_reason missing_reason, rs_reason corrupt_reason,
                    struct json_object **ret_doc, struct rs_error *err);

/* Same, for a path (used for image store and garbage.json). */
int rs_json_read_path(const char *path, size_t max_size, int max_depth, rs_reason missing_reason,
                      rs_reason corrupt_reason, struct json_object **ret_doc, struct rs_error *err);

/* Parses a buffer; the name is used in messages only. */
int rs_json_parse(const char *name, const char *buf, size_t len, int max_depth,
                  rs_reason corrupt_reason, struct json_object **ret_doc, struct rs_error *err);
