/* test_grid — grid expansion (grid.h): the documented order (swept keys in spec order, row-major,
 * last key fastest), run id ↔ params both ways, base values, per-run checks with run-naming
 * errors, costs and trace lengths. Uses a toy family with a cross-key check and a cost. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "attnsweep/grid.h"
#include "attnsweep/train.h"

static const char *const toy_classifiers[] = {"fixed", "linear", "mlp", NULL};
static const param_def_t toy_params[] = {
    {.name = "vocab_size", .section = "task", .type = PARAM_INT, .def = 100, .min = 1, .max = 1e9,
     .help = "vocabulary size"},
    {.name = "words", .section = "task", .type = PARAM_INT, .def = 5, .min = 1, .max = 1e9,
     .help = "words per sentence (< vocab_size)"},
    {.name = "embed_dim", .section = "model", .type = PARAM_INT, .def = 10, .min = 1, .max = 1e6,
     .help = "embedding dimension"},
    {.name = "classifier", .section = "model", .type = PARAM_ENUM, .choices = toy_classifiers,
     .def = 1,
     .help = "classifier"},
};

static int toy_check(const params_t *p, char *err, size_t n)
{
    if (params_get(p, "words") >= params_get(p, "vocab_size")) {
        snprintf(err, n, "words must be < vocab_size (got %ld >= %ld)", params_geti(p, "words"),
                 params_geti(p, "vocab_size"));
        return -1;
    }
    return 0;
}
static double toy_cost(const params_t *p)
{
    return params_get(p, "steps") * params_get(p, "embed_dim");
}
static const model_family_t toy_family = {
    .name = "toy", .summary = "toy", .params = toy_params,
    .n_params = sizeof toy_params / sizeof toy_params[0], .check = toy_check, .cost = toy_cost,
};
static const model_family_t nocost_family = {
    .name = "nocost", .summary = "toy without cost()", .params = toy_params,
    .n_params = sizeof toy_params / sizeof toy_params[0],
};
static const model_family_t *const registry[] = {&toy_family, &nocost_family, NULL};

static spec_t spec;
static grid_t grid;
static char err[1024];

static void fini(void)
{
    grid_free(&grid);
    spec_free(&spec);
}
TestSuite(grid, .fini = fini);

static void load(const char *text, const char *const *sets, int n)
{
    cr_assert_eq(spec_load_text_in(&spec, registry, "g.ini", text, sets, n, err, sizeof err), 0,
                 "%s", err);
}

static const char sweep[] =
    "[model]\nmodel = toy\nembed_dim = 4, 8\n"
    "[task]\nvocab_size = 50\n"
    "[train]\nsteps = 100\nlr = 0.1, 0.2, 0.3\n"
    "[grid]\nseed = 0..3\n";

static double get(const params_t *p, const char *k) { return params_get(p, k); }

Test(grid, has_one_dimension_per_swept_key_in_spec_order) {
    load(sweep, NULL, 0);
    cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
    cr_assert_eq(grid.n_dims, 3);
    const char *names[] = {"embed_dim", "lr", "seed"};
    int lens[] = {2, 3, 4};
    for (int d = 0; d < 3; d++) {
        cr_assert_str_eq(grid.defs[grid.dim_def[d]].name, names[d]);
        cr_assert_eq(grid.dim_len[d], lens[d]);
    }
    cr_assert_eq(grid.n_runs, 24);
}

Test(grid, numbers_runs_row_major_with_the_last_swept_key_fastest) {
    load(sweep, NULL, 0);
    cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
    params_t p;
    long id = 0;
    double dims[] = {4, 8}, lrs[] = {0.1, 0.2, 0.3};
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 4; c++, id++) {
                grid_run_params(&grid, id, &p);
                cr_assert_eq(get(&p, "embed_dim"), dims[a], "run %ld", id);
                cr_assert_eq(get(&p, "lr"), lrs[b], "run %ld", id);
                cr_assert_eq(get(&p, "seed"), (double)c, "run %ld", id);
                cr_assert_eq(get(&p, "vocab_size"), 50.0);
            }
    grid_run_params(&grid, 17, &p); /* 17 = 1·12 + 1·4 + 1 */
    cr_assert(get(&p, "embed_dim") == 8 && get(&p, "lr") == 0.2 && get(&p, "seed") == 1);
}

