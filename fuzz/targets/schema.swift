// Schema validation: the input is JSON. Every value is validated against every built-in operation's params
// schema; a two-element array is also read as [schema, value] so hostile schemas (deep, cyclic-looking, odd
// keywords) are exercised. Validation either passes or throws SchemaViolation — nothing else.
import Builtins
import PluginAPI
import StrictJSON

let schemas = BuiltinPlugins.all().map(\.paramsSchema)

func check(_ value: JSONValue, _ schema: JSONValue) {
    do { try SchemaValidator.validate(value, against: schema) } catch is SchemaViolation {} catch {
        fatalError("validation threw \(error), not a SchemaViolation")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSchema(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let value = try? JSONParser.parse(UnsafeBufferPointer(start: data, count: size)) else { return 0 }
    for schema in schemas { check(value, schema) }
    if case .array(let pair) = value, pair.count == 2 { check(pair[1], pair[0]) }
    return 0
}
