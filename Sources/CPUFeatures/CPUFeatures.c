#include "CPUFeatures.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/// XCR0 via xgetbv; only valid when CPUID reports OSXSAVE.
static unsigned long long read_xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

cpu_features_t cpu_features_detect(void) {
    cpu_features_t f = {0};
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
    int osxsave = (ecx >> 27) & 1;
    if (!osxsave) return f;
    unsigned long long xcr0 = read_xcr0();
    /* SSE (bit 1) and AVX (bit 2) state must be enabled for 256-bit registers. */
    int ymm_ok = (xcr0 & 0x6) == 0x6;
    /* Opmask (5), ZMM_Hi256 (6), Hi16_ZMM (7) as well for AVX-512. */
    int zmm_ok = ymm_ok && (xcr0 & 0xe0) == 0xe0;
    f.avx = ymm_ok && ((ecx >> 28) & 1);
    f.fma = ymm_ok && ((ecx >> 12) & 1);
    if (__get_cpuid_max(0, 0) < 7) return f;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    f.avx2 = ymm_ok && ((ebx >> 5) & 1);
    f.avx512f = zmm_ok && ((ebx >> 16) & 1);
    f.avx512dq = zmm_ok && ((ebx >> 17) & 1);
    f.avx512cd = zmm_ok && ((ebx >> 28) & 1);
    f.avx512bw = zmm_ok && ((ebx >> 30) & 1);
    f.avx512vl = zmm_ok && ((ebx >> 31) & 1);
    return f;
}
#else
cpu_features_t cpu_features_detect(void) {
    cpu_features_t f = {0};
    return f;
}
#endif
