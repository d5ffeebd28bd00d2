// The request path of every built-in operation, as the daemon takes it: a line parsed as JSON, the JSON-RPC
// envelope checked, params validated against the operation's schema, then decoded by that operation's params
// type (and the shared generation decoders). A request that is not a valid envelope is still tried as bare
// params against every operation, so seeds need not spell out every method. None of this may trap: whatever
// passes validation must decode.
import Builtins
import DiffusionProtocol
@testable import GeneratePlugin
import GenerationKit
@testable import Img2ImgPlugin
@testable import InpaintPlugin
@testable import OutpaintPlugin
import PluginAPI
@testable import PreprocessPlugin
@testable import ResizePlugin
import StrictJSON
@testable import UpscalePlugin

let plugins = BuiltinPlugins.all()

func decode(_ method: String, _ params: [String: JSONValue]) {
    switch method {
    case "resize": _ = ResizeParams(params)
    case "upscale": _ = UpscaleParams(params)
    case "generate": _ = try? GenerateParams(params)
    case "img2img": _ = Img2ImgParams(params)
    case "inpaint": _ = InpaintParams(params); _ = MaskParams(params)
    case "outpaint": _ = OutpaintParams(params)
    case "preprocess": _ = try? PreprocessRequest(params)
    default: return  // models.*: their params are only the validated members themselves
    }
    // What every generation operation decodes besides its own members.
    _ = GenerationParams(params)
    _ = try? RefinerParams.parse(params)
    _ = SDXLParams(params)
    _ = HypernetworkParams(params)
    _ = T2IAdapterParams(params)
    _ = ControlParams.list(params)
    _ = ExtraNetworkParams(loras: params["loras"], prompt: params["prompt"]?.stringValue ?? "",
                           negativePrompt: params["negative_prompt"]?.stringValue ?? "")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequests(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let json = try? JSONParser.parse(UnsafeBufferPointer(start: data, count: size)) else { return 0 }
    let candidates: [(plugin: any OperationPlugin, params: [String: JSONValue])]
    switch RPCRequest.from(json) {
    case .success(let request): candidates = plugins.filter { $0.method == request.method }.map { ($0, request.params) }
    case .failure:
        guard case .object(let params) = json else { return 0 }
        candidates = plugins.map { ($0, params) }
    }
    for (plugin, params) in candidates {
        guard (try? SchemaValidator.validate(.object(params), against: plugin.paramsSchema)) != nil else { continue }
        decode(plugin.method, params)
    }
    return 0
}
