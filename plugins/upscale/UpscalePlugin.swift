import DiffusionProtocol
import Engine
import Foundation
import GenerationKit
import Imaging
import Models
import PluginAPI
import StrictJSON

/// `upscale`: enlarge an image with a Real-ESRGAN network (RRDBNet or SRVGGNetCompact) by overlapping, blended
/// tiles, streaming through libvips — or with a plain lanczos3/bicubic resize when `model` names a kernel.
public struct UpscalePlugin: OperationPlugin {
    public init() {}

    public let method = "upscale"
    public let summary = "Upscale an image with a Real-ESRGAN model (tiled, seamless, bounded memory) or lanczos3/bicubic, to a factor or an exact size; alpha and 16-bit kept."

    /// Largest side the params accept; each output format's own limit is checked against the request.
    static let maxSide = 2_147_483_647
    static let kernels: [String: ResizeKernel] = ["lanczos3": .lanczos3, "bicubic": .cubic]

    public var paramsSchema: JSONValue {
        [
            "type": "object",
            "properties": [
                "image": ImageSchemas.input(description: "the image to upscale (8/16-bit grey or RGB, alpha allowed)"),
                "model": ["type": "string", "minLength": 1, "maxLength": 128,
                          "description": .string("upscaler under the models folder (e.g. realesrgan-x4plus, realesrgan-x4plus-anime, realesr-animevideov3 = its x4 network), or lanczos3 / bicubic for no network (default \(UpscaleParams.defaultModel))")],
                "scale": ["type": "number", "exclusiveMinimum": 0, "maximum": 16,
                          "description": "output/input size factor; the network runs at its own scale, then libvips resizes to the exact size (default: the model's scale)"],
                "width": ["type": "integer", "minimum": 1, "maximum": JSONValue(Self.maxSide),
                          "description": "exact output width (with only width, height keeps the aspect ratio)"],
                "height": ["type": "integer", "minimum": 1, "maximum": JSONValue(Self.maxSide),
                           "description": "exact output height (with only height, width keeps the aspect ratio)"],
                "tile": ["type": "integer", "minimum": 16, "maximum": 2048,
                         "description": .string("tile side in input pixels (default \(TiledUpscaler.defaultTile)); memory grows with its square")],
                "overlap": ["type": "integer", "minimum": 0, "maximum": 1024,
                            "description": .string("overlap between neighbouring tiles in input pixels, blended with smooth weights (default \(TiledUpscaler.defaultOverlap)); at most tile/2")],
                "tile_pad": ["type": "integer", "minimum": 0, "maximum": JSONValue(TiledUpscaler.maxPad),
                             "description": .string("context in input pixels each tile is run with beyond its own area and cropped off after the network, so tiles do not show (default: the network's receptive radius, at most \(TiledUpscaler.padLimit)); memory grows with (tile + 2·tile_pad)²")],
                "tiff": ["type": "string", "enum": ["strip", "tiled", "pyramid"],
                         "description": "layout of a .tif/.tiff output (default tiled BigTIFF; pyramid adds half-size levels for viewers)"],
                "refine": UpscaleRefine.schema,
                "output": ImageSchemas.output(description: "where to put the result (default: inline PNG as base64)"),
            ],
            "required": ["image"],
            "additionalProperties": false,
        ]
    }

    public var resultSchema: JSONValue? {
        let image = ResultSchemas.image(description: ResultSchemas.outputImageDescription)
        let source = ResultSchemas.size(minimum: 1, description: "the input image's size")
        let network = ResultSchemas.object(["architecture": ["type": "string", "minLength": 1], "scale": ["type": "integer", "minimum": 1]],
                                           required: ["architecture", "scale"], description: "the network that ran and its own scale factor")
        return ["oneOf": [
            ResultSchemas.object(["image": image, "model": ["type": "string", "minLength": 1, "description": "the upscaler's name as requested"],
                                  "source": source, "network": network,
                                  "tiles": ["type": "integer", "minimum": 1, "description": "tiles the network ran on"],
                                  "tile_pad": ["type": "integer", "minimum": 0, "description": "context pixels each tile ran with"],
                                  "ignored": UpscaleRefine.ignoredSchema, "timings": ResultSchemas.daemonTimings(), "loras": LoRASchema.result, "adapters": T2IAdapterParams.resultSchema, "precision": PrecisionParam.resultProperty].merging(EmbeddingsAndHypernetworksResult.properties) { own, _ in own },
                                 required: ["image", "model", "source", "network", "tiles", "timings"], description: "with a network"),
            ResultSchemas.object(["image": image, "model": ["type": "string", "enum": .array(Self.kernels.keys.sorted().map { .string($0) })],
                                  "source": source, "ignored": UpscaleRefine.ignoredSchema,
                                  "timings": ResultSchemas.daemonTimings(), "loras": LoRASchema.result, "adapters": T2IAdapterParams.resultSchema, "precision": PrecisionParam.resultProperty].merging(EmbeddingsAndHypernetworksResult.properties) { own, _ in own },
                                 required: ["image", "model", "source", "timings"], description: "with a plain resize kernel"),
        ]]
    }

