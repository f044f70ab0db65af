/* test_registry.c - id/name validity, duplicates (first registered wins), lookups, scale. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "cleanup.h"
#include "registry.h"

#define ID_A "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899"
#define ID_B "3f4e5d6c0000000000000000000000000000000000000000000000000000aaaa"
#define ID_C "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

struct valid_row {
        const char *s;
        bool valid;
};

static const struct valid_row id_rows[] = {
    {ID_A, true},
    {"a", true},
    {"0123456789abcdef", true},
    {ID_A "0", false}, /* 65 characters */
    {"", false},
    {"ABCDEF", false}, /* uppercase hex */
    {"3f4e5d6c-7b8a", false},
    {"g00d", false},
    {" abc", false},
    {"abc\n", false},
    {"/abc", false},
    {NULL, false},
};

START_TEST(id_validity_table)
{
        ck_assert_msg(rs_id_valid(id_rows[_i].s) == id_rows[_i].valid, "\"%s\"",
                      id_rows[_i].s ? id_rows[_i].s : "(null)");
}
END_TEST

static const struct valid_row name_rows[] = {
    {"web", true},        {"/web", true},        {"ab", true},
    {"/ab", true},        {"a", false}, /* [a-zA-Z0-9][a-zA-Z0-9_.-]+ needs two */
    {"/a", false},        {"", false},           {"/", false},
    {"//web", false},     {"web/1", false},      {"k8s_POD_nginx-7c5d_default_0", true},
    {"my.app-1_x", true}, {"0web", true},        {"_web", false},
    {".web", false},      {"-web", false},       {"web server", false},
    {"wéb", false},       {"web:latest", false}, {ID_A, true}, /* a name defaults to the id */
    {NULL, false},
};

START_TEST(name_validity_table)
{
        ck_assert_msg(rs_name_valid(name_rows[_i].s) == name_rows[_i].valid, "\"%s\"",
                      name_rows[_i].s ? name_rows[_i].s : "(null)");
}
END_TEST

START_TEST(a_name_may_be_1024_bytes_but_not_1025)
{
        char name[1027];

        memset(name, 'n', 1024);
        name[1024] = '\0';
        ck_assert(rs_name_valid(name));
        name[1024] = 'n';
        name[1025] = '\0';
        ck_assert(!rs_name_valid(name));
        /* The limit counts the leading '/' too. */
        name[0] = '/';
        name[1024] = '\0';
        ck_assert(rs_name_valid(name));
        name[1024] = 'n';
        ck_assert(!rs_name_valid(name));
}
END_TEST

static struct rs_registry *reg;

static void setup(void)
{
        ck_assert_int_eq(rs_registry_new(&reg), 0);
}

static void teardown(void)
{
        rs_registry_free(reg);
        reg = NULL;
}

static size_t lookup_ok(const char *key)
{
        struct rs_error err = {0};
        size_t slot = 999999;

        ck_assert_msg(rs_registry_lookup(reg, key, &slot, &err) == 0, "%s: %s", key, err.msg);
        return slot;
}

START_TEST(lookup_by_full_id_name_and_slashed_name)
{
        ck_assert_int_eq(rs_registry_add(reg, ID_A, "web", "runc/" ID_A, 7, NULL), 0);
        ck_assert_int_eq(rs_registry_add(reg, ID_C, "/db", "runc/" ID_C, 9, NULL), 0);
        ck_assert_uint_eq(lookup_ok(ID_A), 7);
        ck_assert_uint_eq(lookup_ok("web"), 7);
        ck_assert_uint_eq(lookup_ok("/web"), 7);
        ck_assert_uint_eq(lookup_ok("db"), 9);
        ck_assert_uint_eq(lookup_ok("/db"), 9);
        ck_assert_uint_eq(rs_registry_count(reg), 2);
}
END_TEST

START_TEST(a_duplicate_id_loses_and_names_the_winner)
{
        struct rs_error err = {0};

        ck_assert_int_eq(rs_registry_add(reg, ID_A, "web", "runc/" ID_A, 0, NULL), 0);
        ck_assert_int_eq(rs_registry_add(reg, ID_A, "web2", "lcr/" ID_A, 1, &err), -EEXIST);
        ck_assert_int_eq(err.reason, RS_REASON_DUPLICATE_ID);
        ck_assert_str_eq(err.msg, "id \"" ID_A "\" is already used by runc/" ID_A);
        /* Nothing of the loser was added: its name stays free. */
        ck_assert_int_eq(rs_registry_lookup(reg, "web2", &(size_t){0}, NULL), -ENOENT);
        ck_assert_uint_eq(rs_registry_count(reg), 1);
        ck_assert_int_eq(rs_registry_add(reg, ID_C, "web2", "runc/" ID_C, 2, NULL), 0);
}
END_TEST

