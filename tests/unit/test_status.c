/* test_status.c - iSulad's status derivation (container_state_judge_status) and the destructor. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "testutil.h"
#include "cleanup.h"
#include "container.h"

#define NEVER RS_DEFAULT_TIME
#define T1    "2024-05-01T10:00:01.000000001+08:00"
#define T2    "2024-05-01T11:30:00.123456789+08:00"

struct status_row {
        const char *what;
        bool running, paused, restarting, starting;
        const char *started_at; /* NULL = key absent */
        const char *finished_at;
        rs_status want;
};

static const struct status_row rows[] = {
    {"running", true, false, false, false, T1, NEVER, RS_STATUS_RUNNING},
    {"running and paused is paused", true, true, false, false, T1, NEVER, RS_STATUS_PAUSED},
    {"running and restarting is restarting", true, false, true, false, T1, T2, RS_STATUS_RESTARTING},
    {"paused wins over restarting", true, true, true, false, T1, T2, RS_STATUS_PAUSED},
    {"running wins over starting", true, false, false, true, T1, NEVER, RS_STATUS_RUNNING},
    {"running with both times absent is still running", true, false, false, false, NULL, NULL,
     RS_STATUS_RUNNING},
    {"paused without running is not paused", false, true, false, false, T1, T2, RS_STATUS_STOPPED},
    {"restarting without running is not restarting", false, false, true, false, T1, T2, RS_STATUS_STOPPED},
    {"starting", false, false, false, true, NEVER, NEVER, RS_STATUS_STARTING},
    {"starting with times absent is starting", false, false, false, true, NULL, NULL, RS_STATUS_STARTING},
    {"StartedAt absent is unknown", false, false, false, false, NULL, NEVER, RS_STATUS_UNKNOWN},
    {"FinishedAt absent is unknown", false, false, false, false, NEVER, NULL, RS_STATUS_UNKNOWN},
    {"both absent is unknown, not created", false, false, false, false, NULL, NULL, RS_STATUS_UNKNOWN},
    {"both default is created", false, false, false, false, NEVER, NEVER, RS_STATUS_CREATED},
    {"started then stopped is stopped", false, false, false, false, T1, T2, RS_STATUS_STOPPED},
    {"started, never finished, not running is stopped", false, false, false, false, T1, NEVER,
     RS_STATUS_STOPPED},
    {"empty StartedAt counts as present", false, false, false, false, "", NEVER, RS_STATUS_STOPPED},
    {"both empty is stopped", false, false, false, false, "", "", RS_STATUS_STOPPED},
    {"the default time compares exactly", false, false, false, false, "0001-01-01T00:00:00.000000000Z",
     NEVER, RS_STATUS_STOPPED},
};

static void set_time(char *dst, bool *has, const char *value)
{
        *has = value != NULL;
        if (value)
                snprintf(dst, RS_TIME_MAX, "%s", value);
}

START_TEST(status_table)
{
        const struct status_row *row = &rows[_i];
        struct rs_state s = {0};

        s.running = row->running;
        s.paused = row->paused;
        s.restarting = row->restarting;
        s.starting = row->starting;
        set_time(s.started_at, &s.has_started_at, row->started_at);
        set_time(s.finished_at, &s.has_finished_at, row->finished_at);
        ck_assert_msg(rs_state_status(&s) == row->want, "%s: got %s, want %s", row->what,
                      rs_status_name(rs_state_status(&s)), rs_status_name(row->want));
}
END_TEST

START_TEST(a_zeroed_state_is_unknown)
{
        struct rs_state s = {0};

        ck_assert_int_eq(rs_state_status(&s), RS_STATUS_UNKNOWN);
}
END_TEST

START_TEST(free_accepts_null)
{
        rs_container_free(NULL);
}
END_TEST

START_TEST(free_releases_every_field_and_the_state_doc)
{
        struct rs_container *c = calloc(1, sizeof(*c));

        ck_assert_ptr_nonnull(c);
        c->runtime = strdup("runc");
        c->dir_name = strdup("abc");
        c->id = strdup("abc");
        c->name = strdup("web");
        c->image = strdup("busybox");
        c->restart_policy = strdup("always");
        c->state_warning = strdup("container_state.json: empty file");
        c->state_doc = json_object_new_object();
        json_object_object_add(c->state_doc, "Running", json_object_new_boolean(1));
        rs_container_free(c); /* ASan/LSan in the sanitizer build checks nothing leaks */
}
END_TEST

static Suite *status_suite(void)
{
        Suite *s = suite_create("status");
        TCase *derive = tcase_create("derive");
        TCase *free_tc = tcase_create("free");

        tcase_add_loop_test(derive, status_table, 0, (int)ARRAY_SIZE(rows));
        tcase_add_test(derive, a_zeroed_state_is_unknown);
        tcase_add_test(free_tc, free_accepts_null);
        tcase_add_test(free_tc, free_releases_every_field_and_the_state_doc);
        suite_add_tcase(s, derive);
        suite_add_tcase(s, free_tc);
        return s;
}

int main(void)
{
        return tu_run_suite(status_suite());
}
