/// The registry of model families, in detection order: the first family that recognises a file wins.
/// More specific families come first: SDXL (refiner, then base) before SD2 and SD1.
public enum ModelFamilies {
    public static let all: [any ModelFamily] = [SDXLRefinerFamily(), SDXLFamily(), SD2Family(), SD1Family()]

    public static func family(_ id: ModelFamilyID) -> (any ModelFamily)? {
        all.first { $0.id == id }
    }

    /// The family of a single-file checkpoint, from its tensor names and shapes.
    public static func recognise(singleFile checkpoint: any TensorSource) throws -> any ModelFamily {
        if let family = all.first(where: { $0.recognises(singleFile: checkpoint) }) { return family }
        throw NameMappingError.unrecognisedStructure(
            component: "checkpoint", detail: "no model family (\(ids)) recognises its tensor names")
    }

    /// The family of a diffusers folder, from its configs.
    public static func recognise(folder: DiffusersFolderSummary) throws -> any ModelFamily {
        if let family = all.first(where: { $0.recognises(folder: folder) }) { return family }
        throw NameMappingError.unrecognisedStructure(
            component: "model_index", detail: "no model family (\(ids)) recognises its configs")
    }

    private static var ids: String { all.map(\.id.rawValue).joined(separator: ", ") }
}
