import NIOCore
import NIOPosix
import SandiSMPP
import Synchronization

/// A real SMPP server on 127.0.0.1 (random port) for client tests. It checks bind credentials,
/// answers enquire_link and submit_sm, and can be told to throttle, delay or ignore submits,
/// send receipts and drop the connection. Every PDU it receives is recorded.
final class FakeSMSC: Sendable {
    struct Script: Sendable {
        var systemID = "smppclient1"
        var password = "password"
        var throttleNextSubmits = 0
        var responseDelay: Duration?
        var ignoreSubmits = false
    }

    struct State: Sendable {
        var script = Script()
        var received: [SMPPPDU] = []
        var connections: [any Channel] = []
        var nextMessageID = 1
        var nextSequence: UInt32 = 1
        var waiters: [Int: Waiter] = [:]
        var cancelledWaiters: Set<Int> = []
        var nextWaiterID = 0
    }

    struct Waiter: Sendable {
        var count: Int
        var predicate: @Sendable (SMPPPDU) -> Bool
        var continuation: CheckedContinuation<[SMPPPDU], Never>
    }

    let state = Mutex(State())
    private let server: any Channel
    let port: Int

    private init(server: any Channel, port: Int) {
        self.server = server
        self.port = port
    }

    /// Starts listening on 127.0.0.1 with an OS-chosen port.
    static func start(script: Script = Script()) async throws -> FakeSMSC {
        let box = FakeSMSCBox()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMPPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(SMPPFrameEncoder()))
                    try channel.pipeline.syncOperations.addHandler(FakeSMSCHandler(box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let fake = FakeSMSC(server: server, port: server.localAddress?.port ?? 0)
        fake.state.withLock { $0.script = script }
        box.set(fake)
        return fake
    }

    /// Stops listening and closes every connection.
    func stop() async {
        dropConnections()
        try? await server.close()
    }

    // MARK: Script

    /// Changes the behaviour for what comes next.
    func update(_ change: @Sendable (inout Script) -> Void) {
        state.withLock { change(&$0.script) }
    }

    var script: Script {
        state.withLock { $0.script }
    }

    /// Every PDU received so far, in order.
    var received: [SMPPPDU] {
        state.withLock { $0.received }
    }

    /// Closes every client connection, as an SMSC crash or network cut would.
    func dropConnections() {
        let connections = state.withLock { state in
            defer { state.connections = [] }
            return state.connections
        }
        for connection in connections {
            connection.close(promise: nil)
        }
    }

    // MARK: Connection events (called by the handler on the event loop)

    func connected(_ channel: any Channel) {
        state.withLock { $0.connections.append(channel) }
    }

    func disconnected(_ channel: any Channel) {
        state.withLock { $0.connections.removeAll { $0 === channel } }
    }

    /// Records a PDU, wakes satisfied waiters, and returns the script and a fresh message id.
    func record(_ pdu: SMPPPDU) -> (script: Script, messageID: String, throttle: Bool) {
        let (result, ready) = state.withLock { state in
            state.received.append(pdu)
            var throttle = false
            if case .submitSM = pdu.body, state.script.throttleNextSubmits > 0 {
                state.script.throttleNextSubmits -= 1
                throttle = true
            }
            let id = String(state.nextMessageID, radix: 16)
            if case .submitSM = pdu.body, !throttle {
                state.nextMessageID += 1
            }
            var ready: [(CheckedContinuation<[SMPPPDU], Never>, [SMPPPDU])] = []
            for (key, waiter) in state.waiters {
                let matches = state.received.filter(waiter.predicate)
                if matches.count >= waiter.count {
                    state.waiters[key] = nil
                    ready.append((waiter.continuation, matches))
                }
            }
            return ((state.script, id, throttle), ready)
        }
        for (continuation, matches) in ready {
            continuation.resume(returning: matches)
        }
        return result
    }
}

/// Lets the child channel initializer, built before the fake exists, reach it.
final class FakeSMSCBox: Sendable {
    private let fake = Mutex<FakeSMSC?>(nil)

    func set(_ value: FakeSMSC) {
        fake.withLock { $0 = value }
    }

    var value: FakeSMSC? {
        fake.withLock { $0 }
    }
}
