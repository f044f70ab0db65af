/* verify.c - the in-memory image store and iSulad's image existence check (see verify.h). */
#include "verify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "jsonfile.h"
#include "load.h"
#include "strmap.h"

#define STORE_DIR "storage/overlay-images"
#define IMAGE_JSON "images.json"
#define HOST_PREFIX "docker.io/"      /* daemon_constants.json default-host + "/" */
#define REPO_PREFIX "library/"        /* REPO_PREFIX_TO_STRIP */
#define DEFAULT_TAG ":latest"
#define DIGEST_MARK "@sha256:"
#define CONFIG_MAX_SIZE (32u << 20)   /* image configs with long histories reach a few MB */

struct image {
        char *id;
        char **names;            /* normalised, deduplicated */
        size_t n_names;
        char *digest;            /* images.json "digest" */
        char *manifest_digest;   /* big-data-digests["manifest"] */
        bool valid;              /* its config big-data file parses */
};

struct rs_image_store {
        struct image *images;    /* load order */
        size_t n, cap, skipped, visible;
        struct rs_strmap byid, byname, bydigest;
        const char **ids;        /* sorted ids of valid images, for the prefix lookup */
        size_t n_ids;
};

static bool is_hex_len(const char *s, size_t min, size_t max)
{
        size_t n = 0;

        for (; s[n]; n++)
                if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
                        return false;
        return n >= min && n <= max;
}

static void json_putp(struct json_object **o)
{
        json_object_put(*o);
}

static void image_done(struct image *img)
{
        free(img->id);
        for (size_t i = 0; i < img->n_names; i++)
                free(img->names[i]);
        free(img->names);
        free(img->digest);
        free(img->manifest_digest);
}

void rs_image_store_free(struct rs_image_store *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < s->n; i++)
                image_done(&s->images[i]);
        free(s->images);
        rs_strmap_done(&s->byid);
        rs_strmap_done(&s->byname);
        rs_strmap_done(&s->bydigest);
        free(s->ids);
        free(s);
}

size_t rs_image_store_count(const struct rs_image_store *s)
{
        return s->visible;
}

size_t rs_image_store_skipped(const struct rs_image_store *s)
{
        return s->skipped;
}

/* ---- names ---------------------------------------------------------------------------- */

/* oci_strip_host_prefix(): "docker.io/" then "library/". */
static const char *strip_prefixes(const char *name)
{
        if (strncmp(name, HOST_PREFIX, strlen(HOST_PREFIX)) == 0)
                name += strlen(HOST_PREFIX);
        if (strncmp(name, REPO_PREFIX, strlen(REPO_PREFIX)) == 0)
                name += strlen(REPO_PREFIX);
        return name;
}

char *rs_image_normalize(const char *ref)
{
        const char *last = strrchr(ref, '/');
        const char *stripped;
        char *out;

        /* oci_default_tag(): a tag is a ':' in the last path component ("@sha256:" counts) */
        last = last ? last + 1 : ref;
        stripped = strip_prefixes(ref);
        if (asprintf(&out, "%s%s", stripped, strchr(last, ':') ? "" : DEFAULT_TAG) < 0)
                return NULL;
        return out;
}

/* util_tag_pos(): the ':' of a tag, i.e. the last ':' with no '/' after it. */
static char *tag_pos(char *ref)
{
        char *colon = strrchr(ref, ':');

        return colon && !strchr(colon, '/') ? colon : NULL;
}

/* resort_image_names(): a name ending in "@sha256:<64 hex>" is a digest, not a tag. */
static bool is_digest_name(const char *name)
{
        size_t n = strlen(name);

        return n > strlen(DIGEST_MARK) + 64 &&
               strncmp(name + n - 64 - strlen(DIGEST_MARK), DIGEST_MARK, strlen(DIGEST_MARK)) == 0;
}

/* ---- loading ---------------------------------------------------------------------------- */

static bool has_name(const struct image *img, const char *name)
{
        for (size_t i = 0; i < img->n_names; i++)
                if (strcmp(img->names[i], name) == 0)
                        return true;
        return false;
}

/* strip_default_hostname() + deduplicate_names() of iSulad's append_image_by_directory(). */
static int add_names(struct image *img, struct json_object *names)
{
        size_t n = json_object_is_type(names, json_type_array) ? json_object_array_length(names) : 0;

        img->names = calloc(n ? n : 1, sizeof(*img->names));
        if (!img->names)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct json_object *v = json_object_array_get_idx(names, i);
                const char *name;

                if (!json_object_is_type(v, json_type_string))
                        continue;
                name = strip_prefixes(json_object_get_string(v));
                if (has_name(img, name))
                        continue;
                if (!(img->names[img->n_names] = strdup(name)))
                        return -ENOMEM;
                img->n_names++;
        }
        return 0;
}

