/* report — the words and lines for people and scripts (report.h). Every function only formats
 * what it is given; `attnsweep` (src/cli*.c) decides when and where. */
#include <signal.h>
#include <string.h>
#include "attnsweep/report.h"

/* Dimension d's k-th value ("500" or, for the [points] table, "(500, 5)") into v. */
static void dim_value(const grid_t *g, int d, int k, char *v, size_t n)
{
    const spec_t *s = g->spec;
    if (g->dim_def[d] >= 0) {
        param_format(&g->defs[g->dim_def[d]], g->dim_values[d][k], v, n);
        return;
    }
    size_t u = (size_t)snprintf(v, n, "(");
    for (int j = 0; j < s->n_point_keys && u < n; j++) {
        char x[64];
        param_format(&g->defs[s->point_def[j]], s->points[(size_t)k * s->n_point_keys + j], x,
                     sizeof x);
        u += (size_t)snprintf(v + u, n - u, "%s%s", j ? ", " : "", x);
    }
    if (u < n) snprintf(v + u, n - u, ")");
}

static const char *dim_name(const grid_t *g, int d)
{
    return g->dim_def[d] >= 0 ? g->defs[g->dim_def[d]].name : "points";
}

static void plan_grid(FILE *out, const grid_t *g)
{
    fprintf(out, "runs: %ld", g->n_runs);
    for (int d = 0; d < g->n_dims; d++)
        fprintf(out, "%s%d %s", d ? " × " : " = ", g->dim_len[d], dim_name(g, d));
    fprintf(out, "  (run id = row-major position, the last key varies fastest)\n");
    for (int d = 0; d < g->n_dims; d++) {
        fprintf(out, "  %-18s", dim_name(g, d));
        if (g->dim_def[d] < 0) {
            fprintf(out, " of (");
            for (int j = 0; j < g->spec->n_point_keys; j++)
                fprintf(out, "%s%s", j ? ", " : "", g->defs[g->spec->point_def[j]].name);
            fprintf(out, "):");
        }
        for (int k = 0; k < g->dim_len[d]; k++) {
            char v[256];
            if (k == 8 && g->dim_len[d] > 10) {
                fprintf(out, " … (%d values)", g->dim_len[d]);
                k = g->dim_len[d] - 2;
                continue;
            }
            dim_value(g, d, k, v, sizeof v);
            fprintf(out, "%s%s", k ? ", " : " ", v);
        }
        fprintf(out, "\n");
    }
}

static void plan_times(FILE *out, const grid_t *g, const plan_calib_t *c, int np)
{
    static const int nps[] = {2, 4, 8, 16, 64};
    char t1[32], t2[32], t3[32];
    util_fmt_duration(c->secs_lo, t1, sizeof t1);
    util_fmt_duration(c->secs_hi, t2, sizeof t2);
    util_fmt_duration(plan_makespan(g, c, 1, SCHED_DYNAMIC), t3, sizeof t3);
    fprintf(out, "time: calibrated on this machine: run %ld ≈ %s, run %ld ≈ %s; all runs ≈ %s on "
            "one core\n", c->id_lo, t1, c->id_hi, t2, t3);
    for (int k = 0; k < (np ? 1 : 5); k++) {
        int n = np ? np : nps[k], wd = n > 1 ? n - 1 : 1;
        util_fmt_duration(plan_makespan(g, c, n, SCHED_DYNAMIC), t1, sizeof t1);
        util_fmt_duration(plan_makespan(g, c, n, SCHED_STATIC), t2, sizeof t2);
        fprintf(out, "  mpirun -np %-3d ≈ %s (dynamic, %d worker%s), %s (static, %d)\n", n, t1, wd,
                wd > 1 ? "s" : "", t2, n);
    }
    fprintf(out, "  (LPT schedule of the calibrated estimates; a core per rank assumed; rank 0 "
            "only coordinates in dynamic mode)\n");
}