START_TEST(a_duplicate_name_loses_and_names_the_winner)
{
        struct rs_error err = {0};

        ck_assert_int_eq(rs_registry_add(reg, ID_A, "web", "runc/aaaa", 0, NULL), 0);
        ck_assert_int_eq(rs_registry_add(reg, ID_C, "web", "runc/cccc", 1, &err), -EEXIST);
        ck_assert_int_eq(err.reason, RS_REASON_DUPLICATE_NAME);
        ck_assert_str_eq(err.msg, "name \"web\" is already used by runc/aaaa");
        /* Nothing of the loser was added: its id stays free. */
        ck_assert_int_eq(rs_registry_lookup(reg, ID_C, &(size_t){0}, NULL), -ENOENT);
        ck_assert_uint_eq(rs_registry_count(reg), 1);
}
END_TEST

START_TEST(a_leading_slash_does_not_make_a_new_name)
{
        struct rs_error err = {0};

        ck_assert_int_eq(rs_registry_add(reg, ID_A, "/web", "runc/aaaa", 0, NULL), 0);
        ck_assert_int_eq(rs_registry_add(reg, ID_C, "web", "runc/cccc", 1, &err), -EEXIST);
        ck_assert_int_eq(err.reason, RS_REASON_DUPLICATE_NAME);
        ck_assert_str_eq(err.msg, "name \"web\" is already used by runc/aaaa");
        ck_assert_int_eq(rs_registry_add(reg, ID_B, "/web", "runc/bbbb", 2, &err), -EEXIST);
}
END_TEST

START_TEST(a_duplicate_id_is_reported_before_a_duplicate_name)
{
        struct rs_error err = {0};

        ck_assert_int_eq(rs_registry_add(reg, ID_A, "web", "runc/aaaa", 0, NULL), 0);
        ck_assert_int_eq(rs_registry_add(reg, ID_A, "web", "runc/zzzz", 1, &err), -EEXIST);
        ck_assert_int_eq(err.reason, RS_REASON_DUPLICATE_ID);
}
END_TEST

START_TEST(invalid_ids_and_names_are_refused_and_not_added)
{
        struct rs_error err = {0};

        ck_assert_int_eq(rs_registry_add(reg, "NOT-HEX", "web", "runc/x", 0, &err), -EINVAL);
        ck_assert_int_eq(err.reason, RS_REASON_INVALID_ID);
        ck_assert_str_eq(err.msg, "invalid container id \"NOT-HEX\": must be 1 to 64 lowercase hex "
                                  "digits");
        ck_assert_int_eq(rs_registry_add(reg, ID_A, "-web", "runc/x", 0, &err), -EINVAL);
        ck_assert_int_eq(err.reason, RS_REASON_INVALID_NAME);
        ck_assert(strncmp(err.msg, "invalid container name \"-web\"", 29) == 0);
        ck_assert_int_eq(rs_registry_add(reg, ID_A, NULL, "runc/x", 0, &err), -EINVAL);
        ck_assert_int_eq(err.reason, RS_REASON_INVALID_NAME);
        ck_assert_uint_eq(rs_registry_count(reg), 0);
}
END_TEST

