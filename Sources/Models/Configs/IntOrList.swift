/// A diffusers config value that is either one integer for every block or one per block
/// (`attention_head_dim`, `layers_per_block`, `cross_attention_dim`, `transformer_layers_per_block`).
public enum IntOrList: Codable, Equatable, Sendable {
    case single(Int)
    case perBlock([Int])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            self = .single(value)
        } else {
            self = .perBlock(try container.decode([Int].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .single(value): try container.encode(value)
        case let .perBlock(values): try container.encode(values)
        }
    }

    /// One value per block; fails (naming the field) when a list has the wrong length.
    public func expanded(to count: Int, field: String) throws -> [Int] {
        switch self {
        case let .single(value):
            return Array(repeating: value, count: count)
        case let .perBlock(values):
            guard values.count == count else {
                throw ModelLoadError.invalidConfig("\(field) has \(values.count) entries for \(count) blocks")
            }
            return values
        }
    }
}

/// `only_cross_attention`: a bool for all blocks or one per block.
public enum BoolOrList: Codable, Equatable, Sendable {
    case single(Bool)
    case perBlock([Bool])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .single(value)
        } else {
            self = .perBlock(try container.decode([Bool].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .single(value): try container.encode(value)
        case let .perBlock(values): try container.encode(values)
        }
    }

    public var anyTrue: Bool {
        switch self {
        case let .single(value): return value
        case let .perBlock(values): return values.contains(true)
        }
    }
}

extension KeyedDecodingContainer {
    /// Decodes `key` when present and not null, else the default diffusers registers for it.
    func value<T: Decodable>(_ key: Key, default fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}
