/* test_spec — the spec parser (spec.h): good files, every kind of bad file (each error must name
 * file:line and the key), value syntax (lists, ranges, logspace/linspace), --set overrides, the
 * canonical text and its hash, and file keys (paths resolved, interned, hashed). Uses a toy family
 * so it does not depend on a real model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <criterion/criterion.h>
#include "attnsweep/grid.h"
#include "attnsweep/spec.h"
#include "attnsweep/train.h"

static const char *const toy_classifiers[] = {"fixed", "linear", "mlp", NULL};
static const param_def_t toy_params[] = {
    {.name = "vocab_size", .section = "task", .type = PARAM_INT, .def = 100, .min = 1, .max = 1e9,
     .help = "vocabulary size"},
    {.name = "words", .section = "task", .type = PARAM_INT, .def = 5, .min = 1, .max = 1e9,
     .help = "words per sentence"},
    {.name = "embed_dim", .section = "model", .type = PARAM_INT, .def = 10, .min = 1, .max = 1e6,
     .help = "embedding dimension"},
    {.name = "classifier", .section = "model", .type = PARAM_ENUM, .choices = toy_classifiers,
     .def = 0,
     .help = "classifier"},
    {.name = "freeze", .section = "model", .type = PARAM_BOOL, .def = 0,
     .help = "freeze the keys"},
    {.name = "init_std", .section = "model", .type = PARAM_REAL, .def = 1, .min = 0, .max = 1e3,
     .min_exclusive = 1,
     .help = "init std (> 0)"},
    {.name = "n_data", .section = "task", .type = PARAM_INT, .def = 50, .min = 1, .max = 1e9,
     .one_value = 1,
     .help = "not sweepable"},
    {.name = "data", .section = "task", .type = PARAM_FILE, .help = "a data file"},
};
static const model_family_t toy_family = {
    .name = "toy", .summary = "a toy family for the spec tests",
    .params = toy_params, .n_params = sizeof toy_params / sizeof toy_params[0],
};
static const param_def_t other_params[] = {
    {.name = "temperature", .section = "model", .type = PARAM_REAL, .def = 1, .min = 0, .max = 10,
     .min_exclusive = 1,
     .help = "a key only 'other' has"},
};
static const model_family_t other_family = {.name = "other", .summary = "one key",
                                            .params = other_params, .n_params = 1};
static const model_family_t *const toy_registry[] = {&toy_family, &other_family, NULL};

static spec_t spec;
static char err[1024];

static void fini(void) { spec_free(&spec); }
TestSuite(spec, .fini = fini);

static int load(const char *text) {
    err[0] = '\0';
    return spec_load_text_in(&spec, toy_registry, "toy.ini", text, NULL, 0, err, sizeof err);
}
static int load_set(const char *text, const char *const *sets, int n) {
    err[0] = '\0';
    return spec_load_text_in(&spec, toy_registry, "toy.ini", text, sets, n, err, sizeof err);
}
static const spec_entry_t *entry(const char *key) {
    for (int i = 0; i < spec.n_entries; i++)
        if (strcmp(spec.entries[i].key, key) == 0) return &spec.entries[i];
    return NULL;
}
/* The load must fail with a message containing every one of the given pieces. */
#define expect_error(text, ...)                                                                   \
    do {                                                                                          \
        cr_assert_neq(load(text), 0, "loaded a bad spec:\n%s", text);                             \
        const char *parts[] = {__VA_ARGS__};                                                      \
        for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++)                               \
            cr_assert(strstr(err, parts[k]), "error lacks '%s': %s", parts[k], err);              \
    } while (0)

static const char good[] =
    "# a toy sweep\n"
    "[model]\n"
    "model = toy          ; the family\n"
    "embed_dim = 8, 16, 32\n"
    "classifier = fixed, mlp   # two classifiers\n"
    "\n"
    "[task]\n"
    "vocab_size = 100\n"
    "\n"
    "[train]\n"
    "steps = 200\n"
    "lr = logspace(1e-3, 1, 7)\n"
    "[grid]\n"
    "seed = 0..4\n";

Test(spec, loads_a_good_file_with_lists_ranges_and_logspace) {
    cr_assert_eq(load(good), 0, "%s", err);
    cr_assert_eq(spec.family, &toy_family);
    cr_assert_eq(spec.n_entries, 6);
    const char *order[] = {"embed_dim", "classifier", "vocab_size", "steps", "lr", "seed"};
    for (int i = 0; i < 6; i++) cr_assert_str_eq(spec.entries[i].key, order[i]);
    const spec_entry_t *e = entry("embed_dim");
    cr_assert_eq(e->n_values, 3);
    cr_assert(e->values[0] == 8 && e->values[1] == 16 && e->values[2] == 32);
    cr_assert_str_eq(e->where, "toy.ini:4");
    cr_assert_str_eq(e->section, "model");
    e = entry("classifier");
    cr_assert_eq(e->n_values, 2);
    cr_assert(e->values[0] == 0 && e->values[1] == 2, "enum values are choice indices");
    cr_assert_str_eq(e->text, "fixed, mlp", "inline # comments are cut");
    e = entry("seed");
    cr_assert_eq(e->n_values, 5);
    for (int i = 0; i < 5; i++) cr_assert_eq(e->values[i], (double)i);
    cr_assert_str_eq(e->section, "grid");
    cr_assert_str_eq(entry("lr")->where, "toy.ini:12");
}

Test(spec, builds_the_schema_as_the_common_keys_then_the_family_keys) {
    cr_assert_eq(load(good), 0, "%s", err);
    cr_assert_eq(spec.n_defs, schema_n_common + toy_family.n_params);
    for (int i = 0; i < schema_n_common; i++)
        cr_assert_str_eq(spec.defs[i].name, schema_common[i].name);
    for (int i = 0; i < toy_family.n_params; i++)
        cr_assert_str_eq(spec.defs[schema_n_common + i].name, toy_params[i].name);
    for (int i = 0; i < spec.n_entries; i++)
        cr_assert_str_eq(spec.defs[spec.entries[i].def].name, spec.entries[i].key);
}

