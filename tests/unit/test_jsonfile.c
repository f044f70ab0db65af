/* test_jsonfile.c - bounded, non-blocking JSON file reading: sizes, types, depth, offsets. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "jsonfile.h"
#include "testutil.h"

#define MISSING RS_REASON_CONFIG_MISSING
#define CORRUPT RS_REASON_CONFIG_CORRUPT
#define MAX     (4u << 20)

static char *root;
static int rootfd = -1;

static void setup(void)
{
        root = tu_mkdtemp();
        rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(rootfd, 0);
        /* A FIFO that is opened for reading blocks without O_NONBLOCK: never hang the suite. */
        alarm(10);
}

static void teardown(void)
{
        alarm(0);
        close(rootfd);
        tu_rm_rf(root);
        free(root);
}

static int read_file(const char *name, struct json_object **doc, struct rs_error *err)
{
        return rs_json_read_at(rootfd, name, MAX, 64, MISSING, CORRUPT, doc, err);
}

struct parse_row {
        const char *what;
        const char *text;
        int rc;
        rs_reason reason;
        const char *msg; /* exact message */
};

static const struct parse_row parse_rows[] = {
    {"an object parses", "{\"Running\": true}", 0, RS_REASON_NONE, ""},
    {"surrounding blanks are fine", " \n{}\n\n", 0, RS_REASON_NONE, ""},
    {"a top-level scalar parses (callers check the type)", "12", 0, RS_REASON_NONE, ""},
    {"empty", "", -EBADMSG, CORRUPT, "f.json: empty file"},
    {"blanks only", "   ", -EBADMSG, CORRUPT, "f.json: unexpected end of input at byte 3"},
    {"truncated object", "{\"Running\": true, \"Pid\": 4", -EBADMSG, CORRUPT,
     "f.json: unexpected end of input at byte 26"},
    {"truncated inside a string", "{\"StartedAt\": \"2024-05-01T10:0", -EBADMSG, CORRUPT,
     "f.json: unexpected end of input at byte 30"},
    {"truncated literal", "{\"Running\": tru", -EBADMSG, CORRUPT,
     "f.json: unexpected end of input at byte 15"},
    {"trailing garbage", "{} x", -EBADMSG, CORRUPT, "f.json: trailing data at byte 3"},
    {"two documents", "{}{}", -EBADMSG, CORRUPT, "f.json: trailing data at byte 2"},
    {"trailing comma (yajl refuses it too)", "{\"a\": 1,}", -EBADMSG, CORRUPT,
     "f.json: unexpected character at byte 8"},
    {"a comment", "/* x */ {}", -EBADMSG, CORRUPT, "f.json: unexpected character at byte 0"},
    {"invalid UTF-8 in a string", "{\"Name\": \"\xff\"}", -EBADMSG, CORRUPT,
     "f.json: invalid utf-8 string at byte 10"},
    {"null document", "null", -EBADMSG, CORRUPT, "f.json: document is null"},
    {"64 levels is the limit", NULL, 0, RS_REASON_NONE, ""},
};

START_TEST(parse_table)
{
        const struct parse_row *row = &parse_rows[_i];
        struct json_object *doc = NULL;
        struct rs_error err = {0};
        char deep[129];
        const char *text = row->text;
        int r;

        if (!text) {
                memset(deep, '[', 64);
                memset(deep + 64, ']', 64);
                deep[128] = '\0';
                text = deep;
        }
        r = rs_json_parse("f.json", text, strlen(text), 64, CORRUPT, &doc, &err);
        ck_assert_msg(r == row->rc, "%s: rc %d, want %d (%s)", row->what, r, row->rc, err.msg);
        ck_assert_msg(err.reason == row->reason, "%s: reason %d", row->what, err.reason);
        ck_assert_msg(strcmp(err.msg, row->msg) == 0, "%s: \"%s\"", row->what, err.msg);
        ck_assert_msg((r == 0) == (doc != NULL), "%s: doc", row->what);
        json_object_put(doc);
}
END_TEST

START_TEST(nesting_beyond_the_limit_is_too_large_with_its_offset)
{
        size_t n = 10000;
        char *text = malloc(n + 1);
        struct json_object *doc = NULL;
        struct rs_error err = {0};

        memset(text, '[', n);
        text[n] = '\0';
        ck_assert_int_eq(rs_json_parse("f.json", text, n, 64, CORRUPT, &doc, &err), -E2BIG);
        ck_assert_int_eq(err.reason, RS_REASON_TOO_LARGE);
        ck_assert_str_eq(err.msg, "f.json: nesting deeper than 64 at byte 64");
        ck_assert_ptr_null(doc);
        free(text);
}
END_TEST

