import NIOCore

/// The last handler of a client pipeline: hands decoded frames to the client's task and ends
/// the stream when the connection goes away.
final class SMPPChannelBridge: ChannelInboundHandler {
    typealias InboundIn = SMPPInboundFrame

    private let continuation: AsyncStream<SMPPInboundFrame>.Continuation

    init(_ continuation: AsyncStream<SMPPInboundFrame>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        continuation.yield(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        continuation.finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish()
        context.close(promise: nil)
    }
}
