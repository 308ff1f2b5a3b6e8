/* Activation functions and their derivatives, shared by the elementwise, conv
 * and generated (fused) kernels: a file that needs them starts with
 * `//@require act.cl`. Codes match aecl_act in lib/ops/act.h. */
#define ACT_NONE 0
#define ACT_RELU 1
#define ACT_LEAKY 2
#define ACT_SIGMOID 3
#define ACT_TANH 4
#define ACT_ELU 5
#define ACT_SOFTPLUS 6

float act_apply(int act, float x, float slope)
{
    switch (act) {
    case ACT_RELU: return fmax(x, 0.0f);
    case ACT_LEAKY: return x > 0.0f ? x : slope * x;
    case ACT_SIGMOID: return 1.0f / (1.0f + exp(-x));
    case ACT_TANH: return tanh(x);
    case ACT_ELU: return x > 0.0f ? x : slope * (exp(x) - 1.0f);
    case ACT_SOFTPLUS: return fmax(x, 0.0f) + log1p(exp(-fabs(x)));
    default: return x;
    }
}

/* dy/dx from the output y (elu: alpha = slope). softplus: sigmoid(x) = 1 - exp(-y). */
float act_grad(int act, float y, float slope)
{
    switch (act) {
    case ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
    case ACT_LEAKY: return y > 0.0f ? 1.0f : slope;
    case ACT_SIGMOID: return y * (1.0f - y);
    case ACT_TANH: return 1.0f - y * y;
    case ACT_ELU: return y > 0.0f ? 1.0f : y + slope;
    case ACT_SOFTPLUS: return -expm1(-y);
    default: return 1.0f;
    }
}
