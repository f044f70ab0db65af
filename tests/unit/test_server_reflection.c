/* test_server_reflection.c - the reflection index over the real embedded descriptor set. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "google/protobuf/descriptor.pb-c.h"
#include "reflection.h"

#define RESTORE_PROTO "isula/restore/v1/restore.proto"
#define HEALTH_PROTO  "grpc/health/v1/health.proto"
#define REFL_V1       "grpc/reflection/v1/reflection.proto"
#define REFL_V1ALPHA  "grpc/reflection/v1alpha/reflection.proto"

static struct reflection *embedded(void)
{
        struct reflection *r = NULL;
        char err[256] = "";

        ck_assert_msg(
            reflection_new(restored_descriptor_set, restored_descriptor_set_len, &r, err, sizeof(err)) == 0,
            "reflection_new: %s", err);
        return r;
}

START_TEST(embedded_set_indexes_every_served_file)
{
        struct reflection *r = embedded();
        const char *files[] = {RESTORE_PROTO, HEALTH_PROTO, REFL_V1, REFL_V1ALPHA};

        ck_assert_uint_ge(reflection_n_files(r), 4);
        for (size_t i = 0; i < 4; i++) {
                const struct refl_file *f = reflection_find_file(r, files[i]);

                ck_assert_msg(f != NULL, "%s not indexed", files[i]);
                ck_assert_str_eq(f->name, files[i]);
        }
        ck_assert_ptr_null(reflection_find_file(r, "isula/restore/v1/nope.proto"));
        ck_assert_ptr_null(reflection_find_file(r, NULL));
        reflection_free(r);
}
END_TEST

static const struct {
        const char *symbol;
        const char *file;
} symbols[] = {
    {"isula.restore.v1.Restore", RESTORE_PROTO},            /* service */
    {"isula.restore.v1.Restore.RestoreAll", RESTORE_PROTO}, /* method */
    {"isula.restore.v1.Restore.Watch", RESTORE_PROTO},
    {"isula.restore.v1.ContainerResult", RESTORE_PROTO},           /* message */
    {"isula.restore.v1.ContainerResult.exit_code", RESTORE_PROTO}, /* field */
    {"isula.restore.v1.WatchEvent.Kind", RESTORE_PROTO},           /* nested enum */
    {"isula.restore.v1.WatchEvent.KIND_PROGRESS", RESTORE_PROTO},  /* nested enum value */
    {"isula.restore.v1.Status", RESTORE_PROTO},                    /* enum */
    {"isula.restore.v1.STATUS_RUNNING", RESTORE_PROTO},            /* enum value: sibling scope */
    {".isula.restore.v1.RestoreAllRequest", RESTORE_PROTO},        /* leading dot */
    {"grpc.health.v1.Health", HEALTH_PROTO},
    {"grpc.health.v1.HealthCheckResponse.ServingStatus", HEALTH_PROTO},
    {"grpc.reflection.v1.ServerReflection.ServerReflectionInfo", REFL_V1},
    {"grpc.reflection.v1.ServerReflectionRequest.message_request", REFL_V1}, /* oneof */
    {"grpc.reflection.v1alpha.ServerReflection", REFL_V1ALPHA},
};

START_TEST(symbols_of_every_kind_resolve_to_their_file)
{
        struct reflection *r = embedded();
        const struct refl_file *f = reflection_find_symbol(r, symbols[_i].symbol);

        ck_assert_msg(f != NULL, "%s not found", symbols[_i].symbol);
        ck_assert_str_eq(f->name, symbols[_i].file);
        reflection_free(r);
}
END_TEST

START_TEST(packages_partial_and_unknown_names_are_not_symbols)
{
        struct reflection *r = embedded();
        const char *missing[] = {"isula.restore.v1",
                                 "isula",
                                 "Restore",
                                 "ContainerResult",
                                 "isula.restore.v1.Nope",
                                 "isula.restore.v1.Restore.Nope",
                                 "isula.restore.v1.Restore.",
                                 "",
                                 "."};

        for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
                ck_assert_msg(reflection_find_symbol(r, missing[i]) == NULL, "'%s' found", missing[i]);
        ck_assert_ptr_null(reflection_find_symbol(r, NULL));
        reflection_free(r);
}
END_TEST

