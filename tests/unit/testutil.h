/*
 * testutil.h - real temporary trees for unit tests (no filesystem mocks).
 *
 *   char *root = tu_mkdtemp();                      a fresh directory under $TMPDIR
 *   tu_write(root, "engines/runc/abc/config.v2.json", "{...}");  creates parents
 *   tu_rm_rf(root); free(root);
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

char *tu_mkdtemp(void);
/* Writes content at root/rel, creating parent directories; aborts the test on failure. */
void tu_write(const char *root, const char *rel, const char *content);
void tu_write_len(const char *root, const char *rel, const void *content, size_t len);
void tu_mkdir_p(const char *root, const char *rel);
/* Reads root/rel into a malloc'd NUL-terminated buffer; NULL if absent. */
char *tu_read(const char *root, const char *rel, size_t *ret_len);
char *tu_path(const char *root, const char *rel);   /* malloc'd root/rel */
void tu_rm_rf(const char *root);

struct Suite;
/* Runs every test of s (forked, as Check does by default) and returns main()'s exit status. */
int tu_run_suite(struct Suite *s);
