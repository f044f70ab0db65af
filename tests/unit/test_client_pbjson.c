/*
 * test_client_pbjson.c - proto3 canonical JSON from the real generated descriptors.
 *
 * The expected strings are what protobuf's own json_format (python3-protobuf 4.21) prints for
 * the same messages, compacted: restorectl -o json must agree with buf curl and grpcurl.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "cleanup.h"
#include "google/protobuf/descriptor.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "isula/restore/v1/restore.pb-c.h"
#include "pbjson.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char *to_json(const ProtobufCMessage *m)
{
        char *s = NULL;
        ck_assert_int_eq(pbjson_to_string(m, JSON_C_TO_STRING_PLAIN, &s), 0);
        ck_assert_ptr_nonnull(s);
        return s;
}

/* Fills every field of a ContainerResult; the sub-messages live in the caller's frame. */
static void fill_result(Isula__Restore__V1__ContainerResult *r, Isula__Restore__V1__ProcessInfo *p,
                        Isula__Restore__V1__RestartDecision *rd, Isula__Restore__V1__HealthInfo *h)
{
        p->pid = 4242;
        p->ppid = 1;
        p->start_time = UINT64_MAX;
        p->p_start_time = 7;
        rd->policy = "on-failure";
        rd->maximum_retry_count = 3;
        rd->restart_count = 2;
        rd->should_restart = 1;
        rd->delay_ms = -5;
        rd->reason = "exit code 137 and retries left";
        h->configured = 1;
        h->status = "healthy";
        r->id = ID64;
        r->name = "web";
        r->runtime = "runc";
        r->image = "nginx:latest";
        r->outcome = ISULA__RESTORE__V1__OUTCOME__OUTCOME_FAILED;
        r->stage = ISULA__RESTORE__V1__STAGE__STAGE_SYNC;
        r->reason = ISULA__RESTORE__V1__FAILURE_REASON__REASON_STATE_CORRUPT;
        r->error = "container_state.json: unexpected \"}\" at byte 12";
        r->persisted_status = ISULA__RESTORE__V1__STATUS__STATUS_RUNNING;
        r->status = ISULA__RESTORE__V1__STATUS__STATUS_STOPPED;
        r->action = ISULA__RESTORE__V1__ACTION__ACTION_RESTART;
        r->process = p;
        r->exit_code = -1;
        r->exit_fifo = "/var/run/isulad/runc/x/exit_fifo";
        r->restart = rd;
        r->health = h;
        r->auto_remove = 1;
        r->dir = "dirname";
        r->state_written = 1;
}

static const char full_result_json[] =
    "{\"id\":\"" ID64 "\",\"name\":\"web\",\"runtime\":\"runc\",\"image\":\"nginx:latest\","
    "\"outcome\":\"OUTCOME_FAILED\",\"stage\":\"STAGE_SYNC\",\"reason\":\"REASON_STATE_CORRUPT\","
    "\"error\":\"container_state.json: unexpected \\\"}\\\" at byte 12\","
    "\"persistedStatus\":\"STATUS_RUNNING\",\"status\":\"STATUS_STOPPED\",\"action\":\"ACTION_RESTART\","
    "\"process\":{\"pid\":4242,\"ppid\":1,\"startTime\":\"18446744073709551615\",\"pStartTime\":\"7\"},"
    "\"exitCode\":-1,\"exitFifo\":\"/var/run/isulad/runc/x/exit_fifo\","
    "\"restart\":{\"policy\":\"on-failure\",\"maximumRetryCount\":3,\"restartCount\":2,"
    "\"shouldRestart\":true,\"delayMs\":\"-5\",\"reason\":\"exit code 137 and retries left\"},"
    "\"health\":{\"configured\":true,\"status\":\"healthy\"},\"autoRemove\":true,\"dir\":\"dirname\","
    "\"stateWritten\":true}";

