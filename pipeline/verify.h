/*
 * verify.h - the verify stage: does the container's image exist? (iSulad's
 * check_container_image_exist(), research/isulad-restore.md §2.)
 *
 * The image store is <graph>/storage/overlay-images/<64hex>/images.json, read once per restore
 * into memory, as iSulad's image module does at daemon start before any container is restored:
 *   - only directories named ^[a-f0-9]{64}$ are loaded, in sorted order (iSulad: readdir order);
 *   - names are normalised as at iSulad's load: "docker.io/" then "library/" stripped,
 *     duplicates dropped; a name claimed twice goes to the image loaded later;
 *   - an image whose config big-data file "=" + base64("sha256:<id>") is missing or does not
 *     parse counts as absent (iSulad's image_store_check_all_images() deletes such a record at
 *     start; restored deletes nothing, it only does not see it);
 *   - an unreadable images.json skips that image (iSulad logs and continues); a missing store
 *     directory is an empty store.
 *
 * A container is checked only when CommonConfig.ImageType is "oci"; other types pass, and a
 * missing ImageType or CommonConfig.Image fails (as iSulad). The reference is what the user
 * typed, resolved as oci_resolve_image_name(): a short id (^[a-f0-9]{3,64}$) that the store
 * knows is used as is; otherwise ":latest" is added when the last path component has no tag
 * and "docker.io/", then "library/", are stripped. The lookup then tries, in iSulad's order:
 * exact id, exact name, unique id prefix (ambiguous = not found), name@sha256:<digest> (the
 * digest's image must carry a tag of the same repository).
 *
 * Invariants: the store is immutable after rs_image_store_load(), so any number of threads may
 * look up concurrently without a lock; lookups are O(1) hash lookups plus one O(log n) prefix
 * search, so 10k containers cost milliseconds; nothing here writes.
 */
#pragma once

#include <stddef.h>

#include "container.h"
#include "error.h"

struct rs_image_store;

/* Errors: IO_ERROR (store directory unreadable), INTERNAL (out of memory). */
int rs_image_store_load(const char *graph_root, struct rs_image_store **ret_store,
                        struct rs_error *err);
void rs_image_store_free(struct rs_image_store *s);

/* Images visible to lookups, and image directories skipped (bad images.json, no config). */
size_t rs_image_store_count(const struct rs_image_store *s);
size_t rs_image_store_skipped(const struct rs_image_store *s);

/*
 * oci_normalize_image_name(): "busybox" -> "busybox:latest", "docker.io/library/x:1" -> "x:1".
 * Returns a malloc'd string or NULL (out of memory).
 */
char *rs_image_normalize(const char *ref);

/* Resolves ref as described above; returns the image id (owned by the store) or NULL. */
const char *rs_image_resolve(const struct rs_image_store *s, const char *ref);

/*
 * Returns 0 when the container's image exists (or is not checked). Otherwise -ENOENT with
 * reason IMAGE_MISSING and a sentence naming the reference, e.g.
 *   image "busybox:latest" (from CommonConfig.Image "busybox") is not in the image store
 * or -EINVAL with reason IMAGE_UNKNOWN when ImageType or CommonConfig.Image is missing.
 */
int rs_verify_image(const struct rs_image_store *s, const struct rs_container *c,
                    struct rs_error *err);
