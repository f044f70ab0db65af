/*
 * client_lib_example.c - iSulad's view of librestore-client: what a C caller does with
 * include/restore_client.h, checked step by step against a running restored.
 *
 *   client_lib_example SOCKET N_DIRS N_FAILED NAME [READY_FILE]
 *
 * SOCKET is the daemon's socket, on a graph with N_DIRS container directories of which
 * N_FAILED fail to restore, and NAME is the name of a container that restores. The daemon
 * must not have run a restore yet (health is checked before and after the first one, and a
 * Watch opened before it must see the whole restore).
 * With READY_FILE, the last check opens a Watch, creates READY_FILE and waits for the daemon
 * to be stopped (SIGTERM), which must end the stream cleanly (-ENODATA).
 * Built with -DLEAK_ON_PURPOSE it leaks the RestoreAll result (a negative control for valgrind).
 * Prints one "ok"/"FAIL" line per check; exit 0 only if every check passed. Everything the
 * library hands out is freed, so that valgrind can tell a leak of the library from ours.
 */
#define _POSIX_C_SOURCE 200809L /* strdup, clock_gettime, nanosleep */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* ---- Watch helpers ---- */

static void sleep_ms(long ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The events one watch delivered, kept for checks on the main thread (CHECK is not thread-safe). */
struct events {
        restore_event **v;
        size_t n;
};

static void events_push(struct events *e, restore_event *ev)
{
        restore_event **v = realloc(e->v, (e->n + 1) * sizeof(*v));
        if (!v) {
                restore_event_free(ev);
                return;
        }
        e->v = v;
        e->v[e->n++] = ev;
}

static void events_free(struct events *e)
{
        for (size_t i = 0; i < e->n; i++)
                restore_event_free(e->v[i]);
        free(e->v);
        e->v = NULL;
        e->n = 0;
}

/* A watcher thread: reads until RESTORE_FINISHED (or until cancelled, when until_finished is
 * false), then records how the last restore_watch_next() ended. */
struct watcher {
        restore_client *c;
        restore_watch *w;
        bool until_finished;
        int timeout_ms;
        struct events ev;
        int r, code; /* the call that ended the loop */
        char msg[256];
        long long waited_ms; /* how long that last call took */
};

static void *watcher_main(void *arg)
{
        struct watcher *t = arg;

        for (;;) {
                restore_event *ev = NULL;
                long long t0 = now_ms();
                t->r = restore_watch_next(t->w, t->timeout_ms, &ev);
                t->waited_ms = now_ms() - t0;
                if (t->r < 0) {
                        snprintf(t->msg, sizeof(t->msg), "%s", restore_client_last_error(t->c, &t->code));
                        break;
                }
                restore_event_kind k = ev->kind;
                events_push(&t->ev, ev);
                if (t->until_finished && k == RESTORE_EVENT_RESTORE_FINISHED)
                        break;
        }
        return NULL;
}

/* Index of the result with this (runtime, dir) in res, or -1. */
static long find_result(const restore_all_result *res, const restore_container_result *x)
{
        for (size_t i = 0; i < res->n_results; i++)
                if (strcmp(res->results[i].runtime, x->runtime) == 0 &&
                    strcmp(res->results[i].dir, x->dir) == 0)
                        return (long)i;
        return -1;
}

static bool same_counts(const restore_summary *a, const restore_summary *b)
{
        return a->generation == b->generation && a->total == b->total && a->restored == b->restored &&
               a->failed == b->failed && a->running == b->running && a->stopped == b->stopped &&
               a->done == b->done && a->phase == b->phase && a->dry_run == b->dry_run;
}

/* Every CONTAINER_RESULT of `e` matches a result of res, each of res exactly once. */
static void check_results_once(const struct events *e, const restore_all_result *res, const char *what)
{
        size_t *seen = calloc(res->n_results ? res->n_results : 1, sizeof(*seen));
        size_t n = 0, unknown = 0, twice = 0, missing = 0, differ = 0, null_result = 0;

        for (size_t i = 0; i < e->n; i++) {
                const restore_event *ev = e->v[i];
                if (ev->kind != RESTORE_EVENT_CONTAINER_RESULT)
                        continue;
                n++;
                if (!ev->result || !strings_ok(ev->result)) {
                        null_result++;
                        continue;
                }
                long k = find_result(res, ev->result);
                if (k < 0) {
                        unknown++;
                        continue;
                }
                const restore_container_result *x = &res->results[k];
                if (strcmp(x->id, ev->result->id) != 0 || x->outcome != ev->result->outcome ||
                    x->status != ev->result->status || x->action != ev->result->action ||
                    x->reason != ev->result->reason)
                        differ++;
                seen[k]++;
        }
        for (size_t i = 0; i < res->n_results; i++) {
                if (seen[i] == 0)
                        missing++;
                else if (seen[i] > 1)
                        twice++;
        }
        CHECK(n == res->n_results && unknown == 0 && twice == 0 && missing == 0 && null_result == 0,
              "%s: exactly one CONTAINER_RESULT per container (%zu events for %zu containers; "
              "%zu unknown, %zu repeated, %zu missing, %zu without a result)",
              what, n, res->n_results, unknown, twice, missing, null_result);
        CHECK(differ == 0,
              "%s: each event's result equals RestoreAll's (id, outcome, status, action, "
              "reason; %zu differ)",
              what, differ);
        free(seen);
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

        if (argc != 5 && argc != 6) {
                fprintf(stderr, "usage: %s SOCKET N_DIRS N_FAILED NAME [READY_FILE]\n", argv[0]);
                return 2;
        }
        const char *sock = argv[1], *name = argv[4], *ready_file = argc == 6 ? argv[5] : NULL;
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

        /* A Watch (with replay, which sends nothing yet) opened before the first restore, read by
         * a thread of its own while this one runs RestoreAll. */
        struct watcher live = { .c = c, .until_finished = true, .timeout_ms = 60000 };
        pthread_t live_thread;
        bool live_started = false;
        r = restore_client_watch(c, true, &live.w);
        CHECK(r == 0 && live.w, "restore_client_watch(replay) before the first restore (%d: %s)", r,
              restore_client_last_error(c, NULL));
        if (live.w)
                live_started = pthread_create(&live_thread, NULL, watcher_main, &live) == 0;

        /* The health round trip on the same connection follows the Watch request; the pause
         * lets the daemon register the stream before the restore starts (the daemon confirms
         * nothing until its first event). */
        r = restore_client_health(c, &serving);
        CHECK(r == 0 && !serving, "health is NOT_SERVING before the first restore (r=%d)", r);
        sleep_ms(200);

        r = restore_client_restore_all(c, &opts, &res);
        CHECK(r == 0 && res != NULL, "restore_all (%d: %s)", r, restore_client_last_error(c, NULL));
        if (!res) {
                if (live_started) {
                        restore_watch_cancel(live.w);
                        pthread_join(live_thread, NULL);
                }
                events_free(&live.ev);
                restore_watch_close(live.w);
                restore_client_close(c);
                return 1;
        }
        CHECK(res->n_results == n_dirs, "one result per container dir: %zu == %zu", res->n_results, n_dirs);
        CHECK(res->summary.total == n_dirs && res->summary.failed == n_failed &&
                  res->summary.restored == n_dirs - n_failed,
              "summary: total %u, restored %u, failed %u", res->summary.total, res->summary.restored,
              res->summary.failed);
        CHECK(res->summary.error[0] == '\0', "summary: no enumeration error (%s)", res->summary.error);
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

        /* What the live watch saw of that restore. */
        if (live_started)
                pthread_join(live_thread, NULL);
        {
                const struct events *e = &live.ev;
                size_t started = 0, finished = 0, progress = 0, bad_progress = 0, other_gen = 0;
                const restore_event *first = e->n ? e->v[0] : NULL, *last = e->n ? e->v[e->n - 1] : NULL;

                CHECK(live_started && live.r == 0 && last && last->kind == RESTORE_EVENT_RESTORE_FINISHED,
                      "live watch: read until RESTORE_FINISHED (%zu events; last call %d: %s)", e->n, live.r,
                      live.msg);
                for (size_t i = 0; i < e->n; i++) {
                        const restore_event *ev = e->v[i];
                        if (ev->generation != 1 || ev->summary.generation != 1)
                                other_gen++;
                        if (ev->kind == RESTORE_EVENT_RESTORE_STARTED)
                                started++;
                        if (ev->kind == RESTORE_EVENT_RESTORE_FINISHED)
                                finished++;
                        if (ev->kind == RESTORE_EVENT_PROGRESS) {
                                progress++;
                                if (ev->progress.done > ev->progress.total ||
                                    ev->progress.stage < RESTORE_STAGE_LOAD ||
                                    ev->progress.stage > RESTORE_STAGE_HANDLE ||
                                    ev->summary.done > ev->summary.total || ev->result)
                                        bad_progress++;
                        } else if (ev->progress.stage || ev->progress.done || ev->progress.total) {
                                bad_progress++;
                        }
                        if (!ev->time_us)
                                other_gen++;
                }
                CHECK(first && first->kind == RESTORE_EVENT_RESTORE_STARTED &&
                              first->summary.phase == RESTORE_PHASE_RUNNING &&
                              first->summary.total == n_dirs && !first->result,
                      "live watch: RESTORE_STARTED first (%s, total %u)",
                      first ? restore_event_kind_name(first->kind) : "none",
                      first ? first->summary.total : 0);
                CHECK(started == 1 && finished == 1,
                      "live watch: one RESTORE_STARTED, one RESTORE_FINISHED");
                CHECK(other_gen == 0, "live watch: every event is of generation 1 and has a time");
                CHECK(progress > 0 && bad_progress == 0,
                      "live watch: %zu PROGRESS events, each with a stage and done <= total", progress);
                check_results_once(e, res, "live watch");
                CHECK(last && same_counts(&last->summary, &res->summary) &&
                              last->summary.phase == RESTORE_PHASE_DONE && last->summary.done == n_dirs,
                      "live watch: RESTORE_FINISHED comes last with RestoreAll's summary (restored %u, "
                      "failed %u, done %u)",
                      last ? last->summary.restored : 0, last ? last->summary.failed : 0,
                      last ? last->summary.done : 0);

                /* Nothing more of that restore follows (a later STATUS_CHANGED would be fine). */
                restore_event *ev = NULL;
                size_t stray = 0;
                while ((r = restore_watch_next(live.w, 100, &ev)) == 0) {
                        if (ev->kind != RESTORE_EVENT_STATUS_CHANGED)
                                stray++;
                        restore_event_free(ev);
                        ev = NULL;
                }
                msg = restore_client_last_error(c, &code);
                CHECK(stray == 0 && r == -ETIMEDOUT && code == 4 && ev == NULL,
                      "live watch: nothing after RESTORE_FINISHED; a 100 ms wait gives -ETIMEDOUT, code 4 "
                      "(r=%d code=%d: %s)",
                      r, code, msg);
                events_free(&live.ev);
                restore_watch_close(live.w);
                live.w = NULL;
        }

        r = restore_client_health(c, &serving);
        CHECK(r == 0 && serving, "health is SERVING after the restore (r=%d)", r);

        /* A replay after the restore: RESTORE_FINISHED with the final summary, then every result. */
        {
                restore_watch *w = NULL;
                struct events e = { 0 };
                restore_event *ev = NULL;
                size_t n_results = 0;

                r = restore_client_watch(c, true, &w);
                CHECK(r == 0 && w, "restore_client_watch(replay) after the restore (r=%d)", r);
                while (w && n_results < n_dirs && (r = restore_watch_next(w, 10000, &ev)) == 0) {
                        if (ev->kind == RESTORE_EVENT_CONTAINER_RESULT)
                                n_results++;
                        events_push(&e, ev);
                }
                const restore_event *first = e.n ? e.v[0] : NULL;
                CHECK(first && first->kind == RESTORE_EVENT_RESTORE_FINISHED && first->generation == 1 &&
                              same_counts(&first->summary, &res->summary) && !first->result,
                      "replay: RESTORE_FINISHED first, with RestoreAll's summary (%s)",
                      first ? restore_event_kind_name(first->kind) : restore_client_last_error(c, NULL));
                check_results_once(&e, res, "replay");
                events_free(&e);
                restore_watch_close(w);
        }

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

        /* Watch: polling, timeouts, and a cancel from another thread that wakes a blocked reader. */
        {
                struct watcher t = { .c = c, .until_finished = false, .timeout_ms = -1 };
                restore_event *ev = NULL;
                pthread_t th;

                r = restore_client_watch(NULL, false, &t.w);
                CHECK(r == -EINVAL && t.w == NULL, "restore_client_watch(NULL client): -EINVAL (r=%d)", r);
                r = restore_watch_next(NULL, 0, &ev);
                CHECK(r == -EINVAL && ev == NULL, "restore_watch_next(NULL watch): -EINVAL (r=%d)", r);
                CHECK(strcmp(restore_event_kind_name(RESTORE_EVENT_CONTAINER_RESULT),
                             "KIND_CONTAINER_RESULT") == 0 &&
                              strcmp(restore_event_kind_name((restore_event_kind)99), "") == 0,
                      "event kind names are the proto's");

                r = restore_client_watch(c, false, &t.w);
                CHECK(r == 0 && t.w, "restore_client_watch without replay (r=%d)", r);
                if (t.w) {
                        long long t0 = now_ms();
                        int r0 = restore_watch_next(t.w, 0, &ev);
                        r = restore_watch_next(t.w, 50, &ev);
                        long long took = now_ms() - t0;
                        restore_client_last_error(c, &code);
                        CHECK(r0 == -ETIMEDOUT && r == -ETIMEDOUT && code == 4 && ev == NULL && took >= 45,
                              "an idle watch: a poll and a 50 ms wait give -ETIMEDOUT (r=%d, %d; %lld ms)",
                              r0, r, took);

                        bool ok = pthread_create(&th, NULL, watcher_main, &t) == 0;
                        sleep_ms(100); /* the thread is now blocked in restore_watch_next(w, -1) */
                        long long c0 = now_ms();
                        restore_watch_cancel(t.w);
                        if (ok)
                                pthread_join(th, NULL);
                        long long woke = now_ms() - c0;
                        CHECK(ok && t.r == -ECANCELED && t.code == 1 && t.ev.n == 0 && t.waited_ms >= 90 &&
                                      woke < 5000,
                              "cancel from another thread wakes a blocked restore_watch_next: -ECANCELED, "
                              "code 1, "
                              "after %lld ms blocked, %lld ms after the cancel (%s)",
                              t.waited_ms, woke, t.msg);
                        r = restore_watch_next(t.w, -1, &ev);
                        restore_client_last_error(c, &code);
                        CHECK(r == -ECANCELED && code == 1,
                              "a cancelled watch keeps returning -ECANCELED (r=%d)", r);
                        restore_watch_cancel(t.w); /* idempotent */
                        events_free(&t.ev);
                        restore_watch_close(t.w);
                }
                /* Closing an open watch that nobody cancelled. */
                restore_watch *w2 = NULL;
                r = restore_client_watch(c, true, &w2);
                ev = NULL;
                if (r == 0 && restore_watch_next(w2, 10000, &ev) == 0)
                        CHECK(ev->kind == RESTORE_EVENT_RESTORE_FINISHED,
                              "a second replay starts with RESTORE_FINISHED");
                else
                        CHECK(0, "a second replay watch (%s)", restore_client_last_error(c, NULL));
                restore_event_free(ev);
                restore_watch_close(w2);
        }

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

        /* The daemon stops: an open watch ends cleanly with -ENODATA, code 0. */
        if (ready_file) {
                restore_watch *w = NULL;
                restore_event *ev = NULL;
                FILE *f;

                r = restore_client_watch(c, false, &w);
                /* As above: the health round trip and a pause let the daemon register the stream. */
                if (r == 0)
                        r = restore_client_health(c, &serving);
                sleep_ms(200);
                f = fopen(ready_file, "w");
                if (f)
                        fclose(f);
                CHECK(r == 0 && f, "a watch is open; %s tells the test to stop restored", ready_file);
                if (r == 0) {
                        do {
                                restore_event_free(ev);
                                ev = NULL;
                                r = restore_watch_next(w, 30000, &ev);
                        } while (r == 0 && ev->kind == RESTORE_EVENT_STATUS_CHANGED);
                        restore_event_free(ev);
                        msg = restore_client_last_error(c, &code);
                        CHECK(r == -ENODATA && code == 0,
                              "restored stopping ends the watch: -ENODATA, code 0 (r=%d code=%d: %s)", r,
                              code, msg);
                        r = restore_watch_next(w, 0, &ev);
                        CHECK(r == -ENODATA, "an ended watch keeps returning -ENODATA (r=%d)", r);
                }
                restore_watch_close(w);
        }

#ifndef LEAK_ON_PURPOSE /* the negative control of test_client_lib.sh: valgrind must catch this */
        restore_all_result_free(res);
#endif
        restore_all_result_free(NULL);
        restore_list_page_free(NULL);
        restore_container_result_free(NULL);
        restore_event_free(NULL);
        restore_watch_cancel(NULL);
        restore_watch_close(NULL);
        restore_client_close(c);
        restore_client_close(NULL);
        printf("%s\n", failures ? "FAILED" : "all checks passed");
        return failures ? 1 : 0;
}
