import VipsShim

/// What a PNG's compressed text chunks (zTXt, and iTXt with its compression flag set) inflate to, counted
/// without keeping it. libpng (as libvips 8.14 sets it up) caps each chunk at 50 MiB but not their sum: a
/// 1.5 MB PNG of forty zTXt chunks made a header read take 3.1 GB and 28 s. So `PNGChunkBounds` counts the
/// text of the whole file against `maxInflatedTextBytes` before libvips sees it.
struct PNGTextInflation {
    /// The most all compressed text of one PNG may inflate to: far above any generation-parameters text or
    /// XMP packet seen in practice (libvips allows 50 MiB for one chunk), far below what hurts the daemon.
    static let maxInflatedTextBytes = 64 << 20

    private(set) var totalBytes = 0

    /// Adds the inflated size of chunk `type` (`length` data bytes at `offset`); nothing for other chunks and
    /// uncompressed iTXt. Stops counting once the total passes the limit.
    mutating func add(type: String, offset: Int, length: Int, read: (_ offset: Int, _ count: Int) -> [UInt8]?) {
        guard type == "zTXt" || type == "iTXt" else { return }
        var header = HeaderScan(isInternational: type == "iTXt")
        var position = 0
        let piece = 64 << 10
        var counter: OpaquePointer?
        defer { if let counter { vshim_inflate_counter_free(counter) } }
        let before = totalBytes
        while position < length, totalBytes <= Self.maxInflatedTextBytes {
            guard let bytes = read(offset + position, min(piece, length - position)), !bytes.isEmpty else { return }
            position += bytes.count
            var start = 0
            if header.phase != .compressed {
                guard let end = header.consume(bytes) else { continue }
                if header.phase != .compressed { return }  // uncompressed iTXt or damaged header
                start = end
            }
            if counter == nil { counter = vshim_inflate_counter_new() }
            guard let counter else { return }
            let remaining = UInt64(Self.maxInflatedTextBytes - before)
            let total = bytes[start...].withUnsafeBufferPointer {
                vshim_inflate_counter_feed(counter, $0.baseAddress, $0.count, remaining)
            }
            // A damaged stream still counts what it inflated to before the damage: libpng inflates that much too.
            totalBytes = before + Int(total)
            if vshim_inflate_counter_finished(counter) != 0 { return }
        }
    }

    /// The uncompressed front of a text chunk: keyword NUL method (zTXt), or keyword NUL flag method language
    /// NUL translated-keyword NUL (iTXt).
    struct HeaderScan {
        enum Phase { case keyword, flag, method, language, translated, compressed, notCompressed }
        let isInternational: Bool
        var phase = Phase.keyword

        init(isInternational: Bool) { self.isInternational = isInternational }

        /// Consumes header bytes; the index in `bytes` where the compressed data starts, nil when the header
        /// goes on past them, or the index where it stopped when the chunk holds no compressed text.
        mutating func consume(_ bytes: [UInt8]) -> Int? {
            for (i, byte) in bytes.enumerated() {
                switch phase {
                case .keyword where byte == 0: phase = isInternational ? .flag : .method
                case .keyword: continue
                case .flag:
                    guard byte == 1 else { phase = .notCompressed; return i }
                    phase = .method
                case .method:
                    guard byte == 0 else { phase = .notCompressed; return i }  // 0 (deflate) is the only method
                    phase = isInternational ? .language : .compressed
                    if phase == .compressed { return i + 1 }
                case .language where byte == 0: phase = .translated
                case .language: continue
                case .translated where byte == 0: phase = .compressed; return i + 1
                case .translated: continue
                case .compressed, .notCompressed: return i
                }
            }
            return nil
        }
    }
}