START_TEST(messages_quote_hostile_strings_safely)
{
        char name[2000];
        struct rs_error err = {0};

        memset(name, 'x', sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        name[0] = '\n';
        ck_assert_int_eq(rs_registry_add(reg, ID_A, name, "runc/x", 0, &err), -EINVAL);
        /* Control bytes become '?', and a long string is cut with "...". */
        ck_assert(strncmp(err.msg, "invalid container name \"?xxx", 28) == 0);
        ck_assert(strstr(err.msg, "xxx...\"") != NULL);
        ck_assert_int_eq(rs_registry_lookup(reg, "w\xc3\xa9\x01", &(size_t){0}, &err), -ENOENT);
        ck_assert_str_eq(err.msg, "no container with id or name \"w???\"");
}
END_TEST

START_TEST(a_unique_id_prefix_resolves)
{
        ck_assert_int_eq(rs_registry_add(reg, ID_A, "web", "runc/a", 1, NULL), 0);
        ck_assert_int_eq(rs_registry_add(reg, ID_C, "db", "runc/c", 2, NULL), 0);
        ck_assert_uint_eq(lookup_ok("3f4e"), 1);
        ck_assert_uint_eq(lookup_ok("ab"), 2);
        ck_assert_uint_eq(lookup_ok("3"), 1);
}
END_TEST

START_TEST(an_ambiguous_prefix_says_how_many_match)
{
        struct rs_error err = {0};
        size_t slot = 42;

        ck_assert_int_eq(rs_registry_add(reg, ID_A, "web", "runc/a", 1, NULL), 0);
        ck_assert_int_eq(rs_registry_add(reg, ID_B, "db", "runc/b", 2, NULL), 0);
        ck_assert_int_eq(rs_registry_add(reg, "3f4e5d6c11", "cache", "runc/x", 3, NULL), 0);
        ck_assert_int_eq(rs_registry_lookup(reg, "3f4e", &slot, &err), -ENOTUNIQ);
        ck_assert_str_eq(err.msg, "prefix \"3f4e\" matches 3 containers");
        ck_assert_uint_eq(slot, 42); /* written only on success */
        ck_assert_uint_eq(lookup_ok("3f4e5d6c7"), 1);
        /* A full id that is also a prefix of others is an exact match, not ambiguous. */
        ck_assert_int_eq(rs_registry_add(reg, "3f4e5d6c", "short", "runc/s", 4, NULL), 0);
        ck_assert_uint_eq(lookup_ok("3f4e5d6c"), 4);
}
END_TEST

START_TEST(an_unknown_key_is_not_found)
{
        struct rs_error err = {0};

        ck_assert_int_eq(rs_registry_add(reg, ID_A, "web", "runc/a", 1, NULL), 0);
        ck_assert_int_eq(rs_registry_lookup(reg, "nosuch", &(size_t){0}, &err), -ENOENT);
        ck_assert_str_eq(err.msg, "no container with id or name \"nosuch\"");
        ck_assert_int_eq(rs_registry_lookup(reg, "ffff", &(size_t){0}, &err), -ENOENT);
        ck_assert_int_eq(rs_registry_lookup(reg, "", &(size_t){0}, &err), -ENOENT);
        ck_assert_int_eq(rs_registry_lookup(reg, "/", &(size_t){0}, &err), -ENOENT);
        /* Names are exact: no prefix matching on names. */
        ck_assert_int_eq(rs_registry_lookup(reg, "we", &(size_t){0}, &err), -ENOENT);
}
END_TEST

START_TEST(an_exact_id_beats_a_name_and_a_name_beats_a_prefix)
{
        ck_assert_int_eq(rs_registry_add(reg, ID_A, "3f4e", "runc/a", 1, NULL), 0);
        ck_assert_int_eq(rs_registry_add(reg, ID_C, ID_B, "runc/c", 2, NULL), 0);
        ck_assert_int_eq(rs_registry_add(reg, ID_B, "cache", "runc/b", 3, NULL), 0);
        ck_assert_uint_eq(lookup_ok("3f4e"), 1); /* name "3f4e", though a prefix of two ids */
        ck_assert_uint_eq(lookup_ok(ID_B), 3);   /* id ID_B, though also the name of ID_C */
}
END_TEST

START_TEST(clear_empties_both_indexes)
{
        ck_assert_int_eq(rs_registry_add(reg, ID_A, "web", "runc/a", 1, NULL), 0);
        rs_registry_clear(reg);
        ck_assert_uint_eq(rs_registry_count(reg), 0);
        ck_assert_int_eq(rs_registry_lookup(reg, ID_A, &(size_t){0}, NULL), -ENOENT);
        ck_assert_int_eq(rs_registry_lookup(reg, "web", &(size_t){0}, NULL), -ENOENT);
        ck_assert_int_eq(rs_registry_add(reg, ID_A, "web", "runc/a", 5, NULL), 0);
        ck_assert_uint_eq(lookup_ok("web"), 5);
}
END_TEST

START_TEST(free_accepts_null)
{
        rs_registry_free(NULL);
}
END_TEST

#define MANY 10000

static void many_id(int i, char id[65])
{
        /* Ids that share long prefixes: a weak hash or a prefix scan shortcut would show. */
        snprintf(id, 65, "%064x", (unsigned)i * 2654435761u);
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(ten_thousand_entries_register_and_resolve)
{
        char id[65], name[32], where[96];
        double t0 = now_s(), elapsed;

        for (int i = 0; i < MANY; i++) {
                many_id(i, id);
                snprintf(name, sizeof(name), "/app-%d", i);
                snprintf(where, sizeof(where), "runc/%s", id);
                ck_assert_int_eq(rs_registry_add(reg, id, name, where, (size_t)i, NULL), 0);
        }
        for (int i = 0; i < MANY; i++) {
                many_id(i, id);
                snprintf(name, sizeof(name), "app-%d", i);
                ck_assert_uint_eq(lookup_ok(id), (size_t)i);
                ck_assert_uint_eq(lookup_ok(name), (size_t)i);
                ck_assert_int_eq(rs_registry_add(reg, id, "other", "x", 0, NULL), -EEXIST);
        }
        elapsed = now_s() - t0;
        ck_assert_uint_eq(rs_registry_count(reg), MANY);
        /* 30,000 hash operations: milliseconds; a quadratic structure takes seconds. */
        ck_assert_msg(elapsed < 2.0, "took %.3f s", elapsed);
        ck_assert_uint_eq(lookup_ok("00000000000000000000000000000000000000000000000000000000"
                                    "9e3779b1"),
                          1);
}
END_TEST

struct reader_arg {
        const char *key;
        int found;
};

static void *reader(void *p)
{
        struct reader_arg *a = p;

        for (int i = 0; i < 200000 && !a->found; i++) {
                size_t slot;
                if (rs_registry_lookup(reg, a->key, &slot, NULL) == 0 && slot == MANY - 1)
                        a->found = 1;
        }
        return NULL;
}

START_TEST(lookups_run_while_registration_proceeds)
{
        char id[65], name[32];
        struct reader_arg args[2] = {{"app-9999", 0}, {"/app-9999", 0}};
        pthread_t t[2];

        for (int i = 0; i < 2; i++)
                ck_assert_int_eq(pthread_create(&t[i], NULL, reader, &args[i]), 0);
        for (int i = 0; i < MANY; i++) {
                many_id(i, id);
                snprintf(name, sizeof(name), "app-%d", i);
                ck_assert_int_eq(rs_registry_add(reg, id, name, "runc/x", (size_t)i, NULL), 0);
        }
        for (int i = 0; i < 2; i++)
                pthread_join(t[i], NULL);
        ck_assert_uint_eq(lookup_ok("app-9999"), MANY - 1);
        ck_assert_uint_eq(rs_registry_count(reg), MANY);
}
END_TEST

static Suite *registry_suite(void)
{
        Suite *s = suite_create("registry");
        TCase *valid = tcase_create("validity");
        TCase *index = tcase_create("index");
        TCase *scale = tcase_create("scale");

        tcase_add_loop_test(valid, id_validity_table, 0, (int)ARRAY_SIZE(id_rows));
        tcase_add_loop_test(valid, name_validity_table, 0, (int)ARRAY_SIZE(name_rows));
        tcase_add_test(valid, a_name_may_be_1024_bytes_but_not_1025);
        tcase_add_checked_fixture(index, setup, teardown);
        tcase_add_test(index, lookup_by_full_id_name_and_slashed_name);
        tcase_add_test(index, a_duplicate_id_loses_and_names_the_winner);
        tcase_add_test(index, a_duplicate_name_loses_and_names_the_winner);
        tcase_add_test(index, a_leading_slash_does_not_make_a_new_name);
        tcase_add_test(index, a_duplicate_id_is_reported_before_a_duplicate_name);
        tcase_add_test(index, invalid_ids_and_names_are_refused_and_not_added);
        tcase_add_test(index, messages_quote_hostile_strings_safely);
        tcase_add_test(index, a_unique_id_prefix_resolves);
        tcase_add_test(index, an_ambiguous_prefix_says_how_many_match);
        tcase_add_test(index, an_unknown_key_is_not_found);
        tcase_add_test(index, an_exact_id_beats_a_name_and_a_name_beats_a_prefix);
        tcase_add_test(index, clear_empties_both_indexes);
        tcase_add_test(index, free_accepts_null);
        tcase_add_checked_fixture(scale, setup, teardown);
        tcase_add_test(scale, ten_thousand_entries_register_and_resolve);
        tcase_add_test(scale, lookups_run_while_registration_proceeds);
        tcase_set_timeout(scale, 60);
        suite_add_tcase(s, valid);
        suite_add_tcase(s, index);
        suite_add_tcase(s, scale);
        return s;
}

int main(void)
{
        return tu_run_suite(registry_suite());
}
