/* test_h5out — the MPI-free part of the output module (h5out.h): how one run's trace is packed
 * into the float32 rows the file stores (metric-major, NaN past the filled points) and the CRC
 * that /runs/trace_crc32 holds, the output size estimate, and the serial reader on a file
 * version 1 wrote. Writing needs MPI: see tests/sweep.cmake. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <criterion/criterion.h>
#include "attnsweep/h5out.h"

static void fill_trace(trace_t *t, int filled)
{
    /* column 0 = step, then metric m at point i = 10 m + i + 0.5 */
    for (int i = 0; i < filled; i++) {
        t->rows[i * t->n_cols] = 10.0 * i;
        for (int m = 1; m < t->n_cols; m++) t->rows[i * t->n_cols + m] = 10.0 * (m - 1) + i + 0.5;
    }
    t->n_filled = filled;
}

Test(h5out, pack_trace_is_metric_major_and_nan_padded)
{
    trace_t t;
    float buf[2 * 5];
    cr_assert_eq(train_trace_init(&t, 5, 3), 0);
    fill_trace(&t, 3);
    h5out_pack_trace(&t, 5, 2, buf);
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < 5; i++) {
            float v = buf[m * 5 + i];
            if (i < 3)
                cr_expect_float_eq(v, 10.0f * m + i + 0.5f, 1e-6f, "m %d i %d: %g", m, i, v);
            else
                cr_expect(isnan(v), "m %d i %d should be NaN, is %g", m, i, v);
        }
    train_trace_free(&t);
}

Test(h5out, pack_trace_pads_to_the_shared_axis_when_the_run_is_shorter)
{
    trace_t t;
    float buf[1 * 8];
    cr_assert_eq(train_trace_init(&t, 4, 2), 0); /* this run logs 4 points; the file has 8 */
    fill_trace(&t, 4);
    h5out_pack_trace(&t, 8, 1, buf);
    cr_expect_float_eq(buf[3], 3.5f, 1e-6f);
    for (int i = 4; i < 8; i++) cr_expect(isnan(buf[i]));
    train_trace_free(&t);
}

Test(h5out, trace_crc_is_the_crc32_of_the_packed_rows_and_sees_one_changed_value)
{
    trace_t t;
    float buf[3 * 6];
    cr_assert_eq(train_trace_init(&t, 6, 4), 0);
    fill_trace(&t, 6);
    uint32_t c1 = h5out_pack_trace(&t, 6, 3, buf);
    cr_expect_eq(c1, util_crc32(buf, sizeof buf));
    t.rows[2 * 4 + 3] += 1e-3; /* one value of the last metric */
    uint32_t c2 = h5out_pack_trace(&t, 6, 3, buf);
    cr_expect_neq(c1, c2);
    t.rows[2 * 4 + 3] -= 1e-3;
    cr_expect_eq(h5out_pack_trace(&t, 6, 3, buf), c1, "same values, same CRC");
    train_trace_free(&t);
}

Test(h5out, the_size_estimate_is_within_a_fifth_of_a_real_file)
{
    spec_t spec;
    grid_t g;
    char err[512];
    struct stat st;
    cr_assert_eq(spec_load(&spec, ATTNSWEEP_SOURCE_DIR "/examples/demo.ini", NULL, 0, err,
                           sizeof err), 0, "%s", err);
    cr_assert_eq(grid_init(&g, &spec, err, sizeof err), 0, "%s", err);
    cr_assert_eq(stat(ATTNSWEEP_SOURCE_DIR "/tests/data/demo-v1.h5", &st), 0);
    h5out_info_t in;
    cr_assert_eq(h5out_inspect(ATTNSWEEP_SOURCE_DIR "/tests/data/demo-v1.h5", 0, &in, err,
                               sizeof err), 0, "%s", err);
    /* that file holds the metrics of its time: the traces lu2021 added since are not in it */
    double added = 4.0 * (double)g.n_runs * g.n_points * (spec.family->n_metrics - in.n_metrics);
    double est = h5out_estimate_bytes(&g) - added, real = (double)st.st_size;
    cr_expect(est > 0.8 * real && est < 1.2 * real, "estimate %.0f B, the demo file %.0f B", est,
              real);
    h5out_info_free(&in);
    grid_free(&g);
    spec_free(&spec);
}

Test(h5out, inspect_reads_a_version_1_file_counts_and_verifies_it)
{
    h5out_info_t in;
    char err[512];
    cr_assert_eq(h5out_inspect(ATTNSWEEP_SOURCE_DIR "/tests/data/demo-v1.h5", 1, &in, err,
                               sizeof err), 0, "%s", err);
    cr_expect_eq(in.n_runs, 24);
    cr_expect_eq(in.counts[RUN_DONE], 24);
    cr_expect_eq(in.n_finished, 24);
    cr_expect_eq(in.n_started, 24);
    cr_expect_eq(in.max_attempts, 1);
    cr_expect_eq(in.n_bad_crc, 0);
    cr_expect_eq(in.n_points, 101);
    cr_expect_str_eq(in.model, "lu2021");
    h5out_info_free(&in);
}

Test(h5out, inspect_refuses_a_missing_file_and_a_file_that_is_not_hdf5)
{
    h5out_info_t in;
    char err[512];
    cr_expect_neq(h5out_inspect("/nonexistent/x.h5", 0, &in, err, sizeof err), 0);
    cr_expect(strstr(err, "cannot open it"), "%s", err);
    cr_expect_neq(h5out_inspect(ATTNSWEEP_SOURCE_DIR "/README.md", 0, &in, err, sizeof err), 0);
    cr_expect(strstr(err, "not an HDF5 file"), "%s", err);
}
