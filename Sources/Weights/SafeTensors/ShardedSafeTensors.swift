import StrictJSON

/// Sharded safetensors as transformers/diffusers write them: `<name>.safetensors.index.json` with a
/// "weight_map" from tensor name to shard file in the same folder. Shard names must be plain file
/// names (no path separators), every shard must exist, and the shards' tensors must be exactly the
/// names the map lists.
public enum ShardedSafeTensors {
    public static let maxIndexSize = 64 << 20

    public static func open(indexPath: String) throws -> CombinedSource {
        let file = try MappedFile(path: indexPath)
        func bad(_ d: String) -> WeightsError { .invalidShardIndex(path: indexPath, detail: d) }
        guard file.size <= maxIndexSize else { throw bad("\(file.size) bytes exceeds \(maxIndexSize)") }
        guard String(validating: file.bytes, as: UTF8.self) != nil else { throw bad("not UTF-8") }
        let json: JSONValue
        do { json = try JSONParser.parse(file.bytes) } catch let e as JSONParseError {
            throw bad("JSON error: \(e)")
        }
        guard case let .object(map)? = json["weight_map"] else {
            throw bad("no \"weight_map\" object")
        }
        var expected: [String: String] = [:]
        for (name, v) in map.sorted(by: { $0.key < $1.key }) {
            guard case let .string(shard) = v else { throw bad("weight_map['\(name)'] is not a string") }
            guard !shard.isEmpty, !shard.contains("/"), !shard.contains("\\"), shard != ".", shard != ".." else {
                throw bad("shard name '\(shard)' must be a file name in the index's folder")
            }
            expected[name] = shard
        }
        let folder = indexPath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let shardNames = Set(expected.values).sorted()
        let shards = try shardNames.map { try SafeTensorsFile(path: folder.isEmpty ? $0 : folder + "/" + $0) }
        for (shardName, shard) in zip(shardNames, shards) {
            for n in shard.names where expected[n] != shardName {
                throw bad("shard '\(shardName)' holds '\(n)', which the map assigns to \(expected[n].map { "'\($0)'" } ?? "no shard")")
            }
        }
        let combined = try CombinedSource(shards, label: indexPath)
        guard combined.names.count == expected.count else {
            let missing = Set(expected.keys).subtracting(combined.names).sorted().prefix(3)
            throw bad("tensors listed but absent from their shards: \(missing.joined(separator: ", "))")
        }
        return combined
    }
}