START_TEST(container_result_with_every_field_set_prints_every_field_in_number_order)
{
        Isula__Restore__V1__ContainerResult r = ISULA__RESTORE__V1__CONTAINER_RESULT__INIT;
        Isula__Restore__V1__ProcessInfo p = ISULA__RESTORE__V1__PROCESS_INFO__INIT;
        Isula__Restore__V1__RestartDecision rd = ISULA__RESTORE__V1__RESTART_DECISION__INIT;
        Isula__Restore__V1__HealthInfo h = ISULA__RESTORE__V1__HEALTH_INFO__INIT;
        _cleanup_free_ char *s = NULL;

        fill_result(&r, &p, &rd, &h);
        s = to_json(&r.base);
        ck_assert_str_eq(s, full_result_json);
}
END_TEST

START_TEST(json_survives_the_wire_unchanged)
{
        Isula__Restore__V1__ContainerResult r = ISULA__RESTORE__V1__CONTAINER_RESULT__INIT;
        Isula__Restore__V1__ProcessInfo p = ISULA__RESTORE__V1__PROCESS_INFO__INIT;
        Isula__Restore__V1__RestartDecision rd = ISULA__RESTORE__V1__RESTART_DECISION__INIT;
        Isula__Restore__V1__HealthInfo h = ISULA__RESTORE__V1__HEALTH_INFO__INIT;
        Isula__Restore__V1__ContainerResult *back;
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_free_ char *s = NULL;
        size_t n;

        fill_result(&r, &p, &rd, &h);
        n = isula__restore__v1__container_result__get_packed_size(&r);
        buf = malloc(n);
        isula__restore__v1__container_result__pack(&r, buf);
        back = isula__restore__v1__container_result__unpack(NULL, n, buf);
        ck_assert_ptr_nonnull(back);
        s = to_json(&back->base);
        isula__restore__v1__container_result__free_unpacked(back, NULL);
        ck_assert_str_eq(s, full_result_json);
}
END_TEST

START_TEST(zero_valued_message_is_an_empty_object)
{
        Isula__Restore__V1__ContainerResult r = ISULA__RESTORE__V1__CONTAINER_RESULT__INIT;
        Isula__Restore__V1__RestoreAllResponse resp = ISULA__RESTORE__V1__RESTORE_ALL_RESPONSE__INIT;
        _cleanup_free_ char *a = NULL, *b = NULL;

        /* "" strings, 0, false, enum 0, NULL messages and empty repeated fields are all omitted. */
        a = to_json(&r.base);
        ck_assert_str_eq(a, "{}");
        b = to_json(&resp.base);
        ck_assert_str_eq(b, "{}");
}
END_TEST

START_TEST(present_but_empty_submessage_prints_as_empty_object)
{
        Isula__Restore__V1__ContainerResult r = ISULA__RESTORE__V1__CONTAINER_RESULT__INIT;
        Isula__Restore__V1__ProcessInfo p = ISULA__RESTORE__V1__PROCESS_INFO__INIT;
        _cleanup_free_ char *s = NULL;

        r.process = &p;
        s = to_json(&r.base);
        ck_assert_str_eq(s, "{\"process\":{}}");
}
END_TEST

START_TEST(uint64_fields_print_as_strings_and_uint32_as_numbers)
{
        Isula__Restore__V1__RestoreSummary sum = ISULA__RESTORE__V1__RESTORE_SUMMARY__INIT;
        _cleanup_free_ char *s = NULL;

        sum.generation = UINT64_MAX;
        sum.phase = ISULA__RESTORE__V1__PHASE__PHASE_DONE;
        sum.total = UINT32_MAX;
        sum.failed = 2;
        sum.duration_us = 1234567;
        sum.dry_run = 1;
        s = to_json(&sum.base);
        ck_assert_str_eq(s, "{\"generation\":\"18446744073709551615\",\"phase\":\"PHASE_DONE\","
                            "\"total\":4294967295,\"failed\":2,\"durationUs\":\"1234567\",\"dryRun\":true}");
}
END_TEST

