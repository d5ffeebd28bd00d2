import DiffusionProtocol
import Foundation

/// The timings of one workload.
struct BenchRow {
    let name: String
    let title: String
    let ours: [Double]
    let torch: [Double]
    let flops: Double?
    let target: Double?

    var oursMedian: Double { BenchStatistics.median(ours) }
    var torchMedian: Double? { torch.isEmpty ? nil : BenchStatistics.median(torch) }
    var ratio: Double? { torchMedian.map { oursMedian / $0 } }
    var gflops: Double? { flops.map { $0 / oursMedian / 1e9 } }
}

/// The timed calls of one workload so far, per side.
struct BenchTimings {
    var ours: [Double] = []
    var torch: [Double] = []
}

enum BenchSide { case ours, torch }

/// Peak resident memory around the first timed call of the workload that records it (both processes).
struct BenchPeak {
    let workload: String
    let residentBefore: Int?
    let peak: Int?
    var torchResidentBefore: Int?
    var torchPeak: Int?
}

enum BenchStatistics {
    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}

/// Writes the bench's progress and results to stdout as it goes (a long run shows where it is).
struct BenchOutput {
    func line(_ text: String) {
        print(text)
        fflush(stdout)
    }

    /// One timed call as it completes (`side`: the call just made; alternating runs show both).
    func progress(_ name: String, index: Int, timings: BenchTimings, side: BenchSide = .ours) {
        let ours = String(format: "ours %.3f s", timings.ours.last ?? 0)
        let torch = String(format: "PyTorch %.3f s", timings.torch.last ?? 0)
        switch side {
        case .ours:
            line("  \(name) #\(index + 1): \(ours)" + (timings.torch.count == timings.ours.count ? ", " + torch : ""))
        case .torch:
            line("  \(name) #\(index + 1): \(torch)")
        }
    }

    /// The results table, in Markdown so it can go into the README as printed. `order` nil: ours only.
    func table(rows: [BenchRow], sgemmRate: Double, order: BenchOrder?) {
        line("| workload | ours (s) | PyTorch (s) | ours/PyTorch | target | ours GFLOP/s | % of sgemm |")
        line("|---|---:|---:|---:|---:|---:|---:|")
        for row in rows {
            let torch = row.torchMedian.map { String(format: "%.3f", $0) } ?? "–"
            let ratio = row.ratio.map { String(format: "%.2f", $0) } ?? "–"
            let target = row.target.map { String(format: "≤ %.2f", $0) } ?? "–"
            let rate = row.gflops.map { String(format: "%.1f", $0) } ?? "–"
            let percent = row.gflops.map { String(format: "%.0f%%", 100 * $0 / sgemmRate) } ?? "–"
            line("| \(row.name) | \(String(format: "%.3f", row.oursMedian)) | \(torch) | \(ratio) | \(target) | \(rate) | \(percent) |")
        }
        line("")
        let calls = Set(rows.map(\.ours.count)).sorted().map(String.init).joined(separator: "/")
        let how: String
        switch order {
        case .alternating?: how = "alternating timed calls per side after one warm-up call each (txt2img, lora-apply: none)"
        case .sequential?: how = "timed calls per side after one warm-up call each (txt2img, lora-apply: none), run SEQUENTIALLY: "
            + "all of ours, then (our model freed) all of PyTorch's, not alternating, so drift between the halves is in the ratio"
        case nil: how = "timed calls (ours only) after one warm-up call each (txt2img, lora-apply: none)"
        }
        line(String(format: "Medians of %@ %@; sgemm reference: %.1f GFLOP/s.", calls, how, sgemmRate))
        line("GFLOP/s = nominal FLOPs of the diffusers graph (convs, matmuls, attention; 2 per multiply-add) / our time.")
        for row in rows {
            let spread = { (values: [Double]) in
                values.isEmpty ? "–" : String(format: "%.3f–%.3f", values.min() ?? 0, values.max() ?? 0)
            }
            line("  \(row.name): \(row.title); ours \(spread(row.ours)) s, PyTorch \(spread(row.torch)) s"
                 + (row.flops.map { String(format: ", %.1f GFLOP per call", $0 / 1e9) } ?? ""))
        }
    }

