/* lu2021 (private) — what tests reach inside the lu2021 family beyond the model interface: the
 * parameter groups of a live model and the loss/gradient on the whole training set through the
 * same code path a full-batch step uses (for finite-difference checks). */
#ifndef ATTNSWEEP_LU2021_LU2021_H
#define ATTNSWEEP_LU2021_LU2021_H
#include <stddef.h>
#include "attnsweep/model.h"
#include "task.h"

extern const model_family_t lu2021_family;

/* Parameter groups. The classifier uses CLS1 only (fixed, linear: U [D×K]) or all four
 * (mlp: W1 [D×hidden], b1 [hidden], W2 [hidden×K], b2 [K]). */
enum {
    LU2021_EMBED,  /* E [V×D], word embeddings */
    LU2021_KEYS,   /* κ [V×Dk], word keys */
    LU2021_QUERY,  /* q [Dk] */
    LU2021_CLS1,
    LU2021_CLS2,
    LU2021_CLS3,
    LU2021_CLS4,
    LU2021_N_GROUPS
};

typedef struct {
    const char *name;  /* "embed", "keys", "query", "U", "W1", "b1", "W2", "b2" */
    double *values;    /* float64: the live parameters (tests may overwrite them); float32:
                        * NULL (use lu2021_get / lu2021_set) */
    size_t n;          /* 0 for an unused group */
    int trained;       /* 1 if steps update it */
} lu2021_group_t;

/* The groups of a model made by lu2021_family.init. An eval leaves the next step the gradient at
 * the current weights; calling this drops it, so call it again after an eval before writing
 * weights that a step will use. */
void lu2021_groups(void *state, lu2021_group_t groups[LU2021_N_GROUPS]);
/* 1 if the model computes in float32 (model.precision = float32), 0 if in float64. */
int lu2021_is_f32(void *state);
/* The parameters as doubles: vals[g] (groups[g].n values, NULL to skip) is overwritten. */
void lu2021_get(void *state, double *const vals[LU2021_N_GROUPS]);
/* Overwrite the parameters with vals[g] (NULL: keep the group), rounded to the model's precision;
 * drops a gradient an eval left. */
void lu2021_set(void *state, const double *const vals[LU2021_N_GROUPS]);
/* Mean cross-entropy over the training set at the current weights into *loss and, when grads is
 * not NULL, its gradient: grads[g] (groups[g].n values, NULL to skip) is overwritten, with zeros
 * for groups that are not trained. Computed in the model's precision, by the code a full-batch
 * step runs. Full-batch runs only (batch_size 0): 0 ok, -1 otherwise. */
int lu2021_loss_and_grad(void *state, double *loss, double *const grads[LU2021_N_GROUPS]);
/* The float32 path's one-vector fast paths (the fixed and linear classifiers' cross-entropy and
 * the low-rank word update at rows of 8 floats): on = 1 (the default) or 0 (the generic code,
 * which gives the same bits; tests compare them); -1 only queries. Returns the setting. */
int lu2021_fast(int on);
/* The model's data set (read-only). */
const task_data_t *lu2021_data(void *state);

#endif
