import Foundation
import NIOCore
import NIOPosix
import NIOWebSocket
import SecureChat

/// A WebSocket client for the tests, written from RFC 6455 rather than with NIO's client upgrader, so a test
/// can send what a real client would not: a wrong origin, a bad version, oversized or unmasked frames.
///
/// It speaks HTTP by hand until the server's `101`, then frames. Every JSON object the server sends arrives as
/// a dictionary; the end of the connection, and the close code if there was one, are recorded.
final class WebSocketTestClient: Sendable {
    let channel: any Channel
    private let collector: FrameCollector

    private init(channel: any Channel, collector: FrameCollector) {
        self.channel = channel
        self.collector = collector
    }

    /// What the server answered to the upgrade request when it did not upgrade.
    struct Refused: Error, CustomStringConvertible {
        let statusLine: String
        var description: String { "upgrade refused: \(statusLine)" }
    }

    /// Opens `/ws` on `port` (the plaintext port unless `tls` is given). `origin` nil sends no `Origin` header.
    static func connect(
        port: Int, origin: String? = nil, version: String = "13", tls: TestClient.TLS? = nil
    ) async throws -> WebSocketTestClient {
        let collector = FrameCollector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(SanitizedBuild.scaled(.seconds(10)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(try tls.makeHandler()) }
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let client = WebSocketTestClient(channel: channel, collector: collector)
        var request = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\n"
        request += "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        request += "Sec-WebSocket-Version: \(version)\r\n"
        if let origin { request += "Origin: \(origin)\r\n" }
        request += "\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: request)).get()
        let status = try await collector.statusLine(on: channel.eventLoop).get()
        guard status.hasPrefix("HTTP/1.1 101") else {
            try? await channel.close()
            throw Refused(statusLine: status)
        }
        return client
    }

    /// Sends one text frame (masked, as a client must).
    func send(_ text: String) {
        sendFrame(opcode: .text, ByteBuffer(string: text))
    }

    /// Sends `object` as JSON.
    func send(_ object: [String: Any]) {
        let data = try! JSONSerialization.data(withJSONObject: object)
        send(String(decoding: data, as: UTF8.self))
    }

    func sendFrame(opcode: WebSocketOpcode, _ payload: ByteBuffer, masked: Bool = true) {
        let frame = WebSocketFrame(fin: true, opcode: opcode, maskKey: masked ? .random() : nil, data: payload)
        channel.writeAndFlush(frame, promise: nil)
    }

    /// The next JSON object from the server, or nil once the connection has ended.
    func next(timeout: TimeAmount = .seconds(10)) async throws -> [String: Any]? {
        let text = try await collector.next(on: channel.eventLoop, timeout: SanitizedBuild.scaled(timeout)).get()
        guard let text else { return nil }
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw WebSocketTestError.notAnObject(text)
        }
        return object
    }

    /// Reads objects until one matches.
    @discardableResult
    func readUntil(_ description: String, _ matches: ([String: Any]) -> Bool) async throws -> [String: Any] {
        while true {
            guard let object = try await next() else {
                throw TestTimeout(waitingFor: description + " (connection ended)")
            }
            if matches(object) { return object }
        }
    }

    /// Reads objects until the connection ends; returns them and the close code the server sent, if any.
    func readToEnd() async throws -> (objects: [[String: Any]], closeCode: UInt16?) {
        var objects: [[String: Any]] = []
        while let object = try await next() { objects.append(object) }
        return (objects, try await collector.closeCode(on: channel.eventLoop).get())
    }

    /// Logs in and waits for the welcome.
    func login(_ name: String) async throws {
        send(["type": "login", "name": name])
        try await readUntil("the welcome of \(name)") { $0["type"] as? String == "welcome" }
    }

    func close() async {
        try? await channel.close()
    }
}

enum WebSocketTestError: Error {
    case notAnObject(String)
}

