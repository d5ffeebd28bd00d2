import ArgumentParser
import DiffusionProtocol
import Foundation
import StrictJSON

/// Builds a params object from a JSON text or file plus `key=value` assignments.
enum ParamsBuilder {
    static func base(json: String?, file: String?) throws(ValidationError) -> [String: JSONValue] {
        var text: String?
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            text = String(decoding: data, as: UTF8.self)
        }
        if let json { text = json }
        guard let text else { return [:] }
        let value: JSONValue
        do { value = try JSONParser.parse(text) } catch { throw ValidationError("params are not valid JSON: \(error)") }
        guard case .object(let o) = value else { throw ValidationError("params must be a JSON object") }
        return o
    }

    static func assign(_ assignment: String, into object: inout [String: JSONValue]) throws(ValidationError) {
        guard let eq = assignment.firstIndex(of: "=") else { throw ValidationError("-p \(assignment): expected key=value") }
        let path = assignment[..<eq].split(separator: ".").map(String.init)
        let raw = String(assignment[assignment.index(after: eq)...])
        guard !path.isEmpty else { throw ValidationError("-p \(assignment): empty key") }
        let value = (try? JSONParser.parse(raw)) ?? .string(raw)
        set(path[...], value, in: &object)
    }

    static func set(_ path: ArraySlice<String>, _ value: JSONValue, in object: inout [String: JSONValue]) {
        guard let first = path.first else { return }
        if path.count == 1 { object[first] = value; return }
        var child = object[first]?.objectValue ?? [:]
        set(path.dropFirst(), value, in: &child)
        object[first] = .object(child)
    }
}