    func memory(parameterBytes: Int, targets: String, afterLoad: BenchMemory?, beforeLoad: BenchMemory?,
                steady: BenchMemory?, idle: BenchMemory?, released: BenchMemory?, cachedBuffers: Int, peaks: [BenchPeak],
                torchAfterLoad: Int?, torchParameterBytes: Int?) {
        let weights = Double(parameterBytes)
        func times(_ bytes: Int) -> String { String(format: "%.2f×", Double(bytes) / weights) }
        line("Memory (float32 weights of the networks: \(parameterBytes.gigabytes); targets: \(targets))")
        if let afterLoad {
            // float32 files are mapped; float16 ones (SDXL's) are converted into anonymous float32 copies.
            let how = afterLoad.fileBacked >= afterLoad.anonymous
                ? "float32 safetensors are mapped, not copied: pages come in on first use"
                : "converted to float32 on load (float16 files)"
            line("  ours, resident after load:       \(afterLoad.resident.gigabytes) = \(times(afterLoad.resident)) (\(how)) "
                 + "(anonymous \(afterLoad.anonymous.gigabytes), file-mapped \(afterLoad.fileBacked.gigabytes)"
                 + (beforeLoad.map { "; before load \($0.resident.gigabytes)" } ?? "") + ")")
        }
        if let steady {
            line("  ours, resident after the runs:   \(steady.resident.gigabytes) = \(times(steady.resident)) "
                 + "(anonymous \(steady.anonymous.gigabytes), file-mapped \(steady.fileBacked.gigabytes); "
                 + "\(cachedBuffers.gigabytes) of it in TensorBufferCache)")
        }
        if let idle {
            line("  ours, idle (buffer cache purged): \(idle.resident.gigabytes) = \(times(idle.resident)) "
                 + "(anonymous \(idle.anonymous.gigabytes), file-mapped \(idle.fileBacked.gigabytes))")
        }
        if let released {
            line("  ours, after releasing the model:  \(released.resident.gigabytes) (sequential order: before PyTorch loads)")
        }
        for peak in peaks {
            if let top = peak.peak, let before = peak.residentBefore {
                line("  ours, peak during \(peak.workload): \(top.gigabytes) = weights + \((top - parameterBytes).gigabytes) "
                     + "(+\((top - before).gigabytes) over the \(before.gigabytes) resident before the call)")
            } else {
                line("  ours, peak during \(peak.workload): not measured (/proc/self/clear_refs refused)")
            }
            if let top = peak.torchPeak, let before = peak.torchResidentBefore {
                line("  PyTorch, peak during \(peak.workload): \(top.gigabytes) = weights + "
                     + "\((top - (torchParameterBytes ?? parameterBytes)).gigabytes) (+\((top - before).gigabytes) over its "
                     + "\(before.gigabytes) before the call)")
            }
        }
        if let torchAfterLoad {
            line("  PyTorch, resident after load:    \(torchAfterLoad.gigabytes) = \(times(torchAfterLoad)) (includes the Python "
                 + "interpreter, torch, diffusers and transformers)")
        }
    }

    /// Our analytic FLOP counts against PyTorch's own FlopCounterMode (meta tensors: instant).
    func flopCheck(rows: [BenchRow], workloads: [any BenchWorkload], torch: BenchTorchWorker) throws {
        line("FLOP count check (ours analytic vs torch.utils.flop_counter on the same graph):")
        for (row, workload) in zip(rows, workloads) {
            guard let flops = row.flops, var request = workload.torchRequest else { continue }
            request["op"] = "flops"
            do {
                let answer = try torch.ask(.object(request))
                guard let counted = answer["flops"]?.doubleValue else { continue }
                line(String(format: "  %@: ours %.2f GFLOP, torch %.2f GFLOP (%+.2f%%)", row.name, flops / 1e9, counted / 1e9,
                            100 * (flops - counted) / counted))
            } catch {
                line("  \(row.name): torch could not count (\(error))")
            }
        }
    }
}
