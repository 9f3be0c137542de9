import NIOCore
import NIOPosix
import SandiSMPP
import Testing

@Suite("Framing over a real socket")
struct FramingTests {
    /// A raw TCP client that writes bytes and collects what comes back until the server closes.
    final class RawCollector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let continuation: AsyncStream<[UInt8]>.Continuation

        init(_ continuation: AsyncStream<[UInt8]>.Continuation) {
            self.continuation = continuation
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            continuation.yield(unwrapInboundIn(data).bytes)
        }

        func channelInactive(context: ChannelHandlerContext) {
            continuation.finish()
        }
    }

    private func connect(to port: Int) async throws -> (any Channel, AsyncStream<[UInt8]>) {
        let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RawCollector(continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return (channel, stream)
    }

    /// Reads from `stream` until `count` octets have arrived.
    private func read(_ count: Int, from stream: AsyncStream<[UInt8]>) async throws -> [UInt8] {
        try await withTimeout(.seconds(5)) {
            var bytes: [UInt8] = []
            for await chunk in stream {
                bytes += chunk
                if bytes.count >= count { break }
            }
            return bytes
        }
    }

    @Test func reassemblesSplitAndCoalescedPDUs() async throws {
        let fake = try await FakeSMSC.start()
        let (channel, stream) = try await connect(to: fake.port)
        let enquire = hex("00000010 00000015 00000000 00000001")
        try await channel.writeAndFlush(ByteBuffer(bytes: enquire.prefix(3)))
        try await channel.writeAndFlush(ByteBuffer(bytes: enquire.dropFirst(3).prefix(10)))
        try await channel.writeAndFlush(ByteBuffer(bytes: enquire.dropFirst(13) + hex("00000010 00000015 00000000 00000002")))
        let replies = try await read(32, from: stream)
        #expect(replies == hex("00000010 80000015 00000000 00000001 00000010 80000015 00000000 00000002"))
        try await channel.close()
        await fake.stop()
    }

    @Test func malformedBodyGetsGenericNackAndTheStreamGoesOn() async throws {
        let fake = try await FakeSMSC.start()
        let (channel, stream) = try await connect(to: fake.port)
        try await channel.writeAndFlush(ByteBuffer(bytes: hex("00000010 00000099 00000000 00000007 00000010 00000015 00000000 00000008")))
        let replies = try await read(32, from: stream)
        #expect(replies == hex("00000010 80000000 00000003 00000007 00000010 80000015 00000000 00000008"))
        try await channel.close()
        await fake.stop()
    }

    @Test func impossibleCommandLengthClosesTheConnection() async throws {
        let fake = try await FakeSMSC.start()
        let (channel, stream) = try await connect(to: fake.port)
        try await channel.writeAndFlush(ByteBuffer(bytes: hex("00000005 00000015 00000000 00000001")))
        let replies = try await read(Int.max, from: stream)  // ends when the server closes
        #expect(replies.isEmpty)
        #expect(fake.received.isEmpty)
        await fake.stop()
    }
}
