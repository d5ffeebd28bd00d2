/// GPT-2/CLIP's reversible map from bytes to printable unicode scalars, so that BPE works on text
/// symbols while covering every possible byte: printable Latin-1 bytes map to themselves, the other 68
/// bytes to U+0100 onwards in byte order.
enum ByteLevelAlphabet {
    /// `symbols[b]` is the scalar standing for byte `b`.
    static let symbols: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                // Safe: 256..<324 are valid scalars.
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The order CLIP lists the byte symbols in its vocabulary: printable bytes first, then the rest.
    static let vocabularyOrder: [UInt8] = {
        let printable = (0..<256).filter {
            (0x21...0x7E).contains($0) || (0xA1...0xAC).contains($0) || (0xAE...0xFF).contains($0)
        }
        let rest = (0..<256).filter { !printable.contains($0) }
        return (printable + rest).map { UInt8($0) }
    }()
}