    public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        let p = UpscaleParams(params)
        let modelName = p.modelName
        let (scale, width, height) = (p.scale, p.width, p.height)
        if scale != nil, width != nil || height != nil {
            throw PluginError.invalidParam(field: "scale", reason: "cannot be combined with width/height; give one or the other")
        }
        let output = try context.resolveOutput(p.output, field: "output")

        // Model first: a bad name fails before any decoding.
        var model: UpscalerModel?
        if Self.kernels[modelName] == nil {
            context.progress(stage: "load model", step: 0, steps: 1)
            model = try Self.upscaler(named: modelName, context: context)
            context.progress(stage: "load model", step: 1, steps: 1)
        } else if scale == nil, width == nil, height == nil {
            throw PluginError.invalidParam(field: "scale", reason: "is required with model '\(modelName)' (or width/height): a plain resize has no scale of its own")
        }
        let refine = try UpscaleRefine.parse(p.refine, context: context)
        try context.checkCancelled()

        // The compressed input is held in memory; its pixels are decoded top to bottom as tiles need them.
        let input = try context.readImage(p.image, field: "image")
        let image: VipsImage
        do { image = try VipsImage.load(data: input.bytes, limits: context.imageLimits, mode: .sequential) } catch let e as ImagingError {
            throw PluginError(e, field: "image")
        }
        let target = try Self.targetSize(source: (image.width, image.height), width: width, height: height,
                                         scale: scale ?? model?.declaredScale)
        try Self.checkOutputSize(target, of: image, output: output, context: context,
                                 field: scale != nil ? "scale" : (width != nil || height != nil ? "width" : "model"))
        if refine != nil, image.hasAlpha {
            throw PluginError.invalidParam(field: "refine", reason: "cannot refine an image with alpha (Stable Diffusion works on RGB)")
        }
        let options = Self.encodeOptions(tiff: p.tiff, output: output)

