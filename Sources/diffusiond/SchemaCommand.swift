import ArgumentParser
import Builtins
import Daemon

/// `diffusiond schema --write DIR | --check DIR`: protocol/schema/ generated from the code that defines it.
struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the protocol's JSON Schema files, or check a folder of them against what the code generates.")

    @Option(help: "Write every schema file into this folder (removing .json files nothing generates).")
    var write: String?
    @Option(help: "Exit non-zero, naming each differing, missing or extra file, when this folder differs from the generated files.")
    var check: String?

    func validate() throws {
        guard (write == nil) != (check == nil) else { throw ValidationError("give exactly one of --write DIR or --check DIR") }
    }

    func run() throws {
        let texts = try ProtocolSchemas.texts(registry: try PluginRegistry(builtin: BuiltinPlugins.all()))
        if let write {
            try SchemaFolder(path: write).write(texts)
            print("wrote \(texts.count) schema files to \(write)")
            return
        }
        guard let check else { return }
        let differences = try SchemaFolder(path: check).differences(from: texts)
        guard differences.isEmpty else {
            for line in differences { print("\(check): \(line)") }
            print("\(check) is out of date; regenerate it with: diffusiond schema --write \(check)")
            throw ExitCode(1)
        }
        print("\(check): all \(texts.count) schema files match the code")
    }
}