Test(spec, expands_logspace_with_exact_ends_and_log_spacing) {
    cr_assert_eq(load(good), 0, "%s", err);
    const spec_entry_t *e = entry("lr");
    cr_assert_eq(e->n_values, 7);
    for (int i = 0; i < 7; i++)
        cr_assert_float_eq(e->values[i], pow(10.0, -3.0 + 0.5 * i), 1e-12 * pow(10.0, -3.0 + 0.5 * i));
    cr_assert_eq(e->values[0], 1e-3, "first point is exactly a");
    cr_assert_eq(e->values[6], 1.0, "last point is exactly b");
}

Test(spec, expands_linspace_and_rounds_spaced_points_for_integer_keys) {
    const param_def_t *d_real = &toy_params[5], *d_int = &toy_params[0];
    double *v = NULL;
    int n = 0;
    cr_assert_eq(spec_parse_values(d_real, "linspace(0.5, 2, 4)", &v, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 4);
    double want[] = {0.5, 1.0, 1.5, 2.0};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(v[i], want[i], 1e-12);
    free(v);
    cr_assert_eq(spec_parse_values(d_int, "logspace(10, 1000, 5)", &v, &n, err, sizeof err), 0, "%s", err);
    double want_i[] = {10, 32, 100, 316, 1000};
    for (int i = 0; i < 5; i++) cr_assert_eq(v[i], want_i[i], "point %d: %g", i, v[i]);
    free(v);
}

Test(spec, keeps_values_in_the_written_order_and_allows_mixed_items) {
    double *v = NULL;
    int n = 0;
    cr_assert_eq(spec_parse_values(&toy_params[0], "64, 1..3, 16, logspace(1000, 100000, 3)", &v,
                                   &n, err, sizeof err), 0, "%s", err);
    double want[] = {64, 1, 2, 3, 16, 1000, 10000, 100000};
    cr_assert_eq(n, 8);
    for (int i = 0; i < 8; i++) cr_assert_eq(v[i], want[i]);
    free(v);
}

Test(spec, accepts_bool_keys_written_as_words_or_digits) {
    double *v = NULL;
    int n = 0;
    cr_assert_eq(spec_parse_values(&toy_params[4], "false, yes", &v, &n, err, sizeof err), 0);
    cr_assert(n == 2 && v[0] == 0 && v[1] == 1);
    free(v);
}

Test(spec, joins_indented_continuation_lines_into_one_list) {
    cr_assert_eq(load("[model]\nmodel = toy\n[grid]\nseed = 0, 1,\n       2, 3\n  # comment\n"
                      "vocab_size = 10\n"), 0, "%s", err);
    const spec_entry_t *e = entry("seed");
    cr_assert_eq(e->n_values, 4);
    cr_assert_eq(e->values[3], 3.0);
    cr_assert_str_eq(e->where, "toy.ini:4");
    cr_assert_str_eq(entry("vocab_size")->where, "toy.ini:7");
}

Test(spec, reads_windows_line_ends_a_bom_and_keys_indented_under_a_header) {
    cr_assert_eq(load("\xEF\xBB\xBF[model]\r\n  model = toy\r\n[task]\r\n   vocab_size = 7, 8\r\n"), 0,
                 "%s", err);
    cr_assert_eq(entry("vocab_size")->n_values, 2);
    cr_assert_str_eq(entry("vocab_size")->where, "toy.ini:4");
}

Test(spec, reads_classic_mac_line_ends_and_mixed_ones_with_the_right_line_numbers) {
    cr_assert_eq(load("[model]\rmodel = toy\r[task]\rvocab_size = 7, 8\r"), 0, "%s", err);
    cr_assert_eq(entry("vocab_size")->n_values, 2);
    cr_assert_str_eq(entry("vocab_size")->where, "toy.ini:4");
    spec_free(&spec);
    cr_assert_eq(load("[model]\r\nmodel = toy\r[task]\n\r\nwords = 3\rvocab_size = 9"), 0, "%s",
                 err);
    cr_assert_str_eq(entry("words")->where, "toy.ini:5");
    cr_assert_str_eq(entry("vocab_size")->where, "toy.ini:6");
    cr_assert_eq(entry("vocab_size")->values[0], 9.0);
    spec_free(&spec);
    expect_error("[model]\rmodel = toy\rthis is not a key\r", "toy.ini:3",
                 "expected 'key = value', '[section]' or a comment, got 'this is not a key'");
    spec_free(&spec);
    expect_error("[model]\rmodel = toy\r[task]\rvocab_size = 0\r", "toy.ini:4",
                 "vocab_size: expected an integer in [1, 1000000000], got 0");
}

Test(spec, names_a_line_that_is_not_text_and_quotes_it_escaped) {
    expect_error("[model]\nmodel = toy\n\x0e\x19garbage\x1b[2J\n",
                 "toy.ini:3: this line is not text: byte 1 is 0x0e, a control character: "
                 "'\\x0e\\x19garbage\\x1b[2J'; a spec is a UTF-8 text file");
    spec_free(&spec);
    expect_error("# caf\xe9 in Latin-1\n[model]\nmodel = toy\n",
                 "toy.ini:1: this line is not text: byte 6 is 0xe9, not UTF-8: "
                 "'# caf\\xe9 in Latin-1'");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n# \xc2\x9b[31m\n", "toy.ini:3", "0xc2, a control character",
                 "'# \\xc2\\x9b[31m'");
    spec_free(&spec);
    char text[400] = "[model]\nmodel = toy\n# ";
    for (int i = 0; i < 20; i++) strcat(text, "0123456789");
    strcat(text, "\x7f tail\n");
    expect_error(text, "toy.ini:3", "byte 203 is 0x7f, a control character: '...",
                 "0123456789\\x7f tail'");
    for (const char *p = err; *p; p++)
        cr_assert((unsigned char)*p >= 0x20 && *p != 0x7f, "raw byte in: %s", err);
    spec_free(&spec);
    cr_assert_eq(load("# caf\xc3\xa9 \xe2\x89\xa4 \xf0\x9f\x98\x80\t(UTF-8 and a tab)\n"
                      "[model]\nmodel = toy\n"), 0, "%s", err);
}

