/* test_server_bb.c - byte buffers <-> protobuf-c messages, as gRPC hands them to us. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc.h>
#include <grpc/slice.h>

#include "testutil.h"
#include "bb.h"
#include "isula/restore/v1/restore.pb-c.h"

typedef Isula__Restore__V1__ListRestoredRequest list_req;

static void setup(void)
{
        grpc_init();
}

static void teardown(void)
{
        grpc_shutdown();
}

static list_req *unpack_req(grpc_byte_buffer *bb)
{
        ProtobufCMessage *m = NULL;

        ck_assert_int_eq(bb_unpack(&isula__restore__v1__list_restored_request__descriptor, bb, &m), 0);
        ck_assert_ptr_nonnull(m);
        return (list_req *)m;
}

START_TEST(pack_then_unpack_round_trips_every_field)
{
        Isula__Restore__V1__Status st[] = {ISULA__RESTORE__V1__STATUS__STATUS_RUNNING,
                                           ISULA__RESTORE__V1__STATUS__STATUS_STOPPED};
        list_req in = ISULA__RESTORE__V1__LIST_RESTORED_REQUEST__INIT, *out;
        grpc_byte_buffer *bb = NULL;

        in.n_status = 2;
        in.status = st;
        in.outcome = ISULA__RESTORE__V1__OUTCOME__OUTCOME_FAILED;
        in.runtime = "runc";
        in.prefix = "caf\xc3\xa9";
        in.page_size = 500;
        in.page_token = "tok";
        ck_assert_int_eq(bb_pack(&in.base, &bb), 0);
        ck_assert_uint_eq(grpc_byte_buffer_length(bb), protobuf_c_message_get_packed_size(&in.base));
        out = unpack_req(bb);
        ck_assert_uint_eq(out->n_status, 2);
        ck_assert_int_eq(out->status[1], ISULA__RESTORE__V1__STATUS__STATUS_STOPPED);
        ck_assert_int_eq(out->outcome, ISULA__RESTORE__V1__OUTCOME__OUTCOME_FAILED);
        ck_assert_str_eq(out->runtime, "runc");
        ck_assert_str_eq(out->prefix, "caf\xc3\xa9");
        ck_assert_uint_eq(out->page_size, 500);
        ck_assert_str_eq(out->page_token, "tok");
        protobuf_c_message_free_unpacked(&out->base, NULL);
        grpc_byte_buffer_destroy(bb);
}
END_TEST

START_TEST(empty_message_is_zero_bytes_and_still_decodes)
{
        list_req in = ISULA__RESTORE__V1__LIST_RESTORED_REQUEST__INIT, *out;
        grpc_byte_buffer *bb = NULL;

        ck_assert_int_eq(bb_pack(&in.base, &bb), 0);
        ck_assert_uint_eq(grpc_byte_buffer_length(bb), 0);
        out = unpack_req(bb);
        ck_assert_uint_eq(out->page_size, 0);
        ck_assert_str_eq(out->prefix, "");
        protobuf_c_message_free_unpacked(&out->base, NULL);
        grpc_byte_buffer_destroy(bb);
}
END_TEST

START_TEST(missing_buffer_is_enodata)
{
        ProtobufCMessage *m = (ProtobufCMessage *)0x1;

        ck_assert_int_eq(bb_unpack(&isula__restore__v1__list_restored_request__descriptor, NULL, &m),
                         -ENODATA);
        ck_assert_ptr_eq(m, (ProtobufCMessage *)0x1); /* ret_* untouched on failure */
}
END_TEST

static grpc_byte_buffer *raw(const void *data, size_t len)
{
        grpc_slice s = grpc_slice_from_copied_buffer(data, len);
        grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);

        grpc_slice_unref(s);
        return bb;
}

