/*
 * client_lib_example.c - iSulad's view of librestore-client: what a C caller does with
 * include/restore_client.h, checked step by step against a running restored.
 *
 *   client_lib_example SOCKET N_DIRS N_FAILED NAME
 *
 * SOCKET is the daemon's socket, on a graph with N_DIRS container directories of which
 * N_FAILED fail to restore, and NAME is the name of a container that restores. The daemon
 * must not have run a restore yet (health is checked before and after the first one).
 * Built with -DLEAK_ON_PURPOSE it leaks the RestoreAll result (a negative control for valgrind).
 * Prints one "ok"/"FAIL" line per check; exit 0 only if every check passed. Everything the
 * library hands out is freed, so that valgrind can tell a leak of the library from ours.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore_client.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
        do {                                                                                       \
                if (cond) {                                                                        \
                        printf("ok   - ");                                                         \
                } else {                                                                           \
                        printf("FAIL - ");                                                         \
                        failures++;                                                                \
                }                                                                                  \
                printf(__VA_ARGS__);                                                               \
                printf("\n");                                                                      \
        } while (0)

static int strings_ok(const restore_container_result *r)
{
        return r->id && r->name && r->runtime && r->image && r->error && r->exit_fifo && r->dir &&
               r->restart.policy && r->restart.reason && r->health.status;
}

/* The whole list, page by page (page_size small so that there are many pages). */
static size_t list_all(restore_client *c, const restore_list_opts *base, char ***ret_ids, size_t *ret_pages)
{
        restore_list_opts opts = *base;
        char *token = NULL, **ids = NULL;
        size_t n = 0, pages = 0;

        for (;;) {
                restore_list_page *p = NULL;
                int code = 0;
                opts.page_token = token;
                if (restore_client_list(c, &opts, &p) < 0) {
                        CHECK(0, "restore_client_list page %zu: %s (code %d)", pages,
                              restore_client_last_error(c, &code), code);
                        break;
                }
                pages++;
                ids = realloc(ids, (n + p->n_containers + 1) * sizeof(*ids));
                for (size_t i = 0; i < p->n_containers; i++)
                        ids[n++] = strdup(p->containers[i].dir);
                free(token);
                token = p->next_page_token[0] ? strdup(p->next_page_token) : NULL;
                restore_list_page_free(p);
                if (!token || pages > 10000)
                        break;
        }
        free(token);
        *ret_ids = ids;
        *ret_pages = pages;
        return n;
}

static void free_ids(char **ids, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(ids[i]);
        free(ids);
}

