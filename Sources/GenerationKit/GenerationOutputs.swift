import StrictJSON
import DiffusionProtocol
import Foundation
import PluginAPI

/// Where each image of a batch goes: `outputs` (one per image), or `output` whose file path gets -1, -2, ...
/// before its extension for batch_size > 1, or inline PNG.
public enum GenerationOutputs {
    public static func resolve(output: JSONValue?, outputs: [JSONValue]?, batch: Int, context: JobContext) throws -> [ImageOutput] {
        if let list = outputs {
            guard output == nil else {
                throw PluginError.invalidParam(field: "outputs", reason: "give either output or outputs, not both")
            }
            guard list.count == batch else {
                throw PluginError.invalidParam(field: "outputs", reason: "has \(list.count) entries for batch_size \(batch)")
            }
            return try list.enumerated().map { try context.resolveOutput($1, field: "outputs[\($0)]") }
        }
        guard batch > 1, case .object(var o)? = output, let path = o["path"]?.stringValue else {
            let one = try context.resolveOutput(output, field: "output")
            return Array(repeating: one, count: batch)
        }
        let ns = path as NSString
        return try (1...batch).map { i in
            o["path"] = .string(ns.deletingPathExtension + "-\(i)." + ns.pathExtension)
            return try context.resolveOutput(.object(o), field: "output")
        }
    }

    /// The field an image's delivery errors name: `output`, or `outputs[i]` for a batch.
    public static func field(index: Int, count: Int) -> String { count > 1 ? "outputs[\(index)]" : "output" }
}
