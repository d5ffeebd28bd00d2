import PluginAPI
import GeneratePlugin
import Img2ImgPlugin
import InpaintPlugin
import OutpaintPlugin
import ResizePlugin
import UpscalePlugin

/// The one place built-in operations are registered. Adding an operation = a target under plugins/ plus
/// one line here; no server code changes.
enum BuiltinPlugins {
    static func all() -> [any OperationPlugin] {
        [ResizePlugin(), UpscalePlugin()]
            + [GeneratePlugin()]
            + [Img2ImgPlugin()]
            + [InpaintPlugin()]
            + [OutpaintPlugin()]
            + ModelMethods.all()
    }
}
