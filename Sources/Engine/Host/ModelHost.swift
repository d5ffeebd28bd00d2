import Foundation
import Logging
import Models
import Tensor

/// The one home of resident models: every kind (Stable Diffusion checkpoints, upscalers; next ControlNets and
/// adapter-patched variants) keyed by kind, name and variant, under one memory budget, handed to operations
/// through their job context instead of living in globals.
///
/// - Loaded on first use and kept until the budget needs room (least recently used first, across kinds),
///   `unload` is called, or the file changes on disk (a new size or modification time: the next lookup loads
///   the new file; requests holding the old copy finish with it).
/// - The budget counts each model's float32 weight bytes, a checkpoint's with the patched copies of its kept LoRA
///   set (`adaptersChanged(on:)` re-checks it when that set changes). Eviction happens after a new model has loaded, so a
///   failed load changes nothing, at the price of briefly holding the old models and the new one together.
///   A model larger than the whole budget still loads and then stays alone.
/// - Loads are serialised (two requests for the same new model load it once). Lookups of resident models,
///   `catalog()` and `residentModels()` never wait for a load, so `status` and `models.list` answer while a
///   job is loading or running.
public final class ModelHost: @unchecked Sendable {
    public typealias StableDiffusionLoader = (_ name: String, _ path: String) throws -> LoadedModel
    public typealias UpscalerLoader = (_ path: String) throws -> UpscalerModel
    public typealias ControlNetLoader = (_ name: String, _ path: String) throws -> LoadedControlNet

    /// `--models`; nil when the daemon was started without one.
    public let directory: String?

    private let lock = NSLock()
    private let loadLock = NSLock()
    private var budget: Int?
    private var entries: [ModelKey: Entry] = [:]
    private var clock: UInt64 = 0
    /// The running job's estimated working memory, which the budget holds beside the resident weights.
    private var reservedWorking = 0
    private let loadStableDiffusion: StableDiffusionLoader
    private let loadUpscaler: UpscalerLoader
    private let loadControlNet: ControlNetLoader
    private let describer: ModelDescriber
    /// The textual-inversion embeddings of `<directory>/embeddings` (none without a models folder).
    public let embeddings: EmbeddingLibrary
    private let logger = Logger(label: "diffusiond.models")

    private struct Entry {
        let info: ResidentModelInfo
        let stamp: FileStamp?
        let value: any Sendable
        var lastUse: UInt64
        /// A network's bf16 weight copies when it was measured (in `info.bytes`); more appear when a bf16
        /// request first runs on a checkpoint, ControlNet or T2I-Adapter loaded for fp32.
        var bf16BytesAtLoad = 0

        /// Bytes held beside the weights that change while resident: a checkpoint's kept LoRA set
        /// (`LoRAPatchCache`), read when the budget is checked and when `status` asks.
        var patchedBytes: Int { (value as? LoadedModel)?.loraCache.patchedBytes ?? 0 }
        /// bf16 weight copies made since the load (`BF16PackedWeight`).
        var bf16Growth: Int { max(0, ((value as? any HoldsBF16Copies)?.bf16PackBytes ?? 0) - bf16BytesAtLoad) }
        /// What the budget counts for it now.
        var bytes: Int { info.bytes + patchedBytes + bf16Growth }
        /// The info as reported now, its patched copies and later bf16 copies included.
        var current: ResidentModelInfo { info.withPatchedBytes(patchedBytes).grown(by: bf16Growth) }
    }

    public init(directory: String?, budgetBytes: Int? = nil,
                stableDiffusionLoader: @escaping StableDiffusionLoader = { name, path in try LoadedModel.load(name: name, path: path) },
                upscalerLoader: @escaping UpscalerLoader = { path in try UpscalerModel.load(path: path) },
                controlNetLoader: @escaping ControlNetLoader = { name, path in try LoadedControlNet.load(name: name, path: path) },
                describer: ModelDescriber = ModelDescriber()) {
        self.directory = directory
        self.budget = budgetBytes
        self.loadStableDiffusion = stableDiffusionLoader
        self.loadUpscaler = upscalerLoader
        self.loadControlNet = controlNetLoader
        self.describer = describer
        embeddings = EmbeddingLibrary(directory: directory.map { ($0 as NSString).appendingPathComponent("embeddings") })
    }