START_TEST(nul_bytes_are_corrupt_and_located)
{
        char zeros[4096] = {0};
        char mid[] = "{\"a\": 1}\0\0";
        struct json_object *doc = NULL;
        struct rs_error err = {0};

        ck_assert_int_eq(rs_json_parse("f.json", zeros, sizeof(zeros), 64, CORRUPT, &doc, &err), -EBADMSG);
        ck_assert_str_eq(err.msg, "f.json: NUL byte at byte 0");
        ck_assert_int_eq(err.reason, CORRUPT);
        ck_assert_int_eq(rs_json_parse("f.json", mid, sizeof(mid) - 1, 64, CORRUPT, &doc, &err), -EBADMSG);
        ck_assert_str_eq(err.msg, "f.json: NUL byte at byte 8");
}
END_TEST

START_TEST(a_nul_filled_file_is_corrupt)
{
        char zeros[8192] = {0};
        struct json_object *doc = NULL;
        struct rs_error err = {0};

        tu_write_len(root, "z.json", zeros, sizeof(zeros));
        ck_assert_int_eq(read_file("z.json", &doc, &err), -EBADMSG);
        ck_assert_str_eq(err.msg, "z.json: NUL byte at byte 0");
}
END_TEST

START_TEST(a_regular_file_is_read_and_parsed)
{
        struct json_object *doc = NULL, *v = NULL;
        struct rs_error err = {0};

        tu_write(root, "s.json", "{\n    \"Pid\": 4242,\n    \"Running\": true\n}\n");
        ck_assert_int_eq(read_file("s.json", &doc, &err), 0);
        ck_assert(json_object_object_get_ex(doc, "Pid", &v));
        ck_assert_int_eq(json_object_get_int(v), 4242);
        ck_assert_int_eq(err.reason, RS_REASON_NONE);
        json_object_put(doc);
}
END_TEST

START_TEST(a_missing_file_gets_the_missing_reason)
{
        struct json_object *doc = NULL;
        struct rs_error err = {0};

        ck_assert_int_eq(rs_json_read_at(rootfd, "config.v2.json", MAX, 64, MISSING, CORRUPT, &doc, &err),
                         -ENOENT);
        ck_assert_int_eq(err.reason, MISSING);
        ck_assert_str_eq(err.msg, "config.v2.json: no such file");
        ck_assert_ptr_null(doc);
}
END_TEST

START_TEST(a_symlink_is_refused_even_to_a_valid_file)
{
        struct json_object *doc = NULL;
        struct rs_error err = {0};

        tu_write(root, "real.json", "{}");
        ck_assert_int_eq(symlinkat("real.json", rootfd, "link.json"), 0);
        ck_assert_int_eq(read_file("link.json", &doc, &err), -ELOOP);
        ck_assert_int_eq(err.reason, CORRUPT);
        ck_assert_str_eq(err.msg, "link.json: is a symbolic link; refusing to follow");
}
END_TEST

START_TEST(a_fifo_is_refused_without_blocking)
{
        struct json_object *doc = NULL;
        struct rs_error err = {0};

        ck_assert_int_eq(mkfifoat(rootfd, "fifo.json", 0600), 0);
        ck_assert_int_eq(read_file("fifo.json", &doc, &err), -EBADF);
        ck_assert_int_eq(err.reason, CORRUPT);
        ck_assert_str_eq(err.msg, "fifo.json: not a regular file (fifo)");
}
END_TEST

START_TEST(a_directory_is_refused)
{
        struct json_object *doc = NULL;
        struct rs_error err = {0};

        tu_mkdir_p(root, "dir.json");
        ck_assert_int_eq(read_file("dir.json", &doc, &err), -EBADF);
        ck_assert_str_eq(err.msg, "dir.json: not a regular file (directory)");
}
END_TEST

START_TEST(a_character_device_is_never_read)
{
        struct json_object *doc = NULL;
        struct rs_error err = {0};

        /* /dev/zero would never end: refused from its inode type alone. */
        ck_assert_int_eq(rs_json_read_path("/dev/zero", MAX, 64, MISSING, CORRUPT, &doc, &err), -EBADF);
        ck_assert_int_eq(err.reason, CORRUPT);
        ck_assert_str_eq(err.msg, "/dev/zero: not a regular file (character device)");
}
END_TEST