START_TEST(garbage_and_truncated_bytes_are_ebadmsg)
{
        static const unsigned char garbage[] = {0xff, 0xff, 0xff};
        static const unsigned char truncated[] = {0x1a, 0x10, 'r',
                                                  'u'}; /* runtime: 16 bytes announced, 2 sent */
        static const unsigned char wrong_wire_type[] = {0x2d, 0x01, 0x02, 0x03,
                                                        0x04}; /* page_size as fixed32 */
        const unsigned char *cases[] = {garbage, truncated, wrong_wire_type};
        size_t lens[] = {sizeof(garbage), sizeof(truncated), sizeof(wrong_wire_type)};

        for (size_t i = 0; i < 3; i++) {
                grpc_byte_buffer *bb = raw(cases[i], lens[i]);
                ProtobufCMessage *m = NULL;

                ck_assert_int_eq(bb_unpack(&isula__restore__v1__list_restored_request__descriptor, bb, &m),
                                 -EBADMSG);
                ck_assert_ptr_null(m);
                grpc_byte_buffer_destroy(bb);
        }
}
END_TEST

START_TEST(buffer_split_over_many_slices_is_flattened)
{
        list_req in = ISULA__RESTORE__V1__LIST_RESTORED_REQUEST__INIT, *out;
        unsigned char packed[64];
        grpc_slice slices[64];
        grpc_byte_buffer *bb;
        size_t n;

        in.prefix = "abcdef0123456789";
        in.page_token = "next-page";
        n = protobuf_c_message_pack(&in.base, packed);
        for (size_t i = 0; i < n; i++) /* one byte per slice: the worst case of a chunked read */
                slices[i] = grpc_slice_from_copied_buffer((const char *)packed + i, 1);
        bb = grpc_raw_byte_buffer_create(slices, n);
        for (size_t i = 0; i < n; i++)
                grpc_slice_unref(slices[i]);
        out = unpack_req(bb);
        ck_assert_str_eq(out->prefix, "abcdef0123456789");
        ck_assert_str_eq(out->page_token, "next-page");
        protobuf_c_message_free_unpacked(&out->base, NULL);
        grpc_byte_buffer_destroy(bb);
}
END_TEST

/* A ListRestored page of 10,000 containers is several MB: no size assumption may break it. */
START_TEST(multi_megabyte_response_round_trips)
{
        enum { N = 20000 };
        Isula__Restore__V1__ListRestoredResponse in = ISULA__RESTORE__V1__LIST_RESTORED_RESPONSE__INIT, *out;
        Isula__Restore__V1__ContainerResult *rs = calloc(N, sizeof(*rs));
        Isula__Restore__V1__ContainerResult **ps = calloc(N, sizeof(*ps));
        ProtobufCMessage *m = NULL;
        grpc_byte_buffer *bb = NULL;
        char id[65];

        ck_assert_ptr_nonnull(rs);
        ck_assert_ptr_nonnull(ps);
        memset(id, 'f', 64);
        id[64] = '\0';
        for (size_t i = 0; i < N; i++) {
                isula__restore__v1__container_result__init(&rs[i]);
                rs[i].id = id;
                rs[i].exit_code = (int32_t)i;
                ps[i] = &rs[i];
        }
        in.n_containers = N;
        in.containers = ps;
        ck_assert_int_eq(bb_pack(&in.base, &bb), 0);
        ck_assert_uint_gt(grpc_byte_buffer_length(bb), 1u << 20);
        ck_assert_int_eq(bb_unpack(&isula__restore__v1__list_restored_response__descriptor, bb, &m), 0);
        out = (Isula__Restore__V1__ListRestoredResponse *)m;
        ck_assert_uint_eq(out->n_containers, N);
        ck_assert_int_eq(out->containers[N - 1]->exit_code, N - 1);
        ck_assert_str_eq(out->containers[N - 1]->id, id);
        protobuf_c_message_free_unpacked(m, NULL);
        grpc_byte_buffer_destroy(bb);
        free(rs);
        free(ps);
}
END_TEST

static Suite *bb_suite(void)
{
        Suite *s = suite_create("server_bb");
        TCase *tc = tcase_create("bb");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, pack_then_unpack_round_trips_every_field);
        tcase_add_test(tc, empty_message_is_zero_bytes_and_still_decodes);
        tcase_add_test(tc, missing_buffer_is_enodata);
        tcase_add_test(tc, garbage_and_truncated_bytes_are_ebadmsg);
        tcase_add_test(tc, buffer_split_over_many_slices_is_flattened);
        tcase_add_test(tc, multi_megabyte_response_round_trips);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return tu_run_suite(bb_suite());
}
