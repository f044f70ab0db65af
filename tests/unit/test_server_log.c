/* test_server_log.c - the stderr line format, level filtering, and lines that never interleave. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "testutil.h"

/* 2026-12-04T16:30:00.123Z */
static const struct timespec when = {.tv_sec = 1796401800, .tv_nsec = 123456789};

START_TEST(a_line_has_utc_milliseconds_the_level_and_key_value_fields)
{
        char msg[512], line[512];

        rd_log_format_message(
            msg, sizeof(msg), NULL,
            &(struct rd_log_fields){.generation = 3, RD_LOG_KV({"total", .num = 12}, {"failed", .num = 2})},
            "restore finished");
        ck_assert_str_eq(msg, "restore finished generation=3 total=12 failed=2");
        rd_log_format_line(line, sizeof(line), &when, RD_LOG_INFO, msg);
        ck_assert_str_eq(line,
                         "2026-12-04T16:30:00.123Z info  restore finished generation=3 total=12 failed=2\n");
}
END_TEST

START_TEST(container_stage_and_reason_are_named_fields)
{
        char msg[512];

        rd_log_format_message(msg, sizeof(msg), "0123456789abcdef",
                              &(struct rd_log_fields){.generation = 7,
                                                      .stage = RS_STAGE_LOAD,
                                                      .reason = RS_REASON_CONFIG_CORRUPT},
                              "container failed to restore\n");
        ck_assert_str_eq(msg,
                         "container failed to restore container=0123456789abcdef generation=7 stage=load "
                         "reason=config-corrupt");
}
END_TEST

START_TEST(values_with_spaces_or_quotes_are_quoted)
{
        char msg[512];

        rd_log_format_message(msg, sizeof(msg), NULL,
                              &(struct rd_log_fields){
                                  RD_LOG_KV({"error", .str = "config.v2.json: bad \"x\""},
                                            {"empty", .str = ""}, {"nl", .str = "a\nb"}, {"n", .num = -5})},
                              "m");
        ck_assert_str_eq(msg, "m error=\"config.v2.json: bad \\\"x\\\"\" empty=\"\" nl=\"a\\nb\" n=-5");
}
END_TEST

START_TEST(each_level_has_its_word)
{
        char line[128];
        enum rd_log_level l;

        rd_log_format_line(line, sizeof(line), &when, RD_LOG_WARNING, "x");
        ck_assert_str_eq(line, "2026-12-04T16:30:00.123Z warning x\n");
        rd_log_format_line(line, sizeof(line), &when, RD_LOG_ERROR, "x");
        ck_assert_str_eq(line, "2026-12-04T16:30:00.123Z error x\n");
        rd_log_format_line(line, sizeof(line), &when, RD_LOG_DEBUG, "x");
        ck_assert_str_eq(line, "2026-12-04T16:30:00.123Z debug x\n");
        ck_assert_int_eq(rd_log_level_from_string("warning", &l), 0);
        ck_assert_int_eq(l, RD_LOG_WARNING);
        ck_assert_int_lt(rd_log_level_from_string("warn", &l), 0);
        ck_assert_int_lt(rd_log_level_from_string(NULL, &l), 0);
}
END_TEST

START_TEST(a_long_line_is_cut_but_keeps_its_newline)
{
        char big[200], line[64];
        size_t n;

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        n = rd_log_format_line(line, sizeof(line), &when, RD_LOG_INFO, big);
        ck_assert_uint_eq(n, sizeof(line) - 1);
        ck_assert_uint_eq(strlen(line), n);
        ck_assert_str_eq(line + n - 4, "...\n");
        n = rd_log_format_message(line, sizeof(line), "id", NULL, big);
        ck_assert_uint_eq(n, sizeof(line) - 1);
        ck_assert_str_eq(line + n - 3, "...");
}
END_TEST

/* Reads everything written to the pipe so far. */
static char *drain(int fd)
{
        static char buf[1 << 20];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);

        buf[n > 0 ? n : 0] = '\0';
        return buf;
}

