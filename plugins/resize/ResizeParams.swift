import StrictJSON
import DiffusionProtocol
import Imaging

/// `resize`'s params, decoded once; the kernel defaults to lanczos3.
struct ResizeParams {
    static let kernels: [(name: String, kernel: ResizeKernel)] = [
        ("lanczos3", .lanczos3), ("bicubic", .cubic), ("linear", .linear), ("nearest", .nearest),
    ]
    static let defaultKernel = "lanczos3"

    var image: JSONValue?
    var width: Int?
    var height: Int?
    var scale: Double?
    var kernelName: String
    var output: JSONValue?

    init(_ params: [String: JSONValue]) {
        image = params["image"]
        width = params["width"]?.intValue
        height = params["height"]?.intValue
        scale = params["scale"]?.doubleValue
        kernelName = params["kernel"]?.stringValue ?? Self.defaultKernel
        output = params["output"]
    }

    /// The schema allows only the listed names; anything else would be lanczos3.
    var kernel: ResizeKernel { Self.kernels.first { $0.name == kernelName }?.kernel ?? .lanczos3 }
}
