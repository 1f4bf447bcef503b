import Foundation
import NIOCore
import Testing

@testable import SecureChat

/// The pieces that make a notification harmless, without a database: decoding with bounds, arithmetic on
/// received numbers that cannot trap, text from the database made one safe line, and the incarnation file's
/// lock.
@Suite("Cluster: notifications are untrusted input")
struct ClusterNotificationTests {
    @Test("doorbells decode to keys only; anything malformed, oversized or of an old format is refused")
    func decoding() {
        #expect(
            ClusterNotification.decode(##"{"k":"e","n":"a:9000","ms":5,"r":["#lobby","#dev"],"s":[7,-1]}"##)
                == .roomLines(
                    node: "a:9000", committedAtMilliseconds: 5,
                    rooms: [RoomName(parsing: "#lobby")!, RoomName(parsing: "#dev")!], lastSequences: [7, -1]))
        #expect(
            ClusterNotification.decode(##"{"k":"e","n":"a"}"##)
                == .roomLines(node: "a", committedAtMilliseconds: nil, rooms: nil, lastSequences: nil))
        #expect(ClusterNotification.decode(##"{"k":"p","u":"bob","n":"a"}"##) == .presence(nameKey: "bob", node: "a"))
        #expect(ClusterNotification.decode(##"{"k":"d","n":"a","i":-1}"##) == .nodeDown(node: "a", incarnation: -1))
        #expect(ClusterNotification.decode(##"{"k":"m","n":"a","x":"[dm] x"}"##) == .relays(node: "a"))
        #expect(ClusterNotification.decode(##"{"k":"a","u":"alice"}"##) == .accountsChanged)
        let refused = [
            ##"{"k":"e","n":"a","ms":1e30}"##,
            ##"{"k":"e","n":"a","r":["not a room"]}"##,
            ##"{"k":"e","n":"a","r":["#lobby"],"s":[1,2]}"##,
            ##"{"k":"e","n":"a","s":[1]}"##,
            ##"{"k":"e","n":"a","r":[\##(Array(repeating: "\"#a\"", count: 65).joined(separator: ","))]}"##,
            ##"{"k":"e","n":""}"##,
            ##"{"k":"e","n":"\u001b[2J"}"##,
            ##"{"k":"p","u":"\##(String(repeating: "b", count: 256))","n":"a"}"##,
            ##"{"k":"d","n":"a","i":9223372036854775808}"##,
            ##"{"k":"x","n":"a","u":"bob","a":"kicked","b":"m"}"##,
            ##"{"k":"m"}"##,
            "[[[[]]]]",
            String(repeating: "[", count: 4000) + String(repeating: "]", count: 4000),
            ##"{"k":"b","x":""## + String(repeating: "A", count: 8000) + ##""}"##,
        ]
        for payload in refused {
            #expect(ClusterNotification.decode(payload) == nil, "\(payload.prefix(80))")
        }
    }

    @Test("the lag of a notification is computed without trapping, and only when it makes sense")
    func lag() {
        #expect(ClusterNotification.lagMilliseconds(committedAt: 1_000, now: 1_250) == 250)
        #expect(ClusterNotification.lagMilliseconds(committedAt: .min, now: 1_000) == nil)
        #expect(ClusterNotification.lagMilliseconds(committedAt: .max, now: .min) == nil)
        #expect(ClusterNotification.lagMilliseconds(committedAt: 2_000, now: 1_000) == nil)
        #expect(ClusterNotification.lagMilliseconds(committedAt: nil, now: 1_000) == nil)
    }

    @Test("text from the database becomes one sanitised line ending in exactly one newline")
    func receivedText() {
        func line(_ text: String) -> String? {
            ReceivedText.line(text).map { String(buffer: $0) }
        }
        #expect(line("alice: hi\n") == "alice: hi\n")
        #expect(line("alice: no newline") == "alice: no newline\n")
        #expect(line("two\nlines\n") == "twolines\n")
        #expect(line("\u{1b}[2Jclear\u{7}\n") == "[2Jclear\n")
        #expect(line("\n") == nil)
        #expect(line(String(repeating: "é", count: 40_000))?.utf8.count == ReceivedText.maximumBytes + 1)
    }

    @Test("the incarnation file: one holder at a time; the next one reads what the last holder recorded")
    func incarnationFile() throws {
        let path = NSTemporaryDirectory() + "securechat-incarnation-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = IncarnationFile(path: path)
        #expect(first.previousIncarnation(of: "phoenix") == nil)
        first.record(42, of: "phoenix")
        // Another process (another open file description) while the first lives: no lock, no takeover.
        let second = IncarnationFile(path: path)
        #expect(second.previousIncarnation(of: "phoenix") == nil)
        second.release()
        first.release()
        let third = IncarnationFile(path: path)
        #expect(third.previousIncarnation(of: "phoenix") == 42)
        #expect(IncarnationFile(path: path).previousIncarnation(of: "phoenix") == nil)
        #expect(third.previousIncarnation(of: "other") == nil)
        third.release()
        #expect(
            IncarnationFile.defaultPath(nodeName: "chat1.example.net:9000/x")
                == "securechat-chat1.example.net_9000_x.incarnation")
    }
}
