import NIOCore
import SandiSMPP

/// The per-connection SMPP behaviour of ``FakeSMSC``.
final class FakeSMSCHandler: ChannelInboundHandler {
    typealias InboundIn = SMPPInboundFrame
    typealias OutboundOut = SMPPPDU

    private let box: FakeSMSCBox
    private var bound = false

    init(box: FakeSMSCBox) {
        self.box = box
    }

    func channelActive(context: ChannelHandlerContext) {
        box.value?.connected(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        box.value?.disconnected(context.channel)
        context.fireChannelInactive()
    }

    /// A framing error (impossible `command_length`) loses the stream: hang up.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let fake = box.value else { return }
        switch unwrapInboundIn(data) {
        case .malformed(let header, let error):
            reply(context, SMPPPDU(sequenceNumber: header.sequenceNumber, commandStatus: error.commandStatus, body: .genericNack))
        case .pdu(let pdu):
            let (script, messageID, throttle) = fake.record(pdu)
            respond(to: pdu, script: script, messageID: messageID, throttle: throttle, context: context)
        }
    }

    private func respond(
        to pdu: SMPPPDU,
        script: FakeSMSC.Script,
        messageID: String,
        throttle: Bool,
        context: ChannelHandlerContext
    ) {
        let sequence = pdu.sequenceNumber
        switch pdu.body {
        case .bindTransceiver(let bind):
            if bind.systemID == script.systemID, bind.password == script.password, !bound {
                bound = true
                reply(context, SMPPPDU(sequenceNumber: sequence, body: .bindTransceiverResp(SMPPBindResponse(systemID: "FAKESMSC"))))
            } else {
                reply(context, SMPPPDU(sequenceNumber: sequence, commandStatus: .bindFailed, body: .bindTransceiverResp(SMPPBindResponse(systemID: ""))))
            }
        case .enquireLink:
            reply(context, SMPPPDU(sequenceNumber: sequence, body: .enquireLinkResp))
        case .submitSM:
            let response: SMPPPDU
            if !bound {
                response = SMPPPDU(sequenceNumber: sequence, commandStatus: .invalidBindStatus, body: .submitSMResp(messageID: ""))
            } else if throttle {
                response = SMPPPDU(sequenceNumber: sequence, commandStatus: .throttled, body: .submitSMResp(messageID: ""))
            } else if script.ignoreSubmits {
                return
            } else {
                response = SMPPPDU(sequenceNumber: sequence, body: .submitSMResp(messageID: messageID))
            }
            if let delay = script.responseDelay {
                let channel = context.channel
                context.eventLoop.scheduleTask(in: TimeAmount(delay)) {
                    channel.writeAndFlush(response, promise: nil)
                }
            } else {
                reply(context, response)
            }
        case .unbind:
            bound = false
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(SMPPPDU(sequenceNumber: sequence, body: .unbindResp))).whenComplete { _ in
                channel.close(promise: nil)
            }
        case .deliverSM:
            reply(context, SMPPPDU(sequenceNumber: sequence, commandStatus: .invalidCommandID, body: .genericNack))
        default:
            return
        }
    }

    private func reply(_ context: ChannelHandlerContext, _ pdu: SMPPPDU) {
        context.writeAndFlush(wrapOutboundOut(pdu), promise: nil)
    }
}