Test(grid, maps_run_ids_to_indices_and_back_for_every_run) {
    load(sweep, NULL, 0);
    cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
    int seen[24] = {0};
    for (long id = 0; id < grid.n_runs; id++) {
        int idx[3];
        grid_run_index(&grid, id, idx);
        long back = 0;
        for (int d = 0; d < grid.n_dims; d++) {
            cr_assert(idx[d] >= 0 && idx[d] < grid.dim_len[d]);
            back = back * grid.dim_len[d] + idx[d];
        }
        cr_assert_eq(back, id);
        params_t p;
        grid_run_params(&grid, id, &p);
        for (int d = 0; d < grid.n_dims; d++)
            cr_assert_eq(p.v[grid.dim_def[d]], grid.dim_values[d][idx[d]]);
        seen[back]++;
    }
    for (int i = 0; i < 24; i++) cr_assert_eq(seen[i], 1);
}

Test(grid, base_holds_defaults_overwritten_by_single_values) {
    load(sweep, NULL, 0);
    cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
    int i_vocab = param_index(grid.defs, grid.n_defs, "vocab_size");
    int i_words = param_index(grid.defs, grid.n_defs, "words");
    int i_cls = param_index(grid.defs, grid.n_defs, "classifier");
    int i_steps = param_index(grid.defs, grid.n_defs, "steps");
    cr_assert_eq(grid.base[i_vocab], 50.0, "single value from the spec");
    cr_assert_eq(grid.base[i_steps], 100.0);
    cr_assert_eq(grid.base[i_words], 5.0, "default");
    cr_assert_eq(grid.base[i_cls], 1.0, "enum default");
    params_t p;
    grid_run_params(&grid, 5, &p);
    cr_assert_eq(p.n, grid.n_defs);
    cr_assert_eq(p.defs, spec.defs);
    cr_assert_str_eq(params_gets(&p, "classifier"), "linear");
}

Test(grid, has_one_run_when_nothing_is_swept) {
    load("[model]\nmodel = toy\n", NULL, 0);
    cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
    cr_assert_eq(grid.n_runs, 1);
    cr_assert_eq(grid.n_dims, 0);
    params_t p;
    grid_run_params(&grid, 0, &p);
    cr_assert_eq(get(&p, "steps"), 1000.0);
    cr_assert_eq(grid.n_points, 1000 / 10 + 1);
}

Test(grid, puts_an_appended_override_last_in_the_order) {
    const char *sets[] = {"grid.words=1, 2", "train.lr=0.5"};
    load(sweep, sets, 2);
    cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
    cr_assert_eq(grid.n_dims, 3, "lr is no longer swept");
    cr_assert_str_eq(grid.defs[grid.dim_def[0]].name, "embed_dim");
    cr_assert_str_eq(grid.defs[grid.dim_def[1]].name, "seed");
    cr_assert_str_eq(grid.defs[grid.dim_def[2]].name, "words");
    params_t p;
    grid_run_params(&grid, 1, &p);
    cr_assert(get(&p, "words") == 2 && get(&p, "seed") == 0 && get(&p, "lr") == 0.5);
}

Test(grid, sums_costs_from_the_family_and_reports_each_run) {
    load(sweep, NULL, 0);
    cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
    double sum = 0;
    for (long id = 0; id < grid.n_runs; id++) {
        params_t p;
        grid_run_params(&grid, id, &p);
        cr_assert_eq(grid_run_cost(&grid, id), 100.0 * get(&p, "embed_dim"));
        sum += grid_run_cost(&grid, id);
    }
    cr_assert_float_eq(grid.total_cost, sum, 1e-9 * sum);
    cr_assert_float_eq(grid.total_cost, 12 * 100.0 * (4 + 8), 1e-9);
}

Test(grid, uses_steps_as_the_cost_when_the_family_has_no_cost) {
    load("[model]\nmodel = nocost\n[train]\nsteps = 30, 70\n", NULL, 0);
    cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
    cr_assert_eq(grid_run_cost(&grid, 0), 30.0);
    cr_assert_eq(grid_run_cost(&grid, 1), 70.0);
    cr_assert_float_eq(grid.total_cost, 100.0, 1e-12);
}

