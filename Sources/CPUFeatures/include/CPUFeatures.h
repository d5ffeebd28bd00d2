#ifndef DIFFUSIOND_CPUFEATURES_H
#define DIFFUSIOND_CPUFEATURES_H

/// SIMD features the CPU has AND the operating system saves/restores (checked with xgetbv),
/// i.e. what a kernel may actually use. All zero on non-x86 builds.
typedef struct {
    int avx;
    int avx2;
    int fma;
    int avx512f;
    int avx512bw;
    int avx512dq;
    int avx512vl;
    int avx512cd;
    int f16c;
    /// AVX512_BF16 (vdpbf16ps): bf16 dot products in zmm registers.
    int avx512bf16;
    /// AMX tiles with the bf16 tile multiply, and XCR0 enabling tile state. Linux additionally wants a
    /// per-process permission (cpu_features_request_amx) before the first tile instruction.
    int amx_tile;
    int amx_bf16;
} cpu_features_t;

/// The raw CPUID/XCR0 words the features are decoded from, so tests can inject any CPU.
typedef struct {
    unsigned int max_leaf;
    unsigned int leaf1_ecx;
    unsigned int leaf7_ebx;
    unsigned int leaf7_edx;
    unsigned int leaf7_1_eax;
    int osxsave;
    unsigned long long xcr0;
} cpu_id_words_t;

cpu_features_t cpu_features_detect(void);
/// The words this CPU reports (all zero off x86).
cpu_id_words_t cpu_id_words_read(void);
/// Features from given words: what cpu_features_detect does with cpu_id_words_read().
cpu_features_t cpu_features_decode(cpu_id_words_t words);
/// Asks Linux for AMX tile data permission (arch_prctl ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) for this
/// process: 1 granted, 0 refused or not Linux/x86. Call once, after any re-exec.
int cpu_features_request_amx(void);

#endif
