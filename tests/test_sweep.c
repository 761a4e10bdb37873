/* Tests of the sweep engine's MPI-free part (src/sweep.c): rank 0's decision on the output file
 * (sweep_todo_make) — a fresh file, refusals (an existing file without --resume/--overwrite, a
 * different spec, both flags), and on resume which runs are kept (done, diverged) and which are
 * trained again (pending, interrupted, failed, a trace that fails its CRC) — on copies of a file
 * version 1 wrote; and the shell command line of a sweep. The MPI part runs in tests/sweep/. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <hdf5.h>
#include "attnsweep/h5out.h"
#include "attnsweep/sweep.h"

#define DEMO_V1 ATTNSWEEP_SOURCE_DIR "/tests/data/demo-v1.h5"

static spec_t spec;
static grid_t grid;
static char path[64];

/* The demo grid from the spec text stored in the v1 file (so its hash matches), and a private
 * copy of the file at path. */
static void setup(void)
{
    h5out_info_t in;
    char err[1024], cmd[256];
    cr_assert_eq(h5out_inspect(DEMO_V1, 0, &in, err, sizeof err), 0, "%s", err);
    cr_assert_eq(spec_load_text(&spec, in.spec_path, in.spec, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(spec.sha256, in.spec_sha256);
    h5out_info_free(&in);
    snprintf(path, sizeof path, "/tmp/attnsweep-test-sweep-%d.h5", (int)getpid());
    snprintf(cmd, sizeof cmd, "cp %s %s", DEMO_V1, path);
    cr_assert_eq(system(cmd), 0);
}

static void teardown(void)
{
    grid_free(&grid);
    spec_free(&spec);
    unlink(path);
}

TestSuite(sweep, .init = setup, .fini = teardown);

/* Overwrite /runs/<name>[id] (int8 or the first float of a trace row) in the copy. */
static void poke(const char *name, long id, double v)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), d = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t fs = H5Dget_space(d);
    hsize_t off[2] = {(hsize_t)id, 0}, cnt[2] = {1, 1};
    cr_assert(f >= 0 && d >= 0 && fs >= 0);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
    hid_t ms = H5Screate_simple(H5Sget_simple_extent_ndims(fs), cnt, NULL);
    cr_assert_geq(H5Dwrite(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, &v), 0);
    H5Sclose(ms), H5Sclose(fs), H5Dclose(d), H5Fclose(f);
}

static int make(sweep_config_t cfg, sweep_todo_t *t, char *err, size_t n)
{
    cfg.out = path;
    return sweep_todo_make(&grid, &cfg, t, err, n);
}

Test(sweep, a_missing_file_is_created_with_every_run_to_do)
{
    sweep_todo_t t;
    char err[512];
    unlink(path);
    cr_assert_eq(make((sweep_config_t){0}, &t, err, sizeof err), 0, "%s", err);
    cr_expect(t.fresh && !t.missing);
    cr_expect_eq(t.n_todo, 24);
    for (long i = 0; i < 24; i++) cr_expect_eq(t.todo[i], i);
    sweep_todo_free(&t);
    cr_assert_eq(make((sweep_config_t){.resume = 1}, &t, err, sizeof err), 0, "%s", err);
    cr_expect(t.fresh && t.missing, "--resume of a missing file starts it");
    sweep_todo_free(&t);
}

Test(sweep, an_existing_file_needs_resume_or_overwrite_and_not_both)
{
    sweep_todo_t t;
    char err[512];
    cr_expect_neq(make((sweep_config_t){0}, &t, err, sizeof err), 0);
    cr_expect(strstr(err, "already exists: add --resume"), "%s", err);
    cr_expect_neq(make((sweep_config_t){.resume = 1, .overwrite = 1}, &t, err, sizeof err), 0);
    cr_assert_eq(make((sweep_config_t){.overwrite = 1}, &t, err, sizeof err), 0, "%s", err);
    cr_expect(t.fresh && t.n_todo == 24);
    sweep_todo_free(&t);
}

Test(sweep, resuming_a_complete_file_has_nothing_to_do)
{
    sweep_todo_t t;
    char err[512];
    cr_assert_eq(make((sweep_config_t){.resume = 1}, &t, err, sizeof err), 0, "%s", err);
    cr_expect(!t.fresh);
    cr_expect_eq(t.n_todo, 0);
    cr_expect_eq(t.n_done_before, 24);
    cr_expect_eq(t.attempts[7], 1);
    sweep_todo_free(&t);
}

Test(sweep, resume_keeps_done_and_diverged_runs_and_redoes_the_rest)
{
    sweep_todo_t t;
    char err[512];
    poke("/runs/status", 3, RUN_INTERRUPTED);
    poke("/runs/status", 5, RUN_DIVERGED);
    poke("/runs/status", 6, RUN_FAILED);
    poke("/runs/status", 7, RUN_PENDING);
    poke("/traces/test_acc", 11, 0.123); /* a done run whose trace no longer matches its CRC */
    cr_assert_eq(make((sweep_config_t){.resume = 1}, &t, err, sizeof err), 0, "%s", err);
    long want[] = {3, 6, 7, 11};
    cr_assert_eq(t.n_todo, 4);
    for (int i = 0; i < 4; i++) cr_expect_eq(t.todo[i], want[i]);
    cr_expect_eq(t.n_diverged_kept, 1);
    cr_expect_eq(t.n_bad_crc, 1);
    cr_expect_eq(t.n_done_before, 19);
    sweep_todo_free(&t);
    cr_assert_eq(make((sweep_config_t){.resume = 1, .rerun_diverged = 1}, &t, err, sizeof err), 0);
    cr_expect_eq(t.n_todo, 5, "--rerun-diverged trains run 5 again");
    sweep_todo_free(&t);
}

Test(sweep, resume_with_another_spec_is_refused_naming_the_way_out)
{
    sweep_todo_t t;
    spec_t other;
    grid_t g2;
    char err[1024];
    const char *sets[] = {"train.steps=999"};
    cr_assert_eq(spec_load_text(&other, "demo.ini", spec.text, sets, 1, err, sizeof err), 0);
    cr_assert_eq(grid_init(&g2, &other, err, sizeof err), 0);
    sweep_config_t cfg = {.out = path, .resume = 1};
    cr_expect_neq(sweep_todo_make(&g2, &cfg, &t, err, sizeof err), 0);
    cr_expect(strstr(err, "different spec") && strstr(err, "left untouched"), "%s", err);
    grid_free(&g2);
    spec_free(&other);
}

Test(sweep, the_resume_command_drops_overwrite_adds_resume_and_quotes_for_the_shell)
{
    char *argv[] = {"attnsweep", "run", "a b.ini", "--overwrite", "--set", "grid.lr=0.1, 0.2",
                    "--set", "x='y'"};
    char buf[512];
    sweep_command_line(8, argv, 0, buf, sizeof buf);
    cr_expect_str_eq(buf, "attnsweep run 'a b.ini' --overwrite --set 'grid.lr=0.1, 0.2' --set "
                          "'x='\\''y'\\'''");
    sweep_command_line(8, argv, 1, buf, sizeof buf);
    cr_expect_str_eq(buf, "attnsweep run 'a b.ini' --set 'grid.lr=0.1, 0.2' --set "
                          "'x='\\''y'\\''' --resume");
}
