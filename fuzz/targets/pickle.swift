// The restricted unpickler alone: any byte string either unpickles to a value (only the allow-listed globals,
// bounded memo/stack/sizes) or throws WeightsError — never executes, traps or runs away.
@testable import Weights

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPickle(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    var unpickler = RestrictedUnpickler(data: UnsafeRawBufferPointer(start: data, count: size), path: "fuzz.pkl")
    _ = try? unpickler.run { _ in () }
    return 0
}