        // Temporary rows of the upscale and the refine go next to the output (one disk), else to the temp folder.
        let scratch: String
        if case .file(let path, _) = output {
            let folder = (path as NSString).deletingLastPathComponent
            scratch = folder.isEmpty ? "." : folder
        } else {
            scratch = NSTemporaryDirectory()
        }
        /// Refines (when asked) and writes the result.
        func finish(_ result: VipsImage) throws -> JSONValue {
            guard let refine else {
                context.progress(stage: "write", step: 0, steps: 1)
                return try deliver(result, to: output, options: options, context: context)
            }
            return try refine.apply(to: result, scratch: scratch, context: context) { refined in
                context.progress(stage: "write", step: 0, steps: 1)
                return try deliver(refined, to: output, options: options, context: context)
            }
        }
        let described: JSONValue
        var tilesRun = 0, padUsed = 0
        do { do {
            if let model {
                let upscaler: TiledUpscaler
                do {
                    upscaler = try TiledUpscaler(model: model, tile: p.tile, overlap: p.overlap, pad: p.tilePad)
                } catch let e as UpscaleError {
                    if case let .invalidParameter(field, reason) = e { throw PluginError.invalidParam(field: field, reason: reason) }
                    throw e
                }
                padUsed = upscaler.pad
                described = try upscaler.upscale(image, size: target, scratchDirectory: scratch,
                    progress: { p in
                        tilesRun = p.tiles
                        // step 1 of 1 = this tile is done: the fraction is tile/tiles and the last tile is never throttled away.
                        context.progress(stage: "upscale", step: 1, steps: 1, tile: p.tile, tiles: p.tiles)
                    },
                    checkCancelled: { try context.checkCancelled() },
                    deliver: finish)
            } else {
                context.progress(stage: "resize", step: 0, steps: 1)
                let kernel = Self.kernels[modelName] ?? .lanczos3
                let resized = try image.resized(width: target.width, height: target.height, kernel: kernel)
                if refine != nil {
                    // The refine reads row bands one by one, which a resize of a sequential load cannot serve.
                    let spool = try SpooledImage(resized, directory: scratch)
                    described = try withExtendedLifetime(spool) { try finish(spool.image) }
                } else {
                    described = try finish(resized)
                }
            }
        } catch let e as ImagingError {
            if case .writeFailed(let temporary, let detail) = e, case .file(let path, _) = output {
                // A streamed output fails in its temporary rows next to it (a full disk, most often): the client
                // is told about the output it asked for, and which temporary file hit the error.
                throw PluginError.writeFailed(field: "output.path", path: path,
                                              detail: temporary == path ? detail : "\(detail) (writing the temporary \(temporary))")
            }
            throw PluginError(e, field: "image")
        } catch let e as UpscaleError {
            throw PluginError.unsupportedImage(field: "image", detail: e.description)
        } } catch {
            throw Self.blamingDamagedInput(error, input: input.bytes)
        }
        context.progress(stage: "write", step: 1, steps: 1)
        var result: [String: JSONValue] = [
            "image": described, "model": .string(modelName),
            "source": ["width": JSONValue(image.width), "height": JSONValue(image.height)],
        ]
        if let ignored = refine?.ignored, !ignored.isEmpty { result["ignored"] = .array(ignored.map { .string($0) }) }
        if let model {
            result["network"] = ["architecture": .string(model.architecture), "scale": JSONValue(model.network.scale)]
            result["tiles"] = JSONValue(tilesRun)
            result["tile_pad"] = JSONValue(padUsed)
        }
        if let refine { result["precision"] = .string(refine.precision.rawValue) }
        for (key, value) in refine?.loraMembers ?? [:] { result[key] = value }
        for (key, value) in refine?.adapterMembers ?? [:] { result[key] = value }
        for (key, value) in refine?.embeddingHypernetworkMembers ?? [:] { result[key] = value }
        return .object(result)
    }

    func deliver(_ image: VipsImage, to output: ImageOutput, options: EncodeOptions, context: JobContext) throws -> JSONValue {
        guard case .file(let path, let overwrite) = output else {
            return try context.deliver(image, to: output, field: "output")
        }
        do { try image.write(to: path, overwrite: overwrite, options: options) } catch let e as ImagingError {
            throw PluginError(e, field: "output.path")
        }
        return ["path": .string(path), "format": .string(ImageFormat(path: path)?.rawValue ?? ""),
                "width": JSONValue(image.width), "height": JSONValue(image.height),
                "bands": JSONValue(image.bands), "bit_depth": JSONValue(image.bitDepth)]
    }

    /// A file output is streamed (its strips on disk, libvips encoding them row by row), so it is bounded by
    /// `--max-output-pixels` and its format; an inline output is encoded in memory, so the decoded-image limit
    /// applies to it as to any image the daemon holds.
    static func checkOutputSize(_ target: ImageSize, of image: VipsImage, output: ImageOutput, context: JobContext,
                                field: String) throws {
        switch output {
        case .file(let path, _):
            guard let format = ImageFormat(path: path) else { return }  // refused with its own error when written
            if let limit = context.outputLimits.violation(width: target.width, height: target.height, format: format) {
                throw PluginError.outputTooLarge(field: field, width: target.width, height: target.height, limit: limit)
            }
        case .inline:
            do {
                try context.imageLimits.check(width: target.width, height: target.height, bands: image.bands,
                                              bytesPerSample: max(1, image.bitDepth / 8))
            } catch let e as ImagingError {
                throw PluginError(e, field: field)
            }
        }
    }

    /// The input's rows are decoded lazily, while the job resizes, runs tiles or encodes the output, so a file
    /// damaged below its header fails there, reported as that step's error (-32011, or -32012 naming the output).
    /// On that failure path only, the input is decoded once more: if it is the damaged part, the client hears
    /// -32002 for `image`. Cancellation passes unchanged.
    static func blamingDamagedInput(_ error: Error, input: [UInt8]) -> Error {
        if case PluginError.cancelled = error { return error }
        if case PluginError.unsupportedImage = error { return error }
        do { try VipsImage.verifyDecodes(data: input) } catch let damaged as ImagingError {
            return PluginError(damaged, field: "image")
        } catch {}
        return error
    }

    static func encodeOptions(tiff: String?, output: ImageOutput) -> EncodeOptions {
        guard case .file = output, ["tif", "tiff"].contains(output.formatExtension) else { return EncodeOptions() }
        switch tiff ?? UpscaleParams.defaultTiffLayout {
        case "strip": return EncodeOptions()
        case "pyramid": return EncodeOptions(pyramid: true)
        default: return EncodeOptions(tiled: true)
        }
    }

    /// The one place a Real-ESRGAN network is looked up: by name in the job's model host, errors in this
    /// operation's terms.
    static func upscaler(named name: String, context: JobContext) throws -> UpscalerModel {
        do {
            return try context.models.upscaler(named: name)
        } catch EngineError.noModelsDirectory {
            throw PluginError.invalidParam(field: "model", reason: "no models folder is configured (start the daemon with --models)")
        } catch let EngineError.upscalerNotFound(_, directory, available) {
            let known = (available + Array(Self.kernels.keys).sorted()).joined(separator: ", ")
            throw PluginError.invalidParam(field: "model", reason: "no upscaler named '\(name)' in \(directory) (available: \(known))")
        } catch let EngineError.modelLoadFailed(_, reason) {
            let path = context.models.upscalerDirectory.flatMap { UpscalerCatalog.resolve(name, in: $0) } ?? name
            throw PluginError.failed("model: cannot load \(path): \(reason)")
        }
    }

    /// Exact output size from width/height (one side keeps the aspect ratio) or a factor, each side at least 1.
    static func targetSize(source: (Int, Int), width: Int?, height: Int?, scale: Double?) throws -> ImageSize {
        let (w, h) = source
        func side(_ value: Double, field: String) throws -> Int {
            let rounded = max(1, Int(value.rounded()))
            guard rounded <= maxSide else {
                throw PluginError.invalidParam(field: field, reason: "gives an output side of \(rounded) px, over the limit of \(maxSide)")
            }
            return rounded
        }
        switch (width, height) {
        case let (width?, height?): return ImageSize(width: width, height: height)
        case let (width?, nil): return ImageSize(width: width, height: try side(Double(h) * Double(width) / Double(w), field: "width"))
        case let (nil, height?): return ImageSize(width: try side(Double(w) * Double(height) / Double(h), field: "height"), height: height)
        default:
            let s = scale ?? 4
            return ImageSize(width: try side(Double(w) * s, field: "scale"), height: try side(Double(h) * s, field: "scale"))
        }
    }
}

