/* test_param — the typed parameter schema (param.h): lookup by name, parsing of every type,
 * range/integrality/enum checks with messages naming the key, and formatting that reads back. */
#include <float.h>
#include <limits.h>
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
    {.name = "seed", .section = "train", .type = PARAM_INT, .def = 0, .min = 0,
     .max = 9007199254740991.0, .help = "up to 2^53 - 1, like the common key"},
    {.name = "offset", .section = "task", .type = PARAM_INT, .def = 0, .min = -5, .max = 5,
     .help = "signed"},
    {.name = "wide", .section = "task", .type = PARAM_INT, .def = 0, .min = -1e30, .max = 1e30,
     .help = "a range wider than a double holds integers exactly"},
};
enum { COUNT, RATE, FLAG, COLOUR, SHIFT, SEED, OFFSET, WIDE, N_DEFS };

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
    const char *bad[] = {"", "   ", "abc", "12abc", "1.2.3", "1e999", "1e-999"};
    double v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_neq(parse(RATE, bad[i], &v), 0, "accepted '%s'", bad[i]);
        cr_assert(strncmp(err, "rate: expected", 14) == 0, "%s", err);
    }
}

Test(param, rejects_infinities_and_nans_in_every_spelling) {
    const char *bad[] = {"nan", "NaN", "-nan", "nan(0x1)", "inf", "-inf", "+INF", "Infinity",
                         "-infinity"};
    double v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_neq(parse(SHIFT, bad[i], &v), 0, "accepted %s", bad[i]);
        char want[64];
        snprintf(want, sizeof want, "shift: expected a finite number, got '%s'", bad[i]);
        cr_assert_str_eq(err, want);
        cr_assert_neq(parse(COUNT, bad[i], &v), 0, "accepted %s", bad[i]);
        cr_assert(strstr(err, "count: expected a finite number"), "%s", err);
    }
    cr_assert_neq(param_check(&defs[SHIFT], NAN, err, sizeof err), 0);
    cr_assert_neq(param_check(&defs[COUNT], INFINITY, err, sizeof err), 0);
    cr_assert_str_eq(err, "count: expected a finite number, got inf");
}

Test(param, rejects_hexadecimal_numbers_for_integer_and_real_keys) {
    double v;
    cr_assert_neq(parse(COUNT, "0x1F4", &v), 0);
    cr_assert_str_eq(err, "count: expected an integer, got '0x1F4'; write numbers in decimal");
    cr_assert_neq(parse(RATE, "0x1p-3", &v), 0);
    cr_assert_str_eq(err, "rate: expected a number, got '0x1p-3'; write numbers in decimal");
    cr_assert_neq(parse(SHIFT, "-0X.8", &v), 0);
    cr_assert(strstr(err, "write numbers in decimal"), "%s", err);
}

Test(param, rejects_underscores_blanks_and_other_forms_outside_the_grammar) {
    const char *bad[] = {"1_000", "1 000", "0. 5", "1e", "e5", ".", "+", "-", "1e+", "--1",
                         "+-1", "1,5", "1e5.5", "5e1e2", "0b101", "1d3",
                         "\xef\xbc\x91" /* fullwidth 1 */};
    double v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_neq(parse(SHIFT, bad[i], &v), 0, "accepted '%s'", bad[i]);
        cr_assert(strstr(err, "shift: expected a number, got '"), "%s", err);
        cr_assert_neq(parse(COUNT, bad[i], &v), 0, "accepted '%s'", bad[i]);
        cr_assert(strstr(err, "count: expected an integer, got '"), "%s", err);
    }
}

Test(param, accepts_the_decimal_forms_the_grammar_allows) {
    const char *good[][2] = {{".5", "0.5"}, {"1.", "1"}, {"+0.25", "0.25"}, {"-1E0", "-1"},
                             {"2.5e-1", "0.25"}, {"0000.5", "0.5"}, {"1e+0", "1"}};
    double v, want;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cr_assert_eq(parse(SHIFT, good[i][0], &v), 0, "%s: %s", good[i][0], err);
        want = strtod(good[i][1], NULL);
        cr_assert_eq(v, want, "%s read as %g", good[i][0], v);
    }
}

Test(param, reads_minus_zero_as_zero) {
    double v = 1;
    cr_assert_eq(parse(SHIFT, "-0", &v), 0, "%s", err);
    cr_assert(v == 0 && !signbit(v), "-0 kept its sign");
    cr_assert_eq(parse(SHIFT, "-0.0e5", &v), 0, "%s", err);
    cr_assert(v == 0 && !signbit(v), "-0.0e5 kept its sign");
    cr_assert_eq(parse(OFFSET, "-0", &v), 0, "%s", err);
    cr_assert(v == 0 && !signbit(v));
    char buf[16];
    param_format(&defs[OFFSET], -0.0, buf, sizeof buf);
    cr_assert_str_eq(buf, "0");
}