int main(int argc, char **argv)
{
        restore_client *c = NULL, *bad = NULL;
        restore_all_result *res = NULL;
        restore_container_result *h = NULL;
        restore_all_opts opts = { .dry_run = false };
        bool serving = true;
        const char *msg;
        int code = -1, r;

        if (argc != 5) {
                fprintf(stderr, "usage: %s SOCKET N_DIRS N_FAILED NAME\n", argv[0]);
                return 2;
        }
        const char *sock = argv[1], *name = argv[4];
        size_t n_dirs = strtoul(argv[2], NULL, 10), n_failed = strtoul(argv[3], NULL, 10);

        /* An absent daemon: a clear error, no client. */
        r = restore_client_connect("/nonexistent/restore.sock", 2000, &bad);
        msg = restore_client_last_error(NULL, &code);
        CHECK(r == -ENOTCONN && bad == NULL, "connect to an absent socket fails with -ENOTCONN (got %d)", r);
        CHECK(strstr(msg, "/nonexistent/restore.sock") != NULL, "the error names the socket: %s", msg);

        r = restore_client_connect(sock, 60000, &c);
        CHECK(r == 0 && c != NULL, "connect to %s (%d: %s)", sock, r, restore_client_last_error(NULL, NULL));
        if (!c)
                return 1;

        r = restore_client_health(c, &serving);
        CHECK(r == 0 && !serving, "health is NOT_SERVING before the first restore (r=%d)", r);

        r = restore_client_restore_all(c, &opts, &res);
        CHECK(r == 0 && res != NULL, "restore_all (%d: %s)", r, restore_client_last_error(c, NULL));
        if (!res) {
                restore_client_close(c);
                return 1;
        }
        CHECK(res->n_results == n_dirs, "one result per container dir: %zu == %zu", res->n_results, n_dirs);
        CHECK(res->summary.total == n_dirs && res->summary.failed == n_failed &&
                  res->summary.restored == n_dirs - n_failed,
              "summary: total %u, restored %u, failed %u", res->summary.total, res->summary.restored,
              res->summary.failed);
        CHECK(res->summary.phase == RESTORE_PHASE_DONE && res->summary.generation == 1 && !res->summary.dry_run,
              "summary: phase %s, generation %llu", restore_phase_name(res->summary.phase),
              (unsigned long long)res->summary.generation);
        {
                size_t failed = 0, bad_strings = 0, unordered = 0;
                for (size_t i = 0; i < res->n_results; i++) {
                        const restore_container_result *x = &res->results[i];
                        if (!strings_ok(x))
                                bad_strings++;
                        if (x->outcome == RESTORE_OUTCOME_FAILED) {
                                failed++;
                                if (x->action != RESTORE_ACTION_NONE || !x->error[0])
                                        bad_strings++;
                        }
                        if (i > 0) {
                                int k = strcmp(res->results[i - 1].runtime, x->runtime);
                                if (k > 0 || (k == 0 && strcmp(res->results[i - 1].dir, x->dir) > 0))
                                        unordered++;
                        }
                }
                CHECK(failed == n_failed, "%zu results are OUTCOME_FAILED", failed);
                CHECK(bad_strings == 0, "no NULL string in any result; failures carry an error and ACTION_NONE");
                CHECK(unordered == 0, "results are ordered by runtime, then id");
        }
        CHECK(strcmp(restore_action_name(RESTORE_ACTION_REATTACH), "ACTION_REATTACH") == 0 &&
                  strcmp(restore_status_name(RESTORE_STATUS_STOPPED), "STATUS_STOPPED") == 0 &&
                  strcmp(restore_reason_name((restore_reason)999), "") == 0,
              "enum names are the proto's");

        r = restore_client_health(c, &serving);
        CHECK(r == 0 && serving, "health is SERVING after the restore (r=%d)", r);

        /* ListRestored, paged. */
        {
                restore_list_opts lo = { .page_size = 4 };
                char **ids = NULL;
                size_t pages = 0, n = list_all(c, &lo, &ids, &pages), same = 0;

                for (size_t i = 0; i < n && i < res->n_results; i++)
                        if (strcmp(ids[i], res->results[i].dir) == 0)
                                same++;
                CHECK(n == n_dirs && same == n, "paging (size 4) lists all %zu, in RestoreAll's order", n);
                CHECK(pages == (n_dirs + 3) / 4, "%zu pages of 4", pages);
                free_ids(ids, n);

                restore_list_opts fo = { .outcome = RESTORE_OUTCOME_FAILED };
                n = list_all(c, &fo, &ids, &pages);
                CHECK(n == n_failed, "outcome filter: %zu failed", n);
                free_ids(ids, n);

                restore_status st[] = { RESTORE_STATUS_STOPPED, RESTORE_STATUS_CREATED };
                restore_list_opts so = { .statuses = st, .n_statuses = 2, .runtime = "runc" };
                restore_list_page *p = NULL;
                r = restore_client_list(c, &so, &p);
                size_t wrong = 0;
                for (size_t i = 0; p && i < p->n_containers; i++)
                        if ((p->containers[i].status != RESTORE_STATUS_STOPPED &&
                             p->containers[i].status != RESTORE_STATUS_CREATED) ||
                            strcmp(p->containers[i].runtime, "runc") != 0)
                                wrong++;
                CHECK(r == 0 && p && p->n_containers > 0 && wrong == 0 && p->summary.total == n_dirs,
                      "status + runtime filter: %zu containers, all stopped or created on runc",
                      p ? p->n_containers : 0);
                restore_list_page_free(p);

                restore_list_opts badtok = { .page_token = "not-a-token" };
                p = NULL;
                r = restore_client_list(c, &badtok, &p);
                restore_client_last_error(c, &code);
                CHECK(r == -EINVAL && code == 3 && p == NULL, "a bogus page token: -EINVAL, code 3 (r=%d code=%d)",
                      r, code);
        }

        /* HandleContainer by name and by id prefix. */
        r = restore_client_handle(c, name, true, &h);
        CHECK(r == 0 && h && strcmp(h->name, name) == 0 && h->outcome == RESTORE_OUTCOME_RESTORED,
              "handle %s (dry run): %s", name, h ? restore_action_name(h->action) : restore_client_last_error(c, NULL));
        if (h) {
                char prefix[17];
                restore_container_result *h2 = NULL;
                snprintf(prefix, sizeof(prefix), "%s", h->id);
                r = restore_client_handle(c, prefix, true, &h2);
                CHECK(r == 0 && h2 && strcmp(h2->id, h->id) == 0, "handle by id prefix %s", prefix);
                restore_container_result_free(h2);
        }
        restore_container_result_free(h);

        /* Errors: unknown id (NOT_FOUND = 5), empty id, bad runtime filter. */
        h = NULL;
        r = restore_client_handle(c, "no-such-container", false, &h);
        msg = restore_client_last_error(c, &code);
        CHECK(r == -ENOENT && code == 5 && h == NULL, "unknown id: -ENOENT, code 5 (r=%d code=%d)", r, code);
        CHECK(strstr(msg, "no-such-container") != NULL, "the message names it: %s", msg);
        r = restore_client_handle(c, "", false, &h);
        restore_client_last_error(c, &code);
        CHECK(r == -EINVAL && code == 3 && h == NULL, "empty id: -EINVAL, code 3 (r=%d code=%d)", r, code);
        {
                const char *rts[] = { "../etc" };
                restore_all_opts bo = { .runtimes = rts, .n_runtimes = 1 };
                restore_all_result *x = NULL;
                r = restore_client_restore_all(c, &bo, &x);
                restore_client_last_error(c, &code);
                CHECK(r == -EINVAL && code == 3 && x == NULL, "runtime filter \"../etc\": -EINVAL (r=%d)", r);
        }
        /* A success clears the last error. */
        r = restore_client_health(c, &serving);
        msg = restore_client_last_error(c, &code);
        CHECK(r == 0 && code == 0 && msg[0] == '\0', "after a success the last error is empty (code %d)", code);

        /* A second, dry-run restore: a new generation, the same set of results. */
        {
                restore_all_opts d = { .dry_run = true, .workers = 2 };
                restore_all_result *x = NULL;
                r = restore_client_restore_all(c, &d, &x);
                CHECK(r == 0 && x && x->summary.generation == 2 && x->summary.dry_run &&
                          x->n_results == res->n_results,
                      "dry-run restore: generation 2, %zu results", x ? x->n_results : 0);
                restore_all_result_free(x);
        }

#ifndef LEAK_ON_PURPOSE /* the negative control of test_client_lib.sh: valgrind must catch this */
        restore_all_result_free(res);
#endif
        restore_all_result_free(NULL);
        restore_list_page_free(NULL);
        restore_container_result_free(NULL);
        restore_client_close(c);
        restore_client_close(NULL);
        printf("%s\n", failures ? "FAILED" : "all checks passed");
        return failures ? 1 : 0;
}
