/* test_param — the typed parameter schema (param.h): lookup by name, parsing of every type,
 * range/integrality/enum checks with messages naming the key, and formatting that reads back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "attnsweep/param.h"

static const char *const colours[] = {"red", "green", "blue", NULL};
static const param_def_t defs[] = {
    {.name = "count", .section = "task", .type = PARAM_INT, .def = 10, .min = 1, .max = 1000,
     .help = "a count"},
    {.name = "rate", .section = "train", .type = PARAM_REAL, .def = 0.1, .min = 0, .max = 10,
     .min_exclusive = 1,
     .help = "a rate (> 0)"},
    {.name = "flag", .section = "model", .type = PARAM_BOOL, .def = 0,
     .help = "a switch"},
    {.name = "colour", .section = "model", .type = PARAM_ENUM, .choices = colours, .def = 2,
     .help = "a choice"},
    {.name = "shift", .section = "task", .type = PARAM_REAL, .def = 0, .min = -1, .max = 1,
     .help = "closed range"},
};
enum { COUNT, RATE, FLAG, COLOUR, SHIFT, N_DEFS };

static char err[256];

static int parse(int i, const char *text, double *v)
{
    err[0] = '\0';
    return param_parse(&defs[i], text, v, err, sizeof err);
}

Test(param, finds_keys_by_name_and_returns_minus_one_for_unknown_ones) {
    cr_assert_eq(param_index(defs, N_DEFS, "count"), COUNT);
    cr_assert_eq(param_index(defs, N_DEFS, "colour"), COLOUR);
    cr_assert_eq(param_index(defs, N_DEFS, "colours"), -1);
    cr_assert_eq(param_index(defs, 0, "count"), -1);
}

Test(param, reads_values_of_a_run_by_name) {
    params_t p = {.defs = defs, .n = N_DEFS, .v = {42, 0.5, 1, 1, -0.25}};
    cr_assert_eq(params_get(&p, "rate"), 0.5);
    cr_assert_eq(params_geti(&p, "count"), 42);
    cr_assert_str_eq(params_gets(&p, "colour"), "green");
    cr_assert_null(params_gets(&p, "count"), "not an enum");
    cr_assert_eq(param_n_choices(&defs[COLOUR]), 3);
    cr_assert_eq(param_n_choices(&defs[COUNT]), 0);
}

Test(param, parses_integers_and_reals_with_surrounding_blanks) {
    double v;
    cr_assert_eq(parse(COUNT, "  250\t", &v), 0, "%s", err);
    cr_assert_eq(v, 250.0);
    cr_assert_eq(parse(COUNT, "1e2", &v), 0, "%s", err);
    cr_assert_eq(v, 100.0);
    cr_assert_eq(parse(RATE, "2.5e-3", &v), 0, "%s", err);
    cr_assert_float_eq(v, 2.5e-3, 1e-18);
}

Test(param, parses_booleans_in_several_spellings) {
    const char *yes[] = {"true", "True", "yes", "on", "1"}, *no[] = {"false", "NO", "off", "0"};
    double v;
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(parse(FLAG, yes[i], &v), 0, "%s", yes[i]);
        cr_assert_eq(v, 1.0);
    }
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(parse(FLAG, no[i], &v), 0, "%s", no[i]);
        cr_assert_eq(v, 0.0);
    }
    cr_assert_neq(parse(FLAG, "2", &v), 0);
    cr_assert(strstr(err, "flag: expected true or false, got '2'"), "%s", err);
}

Test(param, parses_enum_names_to_their_index_and_lists_the_choices_on_error) {
    double v;
    cr_assert_eq(parse(COLOUR, "blue", &v), 0, "%s", err);
    cr_assert_eq(v, 2.0);
    cr_assert_neq(parse(COLOUR, "Blue", &v), 0, "enum names are case-sensitive");
    cr_assert_neq(parse(COLOUR, "purple", &v), 0);
    cr_assert(strstr(err, "colour: expected one of red, green, blue, got 'purple'"), "%s", err);
}

Test(param, rejects_text_that_is_not_a_number_naming_the_key) {
    const char *bad[] = {"", "   ", "abc", "12abc", "1.2.3", "1e999"};
    double v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_neq(parse(RATE, bad[i], &v), 0, "accepted '%s'", bad[i]);
        cr_assert(strncmp(err, "rate: expected", 14) == 0, "%s", err);
    }
}

Test(param, rejects_non_finite_values) {
    double v;
    cr_assert_neq(parse(SHIFT, "nan", &v), 0);
    cr_assert(strstr(err, "shift: expected a finite number"), "%s", err);
    cr_assert_neq(parse(SHIFT, "inf", &v), 0);
    cr_assert_neq(param_check(&defs[SHIFT], NAN, err, sizeof err), 0);
}

Test(param, rejects_a_value_too_long_to_be_a_number) {
    char text[300];
    memset(text, '1', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    double v;
    cr_assert_neq(parse(COUNT, text, &v), 0);
    cr_assert(strstr(err, "count: expected a value"), "%s", err);
}

Test(param, checks_ranges_integrality_and_exclusive_minimums) {
    cr_assert_eq(param_check(&defs[COUNT], 1, err, sizeof err), 0);
    cr_assert_eq(param_check(&defs[COUNT], 1000, err, sizeof err), 0);
    cr_assert_neq(param_check(&defs[COUNT], 0, err, sizeof err), 0);
    cr_assert(strstr(err, "count: expected a value in [1, 1000], got 0"), "%s", err);
    cr_assert_neq(param_check(&defs[COUNT], 1001, err, sizeof err), 0);
    cr_assert_neq(param_check(&defs[COUNT], 2.5, err, sizeof err), 0);
    cr_assert(strstr(err, "count: expected an integer, got 2.5"), "%s", err);
    cr_assert_neq(param_check(&defs[RATE], 0, err, sizeof err), 0, "min is exclusive");
    cr_assert(strstr(err, "rate: expected a value in (0, 10], got 0"), "%s", err);
    cr_assert_eq(param_check(&defs[RATE], 1e-300, err, sizeof err), 0);
    cr_assert_eq(param_check(&defs[SHIFT], -1, err, sizeof err), 0, "min is inclusive");
}

Test(param, checks_bool_and_enum_values) {
    cr_assert_eq(param_check(&defs[FLAG], 1, err, sizeof err), 0);
    cr_assert_neq(param_check(&defs[FLAG], 0.5, err, sizeof err), 0);
    cr_assert_eq(param_check(&defs[COLOUR], 2, err, sizeof err), 0);
    cr_assert_neq(param_check(&defs[COLOUR], 3, err, sizeof err), 0);
    cr_assert_neq(param_check(&defs[COLOUR], -1, err, sizeof err), 0);
    cr_assert_neq(param_check(&defs[COLOUR], 1.5, err, sizeof err), 0);
    cr_assert(strstr(err, "colour: expected one of red, green, blue"), "%s", err);
}

Test(param, range_checks_parsed_numbers_too) {
    double v;
    cr_assert_neq(parse(COUNT, "5000", &v), 0);
    cr_assert(strstr(err, "count: expected a value in [1, 1000]"), "%s", err);
}

Test(param, formats_values_for_display) {
    char buf[64];
    param_format(&defs[COUNT], 5000, buf, sizeof buf);
    cr_assert_str_eq(buf, "5000");
    param_format(&defs[RATE], 0.1, buf, sizeof buf);
    cr_assert_str_eq(buf, "0.1");
    param_format(&defs[FLAG], 1, buf, sizeof buf);
    cr_assert_str_eq(buf, "true");
    param_format(&defs[COLOUR], 0, buf, sizeof buf);
    cr_assert_str_eq(buf, "red");
}

Test(param, formats_reals_so_that_they_parse_back_exactly) {
    const double xs[] = {0.1, 1.0 / 3.0, 3.1622776601683795e-3, 1e-300, 6.02214076e23, 2.0 / 7};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        char buf[64];
        param_format(&defs[SHIFT], xs[i], buf, sizeof buf);
        cr_assert_eq(strtod(buf, NULL), xs[i], "%s does not read back as %.17g", buf, xs[i]);
    }
}

Test(param, formats_every_parsed_value_back_to_the_same_value) {
    const char *texts[][2] = {{"0", "count"}, {"7", "count"}, {"0.25", "rate"},
                              {"off", "flag"}, {"green", "colour"}, {"-0.5", "shift"}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        int k = param_index(defs, N_DEFS, texts[i][1]);
        double v, w;
        char buf[64];
        if (param_parse(&defs[k], texts[i][0], &v, err, sizeof err) != 0) {
            cr_assert_eq(k, COUNT, "only count=0 is out of range here: %s", err);
            continue;
        }
        param_format(&defs[k], v, buf, sizeof buf);
        cr_assert_eq(param_parse(&defs[k], buf, &w, err, sizeof err), 0, "%s", err);
        cr_assert_eq(v, w, "%s -> %s", texts[i][0], buf);
    }
}
