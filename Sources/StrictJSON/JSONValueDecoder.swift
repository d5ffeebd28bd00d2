/// Decodes a `Decodable` type from an already parsed `JSONValue`, so that types with hand-written `init(from:)`
/// (the model configs) read through the strict parser instead of Foundation's. Numbers convert only when exact
/// (an `Int` field accepts `2` and `2.0`, never `2.5`); a missing key or a wrong type names the field.
public struct JSONValueDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: ValueDecoder(value: value, codingPath: []))
    }
}

/// A key for array elements in coding paths.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { return nil }
}

struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw mismatch(value, "an object", codingPath) }
        return KeyedDecodingContainer(KeyedContainer<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let array) = value else { throw mismatch(value, "an array", codingPath) }
        return UnkeyedContainer(array: array, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleValue(value: value, codingPath: codingPath) }
}

func mismatch(_ found: JSONValue, _ expected: String, _ path: [any CodingKey]) -> JSONDecodingError {
    let shown: String
    switch found {
    case .string(let s): shown = "the string \(JSONWriter.quoted(String(s.prefix(40))))"
    case .integer, .double, .bool, .null: shown = JSONWriter.serialize(found)
    case .array: shown = "an array"
    case .object: shown = "an object"
    }
    return JSONDecodingError(codingPath: path, reason: "expected \(expected), found \(shown)")
}

/// The conversions every container shares: one JSON value to one primitive, exactly or not at all.
struct SingleValue: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { value == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = value else { throw mismatch(value, "true or false", codingPath) }
        return b
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = value else { throw mismatch(value, "a string", codingPath) }
        return s
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard let d = value.doubleValue else { throw mismatch(value, "a number", codingPath) }
        return d
    }

    func decode(_ type: Float.Type) throws -> Float {
        guard let d = value.doubleValue else { throw mismatch(value, "a number", codingPath) }
        let f = Float(d)
        guard f.isFinite else { throw mismatch(value, "a number within float range", codingPath) }
        return f
    }

    func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let exact: T?
        switch value {
        case .integer(let i): exact = T(exactly: i)
        case .double(let d): exact = T(exactly: d)
        default: exact = nil
        }
        guard let exact else { throw mismatch(value, "an integer in \(T.min)...\(T.max)", codingPath) }
        return exact
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try T(from: ValueDecoder(value: value, codingPath: codingPath))
    }
}

struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: [String: JSONValue]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { object.keys.sorted().compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    private func element(_ key: Key) throws -> SingleValue {
        let path = codingPath + [key]
        guard let value = object[key.stringValue] else {
            throw JSONDecodingError(codingPath: path, reason: "is missing")
        }
        return SingleValue(value: value, codingPath: path)
    }

    func decodeNil(forKey key: Key) throws -> Bool { try element(key).decodeNil() }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try element(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try element(key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try element(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try element(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try element(key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try element(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try element(key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try element(key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try element(key).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try element(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try element(key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try element(key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try element(key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try element(key).decode(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try element(key).decode(type) }

    private func decoder(_ key: Key) throws -> ValueDecoder {
        let e = try element(key)
        return ValueDecoder(value: e.value, codingPath: e.codingPath)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type,
                                               forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { ValueDecoder(value: .object(object), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try decoder(key) }
}

struct UnkeyedContainer: UnkeyedDecodingContainer {
    let array: [JSONValue]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(array: [JSONValue], codingPath: [any CodingKey]) {
        self.array = array
        self.codingPath = codingPath
    }

    var count: Int? { array.count }
    var isAtEnd: Bool { currentIndex >= array.count }

    private mutating func next() throws -> SingleValue {
        let path = codingPath + [IndexKey(currentIndex)]
        guard !isAtEnd else {
            throw JSONDecodingError(codingPath: path, reason: "is missing (the array has \(array.count) elements)")
        }
        defer { currentIndex += 1 }
        return SingleValue(value: array[currentIndex], codingPath: path)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, array[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().decode(type) }
    mutating func decode(_ type: String.Type) throws -> String { try next().decode(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next().decode(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next().decode(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().decode(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().decode(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().decode(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().decode(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().decode(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next().decode(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().decode(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().decode(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().decode(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().decode(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(type) }

    private mutating func nextDecoder() throws -> ValueDecoder {
        let e = try next()
        return ValueDecoder(value: e.value, codingPath: e.codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try nextDecoder().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try nextDecoder().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try nextDecoder() }
}
