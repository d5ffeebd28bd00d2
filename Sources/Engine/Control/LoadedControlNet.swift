import Models
import Weights

/// A resident ControlNet: the network, the family its files say it belongs to and how they were stored.
public struct LoadedControlNet: Sendable {
    /// The request name: its path under `<models>/controlnet/` without extension.
    public let name: String
    public let path: String
    public let family: ModelFamilyID
    public let network: ControlNet
    public let layout: ModelDescription.Layout

    public init(name: String, path: String, family: ModelFamilyID, network: ControlNet, layout: ModelDescription.Layout) {
        self.name = name
        self.path = path
        self.family = family
        self.network = network
        self.layout = layout
    }

    /// Loads `path` strictly (see `ControlNetFiles`).
    public static func load(name: String, path: String, options: ControlNetOptions = ControlNetOptions()) throws -> LoadedControlNet {
        let (file, network) = try ControlNetFiles.load(path: path, options: options)
        return LoadedControlNet(name: name, path: path, family: file.family, network: network, layout: file.layout)
    }

    /// What `status` and `models.list` show of it once loaded.
    var details: [String: String] {
        ControlNetVariant.details(family: family, config: network.config, layout: layout)
    }
}
