/* ListRestored: page tokens and filters. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "listing.h"
#include "testutil.h"

START_TEST(token_round_trips_runtime_and_dir)
{
        char *tok = rpc_token_encode(0xdeadbeef, "io.containerd.kata.v2", "0123abcd");
        uint32_t h = 0;
        char *rt = NULL, *dir = NULL;

        ck_assert_ptr_nonnull(tok);
        ck_assert_ptr_null(strchr(tok, '/')); /* opaque, URL-safe */
        ck_assert_ptr_null(strchr(tok, '+'));
        ck_assert_int_eq(rpc_token_decode(tok, &h, &rt, &dir), 0);
        ck_assert_uint_eq(h, 0xdeadbeef);
        ck_assert_str_eq(rt, "io.containerd.kata.v2");
        ck_assert_str_eq(dir, "0123abcd");
        free(tok);
        free(rt);
        free(dir);
}
END_TEST

START_TEST(garbage_tokens_are_refused)
{
        static const char *const bad[] = { "", "!!!!", "MTpkZWFk", "bm90IGEgdG9rZW4", "MToxMjM0NTY3ODpydW5j" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                uint32_t h;
                char *rt = NULL, *dir = NULL;
                ck_assert_msg(rpc_token_decode(bad[i], &h, &rt, &dir) < 0, "accepted \"%s\"", bad[i]);
        }
}
END_TEST

START_TEST(token_from_other_filters_is_refused)
{
        Isula__Restore__V1__ListRestoredRequest req = ISULA__RESTORE__V1__LIST_RESTORED_REQUEST__INIT;
        struct rpc_list_query q;
        char err[256];

        req.runtime = (char *)"runc";
        ck_assert_int_eq(rpc_list_query_init(&req, &q, err, sizeof(err)), 0);
        req.page_token = rpc_token_encode(q.filter_hash, "runc", "abc");
        rpc_list_query_done(&q);
        ck_assert_int_eq(rpc_list_query_init(&req, &q, err, sizeof(err)), 0);
        ck_assert_str_eq(q.after_dir, "abc");
        rpc_list_query_done(&q);

        req.runtime = (char *)"lcr"; /* same token, other filter */
        ck_assert_int_lt(rpc_list_query_init(&req, &q, err, sizeof(err)), 0);
        ck_assert_ptr_nonnull(strstr(err, "other filters"));
        free(req.page_token);
}
END_TEST

START_TEST(page_size_defaults_and_is_capped)
{
        Isula__Restore__V1__ListRestoredRequest req = ISULA__RESTORE__V1__LIST_RESTORED_REQUEST__INIT;
        struct rpc_list_query q;
        char err[256];

        ck_assert_int_eq(rpc_list_query_init(&req, &q, err, sizeof(err)), 0);
        ck_assert_uint_eq(q.page_size, RPC_LIST_DEFAULT_PAGE);
        req.page_size = 1000000;
        ck_assert_int_eq(rpc_list_query_init(&req, &q, err, sizeof(err)), 0);
        ck_assert_uint_eq(q.page_size, RPC_LIST_MAX_PAGE);
}
END_TEST

START_TEST(filters_match_status_outcome_runtime_and_prefixes)
{
        struct rs_result r = { .id = "abcdef0123", .name = "/web", .runtime = "runc",
                               .dir = "abcdef0123", .outcome = RS_OUTCOME_RESTORED,
                               .status = RS_STATUS_RUNNING };
        struct rpc_list_query q = { 0 };

        ck_assert(rpc_list_match(&q, &r));
        q.status_mask = 1u << RS_STATUS_STOPPED;
        ck_assert(!rpc_list_match(&q, &r));
        q.status_mask |= 1u << RS_STATUS_RUNNING;
        ck_assert(rpc_list_match(&q, &r));
        q.outcome = RS_OUTCOME_FAILED;
        ck_assert(!rpc_list_match(&q, &r));
        q.outcome = RS_OUTCOME_RESTORED;
        q.runtime = "lcr";
        ck_assert(!rpc_list_match(&q, &r));
        q.runtime = "runc";
        q.prefix = "abc";
        ck_assert(rpc_list_match(&q, &r));
        q.prefix = "we";   /* name without its leading '/' */
        ck_assert(rpc_list_match(&q, &r));
        q.prefix = "/we";
        ck_assert(rpc_list_match(&q, &r));
        q.prefix = "xyz";
        ck_assert(!rpc_list_match(&q, &r));
}
END_TEST

START_TEST(unknown_enum_values_are_invalid)
{
        Isula__Restore__V1__ListRestoredRequest req = ISULA__RESTORE__V1__LIST_RESTORED_REQUEST__INIT;
        Isula__Restore__V1__Status st = 42;
        struct rpc_list_query q;
        char err[256];

        req.n_status = 1;
        req.status = &st;
        ck_assert_int_lt(rpc_list_query_init(&req, &q, err, sizeof(err)), 0);
        req.n_status = 0;
        req.outcome = 7;
        ck_assert_int_lt(rpc_list_query_init(&req, &q, err, sizeof(err)), 0);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("listing");
        TCase *tc = tcase_create("listing");

        tcase_add_test(tc, token_round_trips_runtime_and_dir);
        tcase_add_test(tc, garbage_tokens_are_refused);
        tcase_add_test(tc, token_from_other_filters_is_refused);
        tcase_add_test(tc, page_size_defaults_and_is_capped);
        tcase_add_test(tc, filters_match_status_outcome_runtime_and_prefixes);
        tcase_add_test(tc, unknown_enum_values_are_invalid);
        suite_add_tcase(s, tc);
        return tu_run_suite(s);
}
