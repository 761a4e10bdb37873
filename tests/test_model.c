/* Tests of the family registry (src/model.c): built-in lookup, the checks every family table must
 * pass, and plugins — the example plugin loads once and trains, and each kind of bad plugin (old
 * ABI, missing metrics, a built-in's name, no exported family, no file) is refused with a one-line
 * message naming the file. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "attnsweep/model.h"
#include "attnsweep/train.h"

static const model_family_t *resolve_ok(const char *name, const char **src)
{
    const model_family_t *f = NULL;
    char err[1024] = "";
    cr_assert_eq(model_resolve(name, NULL, &f, src, err, sizeof err), 0, "%s: %s", name, err);
    cr_assert_not_null(f);
    return f;
}

static void expect_refused(const char *name, const char *dir, const char *needle)
{
    const model_family_t *f = (const model_family_t *)1;
    const char *src;
    char err[1024] = "";
    cr_assert_neq(model_resolve(name, dir, &f, &src, err, sizeof err), 0, "%s was accepted", name);
    cr_expect_null(f);
    cr_expect(strstr(err, needle) != NULL, "message for %s lacks '%s': %s", name, needle, err);
    cr_expect(strchr(err, '\n') == NULL, "one line: %s", err);
}

Test(model, built_in_families_resolve_by_name_and_pass_their_own_checks)
{
    char err[256];
    for (int i = 0; model_families[i]; i++) {
        const char *src;
        cr_expect_eq(resolve_ok(model_families[i]->name, &src), model_families[i]);
        cr_expect_str_eq(src, "built-in");
        cr_expect_eq(model_validate(model_families[i], err, sizeof err), 0, "%s: %s",
                     model_families[i]->name, err);
    }
    cr_expect_eq(model_find("lu2021"), model_families[0]);
    cr_expect_null(model_find("nope"));
}

Test(model, an_unknown_name_is_refused_with_the_list_of_families)
{
    expect_refused("lu2022", NULL, "unknown model 'lu2022'");
    expect_refused("lu2022", NULL, "sakamoto2024");
    expect_refused("plugin:", NULL, "needs the path");
}

Test(model, the_example_plugin_loads_once_and_trains_a_run)
{
    const char *src, *src2;
    const model_family_t *f = resolve_ok("plugin:" ATTNSWEEP_TEST_PLUGIN_MQA, &src);
    cr_expect_str_eq(f->name, "mqa");
    cr_expect(src[0] == '/', "the source is the plugin's absolute path: %s", src);
    cr_expect_eq(resolve_ok("plugin:" ATTNSWEEP_TEST_PLUGIN_MQA, &src2), f, "loaded once");
    cr_expect_eq(src, src2);

    schema_params_t sp;
    trace_t t = {0};
    run_result_t res;
    cr_assert_eq(schema_defaults(&sp, f->params, f->n_params), 0);
    params_set(&sp.p, "steps", 300);
    params_set(&sp.p, "lr", 0.5);
    params_set(&sp.p, "queries", 1);
    cr_assert_eq(train_trace_init(&t, schema_n_points(&sp.p), 1 + f->n_metrics), 0);
    cr_assert_eq(train_run(f, &sp.p, &t, &res, NULL), 0);
    cr_expect_eq(res.status, RUN_DONE, "%s", res.message);
    int att = 1 + model_metric_index(f, "topic_attention");
    double first = t.rows[att], last = t.rows[(size_t)(t.n_filled - 1) * t.n_cols + att];
    cr_expect_float_eq(first, 1.0 / 11.0, 1e-9, "keys start at 0: uniform attention over 11 words");
    cr_expect_gt(last, 0.3, "the topic word's attention rises (got %g)", last);
    cr_expect_lt(res.final_train_loss, 0.1, "the loss falls (got %g)", res.final_train_loss);
    train_trace_free(&t);
}

Test(model, a_relative_plugin_path_is_taken_from_the_base_directory)
{
    const model_family_t *f;
    const char *src, *slash = strrchr(ATTNSWEEP_TEST_PLUGIN_MQA, '/');
    char dir[1024], err[1024];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - ATTNSWEEP_TEST_PLUGIN_MQA),
             ATTNSWEEP_TEST_PLUGIN_MQA);
    char name[1100];
    snprintf(name, sizeof name, "plugin:%s", slash + 1);
    cr_expect_eq(model_resolve(name, dir, &f, &src, err, sizeof err), 0, "%s", err);
    expect_refused(name, "/nonexistent-dir", "no such file");
}

Test(model, plugins_with_an_old_abi_missing_metrics_a_taken_name_or_no_family_are_refused)
{
    expect_refused("plugin:" ATTNSWEEP_TEST_PLUGIN_BAD1, NULL, "model ABI");
    expect_refused("plugin:" ATTNSWEEP_TEST_PLUGIN_BAD1, NULL, ATTNSWEEP_TEST_PLUGIN_BAD1);
    expect_refused("plugin:" ATTNSWEEP_TEST_PLUGIN_BAD2, NULL, "no 'train_acc' metric");
    expect_refused("plugin:" ATTNSWEEP_TEST_PLUGIN_BAD3, NULL, "like a built-in one");
    expect_refused("plugin:" ATTNSWEEP_TEST_PLUGIN_BAD4, NULL, "not an attnsweep model");
    expect_refused("plugin:/no/such/plugin.so", NULL, "no such file");
    expect_refused("plugin:" ATTNSWEEP_SOURCE_DIR "/README.md", NULL, "cannot load it");
}

Test(model, validate_refuses_duplicate_and_reserved_metric_names)
{
    static const metric_def_t dup[] = {{"train_loss", 0, 0}, {"train_acc", 0, 0},
                                       {"test_acc", 0, 0}, {"train_acc", 0, 0}};
    static const metric_def_t step[] = {{"step", 0, 0}, {"train_loss", 0, 0}, {"train_acc", 0, 0},
                                        {"test_acc", 0, 0}};
    model_family_t f = *model_families[0];
    char err[256];
    f.metrics = dup, f.n_metrics = 4;
    cr_expect_neq(model_validate(&f, err, sizeof err), 0);
    cr_expect(strstr(err, "listed twice"), "%s", err);
    f.metrics = step;
    cr_expect_neq(model_validate(&f, err, sizeof err), 0);
    cr_expect(strstr(err, "'step'"), "%s", err);
    f = *model_families[0];
    f.eval = NULL;
    cr_expect_neq(model_validate(&f, err, sizeof err), 0);
}
