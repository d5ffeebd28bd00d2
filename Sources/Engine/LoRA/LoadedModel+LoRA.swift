import Foundation
import Logging
import Models
import Tensor
import Weights

extension LoadedModel {
    /// This model with `requests` applied (files from `directory`): the base itself when there are none, so a
    /// request without adapters runs on exactly the networks a fresh daemon loads. Patched networks are built
    /// beside the base (only touched tensors copied) and kept for the next request with the same set.
    ///
    /// Throws `LoRARequestError` naming the entry: unknown name, unreadable file, a non-finite strength, an
    /// adapter for another family, or one matching no layer. A partly matched adapter is applied and its report
    /// carries a warning.
    public func applying(_ requests: [LoRARequest], directory: LoRADirectory?) throws -> LoRAPatchedModel {
        guard !requests.isEmpty else { return LoRAPatchedModel(model: self, reports: [], reused: true) }
        guard let directory else { throw LoRARequestError(requests[0], .noModelsDirectory) }
        var entries: [LoRADirectory.Entry] = []
        for request in requests {
            for value in [request.weight, request.textEncoderWeight, request.unetWeight].compactMap({ $0 }) where !value.isFinite {
                throw LoRARequestError(request, .invalidWeight(name: request.name, reason: "weight \(value) is not a finite number"))
            }
            if let dyn = request.dyn, dyn < 1 {
                throw LoRARequestError(request, .invalidWeight(name: request.name, reason: "dyn=\(dyn) is not a rank (a whole number of at least 1)"))
            }
            do { entries.append(try directory.resolve(request.name)) } catch let error as LoRAError {
                throw LoRARequestError(request, error)
            }
        }
        let key = LoRASetKey(items: zip(requests, entries).map { request, entry in
            .init(path: entry.path, stamp: FileStamp(path: entry.path), textEncoderWeight: request.effectiveTextEncoderWeight,
                  unetWeight: request.effectiveUNetWeight, dyn: request.dyn)
        })
        if let cached = loraCache.value(for: key) { return cached.reused(true) }

        // Phase times, logged for profiling the first-use cost (reading the files vs merging and rebuilding).
        let started = Date()
        var applications: [LoRAApplication] = []
        for (request, entry) in zip(requests, entries) {
            let file: LoRAFile
            do { file = try LoRAFile(path: entry.path) } catch {
                throw LoRARequestError(request, .unreadable(name: request.name, reason: String(describing: error)))
            }
            if let adapterFamily = file.header.family, let modelFamily = networks.family, adapterFamily != modelFamily {
                throw LoRARequestError(request, .wrongFamily(
                    name: request.name, adapterFamily: adapterFamily.rawValue, model: name, modelFamily: modelFamily.rawValue))
            }
            applications.append(LoRAApplication(file: file, textEncoderWeight: Float(request.effectiveTextEncoderWeight),
                                                    unetWeight: Float(request.effectiveUNetWeight), dyn: request.dyn))
        }
        let read = Date()
        let patched: (models: StableDiffusionModels, matches: [LoRAMatch], patchedBytes: Int, timings: LoRAMergeTimings)
        do {
            // The set this one replaces goes first (unless a running job still holds it), so the memory of its
            // copies, already faulted in, takes the new copies instead of fresh pages; it also keeps one set's
            // copies resident at a time, not two.
            patched = try TensorArena.recycling {
                loraCache.clear()
                return try LoRAPatcher.patch(networks, with: applications)
            }
        } catch {
            throw LoRARequestError(requests[0], .cannotPatch(model: name, reason: String(describing: error)))
        }
        let timings = LoRAApplyTimings(readSeconds: read.timeIntervalSince(started), mergeSeconds: Date().timeIntervalSince(read),
                                       merge: patched.timings)
        Logger(label: "diffusiond.lora").debug("LoRA set merged", metadata: [
            "model": "\(name)", "adapters": "\(requests.map(\.name))", "patched_bytes": "\(patched.patchedBytes)",
            "timings": "\(timings)",
        ])
        var reports: [LoRAReport] = []
        var bundled: [BundledEmbedding] = []
        for ((request, application), match) in zip(zip(requests, applications), patched.matches) {
            guard match.matched > 0 else {
                throw LoRARequestError(request, .matchesNothing(
                    name: request.name, model: name, sampleKeys: match.unmatched))
            }
            var embeddingReports: [LoRABundledEmbeddingReport] = []
            for bundle in application.file.bundledEmbeddings {
                do {
                    let embedding = try TextualInversionFile.load(bundled: bundle)
                    if !bundled.contains(where: { $0.embedding.name == embedding.name }) {
                        bundled.append(BundledEmbedding(lora: request.name, embedding: embedding))
                    }
                    embeddingReports.append(LoRABundledEmbeddingReport(name: bundle.name, vectors: embedding.vectorCount,
                                                                       family: embedding.family, error: nil))
                } catch {
                    embeddingReports.append(LoRABundledEmbeddingReport(name: bundle.name, vectors: nil, family: nil,
                                                                       error: String(describing: error)))
                }
            }
            reports.append(LoRAReport(request: request, family: application.file.header.family?.rawValue,
                                         type: application.file.type.rawValue, matched: match.matched, total: match.total,
                                         unmatched: match.unmatched, bundledEmbeddings: embeddingReports))
        }
        let model = try LoadedModel(name: name, path: path, networks: patched.models, tokenizers: tokenizers,
                                    loraCache: LoRAPatchCache(), bundledEmbeddings: bundled,
                                    appliedLoRAs: zip(requests, entries).map { request, entry in
                                        AppliedLoRA(name: request.name, textEncoderWeight: request.effectiveTextEncoderWeight,
                                                    unetWeight: request.effectiveUNetWeight, dyn: request.dyn, path: entry.path)
                                    })
        let adapted = LoRAPatchedModel(model: model, reports: reports, reused: false, patchedBytes: patched.patchedBytes,
                                       bf16Ledgers: patched.models.bf16Ledgers(notSharedWith: networks), timings: timings)
        loraCache.store(adapted, for: key)
        return adapted
    }
}
