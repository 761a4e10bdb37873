/* report — renders what the library computed, for people and for scripts: a plan, a results
 * file's status, a sweep's start, progress and summary lines, a family's keys and a run's trace
 * as CSV. The caller chooses the stream; nothing here decides anything or reads files. */
#ifndef ATTNSWEEP_REPORT_H
#define ATTNSWEEP_REPORT_H
#include <stdio.h>
#include "attnsweep/h5out.h"
#include "attnsweep/lock.h"
#include "attnsweep/plan.h"
#include "attnsweep/refine.h"
#include "attnsweep/sweep.h"
#include "attnsweep/train.h"

/* `plan`: the grid, trace, cost; with cal (may be NULL: not calibrated) the time on one core and
 * the makespans on np ranks (np = 0: on 2, 4, 8, 16, 64); memory and output size. */
void report_plan(FILE *out, const grid_t *g, const plan_info_t *in, const plan_calib_t *cal,
                 int np);
/* `plan --list`: every run id with its swept keys' values, as TSV with a header line. */
void report_plan_list(FILE *out, const grid_t *g);
/* `status` of the file at path, as inspected (verify: the CRC line too), with its writer (lk:
 * FILE.lock as read; NULL if unknown). */
void report_status(FILE *out, const char *path, const h5out_info_t *in, int verify,
                   const lock_info_t *lk);
/* The same as one JSON object (keys: file, format_version, model, spec_sha256, n_runs, counts
 * {pending, done, failed, diverged, interrupted}, runs_started, attempts_max, bad_crc (null
 * without verify), writer (null or {host, pid, started_utc, heartbeat_age_s, live}), complete). */
void report_status_json(FILE *out, const char *path, const h5out_info_t *in, int verify,
                        const lock_info_t *lk);
/* A sweep's start line(s) and progress line (events of sweep_run, rank 0). */
void report_event(FILE *out, const sweep_config_t *cfg, const sweep_event_t *ev);
/* The end summary of a sweep; resume_command: how to continue it (printed if it stopped). */
void report_summary(FILE *out, const sweep_config_t *cfg, const sweep_report_t *r,
                    double total_seconds, const char *resume_command);
/* The keys of the common schema and of family f (as named by name), with the trace metrics;
 * f = NULL: every built-in family. */
void report_keys(FILE *out, const model_family_t *f, const char *name);
/* What `refine` found and proposed for file (next: the spec it wrote). */
void report_refine(FILE *out, const char *file, const refine_config_t *cfg, const refine_t *rf,
                   const char *next);
/* A trace as CSV: "step,<metric>,..." then one line per filled row. */
void report_trace_csv(FILE *out, const model_family_t *f, const trace_t *t);

#endif
