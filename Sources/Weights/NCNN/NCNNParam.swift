/// A value of an ncnn layer parameter (`k=v` in the .param text). Arrays are written with ids
/// `-23300 - k` and a leading element count: `-23310=2,1.0,2.0` is parameter 10 = [1.0, 2.0].
public enum NCNNParamValue: Equatable, Sendable {
    case int(Int)
    case float(Float)
    case intArray([Int])
    case floatArray([Float])
}

/// The parameters of one layer, keyed by id (0..<32 as in ncnn).
public struct NCNNParamDict: Equatable, Sendable {
    public static let maxID = 32
    public var values: [Int: NCNNParamValue] = [:]

    public func int(_ id: Int, default d: Int) -> Int {
        switch values[id] {
        case let .int(v)?: return v
        case let .float(f)?:
            // Float ids where ints are expected: truncate like ncnn, but never trap on inf/NaN/huge.
            guard f.isFinite, abs(f) < 2_147_483_648 else { return d }
            return Int(f)
        default: return d
        }
    }

    public func float(_ id: Int, default d: Float) -> Float {
        switch values[id] {
        case let .float(v)?: return v
        case let .int(i)?: return Float(i)
        default: return d
        }
    }

    public func floats(_ id: Int) -> [Float]? {
        switch values[id] {
        case let .floatArray(a)?: return a
        case let .intArray(a)?: return a.map(Float.init)
        default: return nil
        }
    }
}

public struct NCNNLayer: Equatable, Sendable {
    public let type: String
    public let name: String
    public let bottoms: [String]
    public let tops: [String]
    public let params: NCNNParamDict
    /// Line in the .param file (1-based), for error messages.
    public let line: Int
}

/// Parser of ncnn's text .param format: magic 7767517, "layer_count blob_count", then one layer per
/// line: type name bottom_count top_count bottoms... tops... k=v... Everything is bounded and
/// checked: counts, id ranges, numeric syntax, and that the blob graph is consistent (every input
/// produced earlier, every output produced once, blob_count distinct blobs).
enum NCNNParamParser {
    static let magic = 7_767_517
    static let maxLayers = 100_000
    static let maxBlobsPerLayer = 1_024
    static let maxArrayCount = 1 << 20

    static func parse(_ text: String, path: String) throws -> [NCNNLayer] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var lineNo = 0
        var rows: [(line: Int, tokens: [Substring])] = []
        for raw in lines {
            lineNo += 1
            let tokens = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if !tokens.isEmpty { rows.append((lineNo, tokens)) }
        }
        func bad(_ line: Int, _ d: String) -> WeightsError { .invalidNCNNParam(path: path, line: line, detail: d) }
        guard let first = rows.first else { throw bad(1, "empty file") }
        guard first.tokens.count == 1, Int(first.tokens[0]) == magic else {
            throw bad(first.line, "magic number is '\(first.tokens.joined(separator: " "))', expected \(magic) (binary .param.bin is not supported)")
        }
        guard rows.count >= 2, rows[1].tokens.count == 2, let layerCount = Int(rows[1].tokens[0]), let blobCount = Int(rows[1].tokens[1]),
              layerCount > 0, layerCount <= maxLayers, blobCount > 0, blobCount <= maxLayers * 4 else {
            throw bad(rows.count >= 2 ? rows[1].line : 2, "expected 'layer_count blob_count' with positive counts")
        }
        guard rows.count - 2 == layerCount else {
            throw bad(rows.last?.line ?? 2, "header says \(layerCount) layers, file has \(rows.count - 2)")
        }

        var layers: [NCNNLayer] = []
        layers.reserveCapacity(layerCount)
        var produced = Set<String>()
        var layerNames = Set<String>()
        for row in rows.dropFirst(2) {
            let t = row.tokens
            guard t.count >= 4, let nb = Int(t[2]), let nt = Int(t[3]), (0...maxBlobsPerLayer).contains(nb),
                  (0...maxBlobsPerLayer).contains(nt), t.count >= 4 + nb + nt else {
                throw bad(row.line, "expected 'type name bottom_count top_count bottoms... tops...'")
            }
            let type = String(t[0]), name = String(t[1])
            guard layerNames.insert(name).inserted else { throw bad(row.line, "duplicate layer name '\(name)'") }
            let bottoms = t[4..<(4 + nb)].map(String.init)
            let tops = t[(4 + nb)..<(4 + nb + nt)].map(String.init)
            for b in bottoms where !produced.contains(b) {
                throw bad(row.line, "layer '\(name)' reads blob '\(b)' that no earlier layer produces")
            }
            for top in tops {
                guard produced.insert(top).inserted else { throw bad(row.line, "blob '\(top)' is produced twice") }
            }
            var params = NCNNParamDict()
            for kv in t[(4 + nb + nt)...] {
                try parseParam(kv, into: &params, line: row.line, path: path)
            }
            layers.append(NCNNLayer(type: type, name: name, bottoms: bottoms, tops: tops, params: params, line: row.line))
        }
        guard produced.count == blobCount else {
            throw bad(2, "header says \(blobCount) blobs, layers produce \(produced.count)")
        }
        return layers
    }

    private static func parseParam(_ kv: Substring, into params: inout NCNNParamDict, line: Int, path: String) throws {
        func bad(_ d: String) -> WeightsError { .invalidNCNNParam(path: path, line: line, detail: "parameter '\(kv)': \(d)") }
        let parts = kv.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let key = Int(parts[0]) else { throw bad("expected id=value") }
        let isArray = key <= -23300
        let id = isArray ? -(key + 23300) : key  // not `-key - 23300`: -Int.min traps
        guard (0..<NCNNParamDict.maxID).contains(id) else { throw bad("id \(id) outside 0..<\(NCNNParamDict.maxID)") }
        guard params.values[id] == nil else { throw bad("id \(id) given twice") }
        let value = parts[1]
        if !isArray {
            params.values[id] = try scalar(value, bad)
            return
        }
        let items = value.split(separator: ",", omittingEmptySubsequences: false)
        guard let n = items.first.flatMap({ Int($0) }), n >= 0, n <= maxArrayCount, items.count == n + 1 else {
            throw bad("array needs a count followed by that many comma-separated values")
        }
        let elements = items.dropFirst()
        if elements.contains(where: isFloatLiteral) {
            params.values[id] = .floatArray(try elements.map { s in
                guard let f = Float(s) else { throw bad("'\(s)' is not a number") }
                return f
            })
        } else {
            params.values[id] = .intArray(try elements.map { s in
                guard let i = Int(s) else { throw bad("'\(s)' is not an integer") }
                return i
            })
        }
    }

    /// As in ncnn: a literal with '.' or an exponent is a float, otherwise an integer.
    private static func isFloatLiteral(_ s: Substring) -> Bool {
        s.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
    }

    private static func scalar(_ s: Substring, _ bad: (String) -> WeightsError) throws -> NCNNParamValue {
        if isFloatLiteral(s) {
            guard let f = Float(s) else { throw bad("'\(s)' is not a number") }
            return .float(f)
        }
        guard let i = Int(s), i >= Int(Int32.min), i <= Int(Int32.max) else { throw bad("'\(s)' is not a 32-bit integer") }
        return .int(i)
    }
}
