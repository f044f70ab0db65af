/*
 * durable.h - the one crash-safe file replacement of the pipeline (Redis rdb.c's recipe).
 *
 *   1. create "<dir>/.tmp-<name>-XXXXXX" with O_EXCL|O_CLOEXEC|O_NOFOLLOW (the spelling of
 *      iSulad's util_atomic_write_file temp files, so its leftover cleaner knows them);
 *   2. give it the mode (and owner) of the file it replaces, default_mode when there is none;
 *   3. write everything, fsync;
 *   4. rename over <name>, fsync the directory.
 *
 * Invariants: at every instant <dir>/<name> is either the complete old file or the complete
 * new one; a failure at any step (ENOSPC, EIO, ...) removes the temp file and leaves the old
 * file untouched; nothing outside <dir> is touched; no fd leaks into children (O_CLOEXEC).
 * iSulad itself skips both fsyncs (sync=false) and writes garbage.json in place with O_TRUNC.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/*
 * Replaces dirfd/name with data. Returns 0, or a negative errno with err (reason IO_ERROR)
 * naming the file and the step that failed.
 */
int rs_durable_write_at(int dirfd, const char *name, const void *data, size_t len,
                        mode_t default_mode, struct rs_error *err);

/* Same, for a path: its directory is opened (O_DIRECTORY) for the duration of the call. */
int rs_durable_write(const char *path, const void *data, size_t len, mode_t default_mode,
                     struct rs_error *err);
