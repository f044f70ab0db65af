/* test_verify.c - the image store and iSulad's image reference resolution. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "container.h"
#include "verify.h"
#include "testutil.h"

#define STORE "storage/overlay-images/"

/* iSulad's own test data: test/image/oci/storage/images/data/overlay-images/e4db68de.../ */
#define FIXTURE_ID "e4db68de4ff27c2adfea0c54bbb73a61a42f5b667c326de4d7d5b19ab71c6a3b"
#define FIXTURE_CONFIG "=c2hhMjU2OmU0ZGI2OGRlNGZmMjdjMmFkZmVhMGM1NGJiYjczYTYxYTQyZjViNjY3YzMyNmRlNGQ3ZDViMTlhYjcxYzZhM2I="
static const char fixture_images_json[] =
        "{\"id\":\"e4db68de4ff27c2adfea0c54bbb73a61a42f5b667c326de4d7d5b19ab71c6a3b\",\"digest\":\"sha256:"
        "64da743694ece2ca88df34bf4c5378fdfc44a1a5b50478722e2ff98b82e4a5c9\",\"names\":[\"imagehub.isulad."
        "com/official/busybox:latest\"],\"layer\":\"6194458b07fcf01f1483d96cd6c34302ffff7f382bb151a6d023c4e"
        "80ba3050a\",\"metadata\":\"{}\",\"big-data-names\":[\"sha256:e4db68de4ff27c2adfea0c54bbb73a61a42f5"
        "b667c326de4d7d5b19ab71c6a3b\",\"manifest\"],\"big-data-sizes\":{\"sha256:e4db68de4ff27c2adfea0c54b"
        "bb73a61a42f5b667c326de4d7d5b19ab71c6a3b\":1497,\"manifest\":527},\"big-data-digests\":{\"sha256:e4"
        "db68de4ff27c2adfea0c54bbb73a61a42f5b667c326de4d7d5b19ab71c6a3b\":\"sha256:e4db68de4ff27c2adfea0c5"
        "4bbb73a61a42f5b667c326de4d7d5b19ab71c6a3b\",\"manifest\":\"sha256:64da743694ece2ca88df34bf4c5378fd"
        "fc44a1a5b50478722e2ff98b82e4a5c9\"},\"created\":\"2019-06-15T00:19:54.402459069Z\",\"loaded\":\"2"
        "020-03-16T03:46:17.439778957Z\"}";
#define FIXTURE_MANIFEST "sha256:64da743694ece2ca88df34bf4c5378fdfc44a1a5b50478722e2ff98b82e4a5c9"

static char *root;
static struct rs_image_store *store;

/* An independent base64 (not the one under test): "=" + base64("sha256:<id>"). */
static void config_name(const char *id, char *out)
{
        static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char in[80];
        size_t n, o = 0;

        n = (size_t)snprintf(in, sizeof(in), "sha256:%s", id);
        out[o++] = '=';
        for (size_t i = 0; i < n; i += 3) {
                unsigned v = (unsigned char)in[i] << 16;
                v |= i + 1 < n ? (unsigned char)in[i + 1] << 8 : 0;
                v |= i + 2 < n ? (unsigned char)in[i + 2] : 0;
                out[o++] = t[(v >> 18) & 63];
                out[o++] = t[(v >> 12) & 63];
                out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
                out[o++] = i + 2 < n ? t[v & 63] : '=';
        }
        out[o] = '\0';
}

/* A 64-hex id: c repeated, with tail as its last characters. */
static const char *mkid(char c, const char *tail)
{
        static char ids[8][65];
        static int next;
        char *id = ids[next++ % 8];
        size_t n = strlen(tail);

        ck_assert_uint_le(n, 64);
        memset(id, c, 64);
        memcpy(id + (64 - n), tail, n);
        id[64] = '\0';
        return id;
}