Test(spec, names_the_line_of_a_nul_byte_in_a_file_on_disk) {
    char path[] = "/tmp/attnsweep_test_spec_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char text[] = "[model]\nmodel = toy\nseed = 1\0002\n";
    cr_assert_eq(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    int rc = spec_load(&spec, path, NULL, 0, err, sizeof err);
    remove(path);
    cr_assert_neq(rc, 0);
    char want[128];
    snprintf(want, sizeof want, "%s:3: this line is not text: byte 9 is 0x00, a control character: "
             "'seed = 1\\x002'", path);
    cr_assert(strstr(err, want), "%s", err);
}

Test(spec, quotes_a_path_with_control_characters_escaped) {
    err[0] = '\0';
    cr_assert_neq(spec_load_text_in(&spec, toy_registry, "a\x1b[2Jb.ini", "[task]\nwords = 3\n",
                                    NULL, 0, err, sizeof err), 0);
    cr_assert(strstr(err, "a\\x1b[2Jb.ini: no [model] section"), "%s", err);
}

static void make_line(char *text, size_t width, const char *eol)
{
    sprintf(text, "[model]%smodel = toy%s[grid]%sseed =", eol, eol, eol);
    size_t start = strlen(text), pad = width - strlen("seed =") - strlen(" 0, 1, 2");
    memset(text + start, ' ', pad);
    sprintf(text + start + pad, " 0, 1, 2%s", eol);
}

Test(spec, limits_lines_to_198_characters_whatever_the_line_end) {
    const char *eols[] = {"\n", "\r\n", "\r"};
    char text[512];
    for (int k = 0; k < 3; k++) {
        make_line(text, 198, eols[k]);
        cr_assert_eq(load(text), 0, "198 characters, end %d: %s", k, err);
        cr_assert_eq(entry("seed")->n_values, 3);
        spec_free(&spec);
        make_line(text, 199, eols[k]);
        expect_error(text, "toy.ini:4: line is 199 characters long, the limit is 198");
        spec_free(&spec);
    }
}

Test(spec, accepts_a_long_comment_line) {
    char text[2000] = "[model]\nmodel = toy\n# ";
    for (int i = 0; i < 100; i++) strcat(text, "long comment ");
    strcat(text, "\n[task]\nvocab_size = 9\n");
    cr_assert_eq(load(text), 0, "%s", err);
    cr_assert_str_eq(entry("vocab_size")->where, "toy.ini:5");
}

/* ------------------------------------------------------------------ bad files */

Test(spec, rejects_an_unknown_key_and_suggests_the_nearest) {
    expect_error("[model]\nmodel = toy\n[task]\nvocab_sise = 10\n", "toy.ini:4",
                 "unknown key 'vocab_sise' in [task]", "did you mean 'vocab_size'",
                 "attnsweep keys toy");
}

Test(spec, suggests_lr_for_a_misspelled_learning_rate) {
    expect_error("[model]\nmodel = toy\n[train]\nlernrate = 0.1\n", "toy.ini:4",
                 "unknown key 'lernrate' in [train]; did you mean 'lr'?");
}

Test(spec, rejects_a_bad_number) {
    expect_error("[model]\nmodel = toy\n[task]\nvocab_size = 1O0\n", "toy.ini:4", "vocab_size",
                 "expected an integer, got '1O0'");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[train]\nlr = 0.1O\n", "toy.ini:4",
                 "lr: expected a number, got '0.1O'");
}

Test(spec, rejects_a_number_out_of_range_or_not_an_integer) {
    expect_error("[model]\nmodel = toy\n[task]\nvocab_size = 0\n", "toy.ini:4", "vocab_size",
                 "expected an integer in [1, 1000000000], got 0");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[task]\nvocab_size = 10.5\n", "toy.ini:4", "vocab_size",
                 "expected an integer");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[train]\nlr = 0\n", "toy.ini:4", "lr", "(0,");
}

Test(spec, rejects_an_empty_value_and_an_empty_list_item) {
    expect_error("[model]\nmodel = toy\nembed_dim =\n", "toy.ini:3", "embed_dim",
                 "got nothing");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\nembed_dim = 1, , 3\n", "toy.ini:3", "embed_dim",
                 "empty item");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\nembed_dim = 1, 2,\n", "toy.ini:3", "embed_dim",
                 "empty item");
}

Test(spec, rejects_a_reversed_range) {
    expect_error("[model]\nmodel = toy\n[grid]\nseed = 9..0\n", "toy.ini:4", "seed",
                 "reversed range '9..0'", "0..9");
}

Test(spec, rejects_a_range_with_non_integer_ends) {
    expect_error("[model]\nmodel = toy\n[grid]\nseed = 0..2.5\n", "toy.ini:4", "seed",
                 "between integer ends, got '0..2.5'");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[grid]\nseed = 0..x\n", "toy.ini:4", "seed",
                 "expected a range of two integers like 0..9, got '0..x'");
}

Test(spec, rejects_a_duplicate_key_in_the_same_section_naming_both_lines) {
    expect_error("[model]\nmodel = toy\n[train]\nlr = 0.1\nsteps = 5\nlr = 0.2\n", "toy.ini:6",
                 "duplicate key 'lr'", "toy.ini:4");
}

Test(spec, rejects_a_key_set_both_in_its_section_and_in_grid) {
    expect_error("[model]\nmodel = toy\n[train]\nlr = 0.1\n[grid]\nlr = 0.1, 0.2\n", "toy.ini:6",
                 "duplicate key 'lr'", "toy.ini:4");
}

Test(spec, rejects_a_repeated_value_in_a_list) {
    expect_error("[model]\nmodel = toy\n[grid]\nseed = 0..3, 2\n", "toy.ini:4", "seed",
                 "value 2 appears more than once");
}

Test(spec, rejects_a_missing_model_section) {
    expect_error("[task]\nvocab_size = 10\n", "toy.ini", "no [model] section", "model = NAME",
                 "toy, other");
}

Test(spec, rejects_a_model_section_without_the_model_key) {
    expect_error("[model]\nembed_dim = 3\n", "toy.ini", "[model] has no 'model = NAME'");
}

Test(spec, rejects_an_unknown_model_listing_the_families) {
    expect_error("[model]\nmodel = toyy\n", "toy.ini:2", "unknown model 'toyy'", "toy, other");
}

Test(spec, rejects_a_list_of_models) {
    expect_error("[model]\nmodel = toy, other\n", "toy.ini:2", "one family per spec");
}

Test(spec, rejects_the_model_key_in_grid) {
    expect_error("[grid]\nmodel = toy\n", "toy.ini:2", "'model' belongs in [model]");
}

