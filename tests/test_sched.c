/* test_sched — the MPI-free part of the scheduler (sched.h): LPT order (cost descending, id
 * ascending on ties), the greedy static partition (every run exactly once, balanced within the
 * largest run, deterministic), its makespan, and the dynamic queue's hand-out order. */
#include <math.h>
#include <stdlib.h>
#include <criterion/criterion.h>
#include "attnsweep/sched.h"

Test(sched, lpt_order_is_costliest_first_and_breaks_ties_by_run_id)
{
    const double cost[] = {1, 5, 3, 5, 0.5};
    const long ids[] = {10, 11, 12, 13, 14};
    long order[5];
    cr_assert_eq(sched_lpt_order(cost, ids, 5, order), 0);
    const long want[] = {1, 3, 2, 0, 4}; /* 11 (5), 13 (5), 12 (3), 10 (1), 14 (0.5) */
    for (int k = 0; k < 5; k++) cr_expect_eq(order[k], want[k], "position %d: %ld", k, order[k]);
}

Test(sched, lpt_order_treats_nan_and_negative_costs_as_zero)
{
    const double cost[] = {NAN, 2, -1, 1};
    long order[4];
    cr_assert_eq(sched_lpt_order(cost, NULL, 4, order), 0);
    cr_expect_eq(order[0], 1);
    cr_expect_eq(order[1], 3);
    cr_expect_eq(order[2], 0); /* NaN and -1 tie at 0: lower id first */
    cr_expect_eq(order[3], 2);
}

Test(sched, static_partition_gives_every_run_to_exactly_one_worker_within_one_run_of_balance)
{
    enum { N = 200, W = 3 };
    double cost[N], load[W], check[W] = {0};
    long ids[N];
    int owner[N];
    double max_cost = 0, total = 0;
    for (int i = 0; i < N; i++) {
        ids[i] = i;
        cost[i] = 1 + (double)((i * 7919) % 101); /* 1..101, scrambled */
        if (cost[i] > max_cost) max_cost = cost[i];
        total += cost[i];
    }
    cr_assert_eq(sched_static_partition(cost, ids, N, W, owner, load), 0);
    for (int i = 0; i < N; i++) {
        cr_assert(owner[i] >= 0 && owner[i] < W, "run %d has owner %d", i, owner[i]);
        check[owner[i]] += cost[i];
    }
    double lo = INFINITY, hi = 0;
    for (int w = 0; w < W; w++) {
        cr_expect_float_eq(load[w], check[w], 1e-9);
        if (load[w] < lo) lo = load[w];
        if (load[w] > hi) hi = load[w];
    }
    cr_expect_leq(hi - lo, max_cost, "loads %g..%g differ by more than the largest run", lo, hi);
    cr_expect_float_eq(load[0] + load[1] + load[2], total, 1e-9);
}

Test(sched, static_partition_is_the_same_on_every_call)
{
    const double cost[] = {3, 3, 2, 2, 2, 1, 7, 0};
    int a[8], b[8];
    cr_assert_eq(sched_static_partition(cost, NULL, 8, 3, a, NULL), 0);
    cr_assert_eq(sched_static_partition(cost, NULL, 8, 3, b, NULL), 0);
    for (int i = 0; i < 8; i++) cr_expect_eq(a[i], b[i]);
    cr_expect_eq(a[6], 0, "the costliest run goes to worker 0 first");
}

Test(sched, static_partition_rejects_zero_workers)
{
    const double cost[] = {1};
    int owner[1];
    cr_expect_lt(sched_static_partition(cost, NULL, 1, 0, owner, NULL), 0);
    cr_expect_lt(sched_lpt_makespan(cost, 1, 0), 0);
}

Test(sched, lpt_makespan_of_the_classic_example_is_within_4_3_of_optimal)
{
    /* Graham's worst case for 2 machines: jobs 3,3,2,2,2 → LPT 7, optimum 6. */
    const double cost[] = {3, 3, 2, 2, 2};
    cr_expect_float_eq(sched_lpt_makespan(cost, 5, 2), 7.0, 1e-12);
    cr_expect_float_eq(sched_lpt_makespan(cost, 5, 1), 12.0, 1e-12);
    cr_expect_float_eq(sched_lpt_makespan(cost, 5, 5), 3.0, 1e-12);
    cr_expect_float_eq(sched_lpt_makespan(cost, 0, 2), 0.0, 1e-12);
}

Test(sched, queue_hands_out_every_run_once_costliest_first_then_reports_empty)
{
    const long ids[] = {4, 9, 2, 7};
    const double cost[] = {1, 8, 8, 3};
    sched_queue_t q;
    double c;
    cr_assert_eq(sched_queue_init(&q, ids, cost, 4), 0);
    cr_expect_eq(sched_next_run(&q, &c), 2);
    cr_expect_float_eq(c, 8.0, 1e-12);
    cr_expect_eq(sched_next_run(&q, NULL), 9);
    cr_expect_eq(sched_next_run(&q, &c), 7);
    cr_expect_float_eq(c, 3.0, 1e-12);
    cr_expect_eq(sched_next_run(&q, NULL), 4);
    cr_expect_eq(sched_next_run(&q, NULL), -1);
    cr_expect_eq(sched_next_run(&q, NULL), -1);
    sched_queue_free(&q);
    sched_queue_free(&q); /* _free is unconditional */
}

Test(sched, empty_queue_is_valid_and_empty)
{
    sched_queue_t q;
    cr_assert_eq(sched_queue_init(&q, NULL, NULL, 0), 0);
    cr_expect_eq(sched_next_run(&q, NULL), -1);
    sched_queue_free(&q);
}

Test(sched, efficiency_and_imbalance_follow_their_definitions)
{
    sched_summary_t s = {0};
    s.wall = 10;
    s.n_workers = 2;
    s.run_seconds = 18;
    s.busy_max = 10;
    s.busy_mean = 9;
    cr_expect_float_eq(sched_efficiency(&s), 0.9, 1e-12);
    cr_expect_float_eq(sched_imbalance(&s), 10.0 / 9.0 - 1.0, 1e-12);
    s.wall = 0;
    cr_expect(isnan(sched_efficiency(&s)));
}
