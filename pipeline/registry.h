/*
 * registry.h - the id and name indexes of registered containers.
 *
 * Registration happens in the deterministic order of the results (runtime, then directory
 * name), so when two directories claim the same id or name the one that sorts first wins
 * (CONTRACT §4.2). Lookups take a read lock and may run while a restore registers; each maps a
 * key to the caller's slot number (an index into the result array).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct rs_registry;

/* iSulad's id_name_manager rules: ^[a-f0-9]{1,64}$ and ^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$ (<=1024). */
bool rs_id_valid(const char *id);
bool rs_name_valid(const char *name);

int rs_registry_new(struct rs_registry **ret);
void rs_registry_free(struct rs_registry *r);
/* Drops every entry (a new restore generation starts from empty indexes). */
void rs_registry_clear(struct rs_registry *r);

/*
 * Validates and adds. Errors: -EINVAL (INVALID_ID / INVALID_NAME), -EEXIST (DUPLICATE_ID /
 * DUPLICATE_NAME, the message names the directory that won). Nothing is added on failure.
 * `where` ("runc/<dir>") is used in messages. A name is indexed without its leading '/', so
 * "/web" and "web" are one name (DUPLICATE_NAME), and either spelling looks it up.
 */
int rs_registry_add(struct rs_registry *r, const char *id, const char *name, const char *where,
                    size_t slot, struct rs_error *err);

/*
 * Resolves, in this order, a full id, a name (with or without a leading '/'), or a unique id
 * prefix. Errors: -ENOENT ("no container with id or name \"x\""), -ENOTUNIQ ("prefix \"ab\"
 * matches 3 containers"); err->reason stays RS_REASON_NONE (these are not restore failures).
 * Exact lookups are O(1); a prefix lookup scans the entries (O(n), operator requests only).
 */
int rs_registry_lookup(struct rs_registry *r, const char *key, size_t *ret_slot,
                       struct rs_error *err);

size_t rs_registry_count(struct rs_registry *r);