Test(spec, rejects_a_key_in_the_wrong_section_naming_the_right_one) {
    expect_error("[model]\nmodel = toy\n[train]\nvocab_size = 10\n", "toy.ini:4", "'vocab_size'",
                 "belongs in [task]", "not in [train]");
}

Test(spec, rejects_a_list_for_a_key_that_cannot_be_swept) {
    expect_error("[model]\nmodel = toy\n[grid]\nlog_every = 10, 20\n", "toy.ini:4", "log_every",
                 "cannot be swept", "got 2 values");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[task]\nn_data = 1..3\n", "toy.ini:4", "n_data",
                 "cannot be swept");
}

Test(spec, rejects_an_unknown_section_at_its_header_even_when_empty) {
    expect_error("[model]\nmodel = toy\n[training]\n[task]\nvocab_size = 3\n", "toy.ini:3",
                 "unknown section [training]", "[train]");
}

Test(spec, suggests_the_nearest_section_for_a_misspelt_one) {
    expect_error("[model]\nmodel = toy\n[training]\nlr = 0.1\n", "toy.ini:3",
                 "unknown section [training]; did you mean [train]?");
}

Test(spec, says_when_an_unknown_key_belongs_to_another_family) {
    expect_error("[model]\nmodel = toy\ntemperature = 2\n", "toy.ini:3",
                 "unknown key 'temperature' for model toy", "key of model other");
}

Test(spec, hints_that_values_are_written_without_quotes) {
    expect_error("[model]\nmodel = toy\nclassifier = \"mlp\"\n", "toy.ini:3", "classifier",
                 "without quotes");
}

Test(spec, rejects_a_key_before_any_section) {
    expect_error("lr = 0.1\n[model]\nmodel = toy\n", "toy.ini:1", "'lr'", "outside any section");
}

Test(spec, rejects_a_line_that_is_not_ini) {
    expect_error("[model]\nmodel = toy\nthis is not a key\n", "toy.ini:3",
                 "expected 'key = value'", "this is not a key");
}

Test(spec, rejects_an_indented_key_that_would_silently_continue_the_previous_value) {
    expect_error("[model]\nmodel = toy\n[train]\nsteps = 10\n  lr = 0.5\n", "toy.ini:5",
                 "continuation of 'steps'", "remove the indentation");
}

Test(spec, rejects_an_over_long_value_line_with_its_line_number) {
    char text[2000] = "[model]\nmodel = toy\n[grid]\nseed = 0";
    for (int i = 1; i < 100; i++) sprintf(text + strlen(text), ", %d", i);
    strcat(text, "\n");
    expect_error(text, "toy.ini:4", "limit", "continuation lines");
}

Test(spec, rejects_logspace_with_a_non_positive_end_or_bad_arguments) {
    expect_error("[model]\nmodel = toy\n[train]\nmax_seconds = logspace(0, 1, 3)\n", "toy.ini:4",
                 "max_seconds: logspace(a, b, n) needs a > 0 and b > 0, got a = 0, b = 1");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[train]\nlr = logspace(0, 1, 3)\n", "toy.ini:4",
                 "lr: expected a number in (0, 1000000], got 0 (from 'logspace(0, 1, 3)')");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[train]\nlr = logspace(1e-3, 1)\n", "toy.ini:4", "lr",
                 "logspace(a, b, n)");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[train]\nlr = logspace(1e-3, 1, 0)\n", "toy.ini:4",
                 "1 <= n");
}

Test(spec, rejects_a_range_or_logspace_on_an_enum_key) {
    expect_error("[model]\nmodel = toy\nclassifier = 0..2\n", "toy.ini:3", "classifier",
                 "numeric key");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\nclassifier = fixed, cnn\n", "toy.ini:3", "classifier",
                 "expected one of fixed, linear, mlp", "'cnn'");
}

Test(spec, rejects_an_over_large_range) {
    expect_error("[model]\nmodel = toy\n[grid]\nseed = 0..99999999\n", "toy.ini:4", "seed",
                 "range '0..99999999' has 100000000 values; a key takes at most 1000000");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[grid]\nseed = 5, 0..999999\n", "toy.ini:4",
                 "seed: more than 1000000 values");
}

/* Ends near the int64 limits: the count b - a must not overflow, and it is checked before any
 * allocation (the address-space cap makes an expansion attempt fail fast instead of eating GBs). */
Test(spec, counts_a_range_near_the_int64_limits_before_allocating) {
    struct rlimit cap = {.rlim_cur = 1L << 30, .rlim_max = 1L << 30};
    cr_assert_eq(setrlimit(RLIMIT_AS, &cap), 0);
    const char *ranges[][2] = {
        {"-1..9223372036854775807", "has 9223372036854775809 values; a key takes at most 1000000"},
        {"-9223372036854775808..9223372036854775807", "has 18446744073709551616 values"},
        {"0..9223372036854775807", "has 9223372036854775808 values"},
        {"-9223372036854775808..0", "has 9223372036854775809 values"},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        double *v = NULL;
        int n = 0;
        cr_assert_neq(spec_parse_values(&toy_params[0], ranges[i][0], &v, &n, err, sizeof err), 0,
                      "accepted %s", ranges[i][0]);
        cr_assert_null(v);
        cr_assert(strstr(err, ranges[i][1]), "%s: %s", ranges[i][0], err);
    }
    expect_error("[model]\nmodel = toy\n[grid]\nseed = -1..9223372036854775807\n", "toy.ini:4",
                 "seed: range '-1..9223372036854775807' has 9223372036854775809 values");
}

Test(spec, checks_range_ends_exactly_against_the_key_range) {
    expect_error("[model]\nmodel = toy\n[grid]\nseed = 9007199254740990..9007199254740993\n",
                 "toy.ini:4", "seed: expected an integer in [0, 9007199254740991], got "
                 "9007199254740993 (from '9007199254740990..9007199254740993')");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[grid]\nseed = 0..99999999999999999999\n", "toy.ini:4",
                 "seed: expected an integer in [0, 9007199254740991], got 99999999999999999999 "
                 "(from '0..99999999999999999999')");
    spec_free(&spec);
    cr_assert_eq(load("[model]\nmodel = toy\n[grid]\nseed = 9007199254740989..9007199254740991, "
                      "1e3..1.002e3\n"), 0, "%s", err);
    const spec_entry_t *e = entry("seed");
    cr_assert_eq(e->n_values, 6);
    cr_assert_eq(e->values[2], 9007199254740991.0);
    cr_assert_eq(e->values[5], 1002.0);
}