void report_plan(FILE *out, const grid_t *g, const plan_info_t *in, const plan_calib_t *cal,
                 int np)
{
    const spec_t *s = g->spec;
    const model_family_t *f = s->family;
    int plugin = strcmp(s->family_source, "built-in") != 0;
    char mb[32], ob[32];
    fprintf(out, "plan: %s (sha256 %.12s…), model %s%s%s\n", s->path, s->sha256, f->name,
            plugin ? " from " : "", plugin ? s->family_source : "");
    plan_grid(out, g);
    fprintf(out, "trace: %d points × %d metrics (step", g->n_points, f->n_metrics);
    for (int m = 0; m < f->n_metrics; m++) fprintf(out, ", %s", f->metrics[m].name);
    fprintf(out, ")\ncost: total %.4g (relative units ≈ flops), per run %.4g (run %ld) .. %.4g "
            "(run %ld)\n", in->cost_total, in->cost_min, in->id_cheapest, in->cost_max,
            in->id_costliest);
    if (cal)
        plan_times(out, g, cal, np);
    else
        fprintf(out, "time: not calibrated (--no-calibrate)\n");
    util_fmt_bytes((double)in->memory_max, mb, sizeof mb);
    util_fmt_bytes(in->output_bytes, ob, sizeof ob);
    if (f->memory) fprintf(out, "memory: peak %s per run (one run per rank at a time)\n", mb);
    fprintf(out, "output: ≈ %s\n", ob);
}

void report_plan_list(FILE *out, const grid_t *g)
{
    fprintf(out, "run");
    for (int k = 0; k < g->n_swept; k++) fprintf(out, "\t%s", g->defs[g->swept_def[k]].name);
    fprintf(out, "\n");
    for (long id = 0; id < g->n_runs; id++) {
        params_t p;
        grid_run_params(g, id, &p);
        fprintf(out, "%ld", id);
        for (int k = 0; k < g->n_swept; k++) {
            char v[64];
            param_format(&g->defs[g->swept_def[k]], p.v[g->swept_def[k]], v, sizeof v);
            fprintf(out, "\t%s", v);
        }
        fprintf(out, "\n");
    }
}

void report_status(FILE *out, const char *path, const h5out_info_t *in, int verify,
                   const lock_info_t *lk)
{
    const long *n = in->counts;
    long shown = 0;
    char who[512];
    fprintf(out, "%s: attnsweep %s output, model %s, created %s on %s by %d rank%s\n", path,
            in->attnsweep_version ? in->attnsweep_version : "?", in->model,
            in->created_utc ? in->created_utc : "?", in->hostname ? in->hostname : "?",
            in->mpi_size, in->mpi_size == 1 ? "" : "s");
    fprintf(out, "spec: %s (sha256 %s)\nswept: %s; trace: %d points × %d metrics (%s)\n",
            in->spec_path ? in->spec_path : "?", in->spec_sha256,
            in->swept && in->swept[0] ? in->swept : "(nothing)", in->n_points, in->n_metrics,
            in->metrics);
    fprintf(out, "runs: %ld total: done %ld, diverged %ld, failed %ld, interrupted %ld, pending "
            "%ld\n", in->n_runs, n[RUN_DONE], n[RUN_DIVERGED], n[RUN_FAILED], n[RUN_INTERRUPTED],
            n[RUN_PENDING]);
    fprintf(out, "progress: %.1f %% finished (done, diverged or failed); %ld runs started at "
            "least once, at most %d attempts\n", in->n_runs ? 100.0 * (double)in->n_finished /
            (double)in->n_runs : 100.0, in->n_started, in->max_attempts);
    for (long i = 0; i < in->n_runs && shown < 5; i++)
        if (in->status[i] == RUN_FAILED && ++shown)
            fprintf(out, "failed: run %ld (attempt %d): %s\n", i, in->attempts[i],
                    in->messages + (size_t)i * H5OUT_MESSAGE_LEN);
    if (n[RUN_FAILED] > shown)
        fprintf(out, "failed: … %ld more (see /runs/message)\n", n[RUN_FAILED] - shown);
    if (verify)
        fprintf(out, "verify: %ld done or diverged run%s with a trace that does not match its "
                "CRC%s\n", in->n_bad_crc, in->n_bad_crc == 1 ? "" : "s",
                in->n_bad_crc ? " (--resume reruns them)" : "");
    if (lk && lk->present) {
        lock_describe(lk, who, sizeof who);
        fprintf(out, "writer: %s\n", who);
    } else if (lk) {
        fprintf(out, "writer: none\n");
    }
    if (n[RUN_PENDING] + n[RUN_INTERRUPTED] > 0 && !(lk && lk->live))
        fprintf(out, "to finish: mpirun -np N attnsweep run %s --out %s --resume  (with the same "
                "--set options as the original command)\n", in->spec_path ? in->spec_path : "SPEC",
                path);
}

