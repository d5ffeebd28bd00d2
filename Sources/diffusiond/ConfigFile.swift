import DiffusionProtocol
import Foundation
import StrictJSON

/// `--config FILE`: a JSON object with the same keys as the flags (snake_case or the flag spelling),
/// e.g. {"socket": "/run/user/1000/diffusiond.sock", "max_queue": 8, "allow_dir": ["/home/me/images"]}.
/// Flags given on the command line win over the file.
struct ConfigFile {
    var values: [String: JSONValue]

    static let keys: Set<String> = ["socket", "models", "plugins", "threads", "weights", "precision", "max_queue", "max_line_bytes", "log_level",
                                    "allow_dir", "shutdown_grace", "max_input_bytes", "max_image_pixels", "max_output_pixels", "memory_budget"]

    init(path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ConfigError("cannot read config file \(path): \(error.localizedDescription)")
        }
        guard data.count <= 1 << 20 else { throw ConfigError("config file \(path) is over 1 MiB; is it the right file?") }
        let json: JSONValue
        do { json = try JSONParser.parse([UInt8](data)) } catch { throw ConfigError("config file \(path) is not valid JSON: \(error)") }
        guard case .object(let raw) = json else { throw ConfigError("config file \(path) must hold a JSON object") }
        var values: [String: JSONValue] = [:]
        for (key, value) in raw {
            let normalized = key.replacingOccurrences(of: "-", with: "_")
            guard Self.keys.contains(normalized) else {
                throw ConfigError("config file \(path): unknown key \"\(key)\" (known: \(Self.keys.sorted().joined(separator: ", ")))")
            }
            values[normalized] = value
        }
        self.values = values
    }

    func string(_ key: String) throws -> String? {
        guard let v = values[key] else { return nil }
        guard let s = v.stringValue else { throw ConfigError("config key \(key) must be a string") }
        return s
    }

    func int(_ key: String) throws -> Int? {
        guard let v = values[key] else { return nil }
        guard let i = v.intValue else { throw ConfigError("config key \(key) must be an integer") }
        return i
    }

    func double(_ key: String) throws -> Double? {
        guard let v = values[key] else { return nil }
        guard let d = v.doubleValue else { throw ConfigError("config key \(key) must be a number") }
        return d
    }

    func strings(_ key: String) throws -> [String]? {
        guard let v = values[key] else { return nil }
        if let s = v.stringValue { return [s] }
        guard let a = v.arrayValue, a.allSatisfy({ $0.stringValue != nil }) else {
            throw ConfigError("config key \(key) must be a string or a list of strings")
        }
        return a.compactMap(\.stringValue)
    }
}

struct ConfigError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