Test(spec, rejects_a_range_with_real_ends_suggesting_linspace_for_a_real_key) {
    expect_error("[model]\nmodel = toy\n[train]\nlr = 0.5..3\n", "toy.ini:4",
                 "lr: a range a..b steps by 1 between integer ends, got '0.5..3'; for real values "
                 "write linspace(0.5, 3, n)");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[train]\nsteps = 1..2.5\n", "toy.ini:4",
                 "steps: a range a..b steps by 1 between integer ends, got '1..2.5'");
    cr_assert_null(strstr(err, "linspace"), "%s", err);
}

Test(spec, rejects_space_counts_that_are_not_whole_or_past_the_limit_before_allocating) {
    struct rlimit cap = {.rlim_cur = 1L << 30, .rlim_max = 1L << 30};
    cr_assert_eq(setrlimit(RLIMIT_AS, &cap), 0);
    const char *bad[][2] = {
        {"logspace(1e-3, 1, 99999999999999999999)", "got n = 99999999999999999999"},
        {"linspace(0.1, 1, 2000000)", "got n = 2000000"},
        {"linspace(0.1, 1, 0)", "got n = 0"},
        {"linspace(0.1, 1, -5)", "got n = -5"},
        {"logspace(1e-3, 1, 2.5)", "got n = 2.5"},
        {"logspace(1e-3, 1, 0x10)", "got n = 0x10"},
        {"0.5, linspace(0.1, 1, 1000000)", "more than 1000000 values"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double *v = NULL;
        int n = 0;
        cr_assert_neq(spec_parse_values(&toy_params[5], bad[i][0], &v, &n, err, sizeof err), 0,
                      "accepted %s", bad[i][0]);
        cr_assert(strstr(err, bad[i][1]), "%s: %s", bad[i][0], err);
        if (i < 6) cr_assert(strstr(err, "needs an integer n with 1 <= n <= 1000000"), "%s", err);
    }
    double *v = NULL;
    int n = 0;
    cr_assert_eq(spec_parse_values(&toy_params[5], "logspace(1e-3, 1, 1e1)", &v, &n, err,
                                   sizeof err), 0, "%s", err);
    cr_assert_eq(n, 10, "n = 1e1 is a whole number");
    free(v);
}

Test(spec, reads_space_ends_as_the_key_reads_a_value) {
    expect_error("[model]\nmodel = toy\n[train]\nlr = logspace(0x1p-10, 1, 3)\n", "toy.ini:4",
                 "lr: expected a number, got '0x1p-10'; write numbers in decimal (from "
                 "'logspace(0x1p-10, 1, 3)')");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[train]\nlr = linspace(0.1, inf, 3)\n", "toy.ini:4",
                 "lr: expected a finite number, got 'inf'");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[train]\nlr = linspace(0.1, 1e999, 3)\n", "toy.ini:4",
                 "lr: expected a number in (0, 1000000], got 1e999");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[train]\nsteps = linspace(0.5, 10, 3)\n", "toy.ini:4",
                 "steps: expected an integer, got 0.5 (from 'linspace(0.5, 10, 3)')");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[train]\nseed = linspace(0, 9007199254740993, 3)\n",
                 "toy.ini:4", "got 9007199254740993 (from");
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[train]\nlr = logspace(1e-3, 1e9, 3)\n", "toy.ini:4",
                 "lr: expected a number in (0, 1000000], got 1000000000 "
                 "(from 'logspace(1e-3, 1e9, 3)')");
}

Test(spec, reads_integer_keys_in_exponent_notation_and_minus_zero_as_zero) {
    cr_assert_eq(load("[model]\nmodel = toy\n[train]\nsteps = 1e3, 2.5e3, -0\n"), 0, "%s", err);
    const spec_entry_t *e = entry("steps");
    cr_assert(e->values[0] == 1000 && e->values[1] == 2500 && e->values[2] == 0);
    cr_assert(!signbit(e->values[2]));
    spec_free(&spec);
    expect_error("[model]\nmodel = toy\n[train]\nmax_seconds = 0, -0\n", "toy.ini:4",
                 "max_seconds: the value 0 appears more than once in '0, -0'");
}

Test(spec, quotes_control_characters_in_a_value_list_escaped) {
    double *v = NULL;
    int n = 0;
    const char *bad[] = {"1, \x0e\x19, 3", "1, , \x1b[2J", "0..\x07", "linspace(1, 2, \x08)",
                         "5, 5 \x7f, 5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_neq(spec_parse_values(&toy_params[0], bad[i], &v, &n, err, sizeof err), 0);
        for (const char *p = err; *p; p++)
            cr_assert((unsigned char)*p >= 0x20 && *p != 0x7f, "raw byte in: %s", err);
        cr_assert(strstr(err, "\\x"), "no escape in: %s", err);
    }
}

Test(spec, leaves_the_spec_empty_and_freeable_after_an_error) {
    cr_assert_neq(load("[model]\nmodel = toy\n[task]\nvocab_size = x\n"), 0);
    cr_assert_null(spec.entries);
    cr_assert_null(spec.text);
    spec_free(&spec);
    spec_free(&spec);
}

Test(spec, rejects_a_continuation_line_when_the_list_line_lacks_a_comma) {
    expect_error("[model]\nmodel = toy\n[grid]\nseed = 0, 1\n    2, 3\n", "toy.ini:5",
                 "continues 'seed' (toy.ini:4)", "end it with ','");
}

Test(spec, rejects_a_line_with_no_key_before_the_equals_sign) {
    expect_error("[model]\nmodel = toy\n[task]\n= 5\n", "toy.ini:4", "no key name");
}

Test(spec, reads_a_section_header_with_blanks_inside_the_brackets) {
    cr_assert_eq(load("[ model ]\nmodel = toy\n[ task]\nvocab_size = 7\n"), 0, "%s", err);
    cr_assert_str_eq(entry("vocab_size")->section, "task");
}