static void add_image(const char *id, const char *names, const char *manifest_digest, bool config)
{
        char rel[512], json[2048], cfg[160];

        snprintf(rel, sizeof(rel), STORE "%s/images.json", id);
        snprintf(json, sizeof(json),
                 "{\"id\":\"%s\",\"names\":%s,\"big-data-digests\":{\"manifest\":\"%s\"}}", id,
                 names, manifest_digest ? manifest_digest : "");
        tu_write(root, rel, json);
        if (config) {
                config_name(id, cfg);
                snprintf(rel, sizeof(rel), STORE "%s/%s", id, cfg);
                tu_write(root, rel, "{\"architecture\":\"amd64\",\"config\":{}}");
        }
}

static void load(void)
{
        struct rs_error err = { 0 };

        rs_image_store_free(store);
        store = NULL;
        ck_assert_msg(rs_image_store_load(root, &store, &err) == 0, "%s", err.msg);
}

static void setup(void)
{
        root = tu_mkdtemp();
        store = NULL;
}

static void teardown(void)
{
        rs_image_store_free(store);
        tu_rm_rf(root);
        free(root);
}

static void assert_resolves(const char *ref, const char *id)
{
        const char *got = rs_image_resolve(store, ref);

        if (id)
                ck_assert_msg(got && strcmp(got, id) == 0, "\"%s\" resolved to %s, want %s", ref,
                              got ? got : "nothing", id);
        else
                ck_assert_msg(!got, "\"%s\" resolved to %s, want nothing", ref, got);
}

START_TEST(upstream_fixture_image_is_found_by_name_id_and_prefix)
{
        tu_write(root, STORE FIXTURE_ID "/images.json", fixture_images_json);
        tu_write(root, STORE FIXTURE_ID "/" FIXTURE_CONFIG, "{\"architecture\":\"amd64\"}");
        load();
        ck_assert_uint_eq(rs_image_store_count(store), 1);
        assert_resolves("imagehub.isulad.com/official/busybox:latest", FIXTURE_ID);
        assert_resolves("imagehub.isulad.com/official/busybox", FIXTURE_ID);   /* + :latest */
        assert_resolves(FIXTURE_ID, FIXTURE_ID);
        assert_resolves("e4db68", FIXTURE_ID);
        assert_resolves("e4d", FIXTURE_ID);
        assert_resolves("imagehub.isulad.com/official/busybox@" FIXTURE_MANIFEST, FIXTURE_ID);
        assert_resolves("busybox", NULL);
        assert_resolves("imagehub.isulad.com/official/busybox:1.0", NULL);
}
END_TEST

START_TEST(short_names_get_latest_and_docker_hub_prefixes_are_stripped)
{
        const char *bb = mkid('b', "1");

        add_image(bb, "[\"docker.io/library/busybox:latest\"]", NULL, true);
        load();
        assert_resolves("busybox", bb);
        assert_resolves("busybox:latest", bb);
        assert_resolves("library/busybox", bb);
        assert_resolves("docker.io/busybox", bb);
        assert_resolves("docker.io/library/busybox:latest", bb);
        assert_resolves("busybox:1.36", NULL);
        assert_resolves("quay.io/busybox", NULL);
}
END_TEST

START_TEST(explicit_tags_and_registry_ports_are_kept)
{
        const char *ng = mkid('c', "2"), *app = mkid('d', "3");

        add_image(ng, "[\"nginx:1.25\"]", NULL, true);
        add_image(app, "[\"localhost:5000/team/app:latest\"]", NULL, true);
        load();
        assert_resolves("nginx:1.25", ng);
        assert_resolves("nginx", NULL);   /* nginx:latest does not exist */
        /* "localhost:5000" has a ':' but is not the last path component: the tag is added */
        assert_resolves("localhost:5000/team/app", app);
        assert_resolves("localhost:5000/team/app:latest", app);
}
END_TEST

