import Weights

/// An A1111 hypernetwork's hyper-parameters, with A1111's defaults for what older files leave out
/// (`Hypernetwork.load`): `layer_structure` [1, 2, 1], no activation, no layer norm, `activate_output` True, and
/// the dropout structure from `use_dropout` / `last_layer_dropout` when the file has none.
struct HypernetworkStructure: Sendable, Equatable {
    var layerStructure: [Double]
    var activation: HypernetworkActivation?
    var layerNorm: Bool
    var activateOutput: Bool
    /// Per entry of `layerStructure`: the dropout after that layer (0 = no Dropout module).
    var dropout: [Double]

    init(metadata m: [String: TorchMetadata]) throws {
        layerStructure = m["layer_structure"]?.numbers ?? [1, 2, 1]
        guard layerStructure.count >= 2, layerStructure.first == 1, layerStructure.last == 1,
              layerStructure.allSatisfy({ $0 > 0 && $0 <= 64 }) else {
            throw HypernetworkStructureError("layer_structure \(layerStructure) must start and end with 1 (factors in (0, 64])")
        }
        switch m["activation_func"] {
        case nil, .none?, .string("linear")?: activation = nil
        case let .string(name)?:
            guard let a = HypernetworkActivation(rawValue: name.lowercased()) else {
                throw HypernetworkStructureError("activation_func '\(name)' is not supported")
            }
            activation = a
        case let other?: throw HypernetworkStructureError("activation_func is \(other), not a name")
        }
        layerNorm = m["is_layer_norm"]?.bool ?? false
        activateOutput = m["activate_output"]?.bool ?? true
        if let given = m["dropout_structure"]?.numbers {
            guard given.count == layerStructure.count, given.allSatisfy({ $0 >= 0 && $0 < 1 }) else {
                throw HypernetworkStructureError("dropout_structure \(given) does not fit layer_structure \(layerStructure)")
            }
            dropout = given
        } else {
            let useDropout = m["use_dropout"]?.bool ?? false
            let lastLayerDropout = m["last_layer_dropout"]?.bool ?? false
            if useDropout {
                dropout = [0] + Array(repeating: 0.3, count: max(layerStructure.count - 3, 0)) + [lastLayerDropout ? 0.3 : 0, 0]
            } else {
                dropout = Array(repeating: 0, count: layerStructure.count)
            }
        }
    }
}

struct HypernetworkStructureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
