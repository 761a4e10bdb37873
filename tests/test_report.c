/* Tests of report (src/report.c): what `status`, `keys`, `train` and the end of `run` print,
 * rendered into memory and checked line by line against what they were given. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/report.h"

/* Render with fn into a string (freed by the caller). */
#define RENDER(buf, call)                                                  \
    do {                                                                   \
        size_t len_;                                                       \
        FILE *out = open_memstream(&(buf), &len_);                         \
        cr_assert_not_null(out);                                           \
        call;                                                              \
        fclose(out);                                                       \
    } while (0)

Test(report, status_counts_the_runs_of_a_file_and_says_when_nothing_is_left)
{
    h5out_info_t in;
    char err[512], *s = NULL;
    cr_assert_eq(h5out_inspect(ATTNSWEEP_SOURCE_DIR "/tests/data/demo-v1.h5", 1, &in, err,
                               sizeof err), 0, "%s", err);
    RENDER(s, report_status(out, "demo.h5", &in, 1, NULL));
    cr_expect(strstr(s, "demo.h5: attnsweep 0.1.0 output, model lu2021"), "%s", s);
    cr_expect(strstr(s, "runs: 24 total: done 24, diverged 0, failed 0, interrupted 0, pending 0"),
              "%s", s);
    cr_expect(strstr(s, "verify: 0 done or diverged runs with a trace that does not match"), "%s", s);
    cr_expect(strstr(s, "to finish") == NULL, "a complete file needs no resume: %s", s);
    free(s);
    in.counts[RUN_DONE]--, in.counts[RUN_INTERRUPTED]++;
    RENDER(s, report_status(out, "demo.h5", &in, 0, NULL));
    cr_expect(strstr(s, "to finish: mpirun -np N attnsweep run examples/demo.ini --out demo.h5 "
                        "--resume"), "%s", s);
    free(s);
    h5out_info_free(&in);
}

Test(report, keys_lists_the_common_keys_and_every_family_with_its_metrics)
{
    char *s = NULL;
    RENDER(s, report_keys(out, NULL, NULL));
    cr_expect(strstr(s, "keys common to every model:"));
    cr_expect(strstr(s, "[train] log_every"));
    cr_expect(strstr(s, "(one value per spec)"));
    for (int i = 0; model_families[i]; i++) {
        char want[128];
        snprintf(want, sizeof want, "[model] model = %s:", model_families[i]->name);
        cr_expect(strstr(s, want), "%s missing", want);
    }
    cr_expect(strstr(s, "trace metrics: step, train_loss"));
    free(s);
}

Test(report, a_trace_is_csv_with_a_header_and_one_line_per_logged_step)
{
    const model_family_t *f = model_find("lu2021");
    trace_t t;
    char *s = NULL;
    cr_assert_eq(train_trace_init(&t, 3, 1 + f->n_metrics), 0);
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < t.n_cols; c++) t.rows[r * t.n_cols + c] = c ? 0.25 * c : 10.0 * r;
    t.n_filled = 2;
    RENDER(s, report_trace_csv(out, f, &t));
    cr_expect(strncmp(s, "step,train_loss,train_acc,valid_acc", 35) == 0, "%s", s);
    char *l2 = strchr(s, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    cr_expect(strncmp(l2, "0,0.25,0.5,", 11) == 0, "%s", l2);
    cr_expect(strncmp(l3, "10,", 3) == 0, "%s", l3);
    cr_expect_eq(strchr(l3, '\n')[1], '\0', "two rows, no more");
    free(s);
    train_trace_free(&t);
}