START_TEST(a_sparse_100mb_file_fails_fast_without_being_read)
{
        struct json_object *doc = NULL;
        struct rs_error err = {0};
        struct timespec t0, t1;
        int fd = openat(rootfd, "big.json", O_WRONLY | O_CREAT | O_CLOEXEC, 0640);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, 100 << 20), 0);
        close(fd);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ck_assert_int_eq(read_file("big.json", &doc, &err), -EFBIG);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ck_assert_int_eq(err.reason, RS_REASON_TOO_LARGE);
        ck_assert_str_eq(err.msg, "big.json: file is 104857600 bytes, over the 4194304-byte limit");
        /* Reading 100 MB of zeros would take far longer than a millisecond-scale stat. */
        ck_assert_int_lt((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 50);
}
END_TEST

START_TEST(a_file_of_exactly_max_size_is_accepted_and_one_more_byte_is_not)
{
        struct json_object *doc = NULL;
        struct rs_error err = {0};
        char text[64];

        memset(text, ' ', sizeof(text));
        memcpy(text, "{}", 2);
        tu_write_len(root, "edge.json", text, sizeof(text));
        ck_assert_int_eq(rs_json_read_at(rootfd, "edge.json", 64, 64, MISSING, CORRUPT, &doc, &err), 0);
        json_object_put(doc);
        doc = NULL;
        ck_assert_int_eq(rs_json_read_at(rootfd, "edge.json", 63, 64, MISSING, CORRUPT, &doc, &err), -EFBIG);
        ck_assert_str_eq(err.msg, "edge.json: file is 64 bytes, over the 63-byte limit");
        ck_assert_ptr_null(doc);
}
END_TEST

START_TEST(an_unreadable_file_is_an_io_error)
{
        struct json_object *doc = NULL;
        struct rs_error err = {0};

        if (geteuid() == 0)
                return; /* root reads a mode-000 file: nothing to test */
        tu_write(root, "secret.json", "{}");
        ck_assert_int_eq(fchmodat(rootfd, "secret.json", 0, 0), 0);
        ck_assert_int_eq(read_file("secret.json", &doc, &err), -EACCES);
        ck_assert_int_eq(err.reason, RS_REASON_IO_ERROR);
        ck_assert_str_eq(err.msg, "secret.json: Permission denied");
}
END_TEST

START_TEST(read_path_takes_an_absolute_path)
{
        struct json_object *doc = NULL;
        struct rs_error err = {0};
        char *p = tu_path(root, "garbage.json");

        tu_write(root, "garbage.json", "{\"GcContainers\": []}");
        ck_assert_int_eq(rs_json_read_path(p, MAX, 64, MISSING, CORRUPT, &doc, &err), 0);
        ck_assert(json_object_is_type(doc, json_type_object));
        json_object_put(doc);
        free(p);
}
END_TEST

START_TEST(a_null_error_object_is_allowed)
{
        struct json_object *doc = NULL;

        ck_assert_int_eq(rs_json_parse("f.json", "{", 1, 64, CORRUPT, &doc, NULL), -EBADMSG);
        ck_assert_int_eq(read_file("absent.json", &doc, NULL), -ENOENT);
}
END_TEST

static Suite *jsonfile_suite(void)
{
        Suite *s = suite_create("jsonfile");
        TCase *parse = tcase_create("parse");
        TCase *file = tcase_create("file");

        tcase_add_loop_test(parse, parse_table, 0, (int)ARRAY_SIZE(parse_rows));
        tcase_add_test(parse, nesting_beyond_the_limit_is_too_large_with_its_offset);
        tcase_add_test(parse, nul_bytes_are_corrupt_and_located);
        tcase_add_checked_fixture(file, setup, teardown);
        tcase_add_test(file, a_nul_filled_file_is_corrupt);
        tcase_add_test(file, a_regular_file_is_read_and_parsed);
        tcase_add_test(file, a_missing_file_gets_the_missing_reason);
        tcase_add_test(file, a_symlink_is_refused_even_to_a_valid_file);
        tcase_add_test(file, a_fifo_is_refused_without_blocking);
        tcase_add_test(file, a_directory_is_refused);
        tcase_add_test(file, a_character_device_is_never_read);
        tcase_add_test(file, a_sparse_100mb_file_fails_fast_without_being_read);
        tcase_add_test(file, a_file_of_exactly_max_size_is_accepted_and_one_more_byte_is_not);
        tcase_add_test(file, an_unreadable_file_is_an_io_error);
        tcase_add_test(file, read_path_takes_an_absolute_path);
        tcase_add_test(file, a_null_error_object_is_allowed);
        suite_add_tcase(s, parse);
        suite_add_tcase(s, file);
        return s;
}

int main(void)
{
        return tu_run_suite(jsonfile_suite());
}