extension UpscalePlugin: MemoryEstimating {
    /// The network's weights and one tile's activations, and with `refine` its Stable Diffusion model and one
    /// refine window (an img2img of tile² at batch 1); the two phases run one after the other, so the larger
    /// counts. A plain kernel resize without refine gives no estimate (its images are bounded by
    /// --max-image-pixels).
    public func estimateMemory(params: [String: JSONValue], context: JobContext) throws -> MemoryEstimate? {
        let p = UpscaleParams(params)
        var estimate = MemoryEstimate(workingBytes: 0)
        if Self.kernels[p.modelName] == nil {
            guard let model = try? context.models.upscalerFootprint(named: p.modelName) else { return nil }
            let pad = p.tilePad ?? TiledUpscaler.defaultPad(receptiveRadius: model.footprint.receptiveRadius)
            let smallest = GenerationMemoryEstimate.inputSize(params["image"], context: context)
                .map { min(p.tile + pad, $0.width, $0.height) }
            estimate.workingBytes = UpscaleMemory.workingBytes(model.footprint, tile: p.tile, pad: pad, smallestSide: smallest)
            estimate.add(model)
        }
        if case .object(let refine)? = p.refine, let name = refine["model"]?.stringValue {
            guard let model = try? context.models.stableDiffusionFootprint(named: name) else { return nil }
            let tile = refine["tile"]?.intValue ?? RefineSettings.defaultTile
            let guided = (refine["cfg_scale"]?.doubleValue ?? RefineSettings(prompt: "").cfgScale) > 1
            estimate.workingBytes = max(estimate.workingBytes,
                                        GenerationMemory.workingBytes(model.footprint, width: tile, height: tile, batch: 1,
                                                                      guided: guided, encodes: true))
            estimate.add(model, bf16: (try? PrecisionParam.resolve(refine["precision"], field: "refine.precision")) == .bf16)
        }
        return estimate.models.isEmpty ? nil : estimate
    }
}
