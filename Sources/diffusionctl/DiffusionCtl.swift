import ArgumentParser
import DiffusionProtocol
import Foundation
import StrictJSON

@main
struct DiffusionCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diffusionctl",
        abstract: "Send requests to a running diffusiond.",
        discussion: """
            Examples:
              diffusionctl status
              diffusionctl call resize -p image.path=/abs/in.png -p width=256 -p output.path=/abs/out.png
              diffusionctl call resize --params-file req.json --save out.png    (inline result written to a file)
              diffusionctl generate fox.png --model sd15 --prompt "a red fox" --seed 42 --preview preview.png
              diffusionctl img2img in.png out.png --model sd15 --prompt "a castle" --strength 0.6
              diffusionctl inpaint in.png mask.png out.png --model sd15-inpaint --prompt "a cat" -p steps=30
              diffusionctl outpaint in.png wide.png --left 128 --right 128
              diffusionctl upscale in.png big.png --model realesrgan-x4plus --scale 2
              diffusionctl cancel 7
            Relative paths (arguments and every "path" member) are resolved against this folder before sending.
              diffusionctl convert realesrgan-x4plus.param realesrgan-x4plus.safetensors
            """,
        subcommands: [Call.self, GenerateCommand.self, Img2ImgCommand.self, InpaintCommand.self, OutpaintCommand.self,
                      UpscaleCommand.self, Capabilities.self, Status.self, Ping.self, Cancel.self, Shutdown.self, Convert.self])
}

struct ConnectionOptions: ParsableArguments {
    @Option(help: "Daemon socket (default: $DIFFUSIOND_SOCKET, else $XDG_RUNTIME_DIR/diffusiond/diffusiond.sock, else /tmp/diffusiond-$UID/diffusiond.sock).")
    var socket: String?
    @Option(help: "Seconds to wait for the final response.")
    var timeout: Double = 3600
    @Flag(help: "No progress output on stderr.")
    var quiet = false

    var socketPath: String {
        if let socket { return socket }
        if let env = ProcessInfo.processInfo.environment["DIFFUSIOND_SOCKET"], !env.isEmpty { return env }
        if let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            return runtime + "/diffusiond/diffusiond.sock"
        }
        return "/tmp/diffusiond-\(getuid())/diffusiond.sock"
    }
}

struct Call: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Call any method; params from --params/--params-file and -p key=value.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Method name, e.g. resize.") var method: String
    @Option(help: "Params as a JSON object.") var params: String?
    @Option(help: "File holding the params JSON object.") var paramsFile: String?
    @Option(name: .short, help: "key=value (dotted keys nest: output.path=/x.png; value parsed as JSON if it is JSON, else taken as a string). Repeatable.")
    var p: [String] = []
    @Option(help: "Write an inline base64 image of the result (result.image.base64) to this file.") var save: String?

    func run() throws {
        var object = try ParamsBuilder.base(json: params, file: paramsFile)
        for assignment in p { try ParamsBuilder.assign(assignment, into: &object) }
        try Runner.run(connection: connection, method: method, params: object, save: save)
    }
}

struct Capabilities: ParsableCommand {
    @OptionGroup var connection: ConnectionOptions
    func run() throws { try Runner.run(connection: connection, method: "capabilities", params: [:], save: nil) }
}

struct Status: ParsableCommand {
    @OptionGroup var connection: ConnectionOptions
    func run() throws { try Runner.run(connection: connection, method: "status", params: [:], save: nil) }
}

struct Ping: ParsableCommand {
    @OptionGroup var connection: ConnectionOptions
    func run() throws { try Runner.run(connection: connection, method: "ping", params: [:], save: nil) }
}

struct Shutdown: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Ask the daemon to finish its running job and exit.")
    @OptionGroup var connection: ConnectionOptions
    func run() throws { try Runner.run(connection: connection, method: "shutdown", params: [:], save: nil) }
}

struct Cancel: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel a queued or running request by its id.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The request id (an integer, or any other text for a string id).") var id: String
    func run() throws {
        let value: JSONValue = Int64(id).map { .integer($0) } ?? .string(id)
        try Runner.run(connection: connection, method: "cancel", params: ["id": value], save: nil)
    }
}