START_TEST(digest_reference_needs_a_tag_of_the_same_repository)
{
        const char *bb = mkid('e', "4");
        const char *dg = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        char ref[256];

        add_image(bb, "[\"busybox:latest\", \"busybox@sha256:2222222222222222222222222222222222222222222222222222222222222222\"]",
                  dg, true);
        load();
        snprintf(ref, sizeof(ref), "busybox@%s", dg);
        assert_resolves(ref, bb);
        snprintf(ref, sizeof(ref), "docker.io/library/busybox@%s", dg);
        assert_resolves(ref, bb);
        /* ubuntu@sha256:abc must not match busybox's abc */
        snprintf(ref, sizeof(ref), "ubuntu@%s", dg);
        assert_resolves(ref, NULL);
        /* a digest name stored in "names" is an exact name */
        assert_resolves("busybox@sha256:2222222222222222222222222222222222222222222222222222222222222222", bb);
        assert_resolves("busybox@sha256:3333333333333333333333333333333333333333333333333333333333333333", NULL);
}
END_TEST

START_TEST(id_prefix_must_be_unique)
{
        const char *a = mkid('a', "01"), *b = mkid('a', "02"), *c = mkid('f', "03");

        add_image(a, "[]", NULL, true);
        add_image(b, "[]", NULL, true);
        add_image(c, "[]", NULL, true);
        load();
        assert_resolves("aaa", NULL);   /* matches two ids: ambiguous is not found */
        assert_resolves(a, a);
        assert_resolves(b, b);
        assert_resolves("fff", c);
        assert_resolves("ff", NULL);    /* under 3 characters it is a name, "ff:latest" */
}
END_TEST

START_TEST(image_without_config_big_data_is_absent)
{
        const char *ok = mkid('1', "a"), *bad = mkid('2', "b");

        add_image(ok, "[\"good:latest\"]", NULL, true);
        add_image(bad, "[\"gone:latest\"]", NULL, false);
        load();
        ck_assert_uint_eq(rs_image_store_count(store), 1);
        ck_assert_uint_eq(rs_image_store_skipped(store), 1);
        assert_resolves("good", ok);
        assert_resolves("gone", NULL);
        assert_resolves(bad, NULL);
        assert_resolves("222", NULL);
}
END_TEST

START_TEST(unreadable_config_or_images_json_skips_the_image)
{
        const char *a = mkid('3', "a"), *b = mkid('4', "b");
        char rel[256], cfg[160];

        add_image(a, "[\"half:latest\"]", NULL, false);
        config_name(a, cfg);
        snprintf(rel, sizeof(rel), STORE "%s/%s", a, cfg);
        tu_write(root, rel, "{\"architecture\":");   /* truncated config: iSulad drops the image */
        snprintf(rel, sizeof(rel), STORE "%s/images.json", b);
        tu_write(root, rel, "{\"id\":");
        tu_write(root, STORE "not-an-image/images.json", "{\"id\":\"x\"}");
        load();
        ck_assert_uint_eq(rs_image_store_count(store), 0);
        ck_assert_uint_eq(rs_image_store_skipped(store), 2);
        assert_resolves("half", NULL);
}
END_TEST

START_TEST(name_claimed_twice_belongs_to_the_image_loaded_last)
{
        const char *first = mkid('5', "1"), *second = mkid('6', "2");

        add_image(first, "[\"app:latest\", \"app:v1\"]", NULL, true);
        add_image(second, "[\"app:latest\"]", NULL, true);
        load();
        assert_resolves("app", second);
        assert_resolves("app:v1", first);
}
END_TEST

START_TEST(missing_store_is_empty)
{
        load();
        ck_assert_uint_eq(rs_image_store_count(store), 0);
        assert_resolves("busybox", NULL);
}
END_TEST

START_TEST(normalize_matches_oci_normalize_image_name)
{
        static const char *const rows[][2] = {
                { "busybox", "busybox:latest" },
                { "busybox:1", "busybox:1" },
                { "docker.io/library/busybox", "busybox:latest" },
                { "docker.io/user/app", "user/app:latest" },
                { "library/x:2", "x:2" },
                { "localhost:5000/app", "localhost:5000/app:latest" },
                { "a/b@sha256:00", "a/b@sha256:00" },
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                char *n = rs_image_normalize(rows[i][0]);
                ck_assert_str_eq(n, rows[i][1]);
                free(n);
        }
}
END_TEST

static void container(struct rs_container *c, const char *type, const char *image)
{
        *c = (struct rs_container){ .id = (char *)"c1", .image_type = (char *)type,
                                    .image = (char *)image };
}