START_TEST(levels_below_the_threshold_are_dropped)
{
        int p[2];
        char *out;

        ck_assert_int_eq(pipe(p), 0);
        rd_log_set_fd(p[1]);
        rd_log_set_level(RD_LOG_WARNING);
        ck_assert(!rd_log_enabled(RD_LOG_INFO));
        rd_log_info("hidden");
        rd_log_debug("hidden");
        rd_log_warning("shown %d", 1);
        rd_log(RD_LOG_ERROR, "abc", NULL, "also shown");
        close(p[1]);
        out = drain(p[0]);
        ck_assert_ptr_null(strstr(out, "hidden"));
        ck_assert_ptr_nonnull(strstr(out, " warning shown 1\n"));
        ck_assert_ptr_nonnull(strstr(out, " error also shown container=abc\n"));
        ck_assert(!rd_log_to_journal());
        close(p[0]);
}
END_TEST

START_TEST(journal_is_used_only_when_stderr_is_the_journal_stream)
{
        /* A JOURNAL_STREAM that does not match stderr (a redirected stderr) keeps plain lines. */
        setenv("JOURNAL_STREAM", "1:1", 1);
        rd_log_init(RD_LOG_INFO);
        ck_assert(!rd_log_to_journal());
        unsetenv("JOURNAL_STREAM");
        rd_log_init(RD_LOG_INFO);
        ck_assert(!rd_log_to_journal());
}
END_TEST

START_TEST(journal_stream_matching_stderr_selects_the_journal_when_journald_runs)
{
        bool journald = access("/run/systemd/journal/socket", F_OK) == 0;
        int p[2], saved = dup(STDERR_FILENO);
        char stream[64];
        struct stat st;
        char *out;

        ck_assert_int_eq(pipe(p), 0);
        dup2(p[1], STDERR_FILENO);
        ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
        snprintf(stream, sizeof(stream), "%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino);
        setenv("JOURNAL_STREAM", stream, 1);
        rd_log_init(RD_LOG_INFO);
        /* Without journald (a container, a chroot) entries would vanish: stderr is kept. */
        ck_assert(rd_log_to_journal() == journald);
        rd_log(RD_LOG_INFO, "abc", NULL, "hello");
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(p[1]);
        out = drain(p[0]);
        if (journald)
                ck_assert_str_eq(out, "");
        else
                ck_assert_ptr_nonnull(strstr(out, " info  hello container=abc\n"));
        unsetenv("JOURNAL_STREAM");
        close(p[0]);
}
END_TEST

#define THREADS 4
#define LINES   500

static void *writer(void *arg)
{
        long t = (long)arg;

        for (int i = 0; i < LINES; i++)
                rd_log(RD_LOG_INFO, NULL,
                       &(struct rd_log_fields){RD_LOG_KV({"thread", .num = t}, {"i", .num = i})}, "%0300d",
                       0);
        return NULL;
}

START_TEST(lines_from_many_threads_never_interleave)
{
        char *root = tu_mkdtemp(), *path = tu_path(root, "log"), *text;
        pthread_t th[THREADS];
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        size_t lines = 0;

        ck_assert_int_ge(fd, 0);
        rd_log_set_fd(fd);
        rd_log_set_level(RD_LOG_INFO);
        for (long t = 0; t < THREADS; t++)
                ck_assert_int_eq(pthread_create(&th[t], NULL, writer, (void *)t), 0);
        for (int t = 0; t < THREADS; t++)
                pthread_join(th[t], NULL);
        close(fd);
        text = tu_read(root, "log", NULL);
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                ck_assert_msg(strlen(line) > 330 && strstr(line, " thread=") && strstr(line, " i="),
                              "mangled line: %.80s", line);
                ck_assert_int_eq(line[4], '-');
                lines++;
        }
        ck_assert_uint_eq(lines, THREADS * LINES);
        free(text);
        tu_rm_rf(root);
        free(root);
        free(path);
}
END_TEST

static Suite *log_suite(void)
{
        Suite *s = suite_create("log");
        TCase *tc = tcase_create("log");

        tcase_add_test(tc, a_line_has_utc_milliseconds_the_level_and_key_value_fields);
        tcase_add_test(tc, container_stage_and_reason_are_named_fields);
        tcase_add_test(tc, values_with_spaces_or_quotes_are_quoted);
        tcase_add_test(tc, each_level_has_its_word);
        tcase_add_test(tc, a_long_line_is_cut_but_keeps_its_newline);
        tcase_add_test(tc, levels_below_the_threshold_are_dropped);
        tcase_add_test(tc, journal_is_used_only_when_stderr_is_the_journal_stream);
        tcase_add_test(tc, journal_stream_matching_stderr_selects_the_journal_when_journald_runs);
        tcase_add_test(tc, lines_from_many_threads_never_interleave);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return tu_run_suite(log_suite());
}