START_TEST(enums_print_by_name_and_unknown_values_as_numbers)
{
        Isula__Restore__V1__ListRestoredRequest req = ISULA__RESTORE__V1__LIST_RESTORED_REQUEST__INIT;
        Isula__Restore__V1__Status st[] = {ISULA__RESTORE__V1__STATUS__STATUS_RUNNING,
                                           ISULA__RESTORE__V1__STATUS__STATUS_STOPPED,
                                           (Isula__Restore__V1__Status)99};
        _cleanup_free_ char *s = NULL;

        req.n_status = 3;
        req.status = st;
        req.outcome = ISULA__RESTORE__V1__OUTCOME__OUTCOME_RESTORED;
        s = to_json(&req.base);
        ck_assert_str_eq(
            s, "{\"status\":[\"STATUS_RUNNING\",\"STATUS_STOPPED\",99],\"outcome\":\"OUTCOME_RESTORED\"}");
}
END_TEST

START_TEST(repeated_messages_print_as_an_array_of_objects)
{
        Isula__Restore__V1__ContainerResult a = ISULA__RESTORE__V1__CONTAINER_RESULT__INIT;
        Isula__Restore__V1__ContainerResult b = ISULA__RESTORE__V1__CONTAINER_RESULT__INIT;
        Isula__Restore__V1__ContainerResult *list[] = {&a, &b};
        Isula__Restore__V1__ListRestoredResponse resp = ISULA__RESTORE__V1__LIST_RESTORED_RESPONSE__INIT;
        _cleanup_free_ char *s = NULL;

        a.id = "aaa";
        b.id = "bbb";
        b.action = ISULA__RESTORE__V1__ACTION__ACTION_KEEP_STOPPED;
        resp.n_containers = 2;
        resp.containers = list;
        resp.next_page_token = "";
        s = to_json(&resp.base);
        ck_assert_str_eq(
            s, "{\"containers\":[{\"id\":\"aaa\"},{\"id\":\"bbb\",\"action\":\"ACTION_KEEP_STOPPED\"}]}");
}
END_TEST

START_TEST(nested_event_uses_enum_names_of_nested_enum_types)
{
        Isula__Restore__V1__WatchEvent ev = ISULA__RESTORE__V1__WATCH_EVENT__INIT;
        Isula__Restore__V1__StageProgress pr = ISULA__RESTORE__V1__STAGE_PROGRESS__INIT;
        _cleanup_free_ char *s = NULL;

        ev.kind = ISULA__RESTORE__V1__WATCH_EVENT__KIND__KIND_PROGRESS;
        ev.generation = 3;
        pr.stage = ISULA__RESTORE__V1__STAGE__STAGE_LOAD;
        pr.done = 10;
        pr.total = 100;
        ev.progress = &pr;
        ev.time_us = 1700000000000000ULL;
        s = to_json(&ev.base);
        ck_assert_str_eq(s, "{\"kind\":\"KIND_PROGRESS\",\"generation\":\"3\","
                            "\"progress\":{\"stage\":\"STAGE_LOAD\",\"done\":10,\"total\":100},"
                            "\"timeUs\":\"1700000000000000\"}");
}
END_TEST

START_TEST(health_response_uses_the_nested_enum_name)
{
        Grpc__Health__V1__HealthCheckResponse h = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
        _cleanup_free_ char *a = NULL, *b = NULL;

        a = to_json(&h.base);
        ck_assert_str_eq(a, "{}"); /* UNKNOWN is the zero value */
        h.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
        b = to_json(&h.base);
        ck_assert_str_eq(b, "{\"status\":\"NOT_SERVING\"}");
}
END_TEST