Test(grid, takes_the_longest_trace_over_runs_as_n_points) {
    load("[model]\nmodel = toy\n[train]\nlog_every = 5\nsteps = 20, 100, 50\n", NULL, 0);
    cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
    cr_assert_eq(grid.n_points, 100 / 5 + 1);
}

Test(grid, rejects_an_invalid_run_naming_its_id_swept_values_and_key) {
    load("[model]\nmodel = toy\nembed_dim = 4, 8\n[task]\nvocab_size = 10, 30\n"
         "words = 5, 20\n", NULL, 0);
    cr_assert_neq(grid_init(&grid, &spec, err, sizeof err), 0);
    /* order embed_dim, vocab_size, words: run 1 is (4, 10, 20), the first bad one */
    cr_assert(strstr(err, "run 1 (embed_dim=4, vocab_size=10, words=20)"), "%s", err);
    cr_assert(strstr(err, "words must be < vocab_size"), "%s", err);
    cr_assert(strstr(err, "2 of the 8 runs are invalid"), "%s", err);
    cr_assert(strstr(err, "g.ini"), "%s", err);
}

Test(grid, rejects_a_single_run_that_fails_the_family_check) {
    load("[model]\nmodel = toy\n[task]\nvocab_size = 3\n", NULL, 0);
    cr_assert_neq(grid_init(&grid, &spec, err, sizeof err), 0);
    cr_assert(strstr(err, "run 0: words must be < vocab_size (got 5 >= 3)"), "%s", err);
}

Test(grid, keeps_seeds_up_to_2_53_minus_1_exact_and_names_them_in_full) {
    load("[model]\nmodel = toy\n[task]\nvocab_size = 100\nwords = 5, 200\n"
         "[grid]\nseed = 9007199254740990..9007199254740991, 1e15\n", NULL, 0);
    cr_assert_neq(grid_init(&grid, &spec, err, sizeof err), 0);
    /* order words, seed: run 3 is (200, 9007199254740990), the first bad one */
    cr_assert(strstr(err, "run 3 (words=200, seed=9007199254740990)"), "%s", err);
    spec_free(&spec);
    load("[model]\nmodel = toy\n[grid]\nseed = 9007199254740990..9007199254740991, 1e15\n",
         NULL, 0);
    cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
    const long long want[] = {9007199254740990LL, 9007199254740991LL, 1000000000000000LL};
    for (long id = 0; id < 3; id++) {
        params_t p;
        grid_run_params(&grid, id, &p);
        cr_assert_eq((long long)get(&p, "seed"), want[id], "run %ld: %.17g", id, get(&p, "seed"));
    }
}

Test(grid, rejects_a_grid_with_too_many_runs) {
    load("[model]\nmodel = toy\n[grid]\nseed = 0..99999\nvocab_size = 100..999\n", NULL, 0);
    cr_assert_neq(grid_init(&grid, &spec, err, sizeof err), 0);
    cr_assert(strstr(err, "more than") && strstr(err, "vocab_size"), "%s", err);
}

