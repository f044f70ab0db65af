/*
 * statefile.h - writing container_state.json back after sync and handle (CONTRACT §4.5).
 *
 * iSulad regenerates the whole file from its struct on every restore (container_state_to_disk,
 * temp file + rename, no fsync). restored edits the document it read instead:
 *
 *   - nothing changed (c->state equals the state as loaded) -> nothing is written, so a second
 *     restore over an unchanged host changes no file (mtime and inode stay);
 *   - otherwise only the fields that changed are applied to c->state_doc: a changed key is
 *     replaced where it stands (json-c keeps key order), a key whose new value is zero, false
 *     or absent is deleted (iSulad's generator omits zero values), a new key goes at the end,
 *     and keys restored does not model are never touched;
 *   - the text is json-c's pretty print with "key": value (iSulad's yajl beautify indents by
 *     4, json-c by 2; readers do not care), written with durable.h: same mode and owner as
 *     the old file, 0640 for a new one;
 *   - a state that came from the config.v2.json fallback is always written (iSulad writes
 *     container_state.json on every restore; this moves the container to the v2.0.8 layout).
 *     When the file was there but unreadable (RS_STATE_FROM_FALLBACK_CORRUPT), it is first
 *     kept beside the new one as container_state.json.corrupt (.corrupt.1 .. .9 when taken),
 *     by link() or, for a directory, rename(): never silently lost;
 *   - a dry run writes nothing and changes nothing in memory.
 */
#pragma once

#include <stdbool.h>

#include "container.h"
#include "error.h"

#define RS_STATE_FILE "container_state.json"

/* Field-by-field equality of everything container_state.json holds for restored. */
bool rs_state_equal(const struct rs_state *a, const struct rs_state *b);

/* Whether rs_state_save() would write (fallback source, or state differs from orig). */
bool rs_state_needs_save(const struct rs_container *c, const struct rs_state *orig);

/*
 * Applies to doc (an object) every field of now that differs from base, as described above.
 * Returns 0 or -ENOMEM (doc may then hold part of the changes).
 */
int rs_state_apply(struct json_object *doc, const struct rs_state *base,
                   const struct rs_state *now);

/*
 * Persists c->state into <c->dir_path>/container_state.json when rs_state_needs_save().
 * orig is c->state as loaded (before sync/handle). On success *ret_written says whether the
 * file was replaced; after a write c->state_source becomes RS_STATE_FROM_FILE. Errors:
 * IO_ERROR (the old file is intact), INTERNAL (out of memory).
 */
int rs_state_save(struct rs_container *c, const struct rs_state *orig, bool dry_run,
                  bool *ret_written, struct rs_error *err);