Test(report, a_stopped_sweep_ends_with_the_command_that_resumes_it)
{
    sweep_stop_t st = {.stop = 1, .signal = SIGUSR1};
    sweep_config_t cfg = {.out = "r.h5", .stop = &st};
    sweep_report_t r = {.n_ranks = 3, .stopped = 1, .n_done_total = 10, .n_left = 14,
                        .sched = {.finished = 10, .n_workers = 2, .wall = 5,
                                  .by_status = {[RUN_DONE] = 10}}};
    char *s = NULL;
    RENDER(s, report_summary(out, &cfg, &r, 6, "attnsweep run x.ini --resume"));
    cr_expect(strstr(s, "summary: 10 runs in 5.00 s (2.00 runs/s) on 3 ranks, 2 workers"), "%s", s);
    cr_expect(strstr(s, "stopped by SIGUSR1: 10 runs done in total, 14 still to run. Resume with:\n"
                        "  mpirun -np 3 attnsweep run x.ini --resume"), "%s", s);
    free(s);
    r = (sweep_report_t){.n_ranks = 1};
    RENDER(s, report_summary(out, &cfg, &r, 0, ""));
    cr_expect_str_eq(s, "attnsweep: nothing to do: every run of r.h5 is done or diverged\n");
    free(s);
}

Test(report, status_json_is_one_object_with_counts_writer_and_completeness)
{
    h5out_info_t in;
    char err[512], *s = NULL;
    lock_info_t lk = {.present = 1, .pid = 42, .heartbeat_age = 3, .live = 1, .same_host = 0};
    snprintf(lk.host, sizeof lk.host, "node\"7");
    snprintf(lk.started_utc, sizeof lk.started_utc, "2026-01-01T00:00:00Z");
    cr_assert_eq(h5out_inspect(ATTNSWEEP_SOURCE_DIR "/tests/data/demo-v1.h5", 0, &in, err,
                               sizeof err), 0, "%s", err);
    RENDER(s, report_status_json(out, "d\\x.h5", &in, 0, NULL));
    cr_expect(strstr(s, "{\"file\": \"d\\\\x.h5\", \"format_version\": 1, \"model\": \"lu2021\""),
              "%s", s);
    cr_expect(strstr(s, "\"n_runs\": 24, \"counts\": {\"pending\": 0, \"done\": 24, \"failed\": 0, "
                        "\"diverged\": 0, \"interrupted\": 0}, \"runs_started\": 24, "
                        "\"attempts_max\": 1, \"bad_crc\": null, \"writer\": null, "
                        "\"complete\": true}\n"), "%s", s);
    free(s);
    in.counts[RUN_DONE]--, in.counts[RUN_PENDING]++, in.n_finished--;
    RENDER(s, report_status_json(out, "d.h5", &in, 1, &lk));
    cr_expect(strstr(s, "\"bad_crc\": 0, \"writer\": {\"host\": \"node\\\"7\", \"pid\": 42, "
                        "\"started_utc\": \"2026-01-01T00:00:00Z\", \"heartbeat_age_s\": 3, "
                        "\"live\": true}, \"complete\": false}"), "%s", s);
    free(s);
    RENDER(s, report_status(out, "d.h5", &in, 0, &lk));
    cr_expect(strstr(s, "writer: host node\"7, pid 42, since 2026-01-01T00:00:00Z, heartbeat 3 s "
                        "ago (live)"), "%s", s);
    cr_expect(strstr(s, "to finish") == NULL, "no resume advice while a live writer runs: %s", s);
    free(s);
    h5out_info_free(&in);
}

Test(report, plan_list_is_tsv_with_every_run_and_its_swept_values)
{
    spec_t spec;
    grid_t g;
    char err[512], *s = NULL;
    const char text[] = "[model]\nmodel = lu2021\nclassifier = fixed, mlp\n[train]\n"
                        "lr = 0.5, 1e-3\n[grid]\nseed = 0..1\n";
    cr_assert_eq(spec_load_text(&spec, "l.ini", text, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_assert_eq(grid_init(&g, &spec, err, sizeof err), 0, "%s", err);
    RENDER(s, report_plan_list(out, &g));
    cr_expect_str_eq(s, "run\tclassifier\tlr\tseed\n0\tfixed\t0.5\t0\n1\tfixed\t0.5\t1\n"
                        "2\tfixed\t0.001\t0\n3\tfixed\t0.001\t1\n4\tmlp\t0.5\t0\n5\tmlp\t0.5\t1\n"
                        "6\tmlp\t0.001\t0\n7\tmlp\t0.001\t1\n");
    free(s);
    grid_free(&g);
    spec_free(&spec);
}
