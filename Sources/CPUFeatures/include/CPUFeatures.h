#ifndef DIFFUSIOND_CPUFEATURES_H
#define DIFFUSIOND_CPUFEATURES_H

/// SIMD features the CPU has AND the operating system saves/restores (checked with xgetbv),
/// i.e. what a BLAS kernel may actually use. All zero on non-x86 builds.
typedef struct {
    int avx;
    int avx2;
    int fma;
    int avx512f;
    int avx512bw;
    int avx512dq;
    int avx512vl;
    int avx512cd;
} cpu_features_t;

cpu_features_t cpu_features_detect(void);

#endif
