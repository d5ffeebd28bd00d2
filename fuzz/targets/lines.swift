// Line framing: the input is cut into reads (each first byte gives the next read's length) and fed through the
// daemon's LineFrameDecoder with a small limit. Whatever arrives, every line handed on is at most the limit and
// has no newline, the lines are exactly the input's (CR before LF dropped), and after a too-long line nothing
// more is handed on.
import Daemon
import NIOCore
import NIOEmbedded

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLines(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = input.first else { return 0 }
    let limit = Int(first % 64) + 1
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLineBytes: limit)))
    var sent: [UInt8] = []
    var offset = 1
    while offset < input.count {
        let length = Int(input[offset]) % 32 + 1
        let chunk = input[(offset + 1)..<min(input.count, offset + 1 + length)]
        offset += 1 + length
        sent += chunk
        var buffer = channel.allocator.buffer(capacity: chunk.count)
        buffer.writeBytes(chunk)
        precondition((try? channel.writeInbound(buffer)) != nil, "the framer threw")
    }
    _ = try? channel.finish()
    var lines: [[UInt8]] = []
    var overflowed = false
    while let frame = try? channel.readInbound(as: InboundFrame.self) {
        precondition(!overflowed, "a frame after the too-long line")
        switch frame {
        case .line(var line):
            let bytes = line.readBytes(length: line.readableBytes) ?? []
            precondition(bytes.count <= limit, "line of \(bytes.count) bytes over the limit \(limit)")
            precondition(!bytes.contains(UInt8(ascii: "\n")), "a line holding a newline")
            lines.append(bytes)
        case .tooLong(let reported):
            precondition(reported == limit, "reported limit \(reported), not \(limit)")
            overflowed = true
        }
    }
    if overflowed { return 0 }
    // Without an overflow the lines are the input split at LF, a CR before each LF dropped.
    var expected = sent.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Array($0) }
    if expected.last == [] { expected.removeLast() }
    for i in expected.indices where i < expected.count - 1 || sent.last == UInt8(ascii: "\n") {
        if expected[i].last == UInt8(ascii: "\r") { expected[i].removeLast() }
    }
    precondition(lines == expected, "lines \(lines) differ from the input's \(expected)")
    return 0
}
