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

Test(plan, the_fit_is_the_line_through_both_runs_when_its_intercept_is_not_negative)
{
    plan_calib_t c = {.secs_lo = 2, .secs_hi = 5};
    plan_fit(&c, 10, 40); /* 1 + 0.1·cost */
    cr_expect_float_eq(c.p, 1.0, 1e-12);
    cr_expect_float_eq(plan_seconds(&c, 10), 2.0, 1e-12);
    cr_expect_float_eq(plan_seconds(&c, 40), 5.0, 1e-12);
    cr_expect_float_eq(plan_seconds(&c, 20), 3.0, 1e-12);
}

Test(plan, the_fit_is_a_power_law_through_both_runs_when_seconds_outgrow_the_cost)
{
    /* 0.4 s at cost 5.6e9, 2.1 s at 1.35e10 (lu2021 float32 at vocabularies 500 and 20,000): the
     * line would cross zero at cost 3.7e9 and give the cheap runs 3x their time once clamped */
    plan_calib_t c = {.secs_lo = 0.4, .secs_hi = 2.1};
    plan_fit(&c, 5.6e9, 1.35e10);
    cr_expect_float_eq(c.a, 0.0, 1e-12);
    cr_expect_gt(c.p, 1.5);
    cr_expect_float_eq(plan_seconds(&c, 5.6e9), 0.4, 1e-9);
    cr_expect_float_eq(plan_seconds(&c, 1.35e10), 2.1, 1e-9);
    double mid = plan_seconds(&c, 9e9);
    cr_expect(mid > 0.4 && mid < 2.1 && mid < 0.4 + (2.1 - 0.4) * (9e9 - 5.6e9) / (1.35e10 - 5.6e9),
              "between the runs, below the chord: %g", mid);
}

Test(plan, the_eta_schedules_what_is_left_lpt_scaled_by_the_measured_runs)
{
    plan_calib_t c = {.a = 0, .b = 1, .p = 1};
    double pending[] = {4, 3, 2, 1};
    sched_progress_t p = {.n_workers = 2, .pending_cost = pending, .n_pending = 4};
    cr_expect_float_eq(plan_eta(&c, &p), 5.0, 1e-12, "4+1 | 3+2");
    p.finished = 2, p.cost_done = 3, p.busy_seconds = 6; /* runs take twice their estimate */
    cr_expect_float_eq(plan_eta(&c, &p), 10.0, 1e-12);
    double rc[] = {4}, re[] = {2};
    p.running_cost = rc, p.running_elapsed = re, p.n_running = 1;
    /* the run in training has 2·4 − 2 = 6 s left on worker 0; the queue goes LPT onto both */
    double want, load[2] = {6, 0};
    for (int k = 0; k < 4; k++) {
        int w = load[1] < load[0];
        load[w] += 2 * pending[k];
    }
    want = fmax(load[0], load[1]);
    cr_expect_float_eq(plan_eta(&c, &p), want, 1e-12);
}

Test(plan, the_eta_under_a_power_law_compares_the_finished_runs_with_their_own_estimate)
{
    plan_calib_t c = {.a = 0, .b = 1, .p = 2}; /* seconds = cost² */
    double all[] = {3, 2, 1}, pending[] = {2, 1};
    sched_progress_t p = {.n_workers = 2, .pending_cost = pending, .n_pending = 2,
                          .all_cost = all, .n_all = 3, .finished = 1, .cost_done = 3,
                          .busy_seconds = 18}; /* the cost-3 run: estimated 9 s, took 18 */
    cr_expect_float_eq(plan_eta(&c, &p), 8.0, 1e-12, "2·2² on one worker, 2·1² on the other");
}
