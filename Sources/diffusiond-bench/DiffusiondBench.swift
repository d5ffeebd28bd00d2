import ArgumentParser

/// `diffusiond-bench`: timing workloads and resource checks for scripts, kept out of the daemon executable
/// so `diffusiond` links and parses only what serving needs. Run from a release build; never from unit tests
/// except `upscale-memory` on a tiny network (Tests/UpscaleTests/BoundedMemoryTests.swift).
@main
struct DiffusiondBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diffusiond-bench", abstract: "Benchmarks and resource checks for diffusiond (run from a release build).",
        subcommands: [BenchCommand.self, BenchUpscale.self, BenchUpscaleMemory.self], defaultSubcommand: BenchCommand.self)
}
