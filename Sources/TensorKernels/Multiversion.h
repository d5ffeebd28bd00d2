#ifndef DIFFUSIOND_MULTIVERSION_H
#define DIFFUSIOND_MULTIVERSION_H

/* Hot loops are compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time: Swift has no
 * function multiversioning and the package must run on CPUs without AVX. Private to TensorKernels. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
/* ThreadSanitizer instruments the ifunc resolvers target_clones makes, which the dynamic loader runs while it
 * relocates the binary, before the TSan runtime is set up: every test binary died with SIGSEGV in
 * __tsan_func_entry from tk_sigmoid's resolver. A TSan build therefore compiles the baseline loops only. */
#define DIFFUSIOND_NO_MULTIVERSION 1
#endif
#endif

#if defined(__x86_64__) && defined(__linux__) && defined(__clang__) && !defined(DIFFUSIOND_NO_MULTIVERSION)
#define MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MULTIVERSION
#endif

#endif
