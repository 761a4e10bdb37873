/* sakamoto2024 (private) — the kernels of the token-selection model that tests reach directly:
 * the attention head (softmax, output, logistic loss, dL/dscores) and the full gradient in
 * W and p, BLAS-backed and as a plain _ref. The family itself is sakamoto2024_family (model.h). */
#ifndef ATTNSWEEP_SAKAMOTO2024_H
#define ATTNSWEEP_SAKAMOTO2024_H
#include "attnsweep/model.h"

extern const model_family_t sakamoto2024_family;

/* Head over N samples of T tokens (a, z, s, delta: [N·T]; y, f: [N]). From the attention scores
 * a (a_t = x_t^T W p) and token outputs z (z_t = <x_t, nu>): s = softmax_t(a) (overwritten),
 * f = Σ_t s_t z_t (overwritten), *loss = mean_i log(1 + exp(-y_i f_i)), and, if delta is not
 * NULL, delta = dLoss/da (overwritten). Returns the number of samples with y_i f_i > 0. */
int sk_head(int N, int T, const double *a, const double *z, const double *y, double *s,
            double *f, double *delta, double *loss);

/* Loss and gradient of the model at explicit weights. X [N·T, D] tokens (row-major), z [N·T],
 * y [N], W [D, D], p [D]. Overwrites *loss, dW [D, D] = (X^T delta) p^T and dp [D] = W^T X^T
 * delta. work: at least 2·D + 5·N·T doubles. sk_grad uses CBLAS (dgemv, dger); sk_grad_ref is the
 * same computation in plain loops. */
void sk_grad(int N, int T, int D, const double *X, const double *z, const double *y,
             const double *W, const double *p, double *loss, double *dW, double *dp,
             double *work);
void sk_grad_ref(int N, int T, int D, const double *X, const double *z, const double *y,
                 const double *W, const double *p, double *loss, double *dW, double *dp,
                 double *work);

#endif
