import Foundation
import Models

/// Resolves an upscaler name from a request to a model file under the models folder.
///
/// Looked up, first match wins: `<models>/realesrgan/<name>.param` (the ncnn models ./scripts/setup.sh unpacks),
/// `<models>/realesrgan/<name>-x4.param` (so "realesr-animevideov3" means the ×4 network), then
/// `<name>.safetensors`, `.pth`, `.param` under `<models>/realesrgan/`, `<models>/` and `<models>/upscalers/`. Names are plain
/// file stems: no slashes or leading dots, so a request cannot reach outside the folder.
public enum UpscalerCatalog {
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 128 && !name.hasPrefix(".")
            && name.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
    }

    public static func candidates(for name: String, in models: String) -> [String] {
        var paths = ["\(models)/realesrgan/\(name).param", "\(models)/realesrgan/\(name)-x4.param"]
        for folder in ["\(models)/realesrgan", models, "\(models)/upscalers"] {
            for ext in ["safetensors", "pth", "param"] { paths.append("\(folder)/\(name).\(ext)") }
        }
        return paths
    }

    /// The file for `name`, or nil when none of the candidates exists.
    public static func resolve(_ name: String, in models: String) -> String? {
        guard isValidName(name) else { return nil }
        return candidates(for: name, in: models).first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Names available in `models` (for error messages and `capabilities`).
    public static func available(in models: String) -> [String] {
        var names: Set<String> = []
        for folder in ["\(models)/realesrgan", models, "\(models)/upscalers"] {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
                let ext = (file as NSString).pathExtension
                if ["param", "safetensors", "pth"].contains(ext) { names.insert((file as NSString).deletingPathExtension) }
            }
        }
        return names.sorted()
    }
}