Test(spec, suggests_the_key_for_a_wrongly_capitalised_one) {
    expect_error("[model]\nmodel = toy\n[train]\nLR = 0.1\n", "toy.ini:4", "unknown key 'LR'",
                 "did you mean 'lr'");
}

/* ------------------------------------------------------------------ overrides */

Test(spec, an_override_replaces_a_key_in_place_and_names_itself_as_the_source) {
    const char *sets[] = {"train.lr=0.5"};
    cr_assert_eq(load_set(good, sets, 1), 0, "%s", err);
    cr_assert_str_eq(spec.entries[4].key, "lr", "position kept");
    cr_assert_eq(spec.entries[4].n_values, 1);
    cr_assert_eq(spec.entries[4].values[0], 0.5);
    cr_assert_str_eq(spec.entries[4].where, "--set train.lr=0.5");
}

Test(spec, an_override_in_grid_replaces_a_key_from_its_home_section) {
    const char *sets[] = {"grid.vocab_size=10, 20"};
    cr_assert_eq(load_set(good, sets, 1), 0, "%s", err);
    const spec_entry_t *e = entry("vocab_size");
    cr_assert_eq(e->n_values, 2);
    cr_assert_str_eq(e->section, "grid");
    cr_assert_eq(spec.entries[2].values[1], 20.0, "still third in order");
}

Test(spec, an_override_of_an_absent_key_is_appended_last) {
    const char *sets[] = {"model.freeze=false,true", "task.words=3"};
    cr_assert_eq(load_set(good, sets, 2), 0, "%s", err);
    cr_assert_eq(spec.n_entries, 8);
    cr_assert_str_eq(spec.entries[6].key, "freeze");
    cr_assert_str_eq(spec.entries[7].key, "words");
    cr_assert_str_eq(spec.entries[7].where, "--set task.words=3");
}

Test(spec, the_last_of_two_overrides_of_a_key_wins) {
    const char *sets[] = {"train.lr=0.5", "train.lr=0.25"};
    cr_assert_eq(load_set(good, sets, 2), 0, "%s", err);
    cr_assert_eq(entry("lr")->values[0], 0.25);
}

Test(spec, an_override_can_change_the_model_family) {
    const char *sets[] = {"model.model=other"};
    cr_assert_neq(load_set(good, sets, 1), 0, "toy keys are unknown to 'other'");
    cr_assert(strstr(err, "toy.ini:4") && strstr(err, "unknown key 'embed_dim'"), "%s", err);
    spec_free(&spec);
    cr_assert_eq(load_set("[model]\nmodel = toy\n", sets, 1), 0, "%s", err);
    cr_assert_eq(spec.family, &other_family);
}

Test(spec, an_override_may_supply_the_missing_model_key) {
    const char *sets[] = {"model.model=toy"};
    cr_assert_eq(load_set("[task]\nvocab_size = 4\n", sets, 1), 0, "%s", err);
    cr_assert_eq(spec.family, &toy_family);
}

