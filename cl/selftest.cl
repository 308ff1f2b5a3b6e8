/* Self-test kernel: y[i] = a * x[i] + b, checked against the host.
 * Also proves the build options reach the compiler (SELFTEST_SCALE). */
#ifndef SELFTEST_SCALE
#define SELFTEST_SCALE 1.0f
#endif

__kernel void selftest_axpb(__global const float *x, int x_off, __global float *y, int y_off,
                            float a, float b, int n)
{
    int i = get_global_id(0);
    if (i >= n) return;
    y[y_off + i] = SELFTEST_SCALE * (a * x[x_off + i] + b);
}
