// swift-tools-version:6.0
import PackageDescription

/// Numeric targets: no exclusivity checks in the hot loops (bounds stay checked in debug).
let fast: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"])]

// Layers, lowest first; arrows point down only (see README "Architecture").
let package = Package(
    name: "diffusiond",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "diffusiond", targets: ["diffusiond"]),
        .executable(name: "diffusionctl", targets: ["diffusionctl"]),
        .executable(name: "diffusiond-bench", targets: ["diffusiond-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // System libraries from Debian.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev", "pkg-config"])]),
        .systemLibrary(name: "CVips", path: "Sources/CVips", pkgConfig: "vips",
                       providers: [.apt(["libvips-dev", "pkg-config"])]),
        // Fixed-signature C wrappers around libvips' variadic API (Swift cannot call C varargs).
        .target(name: "VipsShim", dependencies: ["CVips"], path: "Sources/VipsShim", linkerSettings: [.linkedLibrary("z")]),
        // The C ABI of external operation plugins (header-only; the header is part of the protocol docs).
        .systemLibrary(name: "CDiffusiondPlugin", path: "protocol/c"),

        // The one strict JSON value, parser, writer and Decodable bridge (wire, safetensors headers, model configs).
        .target(name: "StrictJSON", path: "Sources/StrictJSON"),

        // Atomic file output (temp in the folder, fsync, rename, folder fsync): the one writer images, converted
        // checkpoints and diffusionctl's saved outputs go through. A leaf so Weights and Imaging can share it;
        // the C part is renameat2(RENAME_NOREPLACE), which Swift's Glibc does not export.
        .target(name: "CRenameNoReplace", path: "Sources/CRenameNoReplace"),
        .target(name: "AtomicFiles", dependencies: ["CRenameNoReplace"], path: "Sources/AtomicFiles"),

        // Numerics.
        // cpuid/xgetbv, to pick the OpenBLAS kernel the CPU can run (Swift has no cpuid intrinsic).
        .target(name: "CPUFeatures", path: "Sources/CPUFeatures"),
        // Activation/softmax loops compiled per ISA (AVX-512/AVX2/baseline) and picked at load time.
        .target(name: "TensorKernels", path: "Sources/TensorKernels", linkerSettings: [.linkedLibrary("m")]),
        .target(name: "Tensor", dependencies: ["CBLAS", "CPUFeatures", "TensorKernels"], swiftSettings: fast),
        .target(name: "Weights", dependencies: ["Tensor", "StrictJSON", "AtomicFiles"], swiftSettings: fast),
        .target(name: "Models", dependencies: ["Tensor", "Weights", "Sampling", "StrictJSON"], swiftSettings: fast),
        .target(name: "Sampling", dependencies: ["Tensor"], swiftSettings: fast),
        .target(name: "Imaging", dependencies: ["VipsShim", "Tensor", "AtomicFiles"]),
        // The model-free ControlNet preprocessors (canny, scribble_xdog, threshold, invert, lineart_standard,
        // color, tile_resample) with OpenCV's 8-bit arithmetic, for the `preprocess` operation and ControlNet.
        .target(name: "Preprocessors", dependencies: ["Imaging", "StrictJSON"]),
        .target(name: "Engine", dependencies: ["Models", "Weights", "Sampling", "Imaging", "Tensor",
                                               .product(name: "Logging", package: "swift-log")]),

        // The wire format and the plugin contract.
        .target(name: "DiffusionProtocol", dependencies: ["StrictJSON"]),
        .target(name: "PluginAPI", dependencies: ["StrictJSON", "Engine", "DiffusionProtocol", "Imaging"]),
        // What the generation operations share: typed parameters and their defaults, the SD model lookup, the
        // runner, previews, delivery of generated images, engine-error mapping and result-schema pieces.
        .target(name: "GenerationKit", dependencies: ["StrictJSON", "PluginAPI", "DiffusionProtocol", "Imaging", "Engine", "Models", "Sampling", "Tensor", "Preprocessors"]),

        // Operation plugins: one target per operation under plugins/ (runtime plugins, not SwiftPM's Plugins/);
        // none depends on another.
        .target(name: "ResizePlugin", dependencies: ["StrictJSON", "PluginAPI", "DiffusionProtocol", "Imaging"], path: "plugins/resize"),
        .target(name: "GeneratePlugin", dependencies: ["StrictJSON", "PluginAPI", "DiffusionProtocol", "Engine", "GenerationKit"],
                path: "plugins/generate", exclude: ["README.md"]),
        .target(name: "Img2ImgPlugin", dependencies: ["StrictJSON", "PluginAPI", "DiffusionProtocol", "Imaging", "Engine", "GenerationKit"],
                path: "plugins/img2img"),
        .target(name: "InpaintPlugin", dependencies: ["StrictJSON", "PluginAPI", "DiffusionProtocol", "Imaging", "Engine", "GenerationKit"],
                path: "plugins/inpaint"),
        .target(name: "OutpaintPlugin", dependencies: ["StrictJSON", "PluginAPI", "DiffusionProtocol", "Imaging", "Engine", "GenerationKit"],
                path: "plugins/outpaint"),
        .target(name: "UpscalePlugin", dependencies: ["StrictJSON", "PluginAPI", "DiffusionProtocol", "Imaging", "Engine", "Models", "GenerationKit"],
                path: "plugins/upscale"),
        .target(name: "PreprocessPlugin", dependencies: ["StrictJSON", "PluginAPI", "DiffusionProtocol", "Imaging", "Preprocessors"],
                path: "plugins/preprocess", exclude: ["README.md"]),
        .target(name: "ModelsPlugin", dependencies: ["StrictJSON", "PluginAPI", "DiffusionProtocol", "Engine", "GenerationKit"], path: "plugins/models", exclude: ["README.md"]),
        // The one list of built-in operations, shared by the executable and the tests.
        .target(name: "Builtins", dependencies: ["PluginAPI", "ResizePlugin", "GeneratePlugin", "Img2ImgPlugin", "InpaintPlugin",
                                                 "OutpaintPlugin", "UpscalePlugin", "ModelsPlugin", "PreprocessPlugin"]),

        // Server and executables.
        .target(name: "Daemon", dependencies: [
            "StrictJSON", "DiffusionProtocol", "PluginAPI", "Engine", "CDiffusiondPlugin",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "diffusiond", dependencies: [
            "StrictJSON", "Daemon", "Builtins", "DiffusionProtocol", "PluginAPI", "Engine", "Models", "Tensor", "Imaging",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Benchmarks and resource checks (`sd`, `upscale`, `upscale-memory`), apart so the daemon links only serving.
        .executableTarget(name: "diffusiond-bench", dependencies: [
            "DiffusionProtocol", "StrictJSON", "Engine", "Imaging", "Models", "Sampling", "Tensor", "Weights",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "diffusionctl", dependencies: [
            "DiffusionProtocol", "StrictJSON", "Weights", "AtomicFiles",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .executableTarget(name: "tensor-bench", dependencies: ["Tensor", "TensorKernels"], path: "Sources/TensorBench"),

        // Tests.
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TensorKernels", "CPUFeatures"]),
        .testTarget(name: "WeightsTests", dependencies: ["Weights", "Tensor", "StrictJSON"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Weights", "Tensor"]),
        .testTarget(name: "ImagingTests", dependencies: ["Tensor", "Imaging"]),
        .testTarget(name: "PreprocessorsTests", dependencies: ["Preprocessors", "Imaging", "StrictJSON"]),
        .testTarget(name: "SamplingTests", dependencies: ["Sampling", "Tensor"]),
        .testTarget(name: "InpaintTests", dependencies: ["Engine", "Imaging", "Tensor", "Sampling", "Weights", "Models",
                                                        "PluginAPI", "DiffusionProtocol", "StrictJSON",
                                                        "InpaintPlugin", "OutpaintPlugin"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Models", "Sampling", "Weights", "Tensor", "Imaging"]),
        .testTarget(name: "UpscaleTests", dependencies: ["StrictJSON", "Engine", "Models", "Weights", "Imaging", "Tensor", "Sampling", "UpscalePlugin",
                                                        "PluginAPI", "DiffusionProtocol"]),
        .testTarget(name: "DaemonTests", dependencies: ["StrictJSON", "Daemon", "Builtins", "DiffusionProtocol", "PluginAPI", "Imaging", "Tensor", "Weights"],
                    exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
