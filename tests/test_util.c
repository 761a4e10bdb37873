/* Tests of util (src/util.c): the status names /runs/status codes stand for, which statuses are
 * final, the CRC-32 (zlib's, checked against the IEEE check value), and the human formats. */
#include <criterion/criterion.h>
#include <math.h>
#include "attnsweep/util.h"

Test(util, status_names_match_the_codes_and_an_unknown_code_is_a_question_mark)
{
    static const char *const names[] = {"pending", "done", "failed", "diverged", "interrupted"};
    cr_expect_eq(RUN_N_STATUS, 5);
    for (int s = 0; s < RUN_N_STATUS; s++) cr_expect_str_eq(run_status_name(s), names[s]);
    cr_expect_str_eq(run_status_name(RUN_N_STATUS), "?");
    cr_expect_str_eq(run_status_name(-1), "?");
}

Test(util, done_failed_and_diverged_are_final_pending_and_interrupted_are_not)
{
    cr_expect(run_status_finished(RUN_DONE) && run_status_finished(RUN_FAILED) &&
              run_status_finished(RUN_DIVERGED));
    cr_expect(!run_status_finished(RUN_PENDING) && !run_status_finished(RUN_INTERRUPTED));
}

Test(util, crc32_matches_the_ieee_check_value_and_sees_one_flipped_bit)
{
    unsigned char b[64] = {0};
    cr_expect_eq(util_crc32("123456789", 9), 0xCBF43926u);
    cr_expect_eq(util_crc32("", 0), 0u);
    uint32_t c = util_crc32(b, sizeof b);
    b[40] ^= 0x10;
    cr_expect_neq(util_crc32(b, sizeof b), c);
}

Test(util, durations_and_sizes_read_well)
{
    char s[32];
    util_fmt_duration(12.34, s, sizeof s);
    cr_expect_str_eq(s, "12.3 s");
    util_fmt_duration(600, s, sizeof s);
    cr_expect_str_eq(s, "10.0 min");
    util_fmt_duration(9000, s, sizeof s);
    cr_expect_str_eq(s, "2.5 h");
    util_fmt_duration(NAN, s, sizeof s);
    cr_expect_str_eq(s, "?");
    util_fmt_bytes(512, s, sizeof s);
    cr_expect_str_eq(s, "512 B");
    util_fmt_bytes(3.5 * 1024 * 1024, s, sizeof s);
    cr_expect_str_eq(s, "3.5 MiB");
}

Test(util, the_monotonic_clock_advances_across_a_sleep)
{
    double t0 = util_now();
    util_sleep_ns(2000000);
    cr_expect_geq(util_now() - t0, 0.0019);
    cr_expect_geq(util_cpu_seconds(), 0.0);
}
