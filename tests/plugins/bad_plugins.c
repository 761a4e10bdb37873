/* bad_plugins — shared objects the loader must refuse, one per BAD_KIND (compiled once per kind
 * by tests/CMakeLists.txt): 1 an old ABI, 2 no train_acc/test_acc metrics, 3 a built-in's name,
 * 4 no exported family at all. */
#include <attnsweep/model.h>

#if BAD_KIND != 4
static const metric_def_t metrics[] = {{"train_loss", "loss", "1"}, {"train_acc", "acc", "1"},
                                       {"test_acc", "acc", "1"}};
static int init(void **s, const params_t *p, char *e, size_t n) { (void)s, (void)p, (void)e, (void)n; return 0; }
static int step(void *s, long k, double *l, char *e, size_t n) { (void)s, (void)k, (void)e, (void)n; *l = 0; return 0; }
static int eval(void *s, double *m, char *e, size_t n) { (void)s, (void)m, (void)e, (void)n; return 0; }
static void done(void *s) { (void)s; }
static const model_family_t family = {
    .abi = BAD_KIND == 1 ? ATTNSWEEP_MODEL_ABI + 100 : ATTNSWEEP_MODEL_ABI,
    .name = BAD_KIND == 3 ? "lu2021" : "bad",
    .summary = "a plugin the loader must refuse",
    .metrics = metrics, .n_metrics = BAD_KIND == 2 ? 1 : 3,
    .init = init, .step = step, .eval = eval, .free = done,
};
ATTNSWEEP_MODEL_PLUGIN(family)
#else
int not_a_model = 1;
#endif
