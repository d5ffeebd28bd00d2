import Models

/// The workloads for one model family, and how that family is benchmarked.
struct BenchSuite {
    let name: String
    /// In the order they run.
    let workloads: [any BenchWorkload]
    /// Whether our side and PyTorch's run one after the other by default: SDXL's float32 weights (13.9 GB)
    /// fit the 24 GB machine once, not twice.
    let sequentialByDefault: Bool
    /// The memory targets the report states.
    let memoryTargets: String

    static func sd(txt2imgSteps: Int) -> BenchSuite {
        BenchSuite(name: "sd", workloads: [
            TextEncoderWorkload(batch: 2),
            UNetStepWorkload(imageSize: 256, batch: 2),
            UNetStepWorkload(imageSize: 512, batch: 2, measuresPeakMemory: true),
            UNetBF16StepWorkload(imageSize: 256),
            UNetBF16StepWorkload(imageSize: 512),
            ControlNetStepWorkload(imageSize: 512, batch: 2),
            T2IAdapterFeaturesWorkload(imageSize: 512),
            T2IAdapterStepWorkload(imageSize: 512, batch: 2),
            VAEDecodeWorkload(imageSize: 512),
            Txt2ImgWorkload(imageSize: 512, steps: txt2imgSteps),
            LoRAApplyWorkload(rank: 32),
            LoRANextRequestWorkload(rank: 32, switchesSet: false),
            LoRANextRequestWorkload(rank: 32, switchesSet: true),
            LoRAUNetStepWorkload(rank: 32),
        ], sequentialByDefault: false,
        memoryTargets: "resident ≤ 1.10× weights, peak of a 512² UNet step < 1.5 GB beyond the weights")
    }

    static func sdxl(txt2imgSteps: Int) -> BenchSuite {
        BenchSuite(name: "sdxl", workloads: [
            SDXLTextEncodersWorkload(batch: 2),
            UNetStepWorkload(imageSize: 768, batch: 2, namePrefix: "sdxl-"),
            UNetStepWorkload(imageSize: 1024, batch: 2, measuresPeakMemory: true, namePrefix: "sdxl-"),
            VAEDecodeWorkload(imageSize: 1024, namePrefix: "sdxl-", targetRatio: 1.0),
            Txt2ImgWorkload(imageSize: 1024, steps: txt2imgSteps, namePrefix: "sdxl-", cfg: 5.0, measuresPeakMemory: true),
        ], sequentialByDefault: true,
        memoryTargets: "peak of a 1024² UNet step ≤ weights + 3 GB; a 1024² txt2img within the 24 GB machine")
    }

    /// Every workload name `--workloads` accepts (both suites; the names do not overlap).
    static func allNames(txt2imgSteps: Int) -> [String] {
        (sd(txt2imgSteps: txt2imgSteps).workloads + sdxl(txt2imgSteps: txt2imgSteps).workloads).map(\.name)
    }

    /// SDXL for a UNet with text_time added conditioning and both text encoders, else SD 1.x/2.x.
    static func matching(_ models: StableDiffusionModels, txt2imgSteps: Int) -> BenchSuite {
        let isSDXL = models.unet.textTimeEmbedding != nil && models.textEncoder(.textEncoder2) != nil
            && models.textEncoder(.textEncoder) != nil
        return isSDXL ? sdxl(txt2imgSteps: txt2imgSteps) : sd(txt2imgSteps: txt2imgSteps)
    }
}