    /// nil = unlimited.
    public var budgetBytes: Int? {
        get { lock.withLock { budget } }
        set { lock.withLock { budget = newValue } }
    }

    /// The Stable Diffusion checkpoints of the models folder.
    public var stableDiffusionDirectory: ModelDirectory? { directory.map(ModelDirectory.init(path:)) }

    /// Where upscalers are looked up: the models folder, else `./models` when it exists (where the set-up
    /// script unpacks the Real-ESRGAN networks), so a daemon started without `--models` can still upscale.
    public var upscalerDirectory: String? {
        if let directory { return directory }
        let local = FileManager.default.currentDirectoryPath + "/models"
        return FileManager.default.fileExists(atPath: local) ? local : nil
    }

    // MARK: - lookups

    /// The Stable Diffusion model called `name` (a folder or file name, extension optional), loading it if needed.
    public func stableDiffusion(named name: String) throws -> LoadedModel {
        guard let directory = stableDiffusionDirectory else { throw EngineError.noModelsDirectory }
        let entry = try directory.resolve(name)
        let key = ModelKey(kind: .stableDiffusion, name: entry.name)
        return try hosted(key, path: entry.path, load: { try loadStableDiffusion(entry.name, entry.path) },
                          measure: { ($0.bytes, $0.details) })
    }

    /// The upscaler called `name` (see `UpscalerCatalog` for where it is looked up), loading it if needed.
    public func upscaler(named name: String) throws -> UpscalerModel {
        guard let folder = upscalerDirectory else { throw EngineError.noModelsDirectory }
        guard let path = UpscalerCatalog.resolve(name, in: folder) else {
            throw EngineError.upscalerNotFound(name: name, directory: folder, available: UpscalerCatalog.available(in: folder))
        }
        return try hosted(ModelKey(kind: .upscaler, name: name), path: path, load: { try loadUpscaler(path) },
                          measure: { ($0.network.residentBytes, $0.details) })
    }

    /// `<models>/t2i_adapter/`: T2I-Adapters as diffusers folders, .safetensors or .pth files.
    public var t2iAdapterFolder: ModelSubfolder? {
        directory.map { ModelSubfolder(path: $0 + "/t2i_adapter", extensions: ["safetensors", "pth", "pt", "bin"],
                                       isModelFolder: T2IAdapterFiles.isAdapterFolder) }
    }

    /// The T2I-Adapter called `name` (its path under `t2i_adapter/` without extension), loading it if needed.
    public func t2iAdapter(named name: String) throws -> T2IAdapter {
        guard let folder = t2iAdapterFolder else { throw EngineError.noModelsDirectory }
        guard let path = folder.resolve(name) else {
            throw EngineError.kindNotFound(kind: "T2I-Adapter", name: name, directory: folder.path, available: folder.names())
        }
        return try hosted(ModelKey(kind: .t2iAdapter, name: name), path: path, load: { try T2IAdapterFiles.load(path: path) },
                          measure: { ($0.residentBytes,
                                      ["family": $0.config.family, "adapter_type": $0.config.variant]) })
    }

    /// `<models>/controlnet/`: ControlNets as diffusers folders (`config.json`), .safetensors or .pth/.ckpt/.pt
    /// files (names and folder rules as every kind's own folder, `ModelSubfolder`).
    public var controlNetFolder: ModelSubfolder? {
        directory.map { ModelSubfolder(path: $0 + "/controlnet", extensions: ["safetensors", "pth", "ckpt", "pt"],
                                       isModelFolder: { FileManager.default.fileExists(atPath: $0 + "/config.json") }) }
    }

    /// The ControlNet called `name` (its path under `controlnet/` without extension), loading it if needed.
    public func controlNet(named name: String) throws -> LoadedControlNet {
        guard let folder = controlNetFolder else { throw EngineError.noModelsDirectory }
        guard let path = folder.resolve(name) else {
            throw EngineError.kindNotFound(kind: "ControlNet", name: name, directory: folder.path, available: folder.names())
        }
        return try hosted(ModelKey(kind: .controlnet, name: name), path: path, load: { try loadControlNet(name, path) },
                          measure: { ($0.network.residentBytes, $0.details) })
    }

