#ifndef DIFFUSIOND_MULTIVERSION_H
#define DIFFUSIOND_MULTIVERSION_H

/* Hot loops are compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time: Swift has no
 * function multiversioning and the package must run on CPUs without AVX. Private to TensorKernels. */
#if defined(__x86_64__) && defined(__linux__) && defined(__clang__)
#define MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MULTIVERSION
#endif

#endif