Test(param, rejects_reals_beyond_a_double_with_the_range_or_the_smallest_magnitude) {
    double v;
    cr_assert_neq(parse(RATE, "1e999", &v), 0);
    cr_assert_str_eq(err, "rate: expected a number in (0, 10], got 1e999");
    cr_assert_neq(parse(SHIFT, "-1e999", &v), 0);
    cr_assert_str_eq(err, "shift: expected a number in [-1, 1], got -1e999");
    cr_assert_neq(parse(SHIFT, "1e-999", &v), 0);
    cr_assert_str_eq(err, "shift: expected 0 or a magnitude of at least 2.2e-308 (a double's "
                          "smallest), got 1e-999");
    cr_assert_neq(parse(SHIFT, "1e-310", &v), 0, "subnormal");
    cr_assert_eq(parse(SHIFT, "0e-999", &v), 0, "zero written with a tiny exponent is 0");
    cr_assert_eq(v, 0.0);
    cr_assert_eq(parse(SHIFT, "2.2250738585072014e-308", &v), 0, "%s", err);
    cr_assert_eq(v, DBL_MIN);
}

Test(param, reads_a_long_number_and_quotes_a_long_bad_one_cut_short) {
    char text[400] = "0.";
    memset(text + 2, '0', 300);
    strcpy(text + 302, "1e300");
    double v;
    cr_assert_eq(parse(SHIFT, text, &v), 0, "%s", err);
    cr_assert_float_eq(v, 1e-1, 1e-16);
    memset(text, '1', 300);
    text[300] = '\0';
    cr_assert_neq(parse(COUNT, text, &v), 0);
    const char *want = "count: expected an integer in [1, 1000], got 1111";
    cr_assert(strncmp(err, want, strlen(want)) == 0, "%s", err);
    cr_assert(strlen(err) < 130 && strcmp(err + strlen(err) - 3, "...") == 0, "%s", err);
    memset(text, '0', 300);
    strcpy(text + 300, "7");
    cr_assert_eq(parse(COUNT, text, &v), 0, "%s", err);
    cr_assert_eq(v, 7.0);
}

Test(param, checks_ranges_integrality_and_exclusive_minimums) {
    cr_assert_eq(param_check(&defs[COUNT], 1, err, sizeof err), 0);
    cr_assert_eq(param_check(&defs[COUNT], 1000, err, sizeof err), 0);
    cr_assert_neq(param_check(&defs[COUNT], 0, err, sizeof err), 0);
    cr_assert_str_eq(err, "count: expected an integer in [1, 1000], got 0");
    cr_assert_neq(param_check(&defs[COUNT], 1001, err, sizeof err), 0);
    cr_assert_neq(param_check(&defs[COUNT], 2.5, err, sizeof err), 0);
    cr_assert_str_eq(err, "count: expected an integer, got 2.5");
    cr_assert_neq(param_check(&defs[RATE], 0, err, sizeof err), 0, "min is exclusive");
    cr_assert_str_eq(err, "rate: expected a number in (0, 10], got 0");
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
    cr_assert_str_eq(err, "count: expected an integer in [1, 1000], got 5000");
    cr_assert_neq(parse(COUNT, "5e3", &v), 0);
    cr_assert_str_eq(err, "count: expected an integer in [1, 1000], got 5000", "the value in full");
}