START_TEST(json_names_are_lower_camel_case_of_proto_names)
{
        static const struct {
                const char *proto, *json;
        } cases[] = {
            {"id", "id"},
            {"p_start_time", "pStartTime"},
            {"duration_us", "durationUs"},
            {"maximum_retry_count", "maximumRetryCount"},
            {"next_page_token", "nextPageToken"},
            {"a__b", "aB"},
            {"x1_y", "x1Y"},
            {"trailing_", "trailing"},
        };
        char buf[64];

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                ck_assert_uint_eq(pbjson_json_name(cases[i].proto, buf, sizeof(buf)), strlen(cases[i].json));
                ck_assert_str_eq(buf, cases[i].json);
        }
        /* Truncation is explicit, like snprintf. */
        ck_assert_uint_eq(pbjson_json_name("p_start_time", buf, 4), 10);
        ck_assert_str_eq(buf, "pSt");
}
END_TEST

START_TEST(every_descriptor_field_has_the_json_name_protoc_would_give)
{
        /* protoc-c keeps the proto name; spot-check the names of ContainerResult against the
         * contract's camelCase (what grpc-js and buf curl send and expect). */
        const ProtobufCMessageDescriptor *d = &isula__restore__v1__container_result__descriptor;
        static const char *const want[] = {"id",     "name",       "runtime",  "image",           "outcome",
                                           "stage",  "reason",     "error",    "persistedStatus", "status",
                                           "action", "process",    "exitCode", "exitFifo",        "restart",
                                           "health", "autoRemove", "dir",      "stateWritten"};
        char buf[64];

        ck_assert_uint_eq(d->n_fields, ARRAY_SIZE(want));
        for (unsigned i = 0; i < d->n_fields; i++) {
                pbjson_json_name(d->fields[i].name, buf, sizeof(buf));
                ck_assert_str_eq(buf, want[i]);
        }
}
END_TEST

START_TEST(pretty_output_keeps_slashes_unescaped)
{
        Isula__Restore__V1__ContainerResult r = ISULA__RESTORE__V1__CONTAINER_RESULT__INIT;
        _cleanup_free_ char *s = NULL;

        r.exit_fifo = "/a/b";
        ck_assert_int_eq(pbjson_to_string(&r.base, JSON_C_TO_STRING_PRETTY, &s), 0);
        ck_assert_ptr_nonnull(strstr(s, "\"/a/b\""));
        ck_assert_ptr_null(strstr(s, "\\/"));
}
END_TEST

START_TEST(pretty_output_prints_empty_objects_as_braces_but_leaves_strings_alone)
{
        Isula__Restore__V1__ContainerResult r = ISULA__RESTORE__V1__CONTAINER_RESULT__INIT;
        Isula__Restore__V1__ProcessInfo p = ISULA__RESTORE__V1__PROCESS_INFO__INIT;
        _cleanup_free_ char *empty = NULL, *s = NULL;

        ck_assert_int_eq(pbjson_to_string(&r.base, JSON_C_TO_STRING_PRETTY, &empty), 0);
        ck_assert_str_eq(empty, "{}");
        r.error = "a \"{ \n }\" [ ] in a sentence";
        r.process = &p;
        ck_assert_int_eq(pbjson_to_string(&r.base, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED, &s),
                         0);
        ck_assert_str_eq(s,
                         "{\n  \"error\": \"a \\\"{ \\n }\\\" [ ] in a sentence\",\n  \"process\": {}\n}");
}
END_TEST

START_TEST(enum_name_lookup_returns_null_for_unknown_values)
{
        ck_assert_str_eq(pbjson_enum_name(&isula__restore__v1__action__descriptor, 2), "ACTION_REATTACH");
        ck_assert_ptr_null(pbjson_enum_name(&isula__restore__v1__action__descriptor, 42));
        ck_assert_ptr_null(pbjson_enum_name(NULL, 0));
}
END_TEST

