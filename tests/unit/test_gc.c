/* test_gc.c - garbage.json: load, contains, add, durable save, unknown keys kept. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "gc.h"
#include "testutil.h"

static char *root;

static void setup(void)
{
        root = tu_mkdtemp();
}

static void teardown(void)
{
        tu_rm_rf(root);
        free(root);
}

static struct json_object *read_gc(void)
{
        char *text = tu_read(root, RS_GC_FILE, NULL);
        struct json_object *doc;

        ck_assert_ptr_nonnull(text);
        doc = json_tokener_parse(text);
        ck_assert_ptr_nonnull(doc);
        free(text);
        return doc;
}

/* No ".tmp-garbage.json-*" is left behind by a save. */
static void assert_no_temp_files(void)
{
        DIR *d = opendir(root);
        struct dirent *de;

        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d)))
                ck_assert_msg(strncmp(de->d_name, ".tmp-", 5) != 0, "left behind: %s", de->d_name);
        closedir(d);
}

START_TEST(missing_file_is_an_empty_list_and_nothing_is_written)
{
        struct rs_gc_list *l = NULL;
        struct rs_error err = { 0 };

        ck_assert_int_eq(rs_gc_load(root, &l, &err), 0);
        ck_assert_uint_eq(rs_gc_count(l), 0);
        ck_assert(!rs_gc_contains(l, "abc"));
        ck_assert_int_eq(rs_gc_save(l, &err), 0);
        ck_assert_ptr_null(tu_read(root, RS_GC_FILE, NULL));
        rs_gc_free(l);
}
END_TEST

START_TEST(added_containers_are_saved_once_with_isulad_keys)
{
        struct rs_process p = { .pid = 100, .ppid = 90, .start_time = 5000, .p_start_time = 4000 };
        struct rs_process only_ppid = { .ppid = 91, .p_start_time = 4001 };
        struct rs_gc_list *l = NULL;
        struct rs_error err = { 0 };
        struct json_object *doc, *arr, *e, *v;
        struct stat st;
        char *path;

        ck_assert_int_eq(rs_gc_load(root, &l, &err), 0);
        ck_assert_int_eq(rs_gc_add(l, "aaa", "runc", &p), 1);
        ck_assert_int_eq(rs_gc_add(l, "aaa", "runc", &p), 0);   /* no duplicates */
        ck_assert_int_eq(rs_gc_add(l, "bbb", "lcr", &only_ppid), 1);
        ck_assert(rs_gc_contains(l, "aaa") && rs_gc_contains(l, "bbb"));
        ck_assert_uint_eq(rs_gc_count(l), 2);
        ck_assert_int_eq(rs_gc_save(l, &err), 1);
        ck_assert_int_eq(rs_gc_save(l, &err), 0);   /* nothing new: nothing written */
        rs_gc_free(l);
        assert_no_temp_files();

        path = tu_path(root, RS_GC_FILE);
        ck_assert_int_eq(stat(path, &st), 0);
        free(path);
        ck_assert_int_eq(st.st_mode & 07777, 0640);
        doc = read_gc();
        ck_assert(json_object_object_get_ex(doc, "GcContainers", &arr));
        ck_assert_uint_eq(json_object_array_length(arr), 2);
        e = json_object_array_get_idx(arr, 0);
        ck_assert(json_object_object_get_ex(e, "id", &v));
        ck_assert_str_eq(json_object_get_string(v), "aaa");
        ck_assert(json_object_object_get_ex(e, "runtime", &v));
        ck_assert_str_eq(json_object_get_string(v), "runc");
        ck_assert(json_object_object_get_ex(e, "pid", &v) && json_object_get_int(v) == 100);
        ck_assert(json_object_object_get_ex(e, "StartTime", &v) && json_object_get_int64(v) == 5000);
        ck_assert(json_object_object_get_ex(e, "ppid", &v) && json_object_get_int(v) == 90);
        ck_assert(json_object_object_get_ex(e, "PStartTime", &v) && json_object_get_int64(v) == 4000);
        /* zero values are omitted, as iSulad's generator does */
        e = json_object_array_get_idx(arr, 1);
        ck_assert(!json_object_object_get_ex(e, "pid", NULL));
        ck_assert(!json_object_object_get_ex(e, "StartTime", NULL));
        ck_assert(json_object_object_get_ex(e, "ppid", &v) && json_object_get_int(v) == 91);
        json_object_put(doc);

        ck_assert_int_eq(rs_gc_load(root, &l, &err), 0);
        ck_assert(rs_gc_contains(l, "aaa") && rs_gc_contains(l, "bbb") && !rs_gc_contains(l, "ccc"));
        rs_gc_free(l);
}
END_TEST

