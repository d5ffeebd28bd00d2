import DiffusionProtocol
import Foundation
import StrictJSON

/// The PyTorch worker once it has loaded the model, with what its load and its sgemm reported.
struct BenchTorchSide {
    let worker: BenchTorchWorker
    /// The worker's answer to "load" (seconds, rss, param_bytes, threads, torch).
    let load: [String: JSONValue]
    /// GFLOP/s of torch.mm on a `sgemmSize`² square.
    let sgemmRate: Double

    static func start(python: String, script: String, model: String, threads: Int, sgemmSize: Int,
                      out: BenchOutput) throws -> BenchTorchSide {
        let worker = try BenchTorchWorker(python: python, script: script)
        let load = try worker.ask(["op": "load", "model": .string(model), "threads": JSONValue(threads)])
        out.line(String(format: "PyTorch %@ (threads %d) loaded in %.2f s", load["torch"]?.stringValue ?? "?",
                        load["threads"]?.intValue ?? 0, load["seconds"]?.doubleValue ?? 0))
        let seconds = try worker.seconds(["op": "sgemm", "n": JSONValue(sgemmSize), "repeats": 5])
        let rate = 2 * pow(Double(sgemmSize), 3) / seconds / 1e9
        out.line(String(format: "sgemm %d³ through PyTorch's torch.mm: %.1f GFLOP/s", sgemmSize, rate))
        return BenchTorchSide(worker: worker, load: load, sgemmRate: rate)
    }

    /// One call of `workload` (`op` "run", or "peak" for a call whose peak memory is recorded).
    func ask(_ workload: any BenchWorkload, op: String) throws -> [String: JSONValue]? {
        guard var body = workload.torchRequest else { return nil }
        body["op"] = .string(op)
        return try worker.ask(.object(body))
    }
}
