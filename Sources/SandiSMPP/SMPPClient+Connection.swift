import NIOCore
import NIOPosix

extension SMPPClient {
    /// One connection's life: connect, bind, serve frames and timers until it closes.
    func serveOneConnection() async {
        let (frames, framesContinuation) = AsyncStream.makeStream(of: SMPPInboundFrame.self)
        let maximumLength = configuration.maximumPDULength
        let connected: any Channel
        do {
            connected = try await ClientBootstrap(group: group)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(SMPPFrameDecoder(maximumLength: maximumLength)))
                        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(SMPPFrameEncoder()))
                        try channel.pipeline.syncOperations.addHandler(SMPPChannelBridge(framesContinuation))
                    }
                }
                .connect(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            logger.warning("SMPP connect failed", metadata: ["error": "\(error)"])
            framesContinuation.finish()
            return
        }
        channel = connected
        defer {
            channel = nil
            connected.close(promise: nil)
        }
        guard !shutdownRequested, let bind = try? session.bind(configuration.bind, now: .now) else { return }
        connected.writeAndFlush(bind, promise: nil)
        let tick = configuration.tickInterval
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: tick)
                    await self.tick()
                }
            }
            for await frame in frames {
                handle(frame)
            }
            group.cancelAll()
        }
    }

    /// Runs the session's timers and lets waiting submits look again.
    func tick() {
        perform(session.tick(now: .now))
        wakeSlotWaiters()
    }

    /// Feeds one inbound frame to the session.
    func handle(_ frame: SMPPInboundFrame) {
        switch frame {
        case .pdu(let pdu):
            if pdu.commandID == .unbindResp {
                unbindAcknowledged = true
            }
            perform(session.receive(pdu, now: .now))
        case .malformed(let header, let error):
            logger.warning("SMPP malformed PDU", metadata: ["command_id": "\(header.commandID)", "error": "\(error)"])
            perform(session.receiveMalformed(header: header, error: error, now: .now))
        }
    }

    /// Carries out the session's actions.
    func perform(_ actions: [SMPPSession.Action]) {
        for action in actions {
            switch action {
            case .send(let pdu):
                channel?.writeAndFlush(pdu, promise: nil)
            case .bound(let systemID):
                logger.info("SMPP bound", metadata: ["smsc": "\(systemID)"])
                wakeSlotWaiters()
            case .bindRejected(let status):
                logger.error("SMPP bind rejected", metadata: ["status": "\(status)"])
                terminalError = .bindRejected(status)
            case .submitCompleted(let sequence, let outcome):
                responseWaiters.removeValue(forKey: sequence)?.resume(returning: outcome)
                wakeSlotWaiters()
            case .deliver(let message):
                guard message.isDeliveryReceipt || message.tlvs.first(.receiptedMessageID) != nil,
                    let receipt = SMPPDeliveryReceipt(deliverSM: message)
                else { continue }
                receiptsContinuation.yield(receipt)
            case .close:
                channel?.close(promise: nil)
            }
        }
    }

    /// Waits until something may have changed for a waiting submit.
    func waitForSlot() async {
        if !running {
            try? await Task.sleep(for: configuration.tickInterval)
            return
        }
        await withCheckedContinuation { slotWaiters.append($0) }
    }

    /// Lets every waiting submit look again.
    func wakeSlotWaiters() {
        let waiters = slotWaiters
        slotWaiters = []
        for waiter in waiters {
            waiter.resume()
        }
    }

    /// Sleeps before reconnecting, waking waiting submits on every tick and stopping early on
    /// shutdown or cancellation.
    func pause(for delay: Duration) async {
        let end = ContinuousClock.now + delay
        while !shutdownRequested, !Task.isCancelled {
            let remaining = end - ContinuousClock.now
            guard remaining > .zero else { return }
            try? await Task.sleep(for: min(remaining, configuration.tickInterval))
            wakeSlotWaiters()
        }
    }

    /// Ends the client: wakes everyone waiting and closes the receipt stream.
    func finish() {
        running = false
        finished = true
        wakeSlotWaiters()
        receiptsContinuation.finish()
        let waiters = runFinishedWaiters
        runFinishedWaiters = []
        for waiter in waiters {
            waiter.resume()
        }
    }
}
