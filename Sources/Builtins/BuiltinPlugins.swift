import GeneratePlugin
import Img2ImgPlugin
import InpaintPlugin
import ModelsPlugin
import OutpaintPlugin
import PluginAPI
import PreprocessPlugin
import ResizePlugin
import UpscalePlugin

/// The one list of built-in operations, used by the daemon and by the tests (which derive the expected methods
/// and schema files from it). Adding an operation = a target under plugins/, its line in Package.swift and one
/// entry here; no server code changes.
public enum BuiltinPlugins {
    public static func all() -> [any OperationPlugin] {
        [ResizePlugin(), UpscalePlugin(), GeneratePlugin(), Img2ImgPlugin(), InpaintPlugin(), OutpaintPlugin(), PreprocessPlugin()]
            + ModelMethods.all()
    }
}
