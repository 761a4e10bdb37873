/* Tests of lock (src/lock.c): one writer per results file. A second writer is refused while the
 * first lives, with a message naming it; a lock left by a dead process on this host, or by
 * another host whose heartbeat is older than LOCK_STALE_S, is taken over with a notice; a fresh
 * one from another host is not; release removes only our own lock. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "attnsweep/lock.h"

static char results[128], lock_file[160];

static void setup(void)
{
    snprintf(results, sizeof results, "/tmp/attnsweep-test-lock-%d.h5", (int)getpid());
    lock_path(results, lock_file, sizeof lock_file);
    unlink(lock_file);
}

static void teardown(void) { unlink(lock_file); }

TestSuite(lock, .init = setup, .fini = teardown);

/* A lock file as another writer would leave it, its heartbeat age_s seconds old. */
static void plant(const char *host, long pid, long long pid_start, double age_s)
{
    FILE *f = fopen(lock_file, "w");
    cr_assert_not_null(f);
    fprintf(f, "attnsweep-lock 1\nhost=%s pid=%ld pid_start=%lld\nstarted_utc=2026-01-01T00:00:00Z\n",
            host, pid, pid_start);
    fclose(f);
    struct timespec t[2];
    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= (time_t)age_s;
    t[1] = t[0];
    cr_assert_eq(utimensat(AT_FDCWD, lock_file, t, 0), 0);
}

static void myhost(char *buf, size_t n)
{
    gethostname(buf, n);
    buf[n - 1] = '\0';
}

Test(lock, a_second_writer_is_refused_while_the_first_lives_and_release_frees_the_file)
{
    lock_t *a = NULL, *b = NULL;
    lock_info_t in;
    char notice[512], err[1024], host[256];
    myhost(host, sizeof host);
    cr_assert_eq(lock_acquire(results, &a, notice, sizeof notice, err, sizeof err), 0, "%s", err);
    cr_expect_eq(notice[0], '\0');
    cr_assert_eq(lock_read(results, &in, err, sizeof err), 0);
    cr_expect(in.present && in.live && in.same_host && in.pid == getpid());
    cr_expect_str_eq(in.host, host);
    cr_expect_neq(lock_acquire(results, &b, notice, sizeof notice, err, sizeof err), 0);
    cr_expect_null(b);
    cr_expect(strstr(err, "is being written by another attnsweep") && strstr(err, host) &&
              strstr(err, "(live)"), "%s", err);
    lock_release(a);
    cr_expect_neq(access(lock_file, F_OK), 0, "released: the lock file is gone");
    cr_assert_eq(lock_read(results, &in, err, sizeof err), 0);
    cr_expect_eq(in.present, 0);
}

Test(lock, a_dead_writer_on_this_host_is_taken_over_at_once)
{
    lock_t *a = NULL;
    lock_info_t in;
    char notice[512], err[1024], host[256];
    myhost(host, sizeof host);
    plant(host, (long)getpid(), 1, 0); /* our pid, but started at another time: not us */
    cr_assert_eq(lock_read(results, &in, err, sizeof err), 0);
    cr_expect(in.present && !in.live, "a reused pid is not the writer");
    cr_assert_eq(lock_acquire(results, &a, notice, sizeof notice, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(notice, "took over") && strstr(notice, "dead"), "%s", notice);
    lock_release(a);
}

Test(lock, another_hosts_lock_is_respected_while_fresh_and_taken_over_when_stale)
{
    lock_t *a = NULL;
    lock_info_t in;
    char notice[512], err[1024];
    plant("elsewhere-node-17", 4242, 99, 5);
    cr_assert_eq(lock_read(results, &in, err, sizeof err), 0);
    cr_expect(in.present && in.live && !in.same_host);
    cr_expect_neq(lock_acquire(results, &a, notice, sizeof notice, err, sizeof err), 0);
    cr_expect(strstr(err, "elsewhere-node-17") && strstr(err, "pid 4242"), "%s", err);
    plant("elsewhere-node-17", 4242, 99, LOCK_STALE_S + 5);
    cr_assert_eq(lock_read(results, &in, err, sizeof err), 0);
    cr_expect(!in.live);
    cr_assert_eq(lock_acquire(results, &a, notice, sizeof notice, err, sizeof err), 0, "%s", err);
    cr_expect(strstr(notice, "took over") && strstr(notice, "stale"), "%s", notice);
    lock_release(a);
}

Test(lock, release_leaves_a_lock_that_is_no_longer_ours)
{
    lock_t *a = NULL;
    char notice[512], err[1024];
    cr_assert_eq(lock_acquire(results, &a, notice, sizeof notice, err, sizeof err), 0, "%s", err);
    plant("someone-else", 1, 1, 0); /* replaced behind our back */
    lock_release(a);
    cr_expect_eq(access(lock_file, F_OK), 0, "not ours: left alone");
}

Test(lock, a_file_that_is_not_a_lock_is_reported)
{
    lock_info_t in;
    char err[1024];
    FILE *f = fopen(lock_file, "w");
    fputs("hello\n", f);
    fclose(f);
    cr_expect_neq(lock_read(results, &in, err, sizeof err), 0);
    cr_expect(strstr(err, "not an attnsweep lock"), "%s", err);
}