    /// Resident model `key` if its file is unchanged, else `load()` once (serialised), inserted under the budget.
    /// Internal so the adapter kinds (`ModelHost+Adapters`) are hosted by the same rules.
    func hosted<M: Sendable>(_ key: ModelKey, path: String, load: () throws -> M,
                             measure: (M) -> (bytes: Int, details: [String: String])) throws -> M {
        let stamp = FileStamp(path: path)
        if let hit: M = touch(key, stamp: stamp) { return hit }
        loadLock.lock(); defer { loadLock.unlock() }
        if let hit: M = touch(key, stamp: stamp) { return hit }
        let started = Date()
        let model: M
        do {
            model = try load()
        } catch let error as EngineError {
            throw error
        } catch {
            logger.warning("model load failed", metadata: ["model": "\(key)", "error": "\(error)"])
            throw EngineError.modelLoadFailed(name: key.name, reason: String(describing: error))
        }
        var (bytes, details) = measure(model)
        // What `status` reports each resident model runs in: requests without `precision` compute in the daemon's
        // (`--precision`, auto resolved); upscaler networks always run fp32. Weight matrices stay resident as
        // `--weights` chose at start-up.
        details["precision"] = key.kind == .upscaler ? ComputePrecision.fp32.rawValue : PrecisionSetting.forRequest(nil).rawValue
        details["weights"] = WeightResidency.processDefault.rawValue
        insert(Entry(info: ResidentModelInfo(key: key, path: path, bytes: bytes, loadedAt: Date(), details: details),
                     stamp: stamp, value: model, lastUse: 0, bf16BytesAtLoad: (model as? any HoldsBF16Copies)?.bf16PackBytes ?? 0))
        logger.info("model loaded", metadata: ["model": "\(key)", "bytes": "\(bytes)",
                                                "seconds": "\(String(format: "%.2f", Date().timeIntervalSince(started)))"])
        return model
    }

    /// Resident model `key` if its file is unchanged, without loading or counting it as a use (estimates).
    func peek<M>(_ key: ModelKey, path: String) -> M? {
        let stamp = FileStamp(path: path)
        return lock.withLock {
            guard let entry = entries[key], entry.stamp == stamp else { return nil }
            return entry.value as? M
        }
    }

    /// What resident model `key` counts against the budget if its file is unchanged, nil when not resident.
    func residentBytes(_ key: ModelKey, path: String) -> Int? {
        let stamp = FileStamp(path: path)
        return lock.withLock {
            guard let entry = entries[key], entry.stamp == stamp else { return nil }
            return entry.bytes
        }
    }

    private func touch<M>(_ key: ModelKey, stamp: FileStamp?) -> M? {
        lock.withLock {
            guard let entry = entries[key], entry.stamp == stamp, let model = entry.value as? M else { return nil }
            clock += 1
            entries[key]?.lastUse = clock
            return model
        }
    }

    private func insert(_ new: Entry) {
        lock.withLock {
            entries[new.info.key] = nil  // a stale copy of the same key does not count against its replacement
            evictLocked(toFit: new.bytes)
            clock += 1
            var entry = new
            entry.lastUse = clock
            entries[new.info.key] = entry
        }
    }

    /// Evicts least recently used models, other than `spared`, until `extra` more bytes fit the budget beside the
    /// running job's reservation (the caller holds `lock`).
    private func evictLocked(toFit extra: Int, sparing spared: [ModelKey] = [], reason: String = "memory budget") {
        guard let budget else { return }
        var used = entries.values.reduce(0) { $0 + $1.bytes } + reservedWorking
        while used + extra > budget,
              let victim = entries.filter({ !spared.contains($0.key) }).min(by: { $0.value.lastUse < $1.value.lastUse }) {
            used -= victim.value.bytes
            entries[victim.key] = nil
            logger.info("model evicted (\(reason))", metadata: ["model": "\(victim.key)"])
        }
    }

    /// Checks the budget again after `model` (resident under `.stableDiffusion`) took a new adapter set: its
    /// patched copies count with it, and other models give way, least recently used first (the model itself stays,
    /// as a model larger than the whole budget stays alone).
    public func adaptersChanged(on model: LoadedModel) {
        lock.withLock { evictLocked(toFit: 0, sparing: [ModelKey(kind: .stableDiffusion, name: model.name)]) }
    }

    // MARK: - residency

