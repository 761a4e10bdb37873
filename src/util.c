/* util — run status names, the clocks, sleeping, formatting for people and the CRC-32 (util.h). The CRC is zlib's, so a
 * reader can check /runs/trace_crc32 with zlib.crc32 (Python) or any IEEE CRC-32. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <time.h>
#include <zlib.h>
#include "attnsweep/util.h"

static const char *const status_names[RUN_N_STATUS] = {"pending", "done", "failed", "diverged",
                                                       "interrupted"};

const char *run_status_name(int status)
{
    return (status >= 0 && status < RUN_N_STATUS) ? status_names[status] : "?";
}

int run_status_finished(int status)
{
    return status == RUN_DONE || status == RUN_FAILED || status == RUN_DIVERGED;
}

static double clock_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double util_now(void) { return clock_seconds(CLOCK_MONOTONIC); }

double util_cpu_seconds(void) { return clock_seconds(CLOCK_PROCESS_CPUTIME_ID); }

void util_sleep_ns(long ns)
{
    struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void util_fmt_duration(double s, char *buf, size_t n)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, n, "?");
    else if (s < 120)
        snprintf(buf, n, "%.1f s", s);
    else if (s < 7200)
        snprintf(buf, n, "%.1f min", s / 60);
    else
        snprintf(buf, n, "%.1f h", s / 3600);
}

void util_fmt_bytes(double b, char *buf, size_t n)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    for (; b >= 1024 && i < 4; i++) b /= 1024;
    snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

uint32_t util_crc32(const void *buf, size_t len)
{
    return (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), buf, len);
}
