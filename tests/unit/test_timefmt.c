/* test_timefmt.c - iSulad's timestamps: format, parse, seconds_since. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "container.h"
#include "timefmt.h"

#define NS 1000000000LL
/* 2024-05-01T02:00:00Z */
#define T0 1714528800LL

static void use_tz(const char *tz)
{
        /* POSIX TZ strings need no tzdata: "CST-8" is UTC+8 (the sign is inverted) */
        setenv("TZ", tz, 1);
        tzset();
}

START_TEST(format_is_local_time_with_offset_and_nine_digit_nanos)
{
        static const struct {
                const char *tz, *want;
                long nsec;
        } rows[] = {
                { "CST-8", "2024-05-01T10:00:00.123456789+08:00", 123456789 },
                { "EST5", "2024-04-30T21:00:00.000000001-05:00", 1 },
                { "IST-5:30", "2024-05-01T07:30:00.000000000+05:30", 0 },
                { "UTC0", "2024-05-01T02:00:00.500000000+00:00", 500000000 },
        };
        char buf[RS_TIME_BUF];

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                struct timespec ts = { .tv_sec = T0, .tv_nsec = rows[i].nsec };
                use_tz(rows[i].tz);
                ck_assert_int_eq(rs_time_format(&ts, buf), 0);
                ck_assert_str_eq(buf, rows[i].want);
        }
}
END_TEST

START_TEST(format_rejects_bad_nanoseconds)
{
        struct timespec ts = { .tv_sec = T0, .tv_nsec = NS };
        char buf[RS_TIME_BUF];

        ck_assert_int_eq(rs_time_format(&ts, buf), -EINVAL);
}
END_TEST

START_TEST(formatted_time_parses_back_to_the_same_instant)
{
        static const char *const zones[] = { "CST-8", "EST5", "IST-5:30", "UTC0", "NST3:30" };
        char buf[RS_TIME_BUF];
        int64_t ns;

        for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
                struct timespec ts = { .tv_sec = T0 + 12345, .tv_nsec = 987654321 };
                use_tz(zones[i]);
                ck_assert_int_eq(rs_time_format(&ts, buf), 0);
                ck_assert_int_eq(rs_time_parse(buf, &ns), 0);
                ck_assert_msg(ns == (T0 + 12345) * NS + 987654321, "%s in %s", buf, zones[i]);
        }
}
END_TEST

START_TEST(parse_accepts_utc_and_short_fractions)
{
        int64_t ns;

        ck_assert_int_eq(rs_time_parse("2024-05-01T02:00:00Z", &ns), 0);
        ck_assert_int_eq(ns, T0 * NS);
        ck_assert_int_eq(rs_time_parse("2024-05-01T02:00:00.5Z", &ns), 0);
        ck_assert_int_eq(ns, T0 * NS + 500000000);
        ck_assert_int_eq(rs_time_parse("2024-05-01T10:00:00.000000007+08:00", &ns), 0);
        ck_assert_int_eq(ns, T0 * NS + 7);
        ck_assert_int_eq(rs_time_parse("1970-01-01T00:00:00Z", &ns), 0);
        ck_assert_int_eq(ns, 0);
        ck_assert_int_eq(rs_time_parse("2024-02-29T00:00:00Z", &ns), 0);
}
END_TEST

START_TEST(never_time_is_reported_as_no_data)
{
        int64_t ns = 42;

        ck_assert_int_eq(rs_time_parse(RS_DEFAULT_TIME, &ns), -ENODATA);
        ck_assert_int_eq(ns, 42);
}
END_TEST

START_TEST(malformed_times_are_rejected)
{
        static const char *const bad[] = {
                "", "-", "2024-05-01", "2024-05-01T02:00:00", "2024-05-01 02:00:00Z",
                "2024-05-01T02:00:00+0800", "2024-05-01T02:00:00+08", "2024-05-01T02:00:00.Z",
                "2024-05-01T02:00:00.1234567890Z", "2024-13-01T02:00:00Z", "2023-02-29T00:00:00Z",
                "2024-05-01T24:00:00Z", "2024-05-01T02:00:00Zjunk", "2024-05-01T02:60:00Z",
                "24-05-01T02:00:00Z", "2024-05-01T02:00:00+24:00",
        };
        int64_t ns;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(rs_time_parse(bad[i], &ns) == -EINVAL, "accepted \"%s\"", bad[i]);
        ck_assert_int_eq(rs_time_parse(NULL, &ns), -EINVAL);
}
END_TEST

START_TEST(times_outside_int64_nanoseconds_are_out_of_range)
{
        int64_t ns;

        ck_assert_int_eq(rs_time_parse("0001-01-01T00:00:01Z", &ns), -ERANGE);
        ck_assert_int_eq(rs_time_parse("9999-12-31T23:59:59Z", &ns), -ERANGE);
}
END_TEST

START_TEST(seconds_since_follows_isulad)
{
        int64_t now = (T0 + 10) * NS + 999;

        ck_assert_int_eq(rs_time_seconds_since("2024-05-01T10:00:00.000000000+08:00", now), 10);
        ck_assert_int_eq(rs_time_seconds_since("2024-05-01T02:00:09.5Z", now), 0);
        /* never, unset, "-", garbage and the future all count as 0 s (restart timeout reset) */
        ck_assert_int_eq(rs_time_seconds_since(RS_DEFAULT_TIME, now), 0);
        ck_assert_int_eq(rs_time_seconds_since(NULL, now), 0);
        ck_assert_int_eq(rs_time_seconds_since("-", now), 0);
        ck_assert_int_eq(rs_time_seconds_since("yesterday", now), 0);
        ck_assert_int_eq(rs_time_seconds_since("2024-05-01T02:00:11Z", now), 0);
}
END_TEST

START_TEST(now_is_formatted_and_parses)
{
        char buf[RS_TIME_BUF];
        int64_t ns, before = rs_time_now_ns();

        use_tz("CST-8");
        ck_assert_int_eq(rs_time_format_now(buf), 0);
        ck_assert_int_eq(rs_time_parse(buf, &ns), 0);
        ck_assert_int_ge(ns, before);
        ck_assert_int_le(ns, rs_time_now_ns());
        ck_assert(strstr(buf, "+08:00"));
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("timefmt");
        TCase *tc = tcase_create("timefmt");

        tcase_add_test(tc, format_is_local_time_with_offset_and_nine_digit_nanos);
        tcase_add_test(tc, format_rejects_bad_nanoseconds);
        tcase_add_test(tc, formatted_time_parses_back_to_the_same_instant);
        tcase_add_test(tc, parse_accepts_utc_and_short_fractions);
        tcase_add_test(tc, never_time_is_reported_as_no_data);
        tcase_add_test(tc, malformed_times_are_rejected);
        tcase_add_test(tc, times_outside_int64_nanoseconds_are_out_of_range);
        tcase_add_test(tc, seconds_since_follows_isulad);
        tcase_add_test(tc, now_is_formatted_and_parses);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return tu_run_suite(suite());
}