    /// The budget bounds resident weights plus the running job's peak: reserves `bytes` for the job now
    /// starting (0 when it ends) and evicts least recently used models other than `keeping` until they fit.
    public func reserveWorkingMemory(_ bytes: Int, keeping: [ModelKey]) {
        lock.withLock {
            reservedWorking = max(0, bytes)
            evictLocked(toFit: 0, sparing: keeping, reason: "memory budget, for the running job")
        }
    }

    /// Drops every resident variant of `key`'s kind and name; returns whether anything was resident. Requests
    /// already holding the model finish normally.
    @discardableResult
    public func unload(kind: ModelKind, name: String) -> Bool {
        lock.withLock {
            let keys = entries.keys.filter { $0.kind == kind && $0.name == name }
            for key in keys { entries[key] = nil }
            return !keys.isEmpty
        }
    }

    /// Resident models, in key order.
    public func residentModels() -> [ResidentModelInfo] {
        lock.withLock { entries.values.map(\.current).sorted { $0.key < $1.key } }
    }

    public var residentBytes: Int { lock.withLock { entries.values.reduce(0) { $0 + $1.bytes } } }

    /// Every model the daemon can use, each kind from its own folder rules, with what its files say of it
    /// (read from headers and configs, not loaded) and whether it is resident; plus resident models whose
    /// file has vanished since they loaded.
    public func catalog() -> [ModelListing] {
        let resident = residentModels()
        var listings: [ModelListing] = []
        let checkpoints = stableDiffusionDirectory?.entries() ?? []
        var upscalerFiles: Set<String> = []
        for e in checkpoints {
            // A file in the models root whose tensors say upscaler is listed (and used) as one.
            if e.kind != "diffusers", describer.describe(path: e.path).kind == .upscaler { upscalerFiles.insert(e.path); continue }
            listings.append(listing(kind: .stableDiffusion, name: e.name, path: e.path, format: e.kind))
        }
        if let folder = upscalerDirectory {
            let checkpointNames = Set(checkpoints.map(\.name))
            for name in UpscalerCatalog.available(in: folder) {
                guard let path = UpscalerCatalog.resolve(name, in: folder) else { continue }
                // A checkpoint in the models root is a Stable Diffusion model unless its tensors say upscaler.
                let inRoot = (path as NSString).deletingLastPathComponent == folder
                if inRoot, checkpointNames.contains(name), !upscalerFiles.contains(path) { continue }
                listings.append(listing(kind: .upscaler, name: name, path: path,
                                        format: (path as NSString).pathExtension.lowercased()))
            }
        }
        if let directory {
            for entry in LoRADirectory(modelsDirectory: directory).entries() {
                let described = describer.describe(path: entry.path, with: ModelDescriber.loraHeaders)
                listings.append(ModelListing(kind: .lora, name: entry.name, path: entry.path, format: entry.format, resident: [],
                                             details: described.details, problem: described.problem))
            }
        }
        if let folder = controlNetFolder {
            for name in folder.names() {
                guard let path = folder.resolve(name) else { continue }
                listings.append(listing(kind: .controlnet, name: name, path: path, format: Self.listingFormat(path)))
            }
        }
        if let folder = t2iAdapterFolder {
            for name in folder.names() {
                guard let path = folder.resolve(name) else { continue }
                listings.append(listing(kind: .t2iAdapter, name: name, path: path, format: Self.listingFormat(path)))
            }
        }
        listings += adapterListings()
        for info in resident where !listings.contains(where: { $0.kind == info.key.kind && $0.name == info.key.name }) {
            listings.append(ModelListing(kind: info.key.kind, name: info.key.name, path: info.path, format: "resident",
                                         resident: [info], details: info.details, problem: "its file is no longer in the models folder"))
        }
        return listings.sorted { ($0.kind, $0.name) < ($1.kind, $1.name) }

        func listing(kind: ModelKind, name: String, path: String, format: String) -> ModelListing {
            let mine = resident.filter { $0.key.kind == kind && $0.key.name == name }
            let described = kind == .controlnet ? describer.describeControlNet(path: path) : describer.describe(path: path)
            var details = described.details
            for info in mine { details.merge(info.details) { _, loaded in loaded } }
            return ModelListing(kind: kind, name: name, path: path, format: format, resident: mine, details: details,
                                problem: described.problem)
        }
    }

    /// "diffusers" for a folder, else the file's extension (as the checkpoint listing reports them).
    static func listingFormat(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        let isFolder = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
        return isFolder ? "diffusers" : (path as NSString).pathExtension.lowercased()
    }
}
