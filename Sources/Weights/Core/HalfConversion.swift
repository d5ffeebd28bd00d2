/// Exact IEEE-754 binary16 / bfloat16 to binary32 conversions done on bit patterns, so the result does
/// not depend on the platform's `Float16` support (absent on x86 Linux for some toolchains).
enum HalfConversion {
    /// binary16 -> binary32. Every binary16 value (subnormals, infinities) is exactly representable
    /// in binary32. NaNs keep their payload and come out quiet, as x86's F16C conversion (what torch
    /// uses) produces them.
    @inline(__always)
    static func float(fromHalfBits h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        let bits: UInt32
        if exponent == 0x1F {
            // Inf / NaN: keep the payload (shifted into the top of the float mantissa), quiet NaNs.
            bits = sign | 0x7F80_0000 | (mantissa << 13) | (mantissa != 0 ? 0x0040_0000 : 0)
        } else if exponent != 0 {
            bits = sign | ((exponent + 112) << 23) | (mantissa << 13)
        } else if mantissa == 0 {
            bits = sign
        } else {
            // Subnormal half: normalise. value = mantissa * 2^-24.
            var m = mantissa
            var e: UInt32 = 113  // biased float exponent for 2^-14
            while m & 0x0400 == 0 {
                m <<= 1
                e -= 1
            }
            bits = sign | (e << 23) | ((m & 0x03FF) << 13)
        }
        return Float(bitPattern: bits)
    }

    /// bfloat16 is the top half of a binary32, so conversion is a shift.
    @inline(__always)
    static func float(fromBFloat16Bits b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    /// binary32 -> binary16 with round-to-nearest-even (used by the writer and tests).
    static func halfBits(from value: Float) -> UInt16 {
        let x = value.bitPattern
        let sign = UInt16((x >> 16) & 0x8000)
        let exponent = Int((x >> 23) & 0xFF)
        var mantissa = x & 0x007F_FFFF
        if exponent == 0xFF {
            if mantissa == 0 { return sign | 0x7C00 }
            return sign | 0x7C00 | UInt16(truncatingIfNeeded: max(mantissa >> 13, 1))
        }
        let e = exponent - 127 + 15
        if e >= 0x1F { return sign | 0x7C00 }
        if e <= 0 {
            if e < -10 { return sign }
            mantissa |= 0x0080_0000
            let shift = UInt32(14 - e)
            let half = mantissa >> shift
            let rem = mantissa & ((1 << shift) - 1)
            let halfway = UInt32(1) << (shift - 1)
            var result = half
            if rem > halfway || (rem == halfway && (half & 1) == 1) { result += 1 }
            return sign | UInt16(result)
        }
        var result = UInt32(e) << 10 | (mantissa >> 13)
        let rem = mantissa & 0x1FFF
        if rem > 0x1000 || (rem == 0x1000 && (result & 1) == 1) { result += 1 }
        return sign | UInt16(truncatingIfNeeded: result)
    }

    /// binary32 -> bfloat16 with round-to-nearest-even (NaN kept quiet).
    static func bfloat16Bits(from value: Float) -> UInt16 {
        let x = value.bitPattern
        if value.isNaN { return UInt16(x >> 16) | 0x0040 }
        let rounding = 0x7FFF + ((x >> 16) & 1)
        return UInt16((x &+ rounding) >> 16)
    }
}
