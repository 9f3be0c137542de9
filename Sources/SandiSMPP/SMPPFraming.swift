public import NIOCore

/// What the frame decoder passes up the pipeline: a decoded PDU, or the header of a
/// well-framed PDU whose body could not be decoded (answer it with `generic_nack`).
public enum SMPPInboundFrame: Sendable, Equatable {
    /// A PDU decoded in full.
    case pdu(SMPPPDU)
    /// A PDU of valid length whose body is malformed or whose command is unknown.
    case malformed(SMPPHeader, SMPPDecodingError)
}

/// Frames the TCP byte stream into PDUs by `command_length`. A length below 16 or above
/// `maximumLength` loses the framing for good: it is thrown (the channel should be closed).
public struct SMPPFrameDecoder: ByteToMessageDecoder, Sendable {
    /// The output of this decoder.
    public typealias InboundOut = SMPPInboundFrame

    /// 64 KiB: far above any PDU an OTP session exchanges.
    public static let defaultMaximumLength = 65_536

    /// The largest `command_length` accepted.
    public let maximumLength: Int

    /// Creates a decoder accepting PDUs up to `maximumLength` octets.
    public init(maximumLength: Int = SMPPFrameDecoder.defaultMaximumLength) {
        self.maximumLength = maximumLength
    }

    /// Emits every complete PDU in `buffer`.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else {
            return .needMoreData
        }
        guard length >= SMPPHeader.length, length <= maximumLength else {
            throw SMPPDecodingError.invalidCommandLength(length)
        }
        guard buffer.readableBytes >= Int(length), var frame = buffer.readSlice(length: Int(length)) else {
            return .needMoreData
        }
        let output: SMPPInboundFrame
        do {
            output = .pdu(try SMPPPDU.decode(from: &frame, maximumLength: maximumLength))
        } catch {
            guard let header = SMPPPDU.peekHeader(frame) else { throw error }
            output = .malformed(header, error)
        }
        context.fireChannelRead(wrapInboundOut(output))
        return .continue
    }

    /// Leftover octets at end of stream are a truncated PDU; they are dropped.
    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

/// Writes PDUs to the byte stream; a PDU breaking the size limits fails the write.
public struct SMPPFrameEncoder: MessageToByteEncoder, Sendable {
    /// The input of this encoder.
    public typealias OutboundIn = SMPPPDU

    /// Creates an encoder.
    public init() {}

    /// Encodes one PDU.
    public func encode(data: SMPPPDU, out: inout ByteBuffer) throws {
        try data.encode(into: &out)
    }
}