Test(param, reads_integers_exactly_past_what_a_double_holds) {
    const struct { const char *text; long long want; } good[] = {
        {"9007199254740993", 9007199254740993LL}, {"9223372036854775807", LLONG_MAX},
        {"-9223372036854775808", LLONG_MIN}, {"1e18", 1000000000000000000LL},
        {"9.223372036854775807e18", LLONG_MAX}, {"2.50e1", 25}, {"1.", 1}, {"-0", 0},
        {"0e999999999999999999999", 0}, {"12345678901234567.8e1", 123456789012345678LL},
        {"1000e-3", 1}, {"+42", 42},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        long long x = -1;
        cr_assert_eq(param_read_integer(good[i].text, strlen(good[i].text), &x), PARAM_NUM_OK,
                     "%s", good[i].text);
        cr_assert_eq(x, good[i].want, "%s read as %lld", good[i].text, x);
    }
    const struct { const char *text; param_num_t want; } bad[] = {
        {"9223372036854775808", PARAM_NUM_TOO_LARGE}, {"-9223372036854775809", PARAM_NUM_TOO_LARGE},
        {"1e19", PARAM_NUM_TOO_LARGE}, {"1e999999999999999999999", PARAM_NUM_TOO_LARGE},
        {"1.5", PARAM_NUM_FRACTION}, {".5", PARAM_NUM_FRACTION},
        {"1e-999999999999", PARAM_NUM_FRACTION},
        {"0x10", PARAM_NUM_SYNTAX}, {" 1", PARAM_NUM_SYNTAX}, {"", PARAM_NUM_SYNTAX},
        {"-inf", PARAM_NUM_NONFINITE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long long x;
        cr_assert_eq(param_read_integer(bad[i].text, strlen(bad[i].text), &x), bad[i].want, "%s",
                     bad[i].text);
    }
}

Test(param, names_integers_past_the_range_in_full) {
    double v;
    cr_assert_neq(parse(SEED, "9007199254740993", &v), 0);
    cr_assert_str_eq(err, "seed: expected an integer in [0, 9007199254740991], "
                          "got 9007199254740993");
    cr_assert_neq(parse(SEED, "99999999999999999999999", &v), 0);
    cr_assert_str_eq(err, "seed: expected an integer in [0, 9007199254740991], "
                          "got 99999999999999999999999");
    cr_assert_eq(parse(SEED, "9007199254740991", &v), 0, "%s", err);
    cr_assert_eq(v, 9007199254740991.0);
    cr_assert_neq(param_check(&defs[SEED], 9007199254740992.0, err, sizeof err), 0);
    cr_assert_str_eq(err, "seed: expected an integer in [0, 9007199254740991], "
                          "got 9007199254740992");
    cr_assert_neq(param_check_integer(&defs[SEED], LLONG_MIN, err, sizeof err), 0);
    cr_assert_str_eq(err, "seed: expected an integer in [0, 9007199254740991], "
                          "got -9223372036854775808");
    cr_assert_eq(param_check_integer(&defs[OFFSET], -5, err, sizeof err), 0);
}

Test(param, keeps_integer_keys_within_the_integers_a_double_holds_exactly) {
    double v;
    cr_assert_eq(parse(WIDE, "-9007199254740992", &v), 0, "%s", err);
    cr_assert_eq(v, -9007199254740992.0);
    cr_assert_neq(parse(WIDE, "9007199254740993", &v), 0, "would be stored as 2^53");
    cr_assert_str_eq(err, "wide: expected an integer in [-9007199254740992, 9007199254740992], "
                          "got 9007199254740993");
}

Test(param, accepts_exponent_notation_for_integer_keys_when_the_value_is_whole) {
    const char *good[][2] = {{"1e3", "1000"}, {"1.5e2", "150"}, {"10e-1", "1"}, {"1.0", "1"},
                             {"2.500E2", "250"}};
    double v;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cr_assert_eq(parse(COUNT, good[i][0], &v), 0, "%s: %s", good[i][0], err);
        cr_assert_eq(v, strtod(good[i][1], NULL), "%s read as %g", good[i][0], v);
    }
    cr_assert_neq(parse(COUNT, "2.5", &v), 0);
    cr_assert_str_eq(err, "count: expected an integer, got 2.5");
    cr_assert_neq(parse(COUNT, "1.5e-3", &v), 0);
    cr_assert_str_eq(err, "count: expected an integer, got 1.5e-3");
}

Test(param, checks_an_integer_against_a_real_key_exactly) {
    cr_assert_eq(param_check_integer(&defs[RATE], 10, err, sizeof err), 0);
    cr_assert_neq(param_check_integer(&defs[RATE], 0, err, sizeof err), 0, "min is exclusive");
    cr_assert_str_eq(err, "rate: expected a number in (0, 10], got 0");
    cr_assert_neq(param_check_integer(&defs[RATE], 11, err, sizeof err), 0);
    cr_assert_neq(param_check_integer(&defs[RATE], LLONG_MAX, err, sizeof err), 0);
    cr_assert_str_eq(err, "rate: expected a number in (0, 10], got 9223372036854775807");
}

/* ------------------------------------------------------------------ quoting input */