/* s as a JSON string (quoted, escaped). */
static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c < 0x20)
            fprintf(out, "\\u%04x", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

void report_status_json(FILE *out, const char *path, const h5out_info_t *in, int verify,
                        const lock_info_t *lk)
{
    fprintf(out, "{\"file\": ");
    json_str(out, path);
    fprintf(out, ", \"format_version\": %d, \"model\": ", in->format_version);
    json_str(out, in->model);
    fprintf(out, ", \"spec_sha256\": ");
    json_str(out, in->spec_sha256);
    fprintf(out, ", \"n_runs\": %ld, \"counts\": {", in->n_runs);
    for (int s = 0; s < RUN_N_STATUS; s++)
        fprintf(out, "%s\"%s\": %ld", s ? ", " : "", run_status_name(s), in->counts[s]);
    fprintf(out, "}, \"runs_started\": %ld, \"attempts_max\": %d, \"bad_crc\": ", in->n_started,
            in->max_attempts);
    if (verify) fprintf(out, "%ld", in->n_bad_crc);
    else fprintf(out, "null");
    fprintf(out, ", \"writer\": ");
    if (lk && lk->present) {
        fprintf(out, "{\"host\": ");
        json_str(out, lk->host);
        fprintf(out, ", \"pid\": %ld, \"started_utc\": ", lk->pid);
        json_str(out, lk->started_utc);
        fprintf(out, ", \"heartbeat_age_s\": %.0f, \"live\": %s}", lk->heartbeat_age,
                lk->live ? "true" : "false");
    } else {
        fprintf(out, "null");
    }
    fprintf(out, ", \"complete\": %s}\n", in->n_finished == in->n_runs ? "true" : "false");
}

static const char *schedule_name(const sweep_config_t *cfg, int n_ranks)
{
    return n_ranks == 1 ? "serial" : cfg->schedule == SCHED_STATIC ? "static" : "dynamic";
}

static void event_start(FILE *out, const sweep_config_t *cfg, const sweep_event_t *ev)
{
    const sweep_todo_t *t = ev->todo;
    char div[128] = "";
    if (t->n_diverged_kept)
        snprintf(div, sizeof div, ", %ld diverged kept (--rerun-diverged reruns them)",
                 t->n_diverged_kept);
    if (t->notice[0]) fprintf(out, "attnsweep: %s\n", t->notice);
    if (t->missing) fprintf(out, "attnsweep: %s does not exist yet: starting a fresh sweep\n", cfg->out);
    if (!t->fresh)
        fprintf(out, "attnsweep: resuming %s: %ld of %ld runs done%s, %ld to run\n", cfg->out,
                t->n_done_before, t->n_runs, div, t->n_todo);
    fprintf(out, "attnsweep: %ld runs to train on %d rank%s (%d worker%s, %s schedule) → %s\n", t->n_todo,
            ev->n_ranks, ev->n_ranks > 1 ? "s" : "", ev->n_workers, ev->n_workers > 1 ? "s" : "",
            schedule_name(cfg, ev->n_ranks), cfg->out);
    if (t->n_bad_crc)
        fprintf(out, "attnsweep: %ld done or diverged runs had a trace that did not match its "
                "CRC: rerunning them\n", t->n_bad_crc);
    for (int f = 0; f < t->reuse.n_files; f++)
        fprintf(out, "attnsweep: reused %ld run%s from %s\n", t->reuse.per_file[f],
                t->reuse.per_file[f] == 1 ? "" : "s", t->reuse.files[f]);
    for (const char *n = t->reuse.notes; *n;) {
        size_t len = strcspn(n, "\n");
        fprintf(out, "attnsweep: --reuse %.*s\n", (int)len, n);
        n += len + (n[len] == '\n');
    }
}

void report_event(FILE *out, const sweep_config_t *cfg, const sweep_event_t *ev)
{
    const sched_progress_t *p = ev->progress;
    char eta[32], el[32];
    if (ev->kind == SWEEP_EVENT_START) {
        event_start(out, cfg, ev);
        return;
    }
    util_fmt_duration(ev->eta, eta, sizeof eta);
    util_fmt_duration(p->elapsed, el, sizeof el);
    fprintf(out, "progress: %ld/%ld runs%s (%.1f %%) after %s, %.2f runs/s, ETA %s | done %ld, "
            "diverged %ld, failed %ld%s\n", p->finished, p->total,
            p->local_only ? " of rank 0's share" : "",
            p->total ? 100.0 * (double)p->finished / (double)p->total : 100.0, el,
            p->elapsed > 0 ? p->finished / p->elapsed : 0, p->stopping ? "(stopping)" : eta,
            p->by_status[RUN_DONE], p->by_status[RUN_DIVERGED], p->by_status[RUN_FAILED],
            ev->todo->n_done_before ? " (+ earlier runs)" : "");
}

void report_summary(FILE *out, const sweep_config_t *cfg, const sweep_report_t *r,
                    double total_seconds, const char *resume_command)
{
    const sched_summary_t *s = &r->sched;
    const long *bs = s->by_status;
    const int sig = cfg->stop ? cfg->stop->signal : 0;
    double worker_time = s->n_workers * s->wall;
    char tot[32];
    if (s->finished == 0 && !r->stopped && r->n_left == 0) {
        fprintf(out, "attnsweep: nothing to do: every run of %s is done or diverged\n", cfg->out);
        return;
    }
    util_fmt_duration(total_seconds, tot, sizeof tot);
    fprintf(out, "summary: %ld runs in %.2f s (%.2f runs/s) on %d rank%s, %d worker%s, %s "
            "schedule\n", s->finished, s->wall, s->wall > 0 ? s->finished / s->wall : 0.0,
            r->n_ranks, r->n_ranks > 1 ? "s" : "", s->n_workers, s->n_workers > 1 ? "s" : "",
            schedule_name(cfg, r->n_ranks));
    fprintf(out, "summary: done %ld, diverged %ld, failed %ld, interrupted %ld, not started %ld\n",
            bs[RUN_DONE], bs[RUN_DIVERGED], bs[RUN_FAILED], bs[RUN_INTERRUPTED],
            r->n_left - bs[RUN_INTERRUPTED] - bs[RUN_FAILED]);
    if (cfg->n_reuse)
        fprintf(out, "summary: --reuse: %ld runs copied in %.2f s (matching on rank 0: %.2f s)\n",
                r->n_reused, r->reuse_seconds, r->match_seconds);
    if (s->n_early)
        fprintf(out, "summary: early stopping: %ld of %ld done runs stopped before their last "
                "step, %.0f steps saved\n", s->n_early, bs[RUN_DONE], s->steps_saved);
    fprintf(out, "summary: parallel efficiency %.3f (Σ run time %.2f s / (%d × %.2f s)), load "
            "imbalance %.1f %% (max/mean worker busy time - 1)\n", sched_efficiency(s),
            s->run_seconds, s->n_workers, s->wall, 100 * sched_imbalance(s));
    fprintf(out, "summary: HDF5: open/create %.3f s, per-run writes %.3f s (%.2f %% of worker "
            "time), close %.3f s; total %s\n", r->open_seconds, s->write_seconds,
            worker_time > 0 ? 100 * s->write_seconds / worker_time : 0.0, r->close_seconds, tot);
    if (r->stopped)
        fprintf(out, "attnsweep: stopped by %s: %ld runs done in total, %ld still to run. Resume "
                "with:\n  mpirun -np %d %s\n", sig == SIGUSR1 ? "SIGUSR1" : sig == SIGINT ? "SIGINT"
                : sig == SIGTERM ? "SIGTERM" : "a signal to another rank", r->n_done_total,
                r->n_left, r->n_ranks, resume_command);
}

static void keys_of(FILE *out, const param_def_t *defs, int n)
{
    for (int i = 0; i < n; i++) {
        char def[64];
        param_format(&defs[i], defs[i].def, def, sizeof def);
        fprintf(out, "  [%s] %-20s = %-10s %s%s\n", defs[i].section, defs[i].name, def,
                defs[i].help, defs[i].one_value ? " (one value per spec)" : "");
    }
}

void report_keys(FILE *out, const model_family_t *one, const char *name)
{
    fprintf(out, "keys common to every model:\n");
    keys_of(out, schema_common, schema_n_common);
    for (int i = 0; one ? i == 0 : model_families[i] != NULL; i++) {
        const model_family_t *f = one ? one : model_families[i];
        fprintf(out, "\n[model] model = %s: %s\n", one && name ? name : f->name, f->summary);
        keys_of(out, f->params, f->n_params);
        fprintf(out, "  trace metrics: step");
        for (int m = 0; m < f->n_metrics; m++) fprintf(out, ", %s", f->metrics[m].name);
        fprintf(out, "\n");
    }
}

void report_refine(FILE *out, const char *file, const refine_config_t *cfg, const refine_t *rf,
                   const char *next)
{
    char level[64] = "";
    if (cfg->has_level) snprintf(level, sizeof level, ", %ld cross %s = %g", rf->n_crossing,
                                 cfg->metric, cfg->level);
    fprintf(out, "refine: %s: %ld of %ld points measured; %ld cells%s (%s %s%s%s)\n", file,
            rf->n_measured, rf->n_all, rf->n_cells, level, rf->x_log ? "log" : "linear", cfg->x,
            rf->two_d ? rf->y_log ? ", log " : ", linear " : "", rf->two_d ? cfg->y : "");
    if (rf->n_new)
        fprintf(out, "refine: %ld new points → %s (%ld points in all; a product grid at the "
                "finest spacing would need %ld runs)\n", rf->n_new, next, rf->n_all + rf->n_new,
                rf->full_grid);
    else
        fprintf(out, "refine: no new points (%s): %s lists the same points\n",
                cfg->budget ? "no cell left to split at this spacing" : "budget 0", next);
    fprintf(out, "next: mpirun -np N attnsweep run %s --out NEXT.h5 --reuse %s\n", next, file);
}

void report_trace_csv(FILE *out, const model_family_t *f, const trace_t *t)
{
    fprintf(out, "step");
    for (int m = 0; m < f->n_metrics; m++) fprintf(out, ",%s", f->metrics[m].name);
    for (int r = 0; r < t->n_filled; r++) {
        const double *row = t->rows + (size_t)r * (size_t)t->n_cols;
        fprintf(out, "\n%.0f", row[0]);
        for (int k = 1; k < t->n_cols; k++) fprintf(out, ",%.9g", row[k]);
    }
    fprintf(out, "\n");
}
