/*
 * pool.h - a bounded parallel for-loop.
 *
 * rs_parallel_for() runs fn(userdata, i) for every i in [0, n) on at most `workers` threads
 * (the caller's thread is one of them) and returns when all are done. Indexes are handed out
 * with an atomic counter, so a slow item never holds up the others. Results must be written to
 * per-index slots by fn: the pool imposes no order, the caller's result array does.
 */
#pragma once

#include <stddef.h>

typedef void (*rs_for_fn)(void *userdata, size_t index);

/* Returns 0, or a negative errno if no thread could be created (then nothing ran). */
int rs_parallel_for(unsigned workers, size_t n, rs_for_fn fn, void *userdata);

/* Default pool size for I/O-bound work: 8 per CPU, 4..64, capped by RLIMIT_NOFILE / 8. */
unsigned rs_default_workers(void);
