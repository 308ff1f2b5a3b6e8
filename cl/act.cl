//@require vec.cl
/* Activation functions and their derivatives: the one definition that every
 * kernel uses (elementwise, GEMM and conv epilogues, generated fused kernels;
 * a file that needs them starts with `//@require act.cl`). Codes match aecl_act
 * in lib/ops/act.h.
 *
 * Each activation n is a macro pair, written once for floats and float vectors
 * (the builtins overload; T names the type where a constant needs it):
 *   ACT_APPLY_n(x, s)     act(x)                 s: leaky slope, elu alpha
 *   ACT_DERIV_n(T, y, s)  act'(x) from y = act(x) (softplus: sigmoid(x) = 1 - e^-y)
 * Kernels built for one activation (-DACT=n) take ACT_APPLY(n, ...) and
 * ACT_DERIV(n, ...); kernels that get the code as an argument take the switch
 * bodies ACT_APPLY_SWITCH / ACT_DERIV_SWITCH, or act_apply / act_grad on floats.
 *
 * NaN: relu maps NaN to 0 (fmax returns the other argument); leaky relu and elu
 * pass it on (select takes the x <= 0 branch, slope * NaN), as the host
 * references do: a diverging model shows NaN wherever its activation was fused.
 * The derivatives take their y <= 0 branch for a NaN y. */
#define ACT_NONE 0
#define ACT_RELU 1
#define ACT_LEAKY 2
#define ACT_SIGMOID 3
#define ACT_TANH 4
#define ACT_ELU 5
#define ACT_SOFTPLUS 6

#define ACT_APPLY_0(x, s) (x)
#define ACT_APPLY_1(x, s) fmax((x), 0.0f)
#define ACT_APPLY_2(x, s) select((s) * (x), (x), (x) > 0.0f)
#define ACT_APPLY_3(x, s) (1.0f / (1.0f + exp(-(x))))
#define ACT_APPLY_4(x, s) tanh(x)
#define ACT_APPLY_5(x, s) select((s) * (exp(x) - 1.0f), (x), (x) > 0.0f)
/* log(1 + e^x) without overflow */
#define ACT_APPLY_6(x, s) (fmax((x), 0.0f) + log1p(exp(-fabs(x))))

#define ACT_DERIV_0(T, y, s) ((T)1.0f)
#define ACT_DERIV_1(T, y, s) select((T)0.0f, (T)1.0f, (y) > 0.0f)
#define ACT_DERIV_2(T, y, s) select((T)(s), (T)1.0f, (y) > 0.0f)
#define ACT_DERIV_3(T, y, s) ((y) * (1.0f - (y)))
#define ACT_DERIV_4(T, y, s) (1.0f - (y) * (y))
#define ACT_DERIV_5(T, y, s) select((y) + (s), (T)1.0f, (y) > 0.0f)
#define ACT_DERIV_6(T, y, s) (-expm1(-(y)))

/* Activation n known when the kernel is built (n a literal or a -D macro). */
#define ACT_APPLY(n, x, s) VEC_CAT(ACT_APPLY_, n)(x, s)
#define ACT_DERIV(n, T, y, s) VEC_CAT(ACT_DERIV_, n)(T, y, s)

/* Function bodies for an activation code known at run time. */
#define ACT_APPLY_SWITCH(act, x, s)                                            \
    switch (act) {                                                             \
    case ACT_RELU: return ACT_APPLY_1(x, s);                                   \
    case ACT_LEAKY: return ACT_APPLY_2(x, s);                                  \
    case ACT_SIGMOID: return ACT_APPLY_3(x, s);                                \
    case ACT_TANH: return ACT_APPLY_4(x, s);                                   \
    case ACT_ELU: return ACT_APPLY_5(x, s);                                    \
    case ACT_SOFTPLUS: return ACT_APPLY_6(x, s);                               \
    default: return ACT_APPLY_0(x, s);                                         \
    }
#define ACT_DERIV_SWITCH(act, T, y, s)                                         \
    switch (act) {                                                             \
    case ACT_RELU: return ACT_DERIV_1(T, y, s);                                \
    case ACT_LEAKY: return ACT_DERIV_2(T, y, s);                               \
    case ACT_SIGMOID: return ACT_DERIV_3(T, y, s);                             \
    case ACT_TANH: return ACT_DERIV_4(T, y, s);                                \
    case ACT_ELU: return ACT_DERIV_5(T, y, s);                                 \
    case ACT_SOFTPLUS: return ACT_DERIV_6(T, y, s);                            \
    default: return ACT_DERIV_0(T, y, s);                                      \
    }

float act_apply(int act, float x, float slope) { ACT_APPLY_SWITCH(act, x, slope) }

/* dy/dx from the output y (elu: alpha = slope). */
float act_grad(int act, float y, float slope) { ACT_DERIV_SWITCH(act, float, y, slope) }