static int dup_string_key(struct json_object *o, const char *key, char **ret)
{
        struct json_object *v;

        *ret = NULL;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return 0;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

static int parse_image(struct json_object *doc, struct image *img)
{
        struct json_object *names = NULL, *bdd = NULL;

        if (dup_string_key(doc, "id", &img->id) < 0)
                return -ENOMEM;
        if (!img->id)
                return -EBADMSG;
        json_object_object_get_ex(doc, "names", &names);
        if (add_names(img, names) < 0 || dup_string_key(doc, "digest", &img->digest) < 0)
                return -ENOMEM;
        if (json_object_object_get_ex(doc, "big-data-digests", &bdd) &&
            dup_string_key(bdd, "manifest", &img->manifest_digest) < 0)
                return -ENOMEM;
        return 0;
}

static void base64(const unsigned char *in, size_t len, char *out)
{
        static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t i;

        for (i = 0; i + 2 < len; i += 3) {
                *out++ = tbl[in[i] >> 2];
                *out++ = tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
                *out++ = tbl[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
                *out++ = tbl[in[i + 2] & 63];
        }
        if (i < len) {
                *out++ = tbl[in[i] >> 2];
                if (i + 1 < len) {
                        *out++ = tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
                        *out++ = tbl[(in[i + 1] & 15) << 2];
                } else {
                        *out++ = tbl[(in[i] & 3) << 4];
                        *out++ = '=';
                }
                *out++ = '=';
        }
        *out = '\0';
}

/* try_fill_image_spec(): <store>/<id>/"=" + base64("sha256:<id>") must exist and parse. */
static bool config_parses(const char *store_dir, const char *id)
{
        char key[128], b64[256], *path = NULL;
        _cleanup_(json_putp) struct json_object *doc = NULL;
        int r;

        if (strlen(id) > 64)
                return false;
        snprintf(key, sizeof(key), "sha256:%s", id);
        base64((const unsigned char *)key, strlen(key), b64);
        if (asprintf(&path, "%s/%s/=%s", store_dir, id, b64) < 0)
                return false;
        r = rs_json_read_path(path, CONFIG_MAX_SIZE, RS_LOAD_MAX_DEPTH, RS_REASON_IMAGE_MISSING,
                              RS_REASON_IMAGE_MISSING, &doc, NULL);
        free(path);
        return r == 0 && json_object_is_type(doc, json_type_object);
}

/* Reads one image directory; -EBADMSG etc. mean "skip it", -ENOMEM is fatal. */
static int read_image(const char *store_dir, const char *dir, struct image *ret)
{
        _cleanup_(json_putp) struct json_object *doc = NULL;
        _cleanup_free_ char *path = NULL;
        struct image img = { 0 };
        int r;

        if (asprintf(&path, "%s/%s/" IMAGE_JSON, store_dir, dir) < 0)
                return -ENOMEM;
        r = rs_json_read_path(path, RS_LOAD_MAX_FILE_SIZE, RS_LOAD_MAX_DEPTH, RS_REASON_IMAGE_MISSING,
                              RS_REASON_IMAGE_MISSING, &doc, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        if (!json_object_is_type(doc, json_type_object))
                return -EBADMSG;
        r = parse_image(doc, &img);
        if (r == 0)
                img.valid = is_hex_len(img.id, 1, 64) && config_parses(store_dir, img.id);
        if (r < 0) {
                image_done(&img);
                return r;
        }
        *ret = img;
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void free_list(char **list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(list[i]);
        free(list);
}

/* util_list_all_subdir() filtered by ^[a-f0-9]{64}$, sorted so that name stealing is stable. */
static int list_image_dirs(const char *store_dir, char ***ret_list, size_t *ret_n,
                           struct rs_error *err)
{
        DIR *d = opendir(store_dir);
        char **list = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;

        if (!d && errno == ENOENT) {
                *ret_list = NULL;
                *ret_n = 0;
                return 0;   /* no image was ever pulled: an empty store */
        }
        if (!d)
                return rs_fail(err, -errno, RS_REASON_IO_ERROR, "%s: cannot read the image store: %m",
                               store_dir);
        while ((de = readdir(d))) {
                if (!is_hex_len(de->d_name, 64, 64) ||
                    (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
                        continue;
                if (n == cap) {
                        char **bigger = realloc(list, (cap = cap ? cap * 2 : 16) * sizeof(*list));
                        if (!bigger)
                                goto oom;
                        list = bigger;
                }
                if (!(list[n] = strdup(de->d_name)))
                        goto oom;
                n++;
        }
        closedir(d);
        if (n > 1)
                qsort(list, n, sizeof(*list), cmp_str);
        *ret_list = list;
        *ret_n = n;
        return 0;
oom:
        closedir(d);
        free_list(list, n);
        return rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, "out of memory");
}

static int append_image(struct rs_image_store *s, const struct image *img)
{
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 16;
                struct image *bigger = realloc(s->images, cap * sizeof(*bigger));
                if (!bigger)
                        return -ENOMEM;
                s->images = bigger;
                s->cap = cap;
        }
        s->images[s->n++] = *img;
        return 0;
}

static int read_all(struct rs_image_store *s, const char *store_dir, char **dirs, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                struct image img;
                int r = read_image(store_dir, dirs[i], &img);

                if (r == -ENOMEM)
                        return r;
                if (r < 0 || !img.valid)
                        s->skipped++;
                if (r < 0)
                        continue;
                if (append_image(s, &img) < 0) {
                        image_done(&img);
                        return -ENOMEM;
                }
        }
        return 0;
}

/*
 * load_image_to_store_field(): in load order, an image takes every one of its names, even
 * from an earlier image (which loses it). Only then are images without a config dropped,
 * with the names they hold, as image_store_check_all_images() does afterwards.
 */
static int index_names(struct rs_image_store *s)
{
        struct rs_strmap owner = { 0 };
        int r = 0;

        for (size_t i = 0; i < s->n && r == 0; i++)
                for (size_t j = 0; j < s->images[i].n_names && r == 0; j++)
                        r = rs_strmap_put(&owner, s->images[i].names[j], i);
        for (size_t i = 0; i < s->n && r == 0; i++) {
                struct image *img = &s->images[i];
                for (size_t j = 0; j < img->n_names && r == 0; j++) {
                        size_t who;
                        rs_strmap_get(&owner, img->names[j], &who);
                        if (who == i && img->valid)
                                r = rs_strmap_put(&s->byname, img->names[j], i);
                }
        }
        rs_strmap_done(&owner);
        return r;
}

/* implicit_digest() then explicit_digest(): the first image indexed under a digest answers. */
static int index_digest(struct rs_image_store *s, const char *digest, size_t i)
{
        if (!digest || rs_strmap_get(&s->bydigest, digest, NULL))
                return 0;
        return rs_strmap_put(&s->bydigest, digest, i);
}

static int index_ids(struct rs_image_store *s)
{
        s->ids = calloc(s->n ? s->n : 1, sizeof(*s->ids));
        if (!s->ids)
                return -ENOMEM;
        for (size_t i = 0; i < s->n; i++) {
                struct image *img = &s->images[i];
                if (!img->valid)
                        continue;
                /* map_replace: a later record with the same id wins the id */
                if (!rs_strmap_get(&s->byid, img->id, NULL))
                        s->ids[s->n_ids++] = img->id;
                if (rs_strmap_put(&s->byid, img->id, i) < 0 ||
                    index_digest(s, img->manifest_digest, i) < 0 || index_digest(s, img->digest, i) < 0)
                        return -ENOMEM;
                s->visible++;
        }
        if (s->n_ids > 1) /* qsort(NULL, 0) is undefined behaviour */
                qsort(s->ids, s->n_ids, sizeof(*s->ids), cmp_str);
        return 0;
}

int rs_image_store_load(const char *graph_root, struct rs_image_store **ret_store,
                        struct rs_error *err)
{
        _cleanup_free_ char *store_dir = NULL;
        struct rs_image_store *s = calloc(1, sizeof(*s));
        char **dirs = NULL;
        size_t n = 0;
        int r;

        if (!s || asprintf(&store_dir, "%s/" STORE_DIR, graph_root) < 0) {
                free(s);
                return rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, "out of memory");
        }
        r = list_image_dirs(store_dir, &dirs, &n, err);
        if (r < 0) {
                rs_image_store_free(s);
                return r;
        }
        r = read_all(s, store_dir, dirs, n);
        free_list(dirs, n);
        if (r == 0 && (r = index_names(s)) == 0)
                r = index_ids(s);
        if (r < 0) {
                rs_image_store_free(s);
                return rs_fail(err, r, RS_REASON_INTERNAL, "%s: out of memory", store_dir);
        }
        *ret_store = s;
        return 0;
}

/* ---- lookups ---------------------------------------------------------------------------- */

/* get_image_for_store_by_prefix(): exactly one id starting with prefix. */
static const struct image *by_prefix(const struct rs_image_store *s, const char *prefix)
{
        size_t lo = 0, hi = s->n_ids, len = strlen(prefix), idx;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(s->ids[mid], prefix) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo >= s->n_ids || strncmp(s->ids[lo], prefix, len) != 0)
                return NULL;
        if (lo + 1 < s->n_ids && strncmp(s->ids[lo + 1], prefix, len) == 0)
                return NULL;   /* ambiguous: iSulad "Multiple IDs found with provided prefix" */
        rs_strmap_get(&s->byid, s->ids[lo], &idx);
        return &s->images[idx];
}

/*
 * is_name_digest_consistent(): "repo@sha256:d" names the image only if one of the image's
 * tags, normalised, has repository "repo" (ubuntu@sha256:abc must not match test's abc).
 */
static bool digest_consistent(const struct rs_image_store *s, size_t i, const char *ref,
                              const char *digest)
{
        const struct image *img = &s->images[i];
        size_t who;

        for (size_t j = 0; j < img->n_names; j++) {
                _cleanup_free_ char *norm = NULL, *repo_digest = NULL;
                char *tag;

                /* a name it lost to a later image is no longer its name */
                if (is_digest_name(img->names[j]) || !rs_strmap_get(&s->byname, img->names[j], &who) ||
                    who != i)
                        continue;
                if (!(norm = rs_image_normalize(img->names[j])) || !(tag = tag_pos(norm)))
                        continue;
                *tag = '\0';
                if (asprintf(&repo_digest, "%s@%s", norm, digest) >= 0 && strcmp(repo_digest, ref) == 0)
                        return true;
        }
        return false;
}

/* by_digest(): ref is "name@sha256:<64 hex>". */
static const struct image *by_digest(const struct rs_image_store *s, const char *ref)
{
        const char *at = strrchr(ref, '@');
        size_t i;

        if (!at || strncmp(at, DIGEST_MARK, strlen(DIGEST_MARK)) != 0 ||
            !is_hex_len(at + strlen(DIGEST_MARK), 64, 64))
                return NULL;
        if (!rs_strmap_get(&s->bydigest, at + 1, &i) || !digest_consistent(s, i, ref, at + 1))
                return NULL;
        return &s->images[i];
}

/* image_store lookup(): id, name, unique id prefix, digest. */
static const struct image *lookup(const struct rs_image_store *s, const char *ref)
{
        size_t i;

        if (rs_strmap_get(&s->byid, ref, &i) || rs_strmap_get(&s->byname, ref, &i))
                return &s->images[i];
        const struct image *img = by_prefix(s, ref);
        return img ? img : by_digest(s, ref);
}

/* oci_resolve_image_name() + storage_image_exist(); *ret_resolved is what was looked up. */
static const struct image *resolve(const struct rs_image_store *s, const char *ref,
                                   char **ret_resolved)
{
        const struct image *img;

        *ret_resolved = NULL;
        if (is_hex_len(ref, 3, 64) && (img = lookup(s, ref)))
                return img;
        *ret_resolved = rs_image_normalize(ref);
        return *ret_resolved ? lookup(s, *ret_resolved) : NULL;
}

const char *rs_image_resolve(const struct rs_image_store *s, const char *ref)
{
        _cleanup_free_ char *resolved = NULL;
        const struct image *img = resolve(s, ref, &resolved);

        return img ? img->id : NULL;
}

int rs_verify_image(const struct rs_image_store *s, const struct rs_container *c,
                    struct rs_error *err)
{
        _cleanup_free_ char *resolved = NULL;

        if (!c->image_type || !c->image)
                return rs_fail(err, -EINVAL, RS_REASON_IMAGE_UNKNOWN,
                               "config.v2.json: CommonConfig.%s is missing, so the image cannot be "
                               "checked (iSulad fails such a container too)",
                               !c->image_type ? "ImageType" : "Image");
        /* only OCI images live in the image store; external/embedded/remote are not checked */
        if (strcmp(c->image_type, "oci") != 0)
                return 0;
        if (resolve(s, c->image, &resolved))
                return 0;
        if (!resolved)
                return rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, "out of memory");
        if (strcmp(resolved, c->image) == 0)
                return rs_fail(err, -ENOENT, RS_REASON_IMAGE_MISSING,
                               "image \"%s\" (from CommonConfig.Image) is not in the image store",
                               resolved);
        return rs_fail(err, -ENOENT, RS_REASON_IMAGE_MISSING,
                       "image \"%s\" (from CommonConfig.Image \"%s\") is not in the image store",
                       resolved, c->image);
}
