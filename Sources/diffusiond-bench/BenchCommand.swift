import ArgumentParser
import DiffusionProtocol
import Foundation
import Models
import StrictJSON
import Tensor

/// `diffusiond-bench` (alias `diffusiond-bench sd`): times our networks against PyTorch on the same weights in
/// the same run.
///
/// For each workload: one untimed call of each side, then `repeats` timed calls per side, reported as medians.
/// By default they alternate, ours and PyTorch's (the worker is a child process that idles while we run and
/// vice versa): on a shared or thermally drifting machine only the ratio from one run means much. SDXL runs
/// `BenchOrder.sequential` instead, because the 24 GB machine cannot hold both float32 copies.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sd",
        abstract: "Time the networks (and PyTorch on the same weights) in this build; use a release build.",
        discussion: """
            Make full-size random weights first (python3 scripts/bench/make_weights.py for SD 1.5, \
            scripts/bench/make_sdxl_weights.py for SDXL), or use scripts/bench/run.sh / run_sdxl.sh, which do \
            both. The model picks the suite (SDXL: a text_time UNet and two text encoders). Workloads: \
            \(BenchSuite.allNames(txt2imgSteps: 20).joined(separator: ", ")).
            """)

    @Option(help: "Model to time: a diffusers folder or a single checkpoint file.")
    var model: String = "work/bench-sd15"
    @Option(help: "Compute threads for us and for PyTorch (default: all cores).")
    var threads: Int?
    @Option(help: "Timed calls per workload per side (default: per workload, 3 for the big ones).")
    var repeats: Int?
    @Option(help: "Comma-separated workload names to run (default: all of the model's suite).")
    var workloads: String?
    @Flag(help: "Only time our side (no Python needed).")
    var noTorch = false
    @Flag(inversion: .prefixedNo,
          help: "Run all our calls, free our model, then PyTorch's, instead of alternating (default: on for SDXL, whose two float32 copies do not fit 24 GB).")
    var sequential: Bool?
    @Option(help: "Python interpreter with torch, diffusers and transformers.")
    var python: String = "python3"
    @Option(help: "Path of scripts/bench/torch_worker.py (default: found from the working directory or the executable).")
    var torchWorker: String?
    @Option(help: "Side of the square sgemm that measures this machine's BLAS rate.")
    var sgemmSize: Int = 2048
    @Option(help: "Sampling steps of the txt2img workload (20 for the table; fewer for a quick functional run).")
    var steps: Int = 20
    @Option(help: "Weight matrices resident as the daemon's --weights: stored (fp16 checkpoints stay 2 bytes per value), half or fp32.")
    var weights: String = WeightResidency.stored.rawValue
    @Flag(help: "Run both halves of a guidance batch through the first level even when they are the same (the shared start off), to time what sharing saves.")
    var noSharedHalves = false

    func validate() throws {
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be between 1 and 1024") }
        if let repeats, repeats < 1 { throw ValidationError("--repeats must be at least 1") }
        guard sgemmSize >= 64 else { throw ValidationError("--sgemm-size must be at least 64") }
        guard (1...1000).contains(steps) else { throw ValidationError("--steps must be between 1 and 1000") }
        guard WeightResidency(rawValue: weights) != nil else {
            throw ValidationError("--weights: use " + WeightResidency.allCases.map(\.rawValue).joined(separator: ", "))
        }
    }

    func run() throws {
        // First, before anything is loaded: may re-execute with a faster OpenBLAS kernel.
        let kernelDecision = OpenBLASRuntime.ensureFastKernel()
        let threads = self.threads ?? ProcessInfo.processInfo.activeProcessorCount
        OpenBLASRuntime.setThreads(threads)
        WeightResidency.processDefault = WeightResidency(rawValue: weights) ?? .stored
        UNet.sharesIdenticalGuidanceHalves = !noSharedHalves
        let out = BenchOutput()
        out.line("diffusiond-bench — OpenBLAS kernel: \(OpenBLASRuntime.corename()) (\(kernelDecision)); threads: \(threads); weights: \(weights)"
                 + (noSharedHalves ? "; shared guidance halves off" : ""))
        #if DEBUG
        out.line("WARNING: this is a debug build; timings mean nothing. Use `swift build -c release`.")
        #endif

        // Ours loads first (PyTorch's worker starts after it): the model decides the suite and the order.
        let context = BenchContext(modelPath: model)
        // No reference to the networks outlives this statement: the sequential order frees them by
        // releasing the context.
        let (suite, parameterBytes) = try { () throws -> (BenchSuite, Int) in
            let models = try context.models()
            return (BenchSuite.matching(models, txt2imgSteps: steps), models.parameterBytes)
        }()
        let selected = try selectedWorkloads(suite)
        let order: BenchOrder = (sequential ?? suite.sequentialByDefault) ? .sequential : .alternating
        out.line(String(format: "model %@ loaded in %.2f s: %@ float32 parameters (suite %@)", model,
                        context.loadSeconds ?? 0, parameterBytes.gigabytes, suite.name))
        let sgemmRate = 2 * pow(Double(sgemmSize), 3) / measureSgemm() / 1e9
        out.line(String(format: "sgemm %d³ through our OpenBLAS (%d threads): %.1f GFLOP/s", sgemmSize, threads, sgemmRate))
        if !noTorch { out.line("order: \(order.description)") }

        let script = noTorch ? nil : try BenchTorchWorker.locateScript(explicit: torchWorker)
        var torch: BenchTorchSide?
        defer { torch?.worker.quit() }
        func startTorch() throws {
            guard let script else { return }
            torch = try BenchTorchSide.start(python: python, script: script, model: absolute(model), threads: threads,
                                             sgemmSize: sgemmSize, out: out)
        }

        var timings = Array(repeating: BenchTimings(), count: selected.count)
        var peaks: [BenchPeak] = []
        var flops: [Double?] = []
        for workload in selected {
            try workload.prepare(context)
            flops.append(try workload.nominalFLOPs(context))
        }
        var released: BenchMemory?
        let steady: BenchMemory?, idle: BenchMemory?, cached: Int
        switch order {
        case .alternating:
            try startTorch()
            for (index, workload) in selected.enumerated() {
                try alternate(workload, context: context, torch: torch, timings: &timings[index], peaks: &peaks, out: out)
                try torch.map { try workload.compare(with: $0.worker) }
            }
            (steady, cached, idle) = Self.idleMemory()
        case .sequential:
            for (index, workload) in selected.enumerated() {
                try timeOurs(workload, context: context, timings: &timings[index], peaks: &peaks, out: out)
            }
            (steady, cached, idle) = Self.idleMemory()
            // Everything of ours goes before PyTorch loads its float32 copy: inputs, results, the model and
            // the buffer cache with the heap it leaves behind.
            selected.forEach { $0.release() }
            context.release()
            TensorBufferCache.purge()
            released = BenchMemory.current()
            if let released {
                out.line("ours released before PyTorch loads: resident \(released.resident.gigabytes) "
                         + "(anonymous \(released.anonymous.gigabytes), file-mapped \(released.fileBacked.gigabytes))")
            }
            try startTorch()
            if let torch {
                for (index, workload) in selected.enumerated() {
                    try timeTorch(workload, torch: torch, timings: &timings[index], peaks: &peaks, out: out)
                    try workload.compare(with: torch.worker)
                }
            }
        }
        // Measured again at the end: the machine's rate is the better of the two (a busy neighbour at either
        // moment only lowers it), so "% of sgemm" does not flatter us when the first reading was disturbed.
        let sgemmAfter = 2 * pow(Double(sgemmSize), 3) / measureSgemm() / 1e9
        out.line(String(format: "sgemm %d³ again after the workloads: %.1f GFLOP/s", sgemmSize, sgemmAfter))
        let sgemmReference = max(sgemmRate, sgemmAfter)

        let rows = zip(selected, zip(timings, flops)).map { workload, measured in
            BenchRow(name: workload.name, title: workload.title, ours: measured.0.ours, torch: measured.0.torch,
                     flops: measured.1, target: workload.targetRatio)
        }
        out.line("")
        out.table(rows: rows, sgemmRate: sgemmReference, order: torch == nil ? nil : order)
        for note in selected.flatMap(\.notes) + T2IAdapterJobShare.notes(rows: rows) { out.line(note) }
        out.line("")
        out.memory(parameterBytes: parameterBytes, targets: suite.memoryTargets, afterLoad: context.memoryAfterLoad,
                   beforeLoad: context.memoryBeforeLoad, steady: steady, idle: idle, released: released,
                   cachedBuffers: cached, peaks: peaks, torchAfterLoad: torch?.load["rss"]?.intValue,
                   torchParameterBytes: torch?.load["param_bytes"]?.intValue)
        if let torch {
            out.line("")
            try out.flopCheck(rows: rows, workloads: selected, torch: torch.worker)
        }
    }

    /// What the process holds after the workloads, how much of it is the buffer cache, and what an idle
    /// daemon holds (it purges the activation-buffer cache when a request ends).
    private static func idleMemory() -> (steady: BenchMemory?, cached: Int, idle: BenchMemory?) {
        let steady = BenchMemory.current()
        let cached = TensorBufferCache.cachedBytes
        TensorBufferCache.purge()
        return (steady, cached, BenchMemory.current())
    }

    private func selectedWorkloads(_ suite: BenchSuite) throws -> [any BenchWorkload] {
        guard let workloads else { return suite.workloads }
        let all = BenchSuite.sd(txt2imgSteps: steps).workloads + BenchSuite.sdxl(txt2imgSteps: steps).workloads
        return try workloads.split(separator: ",").map { raw in
            let name = raw.trimmingCharacters(in: .whitespaces)
            guard let found = all.first(where: { $0.name == name }) else {
                throw BenchError.unknownWorkload(name, known: all.map(\.name))
            }
            return found
        }
    }

    private func count(_ workload: any BenchWorkload) -> Int { repeats ?? workload.defaultRepeats }

    /// Ours and PyTorch's calls taking turns (one warm-up each first).
    private func alternate(_ workload: any BenchWorkload, context: BenchContext, torch: BenchTorchSide?,
                           timings: inout BenchTimings, peaks: inout [BenchPeak], out: BenchOutput) throws {
        Self.startFromIdle(workload)
        if workload.warmsUp {
            try workload.run(context)
            _ = try torch?.ask(workload, op: "run")
        }
        for index in 0..<count(workload) {
            try oursCall(workload, index: index, context: context, timings: &timings, peaks: &peaks)
            if let torch { try torchCall(workload, index: index, torch: torch, timings: &timings, peaks: &peaks) }
            out.progress(workload.name, index: index, timings: timings)
        }
    }

    /// All of our calls of one workload (sequential order).
    private func timeOurs(_ workload: any BenchWorkload, context: BenchContext, timings: inout BenchTimings,
                          peaks: inout [BenchPeak], out: BenchOutput) throws {
        Self.startFromIdle(workload)
        if workload.warmsUp { try workload.run(context) }
        for index in 0..<count(workload) {
            try oursCall(workload, index: index, context: context, timings: &timings, peaks: &peaks)
            out.progress(workload.name, index: index, timings: timings)
        }
    }

    /// All of PyTorch's calls of one workload (sequential order, after ours were freed).
    private func timeTorch(_ workload: any BenchWorkload, torch: BenchTorchSide, timings: inout BenchTimings,
                           peaks: inout [BenchPeak], out: BenchOutput) throws {
        guard workload.torchRequest != nil else { return }
        if workload.warmsUp { _ = try torch.ask(workload, op: "run") }
        for index in 0..<count(workload) {
            try torchCall(workload, index: index, torch: torch, timings: &timings, peaks: &peaks)
            out.progress(workload.name, index: index, timings: timings, side: .torch)
        }
    }

    /// A workload whose peak is recorded starts as a job does on an idle daemon: without the buffers other
    /// workloads' sizes left in the cache (its own warm-up call then caches what its timed calls reuse), so
    /// the peak is the weights plus this workload's activations.
    private static func startFromIdle(_ workload: any BenchWorkload) {
        if workload.measuresPeakMemory { TensorBufferCache.purge() }
    }

    /// One timed call of ours; the first of a peak-recording workload also records the peak resident set.
    private func oursCall(_ workload: any BenchWorkload, index: Int, context: BenchContext, timings: inout BenchTimings,
                          peaks: inout [BenchPeak]) throws {
        let recordPeak = index == 0 && workload.measuresPeakMemory
        let before = BenchMemory.current()
        let peakReset = recordPeak && BenchMemory.resetPeak()
        let start = BenchClock.now()
        try workload.run(context)
        timings.ours.append(BenchClock.seconds(since: start))
        if recordPeak {
            peaks.append(BenchPeak(workload: workload.name, residentBefore: before?.resident,
                                   peak: peakReset ? BenchMemory.current()?.peak : nil))
        }
    }

    private func torchCall(_ workload: any BenchWorkload, index: Int, torch: BenchTorchSide, timings: inout BenchTimings,
                           peaks: inout [BenchPeak]) throws {
        let recordPeak = index == 0 && workload.measuresPeakMemory
        guard let answer = try torch.ask(workload, op: recordPeak ? "peak" : "run"),
              let seconds = answer["seconds"]?.doubleValue else { return }
        timings.torch.append(seconds)
        if recordPeak, let at = peaks.firstIndex(where: { $0.workload == workload.name }) {
            peaks[at].torchResidentBefore = answer["rss_before"]?.intValue
            peaks[at].torchPeak = answer["hwm"]?.intValue.flatMap { $0 > 0 ? $0 : nil }
        }
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
