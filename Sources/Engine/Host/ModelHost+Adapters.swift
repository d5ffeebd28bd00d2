import Foundation
import Models

/// Hypernetworks (hosted like models, under the budget) and the adapter listings of `models.list`.
extension ModelHost {
    /// `<--models>/hypernetworks` (see `AdapterFolder` for names).
    public var hypernetworkFolder: AdapterFolder? {
        directory.map { AdapterFolder(path: ($0 as NSString).appendingPathComponent("hypernetworks"), extensions: Hypernetwork.extensions) }
    }

    /// The hypernetwork called `name`, loaded on first use and kept until its file changes or the budget needs room.
    public func hypernetwork(named name: String) throws -> Hypernetwork {
        guard let folder = hypernetworkFolder else { throw EngineError.noModelsDirectory }
        let all = folder.entries()
        guard let entry = all.first(where: { $0.name == name }) else {
            throw EngineError.invalidParameter(field: "hypernetworks",
                                               reason: HypernetworkError.notFound(name: name, available: all.map(\.name)).description)
        }
        return try hosted(ModelKey(kind: .hypernetwork, name: name), path: entry.path, load: {
            do { return try Hypernetwork.load(path: entry.path, name: name) } catch let e as HypernetworkError {
                throw EngineError.invalidParameter(field: "hypernetworks", reason: e.description)
            }
        }, measure: { ($0.residentBytes, ["widths": $0.widths.map(String.init).joined(separator: ",")]) })
    }

    /// Loads hypernetwork `name` (hosted), checks it has a module for one of `model`'s attention context widths,
    /// and appends it to the request's stack at `weight`. Every failure is an `invalidParameter` naming it.
    public func applyHypernetwork(named name: String, weight: Double, model: LoadedModel,
                                  to request: inout GenerationRequest) throws -> HypernetworkUse {
        guard weight.isFinite else { throw EngineError.invalidParameter(field: "hypernetworks", reason: "weight of '\(name)' must be finite") }
        let network = try hypernetwork(named: name)
        let widths = model.networks.unet.attentionContextWidths
        do { try network.check(modelWidths: widths) } catch let e as HypernetworkError {
            throw EngineError.invalidParameter(field: "hypernetworks", reason: e.description)
        }
        request.hypernetworks.entries.append(.init(network: network, strength: Float(weight)))
        return HypernetworkUse(name: name, weight: weight, matchedWidths: network.matched(modelWidths: widths), widths: network.widths,
                               family: network.family)
    }

    /// Embeddings and hypernetworks, described from their headers (`AdapterDescriber`).
    func adapterListings() -> [ModelListing] {
        let resident = residentModels()
        var listings: [ModelListing] = []
        for entry in embeddings.entries() {
            let described = AdapterDescriber.embedding(entry)
            listings.append(ModelListing(kind: .embedding, name: entry.name, path: entry.path, format: entry.format, resident: [],
                                         details: described.details, problem: described.problem))
        }
        for entry in hypernetworkFolder?.entries() ?? [] {
            let mine = resident.filter { $0.key.kind == .hypernetwork && $0.key.name == entry.name }
            let described = AdapterDescriber.hypernetwork(entry)
            listings.append(ModelListing(kind: .hypernetwork, name: entry.name, path: entry.path, format: entry.format,
                                         resident: mine, details: described.details, problem: described.problem))
        }
        return listings
    }
}

/// A hypernetwork a request applied, as the result reports it.
public struct HypernetworkUse: Sendable, Equatable {
    public let name: String
    public let weight: Double
    /// Its module widths this model's attentions have, and all of its widths.
    public let matchedWidths: [Int]
    public let widths: [Int]
    /// `HypernetworkFamily` of its widths (nil for widths of no real family).
    public let family: String?
}
