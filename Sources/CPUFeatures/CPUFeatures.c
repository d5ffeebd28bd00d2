#include "CPUFeatures.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

/// XCR0 via xgetbv; only valid when CPUID reports OSXSAVE.
static unsigned long long read_xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

cpu_id_words_t cpu_id_words_read(void) {
    cpu_id_words_t w = {0};
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return w;
    w.leaf1_ecx = ecx;
    w.osxsave = (ecx >> 27) & 1;
    if (w.osxsave) w.xcr0 = read_xcr0();
    w.max_leaf = __get_cpuid_max(0, 0);
    if (w.max_leaf >= 7) {
        __cpuid_count(7, 0, eax, ebx, ecx, edx);
        w.leaf7_ebx = ebx;
        w.leaf7_edx = edx;
        if (eax >= 1) {
            unsigned int eax1, ebx1, ecx1, edx1;
            __cpuid_count(7, 1, eax1, ebx1, ecx1, edx1);
            w.leaf7_1_eax = eax1;
        }
    }
    return w;
}

int cpu_features_request_amx(void) {
#if defined(__linux__) && defined(SYS_arch_prctl)
    const long ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18;
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
    return 0;
#endif
}
#else
cpu_id_words_t cpu_id_words_read(void) {
    cpu_id_words_t w = {0};
    return w;
}

int cpu_features_request_amx(void) { return 0; }
#endif

cpu_features_t cpu_features_decode(cpu_id_words_t w) {
    cpu_features_t f = {0};
    if (!w.osxsave) return f;
    const unsigned int ecx = w.leaf1_ecx, ebx = w.leaf7_ebx, edx = w.leaf7_edx;
    /* SSE (bit 1) and AVX (bit 2) state must be enabled for 256-bit registers. */
    int ymm_ok = (w.xcr0 & 0x6) == 0x6;
    /* Opmask (5), ZMM_Hi256 (6), Hi16_ZMM (7) as well for AVX-512. */
    int zmm_ok = ymm_ok && (w.xcr0 & 0xe0) == 0xe0;
    /* XTILECFG (17) and XTILEDATA (18) for AMX. */
    int tile_ok = (w.xcr0 & 0x60000ULL) == 0x60000ULL;
    f.avx = ymm_ok && ((ecx >> 28) & 1);
    f.fma = ymm_ok && ((ecx >> 12) & 1);
    f.f16c = f.avx && ((ecx >> 29) & 1);
    if (w.max_leaf < 7) return f;
    f.avx2 = ymm_ok && ((ebx >> 5) & 1);
    f.avx512f = zmm_ok && ((ebx >> 16) & 1);
    f.avx512dq = zmm_ok && ((ebx >> 17) & 1);
    f.avx512cd = zmm_ok && ((ebx >> 28) & 1);
    f.avx512bw = zmm_ok && ((ebx >> 30) & 1);
    f.avx512vl = zmm_ok && ((ebx >> 31) & 1);
    f.avx512bf16 = f.avx512f && ((w.leaf7_1_eax >> 5) & 1);
    f.amx_tile = tile_ok && ((edx >> 24) & 1);
    f.amx_bf16 = f.amx_tile && ((edx >> 22) & 1);
    return f;
}

cpu_features_t cpu_features_detect(void) { return cpu_features_decode(cpu_id_words_read()); }