Test(param, quotes_control_characters_escaped_and_keeps_utf8_text) {
    char buf[128];
    const char in[] = "a\x0e\x19" "b\x1b[31m\x7f\tc\xc3\xa9\xe2\x89\xa4\xf0\x9f\x98\x80";
    cr_assert_str_eq(param_quote(in, strlen(in), buf, sizeof buf),
                     "a\\x0e\\x19" "b\\x1b[31m\\x7f\tc\xc3\xa9\xe2\x89\xa4\xf0\x9f\x98\x80");
    const char nul[] = {'x', 0, 'y'};
    cr_assert_str_eq(param_quote(nul, 3, buf, sizeof buf), "x\\x00y");
    /* C1 CSI as UTF-8 and as a lone byte, an overlong '/', a surrogate, a truncated sequence,
     * bytes that never start UTF-8 */
    const char odd[] = "\xc2\x9b|\x9b|\xc0\xaf|\xed\xa0\x80|\xe2\x89|\xf5\xff";
    cr_assert_str_eq(param_quote(odd, strlen(odd), buf, sizeof buf),
                     "\\xc2\\x9b|\\x9b|\\xc0\\xaf|\\xed\\xa0\\x80|\\xe2\\x89|\\xf5\\xff");
    cr_assert_eq(param_text_len(in, strlen(in)), 1);
    cr_assert_eq(param_text_len("a\tb\xc3\xa9", 5), 5);
    cr_assert_eq(param_text_len("ab\xc3", 3), 2);
}

Test(param, cuts_a_long_quote_with_dots_never_inside_a_character_or_an_escape) {
    char buf[8];
    cr_assert_str_eq(param_quote("abcdefghij", 10, buf, sizeof buf), "abcd...");
    cr_assert_str_eq(param_quote("abcdefg", 7, buf, sizeof buf), "abcdefg", "fits exactly");
    cr_assert_str_eq(param_quote("ab\x01cdefg", 8, buf, sizeof buf), "ab...");
    cr_assert_str_eq(param_quote("abc\xe2\x89\xa4defg", 10, buf, sizeof buf), "abc...");
    cr_assert_str_eq(param_quote("abcd", 4, buf, 3), "ab", "too small for dots: a plain cut");
    cr_assert_str_eq(param_quote("", 0, buf, sizeof buf), "");
}

Test(param, quotes_bad_values_escaped_in_every_message) {
    double v;
    const char *bad[] = {"0.1\x0e\x19", "\x1b[2J", "1\x7f"};
    for (int k = 0; k < N_DEFS; k++)
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            cr_assert_neq(param_parse(&defs[k], bad[i], &v, err, sizeof err), 0);
            for (const char *p = err; *p; p++)
                cr_assert((unsigned char)*p >= 0x20 && *p != 0x7f, "raw byte in: %s", err);
            cr_assert(strstr(err, "\\x"), "no escape in: %s", err);
        }
}

Test(param, formats_values_for_display) {
    char buf[64];
    param_format(&defs[COUNT], 5000, buf, sizeof buf);
    cr_assert_str_eq(buf, "5000");
    param_format(&defs[SEED], 9007199254740991.0, buf, sizeof buf);
    cr_assert_str_eq(buf, "9007199254740991");
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

Test(param, a_file_key_s_value_is_an_index_into_its_table_of_paths) {
    param_def_t file = {.name = "data_file", .section = "task", .type = PARAM_FILE,
                        .help = "a data file"};
    char buf[64];
    double v;
    params_t p;
    params_defaults(&p, &file, 1);
    cr_expect(param_is_text(&file) && !param_is_text(&defs[0]));
    cr_expect_str_eq(params_gets(&p, "data_file"), "", "no table: the default, no file");
    cr_expect_eq(param_check(&file, 0, err, sizeof err), 0);
    cr_expect_neq(param_check(&file, 1, err, sizeof err), 0);
    static const char *const table[] = {"", "/data/a.tsv", "/data/b.tsv", NULL};
    file.choices = table;
    p.v[0] = 2;
    cr_expect_str_eq(params_gets(&p, "data_file"), "/data/b.tsv");
    param_format(&file, 1, buf, sizeof buf);
    cr_expect_str_eq(buf, "/data/a.tsv");
    cr_expect_eq(param_parse(&file, "/data/b.tsv", &v, err, sizeof err), 0, "%s", err);
    cr_expect_eq(v, 2.0);
    cr_expect_neq(param_parse(&file, "/data/c.tsv", &v, err, sizeof err), 0);
    cr_expect(strstr(err, "data_file") && strstr(err, "/data/c.tsv"), "%s", err);
    cr_expect_neq(param_check(&file, 3, err, sizeof err), 0);
    cr_expect_neq(param_check(&file, 0.5, err, sizeof err), 0);
    cr_expect(strstr(err, "data_file"), "%s", err);
}
