import ArgumentParser
import DiffusionProtocol
import Foundation
import StrictJSON
import Tensor

/// `diffusiond-bench` (alias `diffusiond-bench sd`): times our networks against PyTorch on the same weights in
/// the same run.
///
/// For each workload: one untimed call of each side, then `repeats` timed calls alternating ours and
/// PyTorch's (the worker is a child process that idles while we run and vice versa), reported as medians.
/// Alternating matters on a shared or thermally drifting machine: only the ratio from one run means much.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sd",
        abstract: "Time the networks (and PyTorch on the same weights) in this build; use a release build.",
        discussion: """
            Make full-size SD 1.5-architecture random weights first (python3 scripts/bench/make_weights.py), \
            or use scripts/bench/run.sh, which does both. Workloads: \
            \(BenchWorkloads.all(txt2imgSteps: 20).map(\.name).joined(separator: ", ")).
            """)

    @Option(help: "Model to time: a diffusers folder or a single checkpoint file.")
    var model: String = "work/bench-sd15"
    @Option(help: "Compute threads for us and for PyTorch (default: all cores).")
    var threads: Int?
    @Option(help: "Timed calls per workload per side (default: per workload, 3 for the big ones).")
    var repeats: Int?
    @Option(help: "Comma-separated workload names to run (default: all).")
    var workloads: String?
    @Flag(help: "Only time our side (no Python needed).")
    var noTorch = false
    @Option(help: "Python interpreter with torch, diffusers and transformers.")
    var python: String = "python3"
    @Option(help: "Path of scripts/bench/torch_worker.py (default: found from the working directory or the executable).")
    var torchWorker: String?
    @Option(help: "Side of the square sgemm that measures this machine's BLAS rate.")
    var sgemmSize: Int = 2048
    @Option(help: "Sampling steps of the txt2img workload (20 for the table; fewer for a quick functional run).")
    var steps: Int = 20

    func validate() throws {
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be between 1 and 1024") }
        if let repeats, repeats < 1 { throw ValidationError("--repeats must be at least 1") }
        guard sgemmSize >= 64 else { throw ValidationError("--sgemm-size must be at least 64") }
        guard (1...1000).contains(steps) else { throw ValidationError("--steps must be between 1 and 1000") }
    }

    func run() throws {
        // First, before anything is loaded: may re-execute with a faster OpenBLAS kernel.
        let kernelDecision = OpenBLASRuntime.ensureFastKernel()
        let threads = self.threads ?? ProcessInfo.processInfo.activeProcessorCount
        OpenBLASRuntime.setThreads(threads)
        var out = BenchOutput()
        out.line("diffusiond-bench — OpenBLAS kernel: \(OpenBLASRuntime.corename()) (\(kernelDecision)); threads: \(threads)")
        #if DEBUG
        out.line("WARNING: this is a debug build; timings mean nothing. Use `swift build -c release`.")
        #endif

        let selected = try selectedWorkloads()
        let context = BenchContext(modelPath: model)
        var torch: BenchTorchWorker?
        defer { torch?.quit() }
        if !noTorch {
            let worker = try BenchTorchWorker(python: python, script: try BenchTorchWorker.locateScript(explicit: torchWorker))
            torch = worker
        }

        // Loads: ours first, then PyTorch's, each measured on its own process.
        let models = try context.models()
        let parameterBytes = models.parameterBytes
        out.line(String(format: "model %@ loaded in %.2f s: %@ float32 parameters", model, context.loadSeconds ?? 0,
                        parameterBytes.gigabytes))
        var torchLoad: [String: JSONValue]?
        if let torch {
            torchLoad = try torch.ask(["op": "load", "model": .string(absolute(model)), "threads": JSONValue(threads)])
            let version = torchLoad?["torch"]?.stringValue ?? "?"
            let seconds = torchLoad?["seconds"]?.doubleValue ?? 0
            out.line(String(format: "PyTorch %@ (threads %d) loaded in %.2f s", version, torchLoad?["threads"]?.intValue ?? 0, seconds))
        }

        let sgemm = measureSgemm()
        let sgemmRate = 2 * pow(Double(sgemmSize), 3) / sgemm / 1e9
        var torchSgemmRate: Double?
        if let torch {
            let seconds = try torch.seconds(["op": "sgemm", "n": JSONValue(sgemmSize), "repeats": 5])
            torchSgemmRate = 2 * pow(Double(sgemmSize), 3) / seconds / 1e9
        }
        out.line(String(format: "sgemm %d³ through our OpenBLAS (%d threads): %.1f GFLOP/s", sgemmSize, threads, sgemmRate)
                 + (torchSgemmRate.map { String(format: "; PyTorch's torch.mm: %.1f GFLOP/s", $0) } ?? ""))

        var rows: [BenchRow] = []
        var peak: BenchPeak?
        for workload in selected {
            let row = try measure(workload, context: context, torch: torch, peak: &peak, out: &out)
            rows.append(row)
        }
        let steady = BenchMemory.current()
        // Measured again at the end: the machine's rate is the better of the two (a busy neighbour at either
        // moment only lowers it), so "% of sgemm" does not flatter us when the first reading was disturbed.
        let sgemmAfter = 2 * pow(Double(sgemmSize), 3) / measureSgemm() / 1e9
        out.line(String(format: "sgemm %d³ again after the workloads: %.1f GFLOP/s", sgemmSize, sgemmAfter))
        let sgemmReference = max(sgemmRate, sgemmAfter)
        // What an idle daemon holds: the daemon purges the activation-buffer cache when a request ends.
        let cached = TensorBufferCache.cachedBytes
        TensorBufferCache.purge()
        let idle = BenchMemory.current()

        out.line("")
        out.table(rows: rows, sgemmRate: sgemmReference)
        for note in selected.flatMap(\.notes) { out.line(note) }
        out.line("")
        out.memory(parameterBytes: parameterBytes, afterLoad: context.memoryAfterLoad, beforeLoad: context.memoryBeforeLoad,
                   steady: steady, idle: idle, cachedBuffers: cached, peak: peak,
                   torchAfterLoad: torchLoad?["rss"]?.intValue, torchParameterBytes: torchLoad?["param_bytes"]?.intValue)
        if let torch {
            out.line("")
            try out.flopCheck(rows: rows, workloads: selected, torch: torch)
        }
    }

    private func selectedWorkloads() throws -> [any BenchWorkload] {
        let all = BenchWorkloads.all(txt2imgSteps: steps)
        guard let workloads else { return all }
        return try workloads.split(separator: ",").map { raw in
            let name = raw.trimmingCharacters(in: .whitespaces)
            guard let found = all.first(where: { $0.name == name }) else {
                throw BenchError.unknownWorkload(name, known: all.map(\.name))
            }
            return found
        }
    }

    private func measure(_ workload: any BenchWorkload, context: BenchContext, torch: BenchTorchWorker?,
                         peak: inout BenchPeak?, out: inout BenchOutput) throws -> BenchRow {
        try workload.prepare(context)
        let request = torch == nil ? nil : workload.torchRequest
        func torchRun(_ op: String) throws -> [String: JSONValue]? {
            guard let torch, var body = request else { return nil }
            body["op"] = .string(op)
            return try torch.ask(.object(body))
        }
        if workload.warmsUp {
            try workload.run(context)
            _ = try torchRun("run")
        }
        let count = repeats ?? workload.defaultRepeats
        var ours: [Double] = []
        var theirs: [Double] = []
        for index in 0..<count {
            let recordPeak = index == 0 && (workload as? UNetStepWorkload)?.measuresPeakMemory == true
            let before = BenchMemory.current()
            let peakReset = recordPeak && BenchMemory.resetPeak()
            let start = BenchClock.now()
            try workload.run(context)
            ours.append(BenchClock.seconds(since: start))
            if recordPeak {
                peak = BenchPeak(workload: workload.name, residentBefore: before?.resident,
                                 peak: peakReset ? BenchMemory.current()?.peak : nil)
            }
            if let answer = try torchRun(recordPeak ? "peak" : "run"), let seconds = answer["seconds"]?.doubleValue {
                theirs.append(seconds)
                if recordPeak {
                    peak?.torchResidentBefore = answer["rss_before"]?.intValue
                    peak?.torchPeak = answer["hwm"]?.intValue.flatMap { $0 > 0 ? $0 : nil }
                }
            }
            out.line(String(format: "  %@ #%d: ours %.3f s", workload.name, index + 1, ours.last ?? 0)
                     + (theirs.count == ours.count ? String(format: ", PyTorch %.3f s", theirs.last ?? 0) : ""))
        }
        return BenchRow(name: workload.name, title: workload.title, ours: ours, torch: theirs,
                        flops: try workload.nominalFLOPs(context), target: workload.targetRatio)
    }

    /// Median seconds of a square sgemm through `Gemm` (our thread split over single-threaded OpenBLAS calls).
    private func measureSgemm() -> Double {
        let n = sgemmSize
        let a = BenchInputs.tensor([n, n], seed: 5)
        let b = BenchInputs.tensor([n, n], seed: 6)
        var c = Tensor.zeros([n, n])
        var times: [Double] = []
        for trial in 0..<6 {
            let start = BenchClock.now()
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        Gemm.multiply(transposeA: false, transposeB: false, m: n, n: n, k: n,
                                      a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n,
                                      c: pc.baseAddress!, ldc: n)
                    }
                }
            }
            if trial > 0 { times.append(BenchClock.seconds(since: start)) }  // the first call is a warm-up
        }
        return BenchStatistics.median(times)
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
