/*
 * restorectl_progress.c - the live progress bar of `restorectl restore` on a terminal.
 *
 * A thread follows Watch (with replay, so that joining a restore already running shows where it
 * is) while the main thread waits in RestoreAll. The thread alone writes the bar; the main
 * thread erases it only after joining, so the two never interleave on stderr.
 */
#include "restorectl.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * How long RestoreAll waits for the stream to be up before starting anyway. A replay sends
 * nothing when no restore has run yet, so this is the usual wait on a fresh daemon; missing
 * the first events costs nothing but a frame, since PROGRESS carries absolute done/total.
 */
#define PROGRESS_READY_WAIT_MS 200
/* Redraw at most this often: a 10,000-container restore sends tens of thousands of events. */
#define PROGRESS_REDRAW_MS 100
#define PROGRESS_BAR_WIDTH 30

struct ctl_progress {
        struct rc_stream *stream;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool ready; /* under lock */

        /* Owned by the thread until it is joined. */
        uint64_t generation;
        bool running, drawn;
        uint32_t done, total;
        char stage[24];
        uint32_t stage_done, stage_total;
        struct timespec last_draw;
};

static void mark_ready(struct ctl_progress *p)
{
        pthread_mutex_lock(&p->lock);
        p->ready = true;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
}

static void apply_summary(struct ctl_progress *p, const Isula__Restore__V1__RestoreSummary *s)
{
        if (s->phase == ISULA__RESTORE__V1__PHASE__PHASE_RUNNING)
                p->running = true;
        else if (s->phase == ISULA__RESTORE__V1__PHASE__PHASE_DONE)
                p->running = false;
        p->done = s->done;
        p->total = s->total;
}

static void apply_event(struct ctl_progress *p, const Isula__Restore__V1__WatchEvent *ev)
{
        /* Replayed events of an earlier restore must not move the bar of this one. */
        if (ev->generation && ev->generation < p->generation)
                return;
        if (ev->generation)
                p->generation = ev->generation;
        if (ev->kind == ISULA__RESTORE__V1__WATCH_EVENT__KIND__KIND_RESTORE_STARTED) {
                p->running = true;
                p->done = p->total = p->stage_done = p->stage_total = 0;
                p->stage[0] = '\0';
        }
        if (ev->summary)
                apply_summary(p, ev->summary);
        if (ev->progress) {
                ctl_enum_word(&isula__restore__v1__stage__descriptor, ev->progress->stage, p->stage,
                              sizeof(p->stage));
                p->stage_done = ev->progress->done;
                p->stage_total = ev->progress->total;
        }
        if (ev->kind == ISULA__RESTORE__V1__WATCH_EVENT__KIND__KIND_RESTORE_FINISHED)
                p->running = false;
}

static bool redraw_due(struct ctl_progress *p)
{
        struct timespec now;
        int64_t ms;

        clock_gettime(CLOCK_MONOTONIC, &now);
        ms = (int64_t)(now.tv_sec - p->last_draw.tv_sec) * 1000 +
             (now.tv_nsec - p->last_draw.tv_nsec) / 1000000;
        if (p->drawn && ms < PROGRESS_REDRAW_MS)
                return false;
        p->last_draw = now;
        return true;
}

static void draw(struct ctl_progress *p)
{
        /* Before the first summary, a stage's own count is the best measure there is. */
        uint32_t done = p->total ? p->done : p->stage_done, total = p->total ? p->total : p->stage_total;
        int fill = total ? (int)((uint64_t)done * PROGRESS_BAR_WIDTH / total) : 0;
        char bar[PROGRESS_BAR_WIDTH + 1];

        if (!p->running || !redraw_due(p))
                return;
        if (fill > PROGRESS_BAR_WIDTH)
                fill = PROGRESS_BAR_WIDTH;
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '-', (size_t)(PROGRESS_BAR_WIDTH - fill));
        bar[PROGRESS_BAR_WIDTH] = '\0';
        fprintf(stderr, "\r\033[Krestoring [%s] %u/%u", bar, done, total);
        if (p->stage[0])
                fprintf(stderr, "  %s %u/%u", p->stage, p->stage_done, p->stage_total);
        fflush(stderr);
        p->drawn = true;
}

static void *progress_main(void *arg)
{
        struct ctl_progress *p = arg;
        struct rc_status st;

        for (;;) {
                ProtobufCMessage *m = NULL;
                /* Cancelled by ctl_progress_stop(): no timeout needed here. */
                int r = rc_stream_next(p->stream, &isula__restore__v1__watch_event__descriptor, -1, &m, &st);
                mark_ready(p);
                if (r <= 0)
                        break; /* no Watch, or it ended: no bar, the restore goes on regardless */
                apply_event(p, (Isula__Restore__V1__WatchEvent *)m);
                protobuf_c_message_free_unpacked(m, NULL);
                draw(p);
        }
        return NULL;
}

static void wait_ready(struct ctl_progress *p)
{
        struct timespec deadline;

        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += PROGRESS_READY_WAIT_MS / 1000;
        deadline.tv_nsec += (long)(PROGRESS_READY_WAIT_MS % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&p->lock);
        while (!p->ready)
                if (pthread_cond_timedwait(&p->cond, &p->lock, &deadline) == ETIMEDOUT)
                        break;
        pthread_mutex_unlock(&p->lock);
}

struct ctl_progress *ctl_progress_start(struct ctl *ctl)
{
        Isula__Restore__V1__WatchRequest req = ISULA__RESTORE__V1__WATCH_REQUEST__INIT;
        struct ctl_progress *p = calloc(1, sizeof(*p));
        struct rc_status st;

        if (!p)
                return NULL;
        req.replay = true;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->cond, NULL);
        if (rc_stream_open(ctl->conn, RC_METHOD_WATCH, &req.base, 0, &p->stream, &st) < 0)
                goto fail;
        if (pthread_create(&p->thread, NULL, progress_main, p) != 0) {
                rc_stream_free(p->stream);
                goto fail;
        }
        wait_ready(p);
        return p;
fail:
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
}

void ctl_progress_stop(struct ctl_progress *p)
{
        if (!p)
                return;
        rc_stream_cancel(p->stream);
        pthread_join(p->thread, NULL);
        if (p->drawn) {
                fputs("\r\033[K", stderr);
                fflush(stderr);
        }
        rc_stream_free(p->stream);
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        free(p);
}
