import Engine
import Imaging
import PluginAPI
import Preprocessors

/// Resolves a request's `control` entries for a run on `model`: each ControlNet from the job's model host, each
/// control image decoded, and the checks that need neither the run's size nor its latents (family and fit
/// against the checkpoint, start/end), so a bad entry is refused before any work, naming its member.
public enum ControlLookup {
    public static func inputs(_ entries: [ControlParams], model: LoadedModel, context: JobContext) throws -> [ControlNetInput] {
        try entries.map { entry in
            let network: LoadedControlNet
            do {
                context.progress(stage: "load_model", step: 0, steps: 1)
                network = try context.models.controlNet(named: entry.model)
            } catch let e as EngineError {
                throw PluginError.invalidParam(field: entry.field + ".model", reason: e.description)
            }
            let image = try preprocessed(try context.loadImage(entry.image, field: entry.field + ".image"), entry: entry,
                                         context: context)
            let input = ControlNetInput(controlNet: network, image: image, resizeMode: entry.resizeMode, weight: entry.weight,
                                        start: entry.start, end: entry.end, guessMode: entry.guessMode, field: entry.member)
            do {
                try GenerationCore.check(control: input, model: model)
            } catch EngineError.invalidParameter(let field, let reason) {
                throw PluginError.invalidParam(field: entry.prefix + field, reason: reason)
            } catch let e as EngineError {
                throw PluginError(e, sizeField: "width", modelField: entry.field + ".model")
            }
            return input
        }
    }

    /// The control image after the entry's `preprocess` (the `preprocess` operation's code and checks: the
    /// working size against the job's image limits before any work), or as sent for "none".
    static func preprocessed(_ image: VipsImage, entry: ControlParams, context: JobContext) throws -> VipsImage {
        let step: ControlPreprocessing?
        do throws(PreprocessorError) {
            step = try ControlPreprocessing.decode(from: entry.members, fieldPrefix: entry.field + ".")
        } catch {
            throw PluginError.invalidParam(field: error.field ?? entry.field + ".preprocess", reason: error.reason)
        }
        guard let step else { return image }
        let size = step.workingSize(width: image.width, height: image.height)
        do {
            try context.imageLimits.check(width: size.width, height: size.height, bands: 3, bytesPerSample: 4)
            return try step.apply(to: image)
        } catch let e as ImagingError {
            throw PluginError(e, field: entry.field + ".resolution")
        } catch let e as PreprocessorError {
            throw PluginError.unsupportedImage(field: entry.field + ".image", detail: e.reason)
        }
    }
}