START_TEST(unknown_keys_and_order_survive_an_add)
{
        struct rs_process p = { .pid = 7 };
        struct rs_gc_list *l = NULL;
        struct rs_error err = { 0 };
        struct json_object *doc, *arr, *e;
        const char *keys[4];
        size_t n = 0;

        tu_write(root, RS_GC_FILE,
                 "{\"Version\": 3, \"GcContainers\": [ {\"id\": \"old\", \"runtime\": \"runc\", "
                 "\"pid\": 5, \"Extra\": {\"x\": [1, 2]}}, {\"weird\": true} ], \"Zeta\": \"z\"}");
        ck_assert_int_eq(rs_gc_load(root, &l, &err), 0);
        ck_assert(rs_gc_contains(l, "old"));
        ck_assert_int_eq(rs_gc_add(l, "old", "runc", &p), 0);
        ck_assert_int_eq(rs_gc_add(l, "new", "crun", &p), 1);
        ck_assert_int_eq(rs_gc_save(l, &err), 1);
        rs_gc_free(l);

        doc = read_gc();
        json_object_object_foreach(doc, k, v) {
                (void)v;
                ck_assert_uint_lt(n, 4);
                keys[n++] = k;
        }
        ck_assert_uint_eq(n, 3);
        ck_assert_str_eq(keys[0], "Version");
        ck_assert_str_eq(keys[1], "GcContainers");
        ck_assert_str_eq(keys[2], "Zeta");
        json_object_object_get_ex(doc, "GcContainers", &arr);
        ck_assert_uint_eq(json_object_array_length(arr), 3);
        e = json_object_array_get_idx(arr, 0);
        ck_assert(json_object_object_get_ex(e, "Extra", NULL));
        e = json_object_array_get_idx(arr, 1);
        ck_assert(json_object_object_get_ex(e, "weird", NULL));
        e = json_object_array_get_idx(arr, 2);
        ck_assert_str_eq(json_object_get_string(json_object_object_get(e, "id")), "new");
        json_object_put(doc);
}
END_TEST

START_TEST(corrupt_file_is_an_error_not_an_empty_list)
{
        static const char *const bad[] = {
                "{\"GcContainers\": [", "[]", "{\"GcContainers\": {}}", "", "null",
        };
        struct rs_gc_list *l = NULL;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct rs_error err = { 0 };
                tu_write(root, RS_GC_FILE, bad[i]);
                ck_assert_msg(rs_gc_load(root, &l, &err) < 0, "accepted \"%s\"", bad[i]);
                ck_assert_int_eq(err.reason, RS_REASON_STATE_CORRUPT);
                ck_assert(strstr(err.msg, RS_GC_FILE));
        }
}
END_TEST

START_TEST(file_without_gc_key_gets_one_on_add)
{
        struct rs_gc_list *l = NULL;
        struct rs_error err = { 0 };
        struct json_object *doc, *arr;

        tu_write(root, RS_GC_FILE, "{}");
        ck_assert_int_eq(rs_gc_load(root, &l, &err), 0);
        ck_assert_uint_eq(rs_gc_count(l), 0);
        ck_assert_int_eq(rs_gc_add(l, "x", "runc", NULL), 1);
        ck_assert_int_eq(rs_gc_save(l, &err), 1);
        rs_gc_free(l);
        doc = read_gc();
        ck_assert(json_object_object_get_ex(doc, "GcContainers", &arr));
        ck_assert_uint_eq(json_object_array_length(arr), 1);
        json_object_put(doc);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("gc");
        TCase *tc = tcase_create("gc");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, missing_file_is_an_empty_list_and_nothing_is_written);
        tcase_add_test(tc, added_containers_are_saved_once_with_isulad_keys);
        tcase_add_test(tc, unknown_keys_and_order_survive_an_add);
        tcase_add_test(tc, corrupt_file_is_an_error_not_an_empty_list);
        tcase_add_test(tc, file_without_gc_key_gets_one_on_add);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return tu_run_suite(suite());
}
