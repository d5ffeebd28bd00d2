import NIOCore

/// What the framer hands to a connection: a complete line (without its `\n`), or the news that a line went
/// over the limit (after which all further input on the connection is discarded unread).
public enum InboundFrame: Sendable {
    case line(ByteBuffer)
    case tooLong(limit: Int)
}

/// Newline framing with a hard bound. NIOExtras' LineBasedFrameDecoder has no limit, so a client could make
/// the daemon buffer forever; this one never holds more than `maxLineBytes + read chunk` per connection.
public struct LineFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = InboundFrame

    let maxLineBytes: Int
    /// Bytes of the current partial line already searched for `\n`, so long lines are scanned once (O(n)).
    var scanned = 0
    var overflowed = false

    public init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if overflowed {
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            return .needMoreData
        }
        let view = buffer.readableBytesView
        let searchStart = view.index(view.startIndex, offsetBy: scanned)
        if let newline = view[searchStart...].firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - view.startIndex
            scanned = 0
            if length > maxLineBytes { return overflow(context: context, buffer: &buffer) }
            var line = buffer.readSlice(length: length)!  // length < readableBytes by construction
            buffer.moveReaderIndex(forwardBy: 1)
            // Tolerate CRLF clients.
            if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
                line.moveWriterIndex(to: line.writerIndex - 1)
            }
            context.fireChannelRead(Self.wrapInboundOut(.line(line)))
            return .continue
        }
        scanned = view.count
        if view.count > maxLineBytes { return overflow(context: context, buffer: &buffer) }
        return .needMoreData
    }

    mutating func overflow(context: ChannelHandlerContext, buffer: inout ByteBuffer) -> DecodingState {
        overflowed = true
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        context.fireChannelRead(Self.wrapInboundOut(.tooLong(limit: maxLineBytes)))
        return .needMoreData
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A last line without `\n` before EOF is still a request (e.g. `printf ... | nc -U`).
        if !overflowed, buffer.readableBytes > 0 {
            let line = buffer.readSlice(length: buffer.readableBytes)!
            scanned = 0
            context.fireChannelRead(Self.wrapInboundOut(.line(line)))
        }
        return .needMoreData
    }
}
