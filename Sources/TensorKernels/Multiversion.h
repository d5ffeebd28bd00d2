#ifndef DIFFUSIOND_MULTIVERSION_H
#define DIFFUSIOND_MULTIVERSION_H

/* Hot loops are compiled for AVX-512, x86-64-v3 (AVX2 with FMA), AVX2 alone and baseline x86-64 and picked at
 * load time: Swift has no function multiversioning and the package must run on CPUs without AVX. The "avx2"
 * target does not enable FMA, so on AVX2 CPUs every a * b + c was a multiply and an add; the x86-64-v3 clone
 * made SiLU/GELU about 2.5x and group norm 1.8x faster on an AMD EPYC without AVX-512. Private to TensorKernels. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
/* ThreadSanitizer instruments the ifunc resolvers target_clones makes, which the dynamic loader runs while it
 * relocates the binary, before the TSan runtime is set up: every test binary died with SIGSEGV in
 * __tsan_func_entry from tk_sigmoid's resolver. A TSan build therefore compiles the baseline loops only. */
#define DIFFUSIOND_NO_MULTIVERSION 1
#endif
#endif

#if defined(__x86_64__) && defined(__linux__) && defined(__clang__) && !defined(DIFFUSIOND_NO_MULTIVERSION)
#define MULTIVERSION __attribute__((target_clones("avx512f", "arch=x86-64-v3", "avx2", "default")))
#else
#define MULTIVERSION
#endif

#endif
