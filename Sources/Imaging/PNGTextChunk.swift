/// International text (iTXt) chunks for PNG. libvips 8.14 writes every text entry as tEXt/zTXt, whose text is
/// Latin-1 by the PNG spec, so a UTF-8 prompt would be read back by PIL (and A1111's "PNG Info") as mojibake.
/// Entries that are not plain ASCII are therefore written here as iTXt (UTF-8 by definition), inserted before
/// the first IDAT so readers that stop at the image data (PIL's `Image.open().info`) still see them.
enum PNGTextChunk {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// An uncompressed iTXt chunk with empty language tag and translated keyword.
    static func iTXt(keyword: String, text: String) -> [UInt8] {
        let data = Array(keyword.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }) + [0, 0, 0, 0, 0]
            + Array(text.utf8)
        return chunk(type: "iTXt", data: data)
    }

    static func chunk(type: String, data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(crc32(typeBytes + data))
    }

    /// `png` with `chunks` inserted before its first IDAT.
    static func inserting(_ chunks: [[UInt8]], into png: [UInt8]) throws -> [UInt8] {
        guard png.count > 8, Array(png.prefix(8)) == signature else {
            throw ImagingError.operationFailed(operation: "png text", detail: "the encoder did not produce a PNG")
        }
        var offset = 8
        while offset + 8 <= png.count {
            let length = Int(png[offset]) << 24 | Int(png[offset + 1]) << 16 | Int(png[offset + 2]) << 8 | Int(png[offset + 3])
            let type = String(decoding: png[offset + 4 ..< offset + 8], as: UTF8.self)
            if type == "IDAT" {
                return Array(png[..<offset]) + chunks.flatMap { $0 } + Array(png[offset...])
            }
            offset += 12 + length
        }
        throw ImagingError.operationFailed(operation: "png text", detail: "no IDAT chunk in the encoded PNG")
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    static let table: [UInt32] = (0 ..< 256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0 ..< 8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return ~crc
    }
}
