import Foundation
import StrictJSON

/// A tokenizer folder's JSON file (vocab.json, tokenizer_config.json, special_tokens_map.json) through the
/// strict parser: its top level must be an object.
enum TokenizerJSONFile {
    static func object(at url: URL, notAnObject: String) throws -> [String: JSONValue] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.fileUnreadable(path: url.path, detail: String(describing: error))
        }
        let value: JSONValue
        do { value = try JSONParser.parse([UInt8](data)) } catch {
            throw TokenizerError.invalidJSON(path: url.path, detail: String(describing: error))
        }
        guard case .object(let object) = value else {
            throw TokenizerError.invalidJSON(path: url.path, detail: notAnObject)
        }
        return object
    }
}
