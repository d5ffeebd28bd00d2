import Foundation
import Models

/// What an adapter file says about itself for `models.list`, from headers only (safetensors headers, the pickle
/// of a torch file — tensor data is never read).
enum AdapterDescriber {
    static func embedding(_ entry: AdapterFolder.Entry) -> ModelDescriber.Description {
        var details = fileDetails(entry.path)
        do {
            let shapes = try TextualInversionFile.describe(path: entry.path, name: entry.name)
            details["vectors"] = String(shapes.values.first?[0] ?? 0)
            if let single = shapes[.single] { details["width"] = String(single[1]) }
            if let l = shapes[.clipL] { details["clip_l_width"] = String(l[1]) }
            if let g = shapes[.clipG] { details["clip_g_width"] = String(g[1]) }
            if let family = TextualInversionFamily.name(widths: shapes.mapValues { $0[1] }) { details["family"] = family }
            return ModelDescriber.Description(kind: .embedding, details: details)
        } catch {
            return ModelDescriber.Description(kind: .embedding, details: details, problem: String(describing: error))
        }
    }

    /// Widths from the tensor names (`<width>.<0|1>.…`); family from the cross-attention width it carries
    /// (768 SD 1.x, 1024 SD 2.x).
    static func hypernetwork(_ entry: AdapterFolder.Entry) -> ModelDescriber.Description {
        var details = fileDetails(entry.path)
        do {
            let d = try HypernetworkDescription.read(path: entry.path, name: entry.name)
            details["widths"] = d.widths.map(String.init).joined(separator: ",")
            if let family = d.family { details["family"] = family }
            if let structure = d.layerStructure {
                details["layer_structure"] = structure.map { $0 == $0.rounded() ? String(Int($0)) : String($0) }.joined(separator: ",")
            }
            if let activation = d.activation { details["activation"] = activation }
            return ModelDescriber.Description(kind: .hypernetwork, details: details)
        } catch {
            return ModelDescriber.Description(kind: .hypernetwork, details: details, problem: String(describing: error))
        }
    }

    static func fileDetails(_ path: String) -> [String: String] {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
        return size.map { ["file_bytes": String($0)] } ?? [:]
    }
}
