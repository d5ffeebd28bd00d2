// PNG text chunks, both ways. The input's first byte picks a mode:
// - even: the rest is any file given to the PNG/JPEG/… loader (small limits) and its text entries are read;
//   the same bytes go through PNGTextChunk.inserting, which must refuse or splice without trapping.
// - odd: the rest is "keyword\0text"; a 1×1 image carrying it is encoded to PNG and decoded again, and a
//   keyword the writer accepted must come back with exactly that text.
@testable import Imaging

let limits = ImageLimits(maxPixels: 1 << 16, maxDimension: 1 << 12, maxDecodedBytes: 1 << 20)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNGText(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = input.first else { return 0 }
    let rest = Array(input.dropFirst())
    if mode % 2 == 0 {
        if let image = try? VipsImage.load(data: rest, limits: limits) { _ = image.textEntries }
        _ = try? PNGTextChunk.inserting([PNGTextChunk.iTXt(keyword: "parameters", text: "é")], into: rest)
        return 0
    }
    let parts = rest.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
    let keyword = String(decoding: parts[0], as: UTF8.self)
    let text = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : ""
    guard let pixel = try? VipsImage(bytes: [1, 2, 3], width: 1, height: 1, bands: 3),
          let tagged = try? pixel.settingText(keyword, text),
          let png = try? tagged.encoded(format: .png) else { return 0 }
    guard let back = try? VipsImage.load(data: png, limits: limits) else { fatalError("our own PNG does not load") }
    precondition(back.textEntries[keyword] == text, "text of \(keyword.debugDescription) came back as \(back.textEntries[keyword].debugDescription)")
    return 0
}