/// Reads the HTTP response head, then switches the pipeline to frames and collects text frames as strings.
/// Event-loop confined.
private final class FrameCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private var head = ByteBuffer()
    private var status: EventLoopPromise<String>?
    private var statusResult: String?
    private var texts = CircularBuffer<String>()
    private var waiter: EventLoopPromise<String?>?
    private var ended = false
    private var receivedCloseCode: UInt16?
    private var upgraded = false

    func statusLine(on loop: any EventLoop) -> EventLoopFuture<String> {
        loop.submit { [self] in
            if let statusResult { return loop.makeSucceededFuture(statusResult) }
            if ended { return loop.makeSucceededFuture("connection closed") }
            let promise = loop.makePromise(of: String.self)
            status = promise
            return promise.futureResult
        }.flatMap { $0 }
    }

    func closeCode(on loop: any EventLoop) -> EventLoopFuture<UInt16?> {
        loop.submit { [self] in receivedCloseCode }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if !upgraded {
            head.writeBuffer(&bytes)
            guard let end = head.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) else { return }
            let text = String(decoding: head.readableBytesView[..<end.lowerBound], as: UTF8.self)
            let statusLine = String(text.split(separator: "\r\n").first ?? "")
            head.moveReaderIndex(to: end.upperBound)
            bytes = head
            upgraded = statusLine.hasPrefix("HTTP/1.1 101")
            statusResult = statusLine
            status?.succeed(statusLine)
            status = nil
            guard upgraded else { return }
            // Between the TLS handler (if any) and this one: frames written on the channel are encoded here.
            try? context.pipeline.syncOperations.addHandler(WebSocketFrameEncoder(), position: .before(self))
        }
        pending.writeBuffer(&bytes)
        while let frame = Self.parseFrame(&pending) { received(frame, context: context) }
    }

    private var pending = ByteBuffer()

    /// One unmasked frame from the server (RFC 6455 5.2), or nil while it is incomplete.
    private static func parseFrame(_ buffer: inout ByteBuffer) -> (opcode: UInt8, payload: ByteBuffer)? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self),
            let second = buffer.getInteger(at: start + 1, as: UInt8.self)
        else { return nil }
        var length = Int(second & 0x7F)
        var offset = start + 2
        if length == 126 {
            guard let extended = buffer.getInteger(at: offset, as: UInt16.self) else { return nil }
            length = Int(extended)
            offset += 2
        } else if length == 127 {
            guard let extended = buffer.getInteger(at: offset, as: UInt64.self) else { return nil }
            length = Int(extended)
            offset += 8
        }
        guard let payload = buffer.getSlice(at: offset, length: length) else { return nil }
        buffer.moveReaderIndex(to: offset + length)
        return (first & 0x0F, payload)
    }

    private func received(_ frame: (opcode: UInt8, payload: ByteBuffer), context: ChannelHandlerContext) {
        switch frame.opcode {
        case 0x1:
            deliver(String(buffer: frame.payload))
        case 0x9:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.payload)
            context.channel.writeAndFlush(pong, promise: nil)
        case 0x8:
            var data = frame.payload
            receivedCloseCode = data.readInteger(as: UInt16.self)
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        ended = true
        status?.succeed("connection closed")
        status = nil
        waiter?.succeed(nil)
        waiter = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func deliver(_ text: String) {
        if let waiter {
            self.waiter = nil
            waiter.succeed(text)
        } else {
            texts.append(text)
        }
    }

    func next(on loop: any EventLoop, timeout: TimeAmount) -> EventLoopFuture<String?> {
        loop.submit { [self] () -> EventLoopFuture<String?> in
            if let text = texts.popFirst() { return loop.makeSucceededFuture(text) }
            if ended { return loop.makeSucceededFuture(nil) }
            let promise = loop.makePromise(of: String?.self)
            waiter = promise
            loop.scheduleTask(in: timeout) { [self] in
                if let waiter, waiter.futureResult === promise.futureResult {
                    self.waiter = nil
                    waiter.fail(TestTimeout(waitingFor: "a WebSocket message"))
                }
            }
            return promise.futureResult
        }.flatMap { $0 }
    }
}
