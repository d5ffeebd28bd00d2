import ArgumentParser

@main
struct Diffusiond: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diffusiond",
        abstract: "Stable Diffusion image-editing daemon: JSON-RPC 2.0 over a Unix socket (see protocol/README.md).",
        subcommands: [Serve.self, Schema.self],
        defaultSubcommand: Serve.self)
}
