/* Tests of plan (src/plan.c): the grid at a glance from the cost and memory models, the
 * calibration's fit seconds = a + b·cost through two timed runs, and the LPT makespans. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "attnsweep/plan.h"

static spec_t spec;
static grid_t grid;

static void load(const char *text)
{
    char err[1024];
    cr_assert_eq(spec_load_text(&spec, "plan.ini", text, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
}

static void fini(void)
{
    grid_free(&grid);
    spec_free(&spec);
}

TestSuite(plan, .fini = fini);

static const char tiny[] =
    "[model]\nmodel = lu2021\nprecision = float64\n[task]\nn_sentences = 200\nvocab_size = 50\n"
    "words_per_sentence = 5\n"
    "[train]\nsteps = 40\n[grid]\nembed_dim = 4, 32\nseed = 0..2\n";

Test(plan, describe_finds_the_cheapest_and_costliest_runs_and_sums_the_costs)
{
    plan_info_t in;
    char err[256];
    load(tiny);
    cr_assert_eq(plan_describe(&grid, &in, err, sizeof err), 0, "%s", err);
    cr_expect_eq(in.n_runs, 6);
    cr_expect_eq(in.id_cheapest, 0, "D = 4 is cheaper");
    cr_expect_eq(in.id_costliest, 3, "D = 32, the first seed");
    double sum = 0;
    for (long id = 0; id < 6; id++) sum += grid_run_cost(&grid, id);
    cr_expect_float_eq(in.cost_total, sum, 1e-9 * sum);
    cr_expect_gt(in.memory_max, 0);
    cr_expect_gt(in.output_bytes, 6 * 13 * 5 * 4.0, "at least the traces");
}

Test(plan, calibration_fits_a_line_through_the_two_timed_runs)
{
    plan_info_t in;
    plan_calib_t c;
    char err[256];
    load(tiny);
    cr_assert_eq(plan_describe(&grid, &in, err, sizeof err), 0, "%s", err);
    cr_assert_eq(plan_calibrate(&grid, &in, 0, &c, err, sizeof err), 0, "%s", err);
    cr_expect_eq(c.id_lo, 0);
    cr_expect_eq(c.id_hi, 3);
    cr_expect(c.secs_lo > 0 && c.secs_hi >= c.secs_lo, "%g %g", c.secs_lo, c.secs_hi);
    cr_expect_float_eq(plan_seconds(&c, in.cost_min), c.secs_lo, 1e-9 + 1e-6 * c.secs_lo);
    cr_expect_float_eq(plan_seconds(&c, in.cost_max), c.secs_hi, 1e-9 + 1e-6 * c.secs_hi);
}

Test(plan, makespans_follow_the_schedule_and_the_rank_count)
{
    plan_info_t in;
    char err[256];
    load(tiny);
    cr_assert_eq(plan_describe(&grid, &in, err, sizeof err), 0, "%s", err);
    plan_calib_t c = {.a = 0, .b = 1}; /* seconds = cost */
    double serial = plan_makespan(&grid, &c, 1, SCHED_DYNAMIC);
    cr_expect_float_eq(serial, in.cost_total, 1e-9 * in.cost_total);
    double dyn3 = plan_makespan(&grid, &c, 3, SCHED_DYNAMIC); /* 2 workers */
    double sta2 = plan_makespan(&grid, &c, 2, SCHED_STATIC);  /* 2 workers too */
    cr_expect_float_eq(dyn3, sta2, 1e-9 * dyn3);
    double big = grid_run_cost(&grid, 3), small = grid_run_cost(&grid, 0);
    cr_expect_float_eq(dyn3, fmax(2 * big, big + 3 * small), 1e-9 * dyn3,
                       "LPT: big runs alternate, the small ones fill the less loaded worker");
    cr_expect_lt(plan_makespan(&grid, &c, 7, SCHED_DYNAMIC), dyn3);
}
