import Crypto
import Foundation
import NIOHTTP1

/// RFC 6455's opening handshake, server side: is a request a valid upgrade, and what to answer.
enum WebSocketHandshake {
    /// Why a request to `/ws` is not upgraded, with the status it gets.
    enum Refusal: Error, Equatable {
        case notAnUpgrade
        case unsupportedVersion
        case badKey
        case originNotAllowed

        var status: HTTPResponseStatus {
            switch self {
            case .notAnUpgrade, .badKey: .badRequest
            case .unsupportedVersion: .upgradeRequired
            case .originNotAllowed: .forbidden
            }
        }

        var message: String {
            switch self {
            case .notAnUpgrade: "This address takes WebSocket connections only.\n"
            case .unsupportedVersion: "WebSocket version 13 only.\n"
            case .badKey: "The Sec-WebSocket-Key header is missing or malformed.\n"
            case .originNotAllowed: "Pages of that origin may not connect here.\n"
            }
        }
    }

    /// The `Sec-WebSocket-Accept` value for a valid upgrade request, or why it is not one. `ownOrigin` is
    /// `https://` or `http://` and the request's `Host`: allowed when `allowedOrigins` is empty.
    static func accept(_ head: HTTPRequestHead, allowedOrigins: [String], secure: Bool) -> Result<String, Refusal> {
        let headers = head.headers
        guard headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "websocket" }),
            headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "upgrade" })
        else { return .failure(.notAnUpgrade) }
        guard headers.first(name: "sec-websocket-version") == "13" else { return .failure(.unsupportedVersion) }
        guard let key = headers.first(name: "sec-websocket-key"), let nonce = Data(base64Encoded: key),
            nonce.count == 16
        else { return .failure(.badKey) }
        if let origin = headers.first(name: "origin") {
            guard isAllowed(origin: origin, head: head, allowedOrigins: allowedOrigins, secure: secure) else {
                return .failure(.originNotAllowed)
            }
        }
        let digest = Insecure.SHA1.hash(data: Data((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
        return .success(Data(digest).base64EncodedString())
    }

    private static func isAllowed(origin: String, head: HTTPRequestHead, allowedOrigins: [String], secure: Bool) -> Bool
    {
        let origin = origin.lowercased()
        if !allowedOrigins.isEmpty {
            return allowedOrigins.contains { $0.lowercased() == origin }
        }
        guard let host = head.headers.first(name: "host")?.lowercased() else { return false }
        return origin == (secure ? "https://" : "http://") + host
    }
}