START_TEST(only_oci_containers_are_checked)
{
        const char *bb = mkid('7', "1");
        struct rs_error err = { 0 };
        struct rs_container c;

        add_image(bb, "[\"busybox:latest\"]", NULL, true);
        load();
        container(&c, "oci", "busybox");
        ck_assert_int_eq(rs_verify_image(store, &c, &err), 0);
        container(&c, "external", "whatever-not-there");
        ck_assert_int_eq(rs_verify_image(store, &c, &err), 0);
        container(&c, "embedded", "none");
        ck_assert_int_eq(rs_verify_image(store, &c, &err), 0);
}
END_TEST

START_TEST(missing_oci_image_fails_verify_naming_the_reference)
{
        struct rs_error err = { 0 };
        struct rs_container c;

        load();
        container(&c, "oci", "busybox");
        ck_assert_int_eq(rs_verify_image(store, &c, &err), -ENOENT);
        ck_assert_int_eq(err.reason, RS_REASON_IMAGE_MISSING);
        ck_assert_str_eq(err.msg, "image \"busybox:latest\" (from CommonConfig.Image \"busybox\") is "
                                  "not in the image store");
        container(&c, "oci", "busybox:latest");
        ck_assert_int_eq(rs_verify_image(store, &c, &err), -ENOENT);
        ck_assert_str_eq(err.msg, "image \"busybox:latest\" (from CommonConfig.Image) is not in the "
                                  "image store");
}
END_TEST

START_TEST(missing_image_type_or_image_fails_as_in_isulad)
{
        struct rs_error err = { 0 };
        struct rs_container c;

        load();
        container(&c, NULL, "busybox");
        ck_assert_int_eq(rs_verify_image(store, &c, &err), -EINVAL);
        ck_assert_int_eq(err.reason, RS_REASON_IMAGE_UNKNOWN);
        ck_assert(strstr(err.msg, "ImageType"));
        container(&c, "external", NULL);
        ck_assert_int_eq(rs_verify_image(store, &c, &err), -EINVAL);
        ck_assert(strstr(err.msg, "CommonConfig.Image"));
}
END_TEST

START_TEST(ten_thousand_lookups_are_fast)
{
        char names[64];
        struct timespec a, b;

        for (int i = 0; i < 200; i++) {
                char id_tail[8];
                snprintf(id_tail, sizeof(id_tail), "%05x", i);
                snprintf(names, sizeof(names), "[\"img%d:latest\"]", i);
                add_image(mkid('9', id_tail), names, NULL, true);
        }
        load();
        ck_assert_uint_eq(rs_image_store_count(store), 200);
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int i = 0; i < 10000; i++) {
                char ref[32];
                snprintf(ref, sizeof(ref), "img%d", i % 200);
                ck_assert_ptr_nonnull(rs_image_resolve(store, ref));
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        ck_assert_int_lt((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000, 500);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("verify");
        TCase *tc = tcase_create("verify");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, upstream_fixture_image_is_found_by_name_id_and_prefix);
        tcase_add_test(tc, short_names_get_latest_and_docker_hub_prefixes_are_stripped);
        tcase_add_test(tc, explicit_tags_and_registry_ports_are_kept);
        tcase_add_test(tc, digest_reference_needs_a_tag_of_the_same_repository);
        tcase_add_test(tc, id_prefix_must_be_unique);
        tcase_add_test(tc, image_without_config_big_data_is_absent);
        tcase_add_test(tc, unreadable_config_or_images_json_skips_the_image);
        tcase_add_test(tc, name_claimed_twice_belongs_to_the_image_loaded_last);
        tcase_add_test(tc, missing_store_is_empty);
        tcase_add_test(tc, normalize_matches_oci_normalize_image_name);
        tcase_add_test(tc, only_oci_containers_are_checked);
        tcase_add_test(tc, missing_oci_image_fails_verify_naming_the_reference);
        tcase_add_test(tc, missing_image_type_or_image_fails_as_in_isulad);
        tcase_add_test(tc, ten_thousand_lookups_are_fast);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return tu_run_suite(suite());
}
