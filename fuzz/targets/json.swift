// The strict JSON parser: any bytes either parse or throw JSONParseError; what parses serializes to text that
// parses back to the same value (the daemon echoes ids and params it parsed).
import StrictJSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let text = JSONWriter.serializeBytes(value)
    guard let back = try? JSONParser.parse(text) else {
        fatalError("serialized value does not parse again: \(String(decoding: text, as: UTF8.self))")
    }
    guard back.jsonEquals(value) else { fatalError("round trip changed the value: \(String(decoding: text, as: UTF8.self))") }
    return 0
}
