/* util — the few things every layer shares: the run status codes that /runs/status stores, one
 * monotonic clock and one CPU clock, sleeping without spinning, durations and sizes for people,
 * and the CRC-32 that guards each stored trace. The bottom of the library: it includes nothing
 * of attnsweep. */
#ifndef ATTNSWEEP_UTIL_H
#define ATTNSWEEP_UTIL_H
#include <stddef.h>
#include <stdint.h>

/* The outcome of one run, as /runs/status stores it (int8). */
typedef enum {
    RUN_PENDING = 0,     /* not started, or started and never committed */
    RUN_DONE = 1,        /* trained to its last step (or stopped early by its own rule) */
    RUN_FAILED = 2,      /* an error of this run (message in /runs/message); kept on resume */
    RUN_DIVERGED = 3,    /* NaN/Inf loss or metric: a result, the trace so far is kept */
    RUN_INTERRUPTED = 4, /* stopped by a signal before the end; requeued by --resume */
    RUN_N_STATUS = 5
} run_status_t;

/* "pending", "done", "failed", "diverged", "interrupted"; "?" out of range. */
const char *run_status_name(int status);
/* 1 for a status that ends a run for good (done, failed, diverged), else 0. */
int run_status_finished(int status);

/* Seconds on the monotonic clock (for intervals), and CPU seconds of this process. */
double util_now(void);
double util_cpu_seconds(void);
/* Sleep ns nanoseconds, resuming after signals. */
void util_sleep_ns(long ns);

/* For people: "12.3 s", "4.5 min", "2.1 h" ("?" if negative or not finite); "1.5 MiB". */
void util_fmt_duration(double seconds, char *buf, size_t n);
void util_fmt_bytes(double bytes, char *buf, size_t n);

/* CRC-32 (IEEE 802.3, zlib's crc32) of len bytes. */
uint32_t util_crc32(const void *buf, size_t len);

#endif