Test(grid, expands_the_demo_example_into_valid_lu2021_runs) {
    char path[512];
    snprintf(path, sizeof path, "%s/examples/demo.ini", ATTNSWEEP_SOURCE_DIR);
    cr_assert_eq(spec_load(&spec, path, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
    cr_assert_geq(grid.n_runs, 8);
    cr_assert_gt(grid.total_cost, 0);
    cr_assert_gt(grid.n_points, 1);
}

Test(grid, expands_the_lu2021_grid_example_with_at_least_five_seeds) {
    char path[512];
    snprintf(path, sizeof path, "%s/examples/lu2021-grid.ini", ATTNSWEEP_SOURCE_DIR);
    cr_assert_eq(spec_load(&spec, path, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
    const char *need[] = {"vocab_size", "embed_dim", "lr", "seed"};
    for (int k = 0; k < 4; k++) {
        int found = 0;
        for (int d = 0; d < grid.n_dims; d++)
            if (strcmp(grid.defs[grid.dim_def[d]].name, need[k]) == 0) {
                found = 1;
                if (k == 3) cr_assert_geq(grid.dim_len[d], 5);
            }
        cr_assert(found, "%s is not swept", need[k]);
    }
}

/* Whether the spec file at path reads a data file (`data_file =`): the user supplies those. */
static int reads_data(const char *path)
{
    char line[512];
    int yes = 0;
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    while (fgets(line, sizeof line, f) && !yes) yes = strncmp(line, "data_file =", 11) == 0;
    fclose(f);
    return yes;
}

/* A tiny corpus, /tmp/…/c.train with its .dev and .test: its path into buf. */
static void tiny_corpus(char *buf, size_t n)
{
    static const char *const ext[] = {"train", "dev", "test"};
    for (int k = 0; k < 3; k++) {
        snprintf(buf, n, "/tmp/attnsweep-test-grid-%d.%s", (int)getpid(), ext[k]);
        FILE *f = fopen(buf, "w");
        cr_assert_not_null(f);
        fputs("1 a good film\n0 a bad one\n", f);
        fclose(f);
    }
    snprintf(buf, n, "/tmp/attnsweep-test-grid-%d.train", (int)getpid());
}

Test(grid, expands_every_example_spec_shipped_in_examples) {
    char dir[512], corpus[128], set[192];
    const char *sets[] = {set};
    tiny_corpus(corpus, sizeof corpus);
    snprintf(set, sizeof set, "task.data_file=%s", corpus); /* for the examples on data files */
    snprintf(dir, sizeof dir, "%s/examples", ATTNSWEEP_SOURCE_DIR);
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".ini") != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        int data = reads_data(path);
        cr_assert_eq(spec_load(&spec, path, sets, data, err, sizeof err), 0, "%s", err);
        cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
        cr_assert_geq(grid.n_runs, 1);
        grid_free(&grid);
        spec_free(&spec);
        n++;
    }
    closedir(d);
    for (const char *x = ".train\0.dev\0.test\0"; *x; x += strlen(x) + 1) {
        char f[160];
        snprintf(f, sizeof f, "/tmp/attnsweep-test-grid-%d%s", (int)getpid(), x);
        remove(f);
    }
    cr_assert_geq(n, 2, "demo.ini and lu2021-grid.ini at least");
}

Test(grid, rejects_patience_for_a_family_without_valid_acc) {
    load("[model]\nmodel = toy\n[task]\nvocab_size = 100\n[train]\npatience = 5\n", NULL, 0);
    cr_assert_neq(grid_init(&grid, &spec, err, sizeof err), 0);
    cr_assert(strstr(err, "patience: stops on valid_acc, which model toy does not trace"), "%s",
              err);
}

Test(grid, crosses_the_points_with_the_swept_keys_points_first) {
    load("[model]\nmodel = toy\n[task]\nvocab_size = 100\n[points]\nkeys = embed_dim, words\n"
         "point = 4, 5\npoint = 8, 3\n[grid]\nseed = 0..2\n", NULL, 0);
    cr_assert_eq(grid_init(&grid, &spec, err, sizeof err), 0, "%s", err);
    cr_assert_eq(grid.n_runs, 6);
    cr_assert_eq(grid.n_dims, 2);
    cr_assert_eq(grid.dim_def[0], -1);
    cr_assert_eq(grid.n_swept, 3);
    cr_assert_str_eq(grid.defs[grid.swept_def[0]].name, "embed_dim");
    cr_assert_str_eq(grid.defs[grid.swept_def[2]].name, "seed");
    params_t p;
    grid_run_params(&grid, 4, &p); /* point 1, seed 1 */
    cr_expect_eq(params_geti(&p, "embed_dim"), 8);
    cr_expect_eq(params_geti(&p, "words"), 3);
    cr_expect_eq(params_geti(&p, "seed"), 1);
}

Test(grid, names_a_bad_point_by_its_values) {
    load("[model]\nmodel = toy\n[task]\nvocab_size = 10\n[points]\nkeys = words, embed_dim\n"
         "point = 5, 4\npoint = 20, 8\n", NULL, 0);
    cr_assert_neq(grid_init(&grid, &spec, err, sizeof err), 0);
    cr_assert(strstr(err, "run 1 (words=20, embed_dim=8)"), "%s", err);
}
