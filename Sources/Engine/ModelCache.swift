import Foundation
import Logging
import Models

/// Models resident in memory, shared by all requests: loaded on first use, kept until the memory budget
/// needs room (least recently used first) or `unload` is called.
///
/// The budget counts the float32 size of each model's weights (`LoadedModel.bytes`). Eviction happens after
/// a new model has loaded, so a load that fails changes nothing (the models resident before stay resident and
/// usable) at the price of briefly holding the old models and the new one together. A model larger than the
/// whole budget still loads and then stays alone, so that one big model always works. Loads are
/// serialised (two requests for the same new model load it once); lookups of resident models never
/// wait for a load.
public final class ModelCache: @unchecked Sendable {
    public typealias Loader = (_ name: String, _ path: String) throws -> LoadedModel

    public let directory: ModelDirectory?
    /// nil = unlimited.
    public var budgetBytes: Int? {
        get { lock.withLock { budget } }
        set { lock.withLock { budget = newValue } }
    }

    private let lock = NSLock()
    private let loadLock = NSLock()
    private var budget: Int?
    private var resident: [String: LoadedModel] = [:]
    private var lastUse: [String: UInt64] = [:]
    private var clock: UInt64 = 0
    private let loader: Loader
    private let logger = Logger(label: "diffusiond.models")

    public init(directory: String?, budgetBytes: Int? = nil,
                loader: @escaping Loader = { name, path in try LoadedModel.load(name: name, path: path) }) {
        self.directory = directory.map(ModelDirectory.init(path:))
        self.budget = budgetBytes
        self.loader = loader
    }

    public struct Status: Equatable, Sendable {
        public let name: String
        public let path: String
        public let kind: String
        public let loaded: Bool
        public let bytes: Int?
    }

    /// Every model in the directory, with whether it is resident, plus resident models whose file vanished.
    public func list() -> [Status] {
        let entries = directory?.entries() ?? []
        return lock.withLock {
            var out = entries.map { e in
                Status(name: e.name, path: e.path, kind: e.kind, loaded: resident[e.name] != nil, bytes: resident[e.name]?.bytes)
            }
            for (name, model) in resident where !entries.contains(where: { $0.name == name }) {
                out.append(Status(name: name, path: model.path, kind: "resident", loaded: true, bytes: model.bytes))
            }
            return out.sorted { $0.name < $1.name }
        }
    }

    public var residentNames: [String] { lock.withLock { resident.keys.sorted() } }
    public var residentBytes: Int { lock.withLock { resident.values.reduce(0) { $0 + $1.bytes } } }

    /// The model called `name`, loading it if needed.
    public func model(named name: String) throws -> LoadedModel {
        guard let directory else { throw EngineError.noModelsDirectory }
        let entry = try directory.resolve(name)
        if let hit = touch(entry.name) { return hit }
        loadLock.lock(); defer { loadLock.unlock() }
        if let hit = touch(entry.name) { return hit }
        let started = Date()
        let model: LoadedModel
        do {
            model = try loader(entry.name, entry.path)
        } catch let error as EngineError {
            throw error
        } catch {
            logger.warning("model load failed", metadata: ["model": "\(entry.name)", "error": "\(error)"])
            throw EngineError.modelLoadFailed(name: entry.name, reason: String(describing: error))
        }
        insert(model)
        logger.info("model loaded", metadata: ["model": "\(entry.name)", "bytes": "\(model.bytes)",
                                                "seconds": "\(String(format: "%.2f", Date().timeIntervalSince(started)))"])
        return model
    }

    /// Drops a resident model; returns whether it was resident. Requests already holding it finish normally.
    @discardableResult
    public func unload(_ name: String) -> Bool {
        lock.withLock {
            lastUse[name] = nil
            return resident.removeValue(forKey: name) != nil
        }
    }

    private func touch(_ name: String) -> LoadedModel? {
        lock.withLock {
            guard let model = resident[name] else { return nil }
            clock += 1
            lastUse[name] = clock
            return model
        }
    }

    private func insert(_ model: LoadedModel) {
        lock.withLock {
            if let budget {
                var used = resident.values.reduce(0) { $0 + $1.bytes }
                while used + model.bytes > budget,
                      let victim = lastUse.min(by: { $0.value < $1.value })?.key {
                    used -= resident[victim]?.bytes ?? 0
                    resident[victim] = nil
                    lastUse[victim] = nil
                    logger.info("model evicted (memory budget)", metadata: ["model": "\(victim)"])
                }
            }
            clock += 1
            resident[model.name] = model
            lastUse[model.name] = clock
        }
    }
}