/* Clients decode what we serve with their own protobuf library: it must be the file, verbatim. */
START_TEST(served_bytes_are_the_file_descriptor_proto_itself)
{
        struct reflection *r = embedded();

        for (size_t i = 0; i < reflection_n_files(r); i++) {
                const struct refl_file *f = reflection_file(r, i);
                Google__Protobuf__FileDescriptorProto *fp =
                    google__protobuf__file_descriptor_proto__unpack(NULL, f->len, f->data);

                ck_assert_ptr_nonnull(fp);
                ck_assert_str_eq(fp->name, f->name);
                ck_assert_uint_eq(f->n_deps, fp->n_dependency); /* --include_imports: all present */
                ck_assert(f->data >= restored_descriptor_set &&
                          f->data + f->len <= restored_descriptor_set + restored_descriptor_set_len);
                google__protobuf__file_descriptor_proto__free_unpacked(fp, NULL);
        }
        ck_assert_ptr_null(reflection_file(r, reflection_n_files(r)));
        reflection_free(r);
}
END_TEST

/* ---- a synthetic set with a dependency graph ---- */

struct set {
        uint8_t buf[4096];
        size_t len;
};

static void put_varint(struct set *s, uint64_t v)
{
        do {
                s->buf[s->len++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
                v >>= 7;
        } while (v);
}

/* Appends `name` importing `deps` and declaring message pkg.<msg>. */
static void add_file(struct set *s, const char *name, const char *msg, char **deps, size_t n_deps)
{
        Google__Protobuf__FileDescriptorProto f = GOOGLE__PROTOBUF__FILE_DESCRIPTOR_PROTO__INIT;
        Google__Protobuf__DescriptorProto m = GOOGLE__PROTOBUF__DESCRIPTOR_PROTO__INIT, *mp = &m;
        size_t n;

        f.name = (char *)name;
        f.package = "t";
        f.n_dependency = n_deps;
        f.dependency = deps;
        m.name = (char *)msg;
        f.n_message_type = 1;
        f.message_type = &mp;
        n = protobuf_c_message_get_packed_size(&f.base);
        ck_assert_uint_lt(s->len + n + 8, sizeof(s->buf));
        s->buf[s->len++] = 0x0a;
        put_varint(s, n);
        s->len += protobuf_c_message_pack(&f.base, s->buf + s->len);
}

/* a -> b, c, missing;  b -> c, d;  c -> d;  d;  e (unrelated) */
static struct reflection *graph(struct set *s)
{
        char *a_deps[] = {"b.proto", "c.proto", "missing.proto"}, *b_deps[] = {"c.proto", "d.proto"};
        char *c_deps[] = {"d.proto"};
        struct reflection *r = NULL;
        char err[256] = "";

        s->len = 0;
        add_file(s, "a.proto", "A", a_deps, 3);
        add_file(s, "b.proto", "B", b_deps, 2);
        add_file(s, "c.proto", "C", c_deps, 1);
        add_file(s, "d.proto", "D", NULL, 0);
        add_file(s, "e.proto", "E", NULL, 0);
        ck_assert_msg(reflection_new(s->buf, s->len, &r, err, sizeof(err)) == 0, "%s", err);
        return r;
}

START_TEST(closure_lists_the_file_first_then_each_transitive_dependency_once)
{
        static struct set s;
        struct reflection *r = graph(&s);
        const struct refl_file *out[8] = {0};
        size_t n = reflection_closure(r, reflection_find_symbol(r, "t.A"), out, 8);

        ck_assert_uint_eq(n, 4);
        ck_assert_str_eq(out[0]->name, "a.proto");
        for (size_t i = 0; i < n; i++) {
                ck_assert_str_ne(out[i]->name, "e.proto");
                for (size_t j = i + 1; j < n; j++)
                        ck_assert_ptr_ne(out[i], out[j]);
        }
        ck_assert_uint_eq(reflection_closure(r, reflection_find_file(r, "d.proto"), out, 8), 1);
        ck_assert_uint_eq(reflection_closure(r, reflection_find_file(r, "b.proto"), out, 8), 3);
        ck_assert_uint_eq(reflection_closure(r, NULL, out, 8), 0);
        reflection_free(r);
}
END_TEST

START_TEST(closure_reports_the_full_count_but_writes_at_most_max)
{
        static struct set s;
        struct reflection *r = graph(&s);
        const struct refl_file *out[3] = {NULL, NULL, (const struct refl_file *)0x1};

        ck_assert_uint_eq(reflection_closure(r, reflection_find_file(r, "a.proto"), out, 2), 4);
        ck_assert_ptr_eq(out[2], (const struct refl_file *)0x1);
        reflection_free(r);
}
END_TEST

START_TEST(import_cycle_terminates)
{
        static struct set s;
        char *to_y[] = {"y.proto"}, *to_x[] = {"x.proto"};
        const struct refl_file *out[4];
        struct reflection *r = NULL;

        s.len = 0;
        add_file(&s, "x.proto", "X", to_y, 1);
        add_file(&s, "y.proto", "Y", to_x, 1);
        ck_assert_int_eq(reflection_new(s.buf, s.len, &r, NULL, 0), 0);
        ck_assert_uint_eq(reflection_closure(r, reflection_find_file(r, "y.proto"), out, 4), 2);
        reflection_free(r);
}
END_TEST

START_TEST(malformed_sets_are_refused_with_a_message)
{
        static const uint8_t overlong[] = {0x0a, 0x05, 0x01}; /* length past the end */
        static const uint8_t wrong_field[] = {0x12, 0x00};    /* field 2: not a FileDescriptorSet */
        static const uint8_t not_a_file[] = {0x0a, 0x02, 0xff,
                                             0xff};             /* chunk is not a FileDescriptorProto */
        static const uint8_t bad_varint[] = {0x0a, 0xff, 0xff}; /* length varint never ends */
        const uint8_t *cases[] = {overlong, wrong_field, not_a_file, bad_varint};
        size_t lens[] = {sizeof(overlong), sizeof(wrong_field), sizeof(not_a_file), sizeof(bad_varint)};

        for (size_t i = 0; i < 4; i++) {
                struct reflection *r = NULL;
                char err[256] = "";

                ck_assert_int_eq(reflection_new(cases[i], lens[i], &r, err, sizeof(err)), -EBADMSG);
                ck_assert_ptr_null(r);
                ck_assert_msg(err[0] != '\0', "case %zu: no message", i);
        }
}
END_TEST

START_TEST(empty_set_has_no_files_and_no_symbols)
{
        struct reflection *r = NULL;

        ck_assert_int_eq(reflection_new((const uint8_t *)"", 0, &r, NULL, 0), 0);
        ck_assert_uint_eq(reflection_n_files(r), 0);
        ck_assert_ptr_null(reflection_find_symbol(r, "a.B"));
        reflection_free(r);
}
END_TEST

static Suite *reflection_suite(void)
{
        Suite *s = suite_create("server_reflection");
        TCase *real = tcase_create("embedded");
        TCase *synth = tcase_create("synthetic");

        tcase_add_test(real, embedded_set_indexes_every_served_file);
        tcase_add_loop_test(real, symbols_of_every_kind_resolve_to_their_file, 0,
                            (int)(sizeof(symbols) / sizeof(symbols[0])));
        tcase_add_test(real, packages_partial_and_unknown_names_are_not_symbols);
        tcase_add_test(real, served_bytes_are_the_file_descriptor_proto_itself);
        tcase_add_test(synth, closure_lists_the_file_first_then_each_transitive_dependency_once);
        tcase_add_test(synth, closure_reports_the_full_count_but_writes_at_most_max);
        tcase_add_test(synth, import_cycle_terminates);
        tcase_add_test(synth, malformed_sets_are_refused_with_a_message);
        tcase_add_test(synth, empty_set_has_no_files_and_no_symbols);
        suite_add_tcase(s, real);
        suite_add_tcase(s, synth);
        return s;
}

int main(void)
{
        return tu_run_suite(reflection_suite());
}
