/// Name fix-ups for components of diffusers folders whose files differ only by naming convention.
public enum DiffusersFolderNames {
    /// A text encoder with transformers' "text_model." names. Folders on the Hub store
    /// `text_model.embeddings...`; transformers >= 5.6 saves `CLIPTextModel` flattened (`embeddings...`).
    /// Either way the result uses the prefixed names the fixtures, `LDMToDiffusers.textEncoder` and the
    /// Models text encoder use. A file mixing both conventions is refused with the names.
    public static func textEncoder(_ source: any TensorSource) throws -> any TensorSource {
        let prefix = "text_model."
        let prefixed = source.names.filter { $0.hasPrefix(prefix) }
        if prefixed.count == source.names.count { return source }
        if !prefixed.isEmpty {
            throw NameMappingError.unexpectedTensors(component: "text_encoder",
                                                     names: source.names.filter { !$0.hasPrefix(prefix) })
        }
        var b = MappingBuilder(source: source, component: "text_encoder", prefix: "")
        for name in source.names { b.map(name, prefix + name) }
        return try b.finish()
    }
}
