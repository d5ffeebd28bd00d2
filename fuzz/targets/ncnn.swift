// ncnn's text .param parser: any text either yields a layer graph whose parameter ids are in range or throws
// WeightsError; the typed accessors never trap on what it kept.
@testable import Weights

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNCNNParam(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let layers = try? NCNNParamParser.parse(text, path: "fuzz.param") else { return 0 }
    for layer in layers {
        for id in layer.params.values.keys {
            precondition((0..<NCNNParamDict.maxID).contains(id), "param id \(id) out of range")
            _ = layer.params.int(id, default: 0)
            _ = layer.params.float(id, default: 0)
            _ = layer.params.floats(id)
        }
    }
    return 0
}