Test(spec, rejects_a_bad_override_naming_it) {
    const char *bad[][2] = {
        {"lr=0.1", "expected section.key=value, e.g. --set train.lr=0.1"},
        {"train.lr", "expected section.key=value"},
        {"training.lr=0.1", "unknown section 'training'"},
        {"train.lernrate=0.1", "unknown key 'lernrate'"},
        {"task.lr=0.1", "belongs in [train]"},
        {"train.lr=-1", "lr: expected a number in (0, 1000000], got -1"},
        {"train.=1", "no key"},
        {"grid.log_every=1,2", "cannot be swept"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *sets[] = {bad[i][0]};
        cr_assert_neq(load_set(good, sets, 1), 0, "accepted --set %s", bad[i][0]);
        char want[128];
        snprintf(want, sizeof want, "--set %s", bad[i][0]);
        cr_assert(strstr(err, want), "error does not name the override: %s", err);
        cr_assert(strstr(err, bad[i][1]), "error lacks '%s': %s", bad[i][1], err);
        spec_free(&spec);
    }
}

Test(spec, rejects_an_override_that_is_not_one_line_of_text) {
    const char *bad[][2] = {
        {"train.lr=0.1\n[train]\nsteps=5", "--set train.lr=0.1\\x0a[train]\\x0asteps=5: not one "
                                            "line of text: byte 13 is 0x0a, a control character"},
        {"train.lr=0.1\x0e\x19", "byte 13 is 0x0e"},
        {"train.l\x1b[31mr=0.1", "byte 8 is 0x1b"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *sets[] = {bad[i][0]};
        cr_assert_neq(load_set(good, sets, 1), 0, "accepted --set %s", bad[i][0]);
        cr_assert(strstr(err, "not one line of text") && strstr(err, bad[i][1]), "%s", err);
        for (const char *p = err; *p; p++)
            cr_assert((unsigned char)*p >= 0x20, "raw byte in: %s", err);
        spec_free(&spec);
    }
}

/* ------------------------------------------------------------------ canonical text, hash */

Test(spec, the_canonical_text_is_the_file_then_one_comment_per_override) {
    const char *sets[] = {"train.lr=0.5", "grid.seed=0..1"};
    cr_assert_eq(load_set(good, sets, 2), 0, "%s", err);
    char want[2048];
    snprintf(want, sizeof want, "%s# --set train.lr=0.5\n# --set grid.seed=0..1\n", good);
    cr_assert_str_eq(spec.text, want);
    char hex[65];
    spec_sha256_hex(want, strlen(want), hex);
    cr_assert_str_eq(spec.sha256, hex);
}

Test(spec, the_hash_changes_with_an_override_and_not_without) {
    char h0[65], h1[65];
    cr_assert_eq(load(good), 0, "%s", err);
    cr_assert_str_eq(spec.text, good, "no override: the text is the file's bytes");
    memcpy(h0, spec.sha256, 65);
    spec_free(&spec);
    cr_assert_eq(load(good), 0, "%s", err);
    cr_assert_str_eq(spec.sha256, h0, "same text, same hash");
    spec_free(&spec);
    const char *sets[] = {"train.lr=0.5"};
    cr_assert_eq(load_set(good, sets, 1), 0, "%s", err);
    memcpy(h1, spec.sha256, 65);
    cr_assert_str_neq(h0, h1);
    cr_assert_eq(strlen(h1), 64);
}

Test(spec, a_file_without_a_final_newline_gets_one_before_the_overrides) {
    const char *sets[] = {"train.lr=0.5"};
    cr_assert_eq(load_set("[model]\nmodel = toy", sets, 1), 0, "%s", err);
    cr_assert_str_eq(spec.text, "[model]\nmodel = toy\n# --set train.lr=0.5\n");
}

Test(spec, sha256_matches_the_fips_180_4_test_vectors) {
    char hex[65];
    spec_sha256_hex("abc", 3, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    spec_sha256_hex("", 0, hex);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    spec_sha256_hex(m, strlen(m), hex);
    cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* ------------------------------------------------------------------ files on disk */

Test(spec, reports_a_missing_file_and_a_directory_by_name) {
    cr_assert_neq(spec_load(&spec, "/nonexistent/x.ini", NULL, 0, err, sizeof err), 0);
    cr_assert(strstr(err, "/nonexistent/x.ini") && strstr(err, "cannot open"), "%s", err);
    cr_assert_neq(spec_load(&spec, ATTNSWEEP_SOURCE_DIR "/examples", NULL, 0, err, sizeof err), 0);
    cr_assert(strstr(err, "not a regular file"), "%s", err);
}

Test(spec, loads_a_file_with_its_path_in_every_location_and_its_bytes_as_text) {
    char path[] = "/tmp/attnsweep_test_spec_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    /* spec_load uses the built-in registry: a real family (lu2021) and its real keys */
    const char *text = "# lu2021\n[model]\nmodel = lu2021\nembed_dim = 5, 10\n[train]\nsteps = 10\n";
    FILE *fp = fdopen(fd, "w");
    fputs(text, fp);
    fclose(fp);
    const char *sets[] = {"train.steps=300"};
    int rc = spec_load(&spec, path, sets, 1, err, sizeof err);
    remove(path);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_str_eq(spec.path, path);
    char where[64];
    snprintf(where, sizeof where, "%s:4", path);
    cr_assert_str_eq(spec.entries[0].where, where);
    cr_assert(strncmp(spec.text, text, strlen(text)) == 0);
    cr_assert_str_eq(spec.text + strlen(text), "# --set train.steps=300\n");
    cr_assert_eq(spec.entries[1].values[0], 300.0);
}

static void load_example(const char *name, long min_runs)
{
    char path[512];
    snprintf(path, sizeof path, "%s/examples/%s", ATTNSWEEP_SOURCE_DIR, name);
    cr_assert_eq(spec_load(&spec, path, NULL, 0, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(spec.family->name, "lu2021");
    long runs = 1;
    for (int i = 0; i < spec.n_entries; i++) runs *= spec.entries[i].n_values;
    cr_assert_geq(runs, min_runs, "%s has %ld runs", name, runs);
}

Test(spec, loads_the_demo_example) { load_example("demo.ini", 8); }
Test(spec, loads_the_lu2021_grid_example) { load_example("lu2021-grid.ini", 100); }

/* ---- [points] ------------------------------------------------------------------------------ */

static const char points_spec[] =
    "[model]\nmodel = toy\n[points]\nkeys = embed_dim, init_std\npoint = 8, 0.5\n"
    "point = 16, 1\npoint = 32, 0.25\n[grid]\nseed = 0..1\n";

Test(spec, reads_points_as_tuples_of_their_keys_in_file_order) {
    cr_assert_eq(load(points_spec), 0, "%s", err);
    cr_assert_eq(spec.n_point_keys, 2);
    cr_assert_str_eq(spec.defs[spec.point_def[0]].name, "embed_dim");
    cr_assert_str_eq(spec.defs[spec.point_def[1]].name, "init_std");
    cr_assert_eq(spec.n_points, 3);
    double want[] = {8, 0.5, 16, 1, 32, 0.25};
    for (int i = 0; i < 6; i++) cr_expect_eq(spec.points[i], want[i], "value %d", i);
    cr_expect_null(entry("point"), "the [points] lines are not entries");
    cr_expect_not_null(entry("seed"));
}

Test(spec, the_hash_covers_the_points) {
    char a[65];
    cr_assert_eq(load(points_spec), 0, "%s", err);
    memcpy(a, spec.sha256, sizeof a);
    spec_free(&spec);
    char other[sizeof points_spec];
    memcpy(other, points_spec, sizeof points_spec);
    *strstr(other, "0.25") = '9'; /* point = 32, 9.25 */
    cr_assert_eq(load(other), 0, "%s", err);
    cr_expect_str_neq(spec.sha256, a);
}

Test(spec, rejects_bad_points_naming_the_line) {
    expect_error("[model]\nmodel = toy\n[points]\nkeys = embed_dim\npoint = 8\npoint = 8\n",
                 "toy.ini:6", "listed twice");
    expect_error("[model]\nmodel = toy\n[points]\nkeys = embed_dim, init_std\npoint = 8\n",
                 "toy.ini:5", "a point has 1 values, the [points] keys are 2");
    expect_error("[model]\nmodel = toy\n[points]\nkeys = embed_dim\npoint = 0\n",
                 "toy.ini:5", "embed_dim");
    expect_error("[model]\nmodel = toy\nembed_dim = 4, 8\n[points]\nkeys = embed_dim\npoint = 8\n",
                 "toy.ini:3", "is a [points] key", "set it there only");
    expect_error("[model]\nmodel = toy\n[points]\nkeys = embed_dimm\npoint = 8\n",
                 "unknown key 'embed_dimm'", "did you mean 'embed_dim'");
    expect_error("[model]\nmodel = toy\n[points]\nkeys = n_data\npoint = 8\n", "cannot vary");
    expect_error("[model]\nmodel = toy\n[points]\npoint = 8\n", "needs a 'keys = a, b' line");
    expect_error("[model]\nmodel = toy\n[points]\nkeys = embed_dim\nvalues = 8\n",
                 "unknown key 'values' in [points]");
    const char *sets[] = {"points.point=4"};
    cr_assert_neq(load_set(points_spec, sets, 1), 0);
    cr_expect(strstr(err, "[points] is read from the spec file only"), "%s", err);
}

/* ---- file keys ---------------------------------------------------------------------------- */

static char fdir[64];

/* fdir/name holding text. */
static void put_file(const char *name, const char *text)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", fdir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static void files_init(void)
{
    snprintf(fdir, sizeof fdir, "/tmp/attnsweep_test_files_%d", (int)getpid());
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s/sub", fdir, fdir);
    cr_assert_eq(system(cmd), 0);
}

static void files_fini(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fdir);
    cr_assert_eq(system(cmd), 0);
    spec_free(&spec);
}

TestSuite(files, .init = files_init, .fini = files_fini);

/* Load fdir/sub/s.ini holding body after its [model] section, with the toy family. */
static int load_in_dir(const char *body, const char *const *sets, int n)
{
    char path[160], text[1024];
    snprintf(path, sizeof path, "%s/sub/s.ini", fdir);
    snprintf(text, sizeof text, "[model]\nmodel = toy\n%s", body);
    err[0] = '\0';
    return spec_load_text_in(&spec, toy_registry, path, text, sets, n, err, sizeof err);
}

Test(files, a_relative_path_is_taken_from_the_spec_s_folder_and_one_in_a_set_from_the_working_directory)
{
    put_file("sub/a.tsv", "1 a\n");
    put_file("b.tsv", "0 b\n");
    cr_assert_eq(load_in_dir("[grid]\ndata = a.tsv, ../b.tsv\n", NULL, 0), 0, "%s", err);
    char a[160], b[160];
    snprintf(a, sizeof a, "%s/sub/a.tsv", fdir);
    snprintf(b, sizeof b, "%s/b.tsv", fdir);
    cr_assert_eq(spec.n_files, 3);
    cr_expect_str_eq(spec.files[0], "", "0 is no file (the default)");
    cr_expect_str_eq(spec.files[1], a);
    cr_expect_str_eq(spec.files[2], b, "'../b.tsv' is a path, not a range");
    const spec_entry_t *e = &spec.entries[0];
    cr_assert_eq(e->n_values, 2);
    cr_expect(e->values[0] == 1 && e->values[1] == 2);
    grid_t g;
    params_t p;
    cr_assert_eq(grid_init(&g, &spec, err, sizeof err), 0, "%s", err);
    grid_run_params(&g, 1, &p);
    cr_expect_str_eq(params_gets(&p, "data"), b, "the run's value is the path");
    char shown[200];
    param_format(&g.defs[param_index(g.defs, g.n_defs, "data")], p.v[param_index(g.defs, g.n_defs, "data")],
                 shown, sizeof shown);
    cr_expect_str_eq(shown, b);
    grid_free(&g);
    spec_free(&spec);
    cr_assert_eq(chdir(fdir), 0);
    const char *sets[] = {"task.data=sub/a.tsv"};
    cr_assert_eq(load_in_dir("", sets, 1), 0, "%s", err);
    cr_expect_str_eq(spec.files[1], a);
    spec_free(&spec);
    cr_assert_eq(load_in_dir("[task]\ndata =\n", NULL, 0), 0, "%s", err);
    cr_expect_eq(spec.entries[0].values[0], 0.0, "an empty value is no file");
    cr_expect_str_eq(spec.data_files, "");
}

/* "SHA256  PATH\n" of fdir/name with text. */
static void sha_line(const char *name, const char *text, char *out, size_t n)
{
    char hex[65];
    spec_sha256_hex(text, strlen(text), hex);
    snprintf(out, n, "%s  %s/%s\n", hex, fdir, name);
}

Test(files, data_files_holds_the_sha256_of_every_file_and_of_the_dev_and_test_beside_a_train)
{
    put_file("sub/x.train", "1 a\n");
    put_file("sub/x.dev", "0 b\n");
    put_file("sub/x.test", "1 c\n");
    put_file("sub/y.tsv", "1 d\n");
    cr_assert_eq(load_in_dir("[task]\ndata = x.train, y.tsv\n", NULL, 0), 0, "%s", err);
    char want[1024] = "", line[256];
    static const char *const name[][2] = {{"sub/x.train", "1 a\n"}, {"sub/x.dev", "0 b\n"},
                                          {"sub/x.test", "1 c\n"}, {"sub/y.tsv", "1 d\n"}};
    for (int i = 0; i < 4; i++) {
        sha_line(name[i][0], name[i][1], line, sizeof line);
        strcat(want, line);
    }
    cr_expect_str_eq(spec.data_files, want);
    char mine[1024], path[160];
    snprintf(path, sizeof path, "%s/sub/y.tsv", fdir);
    sha_line("sub/y.tsv", "1 d\n", line, sizeof line);
    cr_expect_str_eq(spec_data_lines(spec.data_files, path, mine, sizeof mine), line);
    snprintf(path, sizeof path, "%s/sub/x.train", fdir);
    cr_expect_eq(strlen(spec_data_lines(spec.data_files, path, mine, sizeof mine)),
                 strlen(want) - strlen(line), "x.train's three lines");
}

Test(files, a_missing_file_a_folder_a_repeated_file_and_a_point_key_are_errors_naming_the_line)
{
    put_file("sub/a.tsv", "1 a\n");
    char want[320];
    cr_assert_neq(load_in_dir("[task]\ndata = nope.tsv\n", NULL, 0), 0);
    snprintf(want, sizeof want, "%s/sub/s.ini:4: data: cannot open 'nope.tsv' (%s/sub/nope.tsv): "
             "No such file or directory", fdir, fdir);
    cr_expect(strstr(err, want), "%s", err);
    spec_free(&spec);
    cr_assert_neq(load_in_dir("[task]\ndata = ../sub\n", NULL, 0), 0);
    cr_expect(strstr(err, "s.ini:4: data:") && strstr(err, "not a regular file"), "%s", err);
    spec_free(&spec);
    cr_assert_neq(load_in_dir("[task]\ndata = a.tsv, ./a.tsv\n", NULL, 0), 0);
    cr_expect(strstr(err, "s.ini:4: data: the file") && strstr(err, "appears more than once"),
              "%s", err);
    spec_free(&spec);
    cr_assert_neq(load_in_dir("[task]\ndata = a.tsv, , a.tsv\n", NULL, 0), 0);
    cr_expect(strstr(err, "empty item"), "%s", err);
    spec_free(&spec);
    cr_assert_neq(load_in_dir("[points]\nkeys = data\npoint = a.tsv\n", NULL, 0), 0);
    cr_expect(strstr(err, "data is a file key"), "%s", err);
}
