/* Tests of schema (src/schema.c): the common keys, a family's combined schema (common keys
 * first, then the family's, at their defaults), its refusals, and the trace axis. */
#include <criterion/criterion.h>
#include <string.h>
#include "attnsweep/schema.h"

static const param_def_t own[] = {
    {.name = "width", .section = "model", .type = PARAM_INT, .def = 7, .min = 1, .max = 100,
     .help = "a family key"},
    {.name = "mode", .section = "model", .type = PARAM_BOOL, .def = 1, .help = "another"},
};

Test(schema, puts_the_common_keys_first_then_the_family_keys_at_their_defaults)
{
    schema_params_t sp;
    cr_assert_eq(schema_defaults(&sp, own, 2), 0);
    cr_assert_eq(sp.p.n, schema_n_common + 2);
    cr_assert_eq(sp.p.defs, sp.defs);
    for (int i = 0; i < schema_n_common; i++) cr_expect_str_eq(sp.defs[i].name, schema_common[i].name);
    cr_expect_str_eq(sp.defs[schema_n_common].name, "width");
    cr_expect_eq(params_geti(&sp.p, "width"), 7);
    cr_expect_eq(params_geti(&sp.p, "steps"), 1000);
    cr_expect_eq(params_get(&sp.p, "lr"), 0.1);
    cr_expect_eq(params_set(&sp.p, "no_such_key", 1.0), -1);
}

Test(schema, refuses_a_buffer_too_small_and_a_key_defined_twice)
{
    param_def_t defs[PARAM_MAX];
    char err[256];
    cr_expect_eq(schema_build(own, 2, defs, 3, err, sizeof err), -1);
    cr_expect(strstr(err, "at most 3"), "%s", err);
    param_def_t twice[2] = {own[0], own[0]};
    cr_expect_eq(schema_build(twice, 2, defs, PARAM_MAX, err, sizeof err), -1);
    cr_expect(strstr(err, "'width' is defined twice"), "%s", err);
    param_def_t common[1] = {schema_common[2]};
    cr_expect_eq(schema_build(common, 1, defs, PARAM_MAX, err, sizeof err), -1);
    cr_expect(strstr(err, "common to every family"), "%s", err);
}

Test(schema, every_common_key_has_a_section_help_and_a_default_in_range)
{
    char err[256];
    for (int i = 0; i < schema_n_common; i++) {
        cr_expect(schema_common[i].help && schema_common[i].help[0]);
        cr_expect_str_eq(schema_common[i].section, "train");
        cr_expect_eq(param_check(&schema_common[i], schema_common[i].def, err, sizeof err), 0,
                     "%s", err);
    }
}

Test(schema, a_run_logs_step_0_and_every_log_every_steps_up_to_steps)
{
    schema_params_t sp;
    cr_assert_eq(schema_defaults(&sp, own, 2), 0);
    params_set(&sp.p, "steps", 20);
    params_set(&sp.p, "log_every", 5);
    cr_expect_eq(schema_n_points(&sp.p), 5); /* 0, 5, 10, 15, 20 */
    params_set(&sp.p, "steps", 23);
    cr_expect_eq(schema_n_points(&sp.p), 5);
    params_set(&sp.p, "steps", 0);
    cr_expect_eq(schema_n_points(&sp.p), 1);
}
