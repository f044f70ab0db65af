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
 *
 *   -ENOENT   missing_reason   "<name>: no such file"
 *   -ELOOP    corrupt_reason   "<name>: is a symbolic link; refusing to follow"
 *   -EBADF    corrupt_reason   "<name>: not a regular file (fifo|directory|character device|...)"
 *   -EBADMSG  corrupt_reason   empty file, NUL byte, syntax error, trailing data, a `null`
 *                              document ("<name>: unexpected end of input at byte 812")
 *   -EFBIG    TOO_LARGE        larger than max_size (decided by fstat, before any read)
 *   -E2BIG    TOO_LARGE        "<name>: nesting deeper than <max_depth> at byte N"
 *   -errno    IO_ERROR         "<name>: <strerror>"
 *   -ENOMEM   INTERNAL
 *
 * Depth counts values: the top-level value is at depth 1 and a value inside a container one
 * deeper than the container, so {"a": 1} has depth 2 (json-c's definition). The syntax is
 * json-c's strict mode with UTF-8 validation, the closest to yajl (iSulad's parser).
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
