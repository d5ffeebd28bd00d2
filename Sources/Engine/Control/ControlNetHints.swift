import Imaging
import Models
import Tensor

/// Control images as ControlNets take them: fitted to the run's size with the entry's resize mode, then values in
/// [0, 1] (v / 255, diffusers' control-image processor) with the hint's channels — RGB for 3-channel hints (alpha
/// dropped, grey repeated), the grey band for 1-channel hints — repeated for every image of the batch.
enum ControlNetHints {
    /// The run's ControlNet input for stages on a UNet configured as `unet` (the base's), nil without controls.
    static func `extension`(for request: GenerationRequest, unet: UNetConfig) throws -> ControlNetUNetInput? {
        guard !request.controls.isEmpty else { return nil }
        let entries = try request.controls.map { control in
            try ControlNetUNetInput.Entry(input: control, hint: try hint(control, width: request.width, height: request.height,
                                                                         batch: request.batchSize))
        }
        return ControlNetUNetInput(entries: entries, unet: unet)
    }

    /// [batch, hint channels, height, width] in [0, 1].
    static func hint(_ control: ControlNetInput, width: Int, height: Int, batch: Int) throws -> Tensor {
        try checkChannels(control)
        let one: Tensor
        do {
            let fitted = try control.resizeMode.apply(control.image, width: width, height: height)
            let rgb = try fitted.toUnitTensor()
            if control.controlNet.network.hintChannels == 1 {
                // A grey image's RGB planes are the grey band three times.
                one = split(rgb, axis: 1, sizes: [1, 2])[0]
            } else {
                one = rgb
            }
        } catch let error as ImagingError {
            throw EngineError.invalidParameter(field: control.field + ".image", reason: error.description)
        }
        return batch == 1 ? one : concat(Array(repeating: one, count: batch), axis: 0)
    }

    /// 3-channel ControlNets read any image as RGB; 1-channel ones need a grey image; others cannot be fed from
    /// an image at all.
    static func checkChannels(_ control: ControlNetInput) throws {
        let channels = control.controlNet.network.hintChannels
        let bands = control.image.colorBands
        switch channels {
        case 3:
            return
        case 1 where bands == 1:
            return
        case 1:
            throw EngineError.invalidParameter(field: control.field + ".image",
                reason: "has \(bands) colour bands; ControlNet '\(control.controlNet.name)' takes 1-channel (grey) hints")
        default:
            throw EngineError.invalidParameter(field: control.field + ".model",
                reason: "ControlNet '\(control.controlNet.name)' takes \(channels)-channel hints, which cannot be read from an image (1 or 3 only)")
        }
    }
}
