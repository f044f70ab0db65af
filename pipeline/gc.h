/*
 * gc.h - iSulad's GC list, <graph>/garbage.json (schema garbage-config.json):
 *
 *   { "GcContainers": [ { "id", "runtime", "pid", "StartTime", "ppid", "PStartTime" } ] }
 *
 * A container in this list belongs to iSulad's GC thread (research/isulad-restore.md §5.1):
 * restore skips its handling. restored only reads the list and appends to it; it never runs
 * the collection (no kill, no runtime delete, no rm).
 *
 * Invariants:
 *   - a missing file is an empty list; a file that does not parse, or whose "GcContainers" is
 *     not an array, is an error (never silently replaced by an empty list);
 *   - the parsed document is kept: a save preserves unknown keys, key order and entries this
 *     module does not understand, and appends new entries at the end;
 *   - an id is in the list at most once (adding a present id changes nothing);
 *   - new entries omit zero values, as iSulad's generator does;
 *   - rs_gc_save() is the durable write of durable.h (iSulad writes in place with O_TRUNC) and
 *     writes nothing when nothing was added since load or the last save;
 *   - every function may be called from any thread (one mutex per list).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "result.h"

#define RS_GC_FILE "garbage.json"

struct rs_gc_list;

/* Loads <graph_root>/garbage.json. Errors: STATE_CORRUPT (bad content), TOO_LARGE, IO_ERROR. */
int rs_gc_load(const char *graph_root, struct rs_gc_list **ret_list, struct rs_error *err);
void rs_gc_free(struct rs_gc_list *l);

/* iSulad's container_is_in_gc_progress(id). */
bool rs_gc_contains(struct rs_gc_list *l, const char *id);

/*
 * gc_add_container(): appends {id, runtime, pid info} unless id is present.
 * Returns 1 if added, 0 if already present, -ENOMEM.
 */
int rs_gc_add(struct rs_gc_list *l, const char *id, const char *runtime,
              const struct rs_process *proc);

size_t rs_gc_count(struct rs_gc_list *l);

/* Writes the list if it changed. Returns 1 if written, 0 if there was nothing to write. */
int rs_gc_save(struct rs_gc_list *l, struct rs_error *err);