/* descriptor.proto is proto2: explicit presence, bytes, doubles and int64 in one message. */
START_TEST(explicit_presence_fields_print_when_set_even_at_zero)
{
        Google__Protobuf__UninterpretedOption u = GOOGLE__PROTOBUF__UNINTERPRETED_OPTION__INIT;
        uint8_t bytes[] = {'h', 'i', '?'};
        _cleanup_free_ char *s = NULL;

        u.has_positive_int_value = 1; /* value 0, but present */
        u.has_double_value = 1;
        u.double_value = 0.1;
        u.has_string_value = 1;
        u.string_value = (ProtobufCBinaryData){sizeof(bytes), bytes};
        u.aggregate_value = ""; /* a proto2 string is present when non-NULL */
        s = to_json(&u.base);
        ck_assert_str_eq(s, "{\"positiveIntValue\":\"0\",\"doubleValue\":0.1,\"stringValue\":\"aGk/\","
                            "\"aggregateValue\":\"\"}");
}
END_TEST

START_TEST(bytes_are_padded_base64_and_special_doubles_are_strings)
{
        Google__Protobuf__UninterpretedOption u = GOOGLE__PROTOBUF__UNINTERPRETED_OPTION__INIT;
        uint8_t ab[] = {'a', 'b'}, a[] = {'a'};
        _cleanup_free_ char *s1 = NULL, *s2 = NULL;

        u.has_double_value = 1;
        u.double_value = __builtin_nan("");
        u.has_string_value = 1;
        u.string_value = (ProtobufCBinaryData){sizeof(ab), ab};
        s1 = to_json(&u.base);
        ck_assert_str_eq(s1, "{\"doubleValue\":\"NaN\",\"stringValue\":\"YWI=\"}");

        u.double_value = 1e300;
        u.string_value = (ProtobufCBinaryData){sizeof(a), a};
        u.has_negative_int_value = 1;
        u.negative_int_value = INT64_MIN;
        s2 = to_json(&u.base);
        ck_assert_str_eq(s2, "{\"negativeIntValue\":\"-9223372036854775808\",\"doubleValue\":1e+300,"
                             "\"stringValue\":\"YQ==\"}");
}
END_TEST

START_TEST(oneof_member_prints_when_selected_even_if_empty)
{
        Grpc__Reflection__V1__ServerReflectionRequest req =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
        _cleanup_free_ char *a = NULL, *b = NULL;

        a = to_json(&req.base);
        ck_assert_str_eq(a, "{}");
        req.message_request_case =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES;
        req.list_services = "";
        b = to_json(&req.base);
        ck_assert_str_eq(b, "{\"listServices\":\"\"}");
}
END_TEST

static Suite *pbjson_suite(void)
{
        Suite *s = suite_create("client_pbjson");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, container_result_with_every_field_set_prints_every_field_in_number_order);
        tcase_add_test(tc, json_survives_the_wire_unchanged);
        tcase_add_test(tc, zero_valued_message_is_an_empty_object);
        tcase_add_test(tc, present_but_empty_submessage_prints_as_empty_object);
        tcase_add_test(tc, uint64_fields_print_as_strings_and_uint32_as_numbers);
        tcase_add_test(tc, enums_print_by_name_and_unknown_values_as_numbers);
        tcase_add_test(tc, repeated_messages_print_as_an_array_of_objects);
        tcase_add_test(tc, nested_event_uses_enum_names_of_nested_enum_types);
        tcase_add_test(tc, health_response_uses_the_nested_enum_name);
        tcase_add_test(tc, json_names_are_lower_camel_case_of_proto_names);
        tcase_add_test(tc, every_descriptor_field_has_the_json_name_protoc_would_give);
        tcase_add_test(tc, pretty_output_keeps_slashes_unescaped);
        tcase_add_test(tc, enum_name_lookup_returns_null_for_unknown_values);
        tcase_add_test(tc, pretty_output_prints_empty_objects_as_braces_but_leaves_strings_alone);
        tcase_add_test(tc, explicit_presence_fields_print_when_set_even_at_zero);
        tcase_add_test(tc, bytes_are_padded_base64_and_special_doubles_are_strings);
        tcase_add_test(tc, oneof_member_prints_when_selected_even_if_empty);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return tu_run_suite(pbjson_suite());
}
