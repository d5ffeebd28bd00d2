import Foundation

/// One dedicated OS thread for CPU-bound plugin work, so a long job never occupies the NIO event loops or
/// Swift's cooperative pool (which on two cores has only two threads).
final class WorkerThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var work: [() -> Void] = []
    private var thread: Thread?

    init(name: String) {
        let t = Thread { [unowned self] in self.loop() }
        t.name = name
        t.stackSize = 16 << 20  // model code may recurse through deep networks; be generous
        thread = t
        t.start()
    }

    private func loop() {
        while true {
            condition.lock()
            while work.isEmpty { condition.wait() }
            let next = work.removeFirst()
            condition.unlock()
            next()
        }
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            condition.lock()
            work.append { continuation.resume(returning: body()) }
            condition.signal()
            condition.unlock()
        }
    }
}
