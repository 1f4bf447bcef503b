import NIOCore
import SecureChat
import Testing

extension EndToEnd {
    @Suite("Bad input")
    struct BadInputTests {
        /// Escape sequences, C0/C1 controls and bidi controls, as a hostile client would send them.
        static let attack: [UInt8] =
            Array("clear\u{1B}[2J\u{1B}[H csi\u{1B}[31mred\u{1B}[0m osc\u{1B}]0;title\u{07} bell\u{07}".utf8)
            + [0x9B, 0x33, 0x31, 0x6D]  // raw 8-bit CSI (invalid UTF-8 on its own)
            + Array(" c1\u{9B}31m\u{9D}0;t\u{9C}\u{85} bidi\u{202E}gnp.exe\u{202C}\u{2066}x\u{2069} del\u{7F} nul".utf8)
            + [0x00, 0x08, 0x0D, 0x41]  // NUL, backspace, a lone CR inside the line, "A"
            + Array(" end".utf8)

        @Test("escape sequences, C0/C1 controls and bidi overrides never reach a recipient, live or replayed")
        func controlsRemoved() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                let bob = try await server.login("bob")
                _ = try await alice.sync()
                _ = try await bob.sync()
                alice.sendRaw(Self.attack + [0x0A])
                alice.sendRaw(Array("/msg bob ".utf8) + Self.attack + [0x0A])
                alice.sendRaw(Array("/quit ".utf8) + Self.attack + [0x0A])
                _ = try await alice.readToEnd()
                // alice was operator: her leaving hands the role to bob, which is announced too.
                let live = try await bob.syncBytes().filter {
                    !String(decoding: $0, as: UTF8.self).hasPrefix("* bob is now the operator")
                }
                try #require(live.count == 3, "\(live.map { String(decoding: $0, as: UTF8.self) })")
                let carol = try await server.login("carol")
                let replayed = try await carol.syncBytes()
                for line in live + replayed {
                    #expect(
                        TerminalSafety.problems(in: line) == [],
                        "\(String(decoding: line, as: UTF8.self).debugDescription)")
                }
                let chat = String(decoding: live[0], as: UTF8.self)
                #expect(chat.hasPrefix("alice: clear[2J[H csi[31mred[0m osc]0;title bell"))
                #expect(chat.hasSuffix("A end"))
                #expect(chat.contains("\u{FFFD}31m"))
                #expect(chat.contains("bidignp.exex del nul"))
                #expect(String(decoding: live[1], as: UTF8.self).hasPrefix("[dm] alice: clear[2J"))
                #expect(String(decoding: live[2], as: UTF8.self).hasPrefix("* alice left #lobby (quit: \"clear[2J"))
                #expect(replayed.contains { String(decoding: $0, as: UTF8.self).hasSuffix("] " + chat) })
            }
        }

        @Test("invalid UTF-8 is replaced by U+FFFD")
        func invalidUTF8() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                let bob = try await server.login("bob")
                _ = try await bob.sync()
                alice.sendRaw([0x61, 0xFF, 0x62, 0xC3, 0x28, 0x63, 0xED, 0xA0, 0x80, 0x0A])
                _ = try await alice.sync()
                let lines = try await bob.syncBytes()
                try #require(lines.count == 1)
                let text = try #require(String(validating: lines[0], as: UTF8.self), "bob got invalid UTF-8")
                #expect(text.hasPrefix("alice: a\u{FFFD}b\u{FFFD}(c"))
                #expect(text.dropFirst("alice: a\u{FFFD}b\u{FFFD}(c".count).allSatisfy { $0 == "\u{FFFD}" })
            }
        }

        @Test("empty lines, blank lines and lines of only controls are ignored: nothing is broadcast or stored")
        func emptyLines() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                let bob = try await server.login("bob")
                _ = try await alice.sync()
                _ = try await bob.sync()
                alice.sendRaw(Array("\n\r\n   \n\t\t\n\u{1B}\u{07}\n\u{202E}\n".utf8))
                #expect(try await alice.sync() == [])
                #expect(try await bob.sync() == [])
                let carol = try await server.login("carol")
                let replayed = try await carol.sync().compactMap(ReplayMark.strip)
                #expect(replayed == ["* alice joined #lobby", "* bob joined #lobby"])
            }
        }

        @Test(
            "a refused username gets an error and the prompt again",
            arguments: [
                "al ice", "alice:", "a\u{1B}[31mb", String(repeating: "n", count: 25), "server", "ADMIN", "dm", "ålice",
            ]
        )
        func refusedNames(name: String) async throws {
            try await withTestServer { server in
                let client = try await server.connect()
                _ = try await client.readUntil { $0.hasPrefix("* Choose a username") }
                client.send(name)
                let error = try #require(try await client.readLine())
                #expect(error.hasPrefix("! Cannot use that name: "), "\(error)")
                #expect(try await client.readLine()?.hasPrefix("* Choose a username") == true)
                #expect(await server.hub.onlineCount == 0)
                try await client.answerPrompt("fine")
                #expect(await server.hub.onlineCount == 1)
            }
        }

        @Test("a name differing only in case from one online is refused; the original is unaffected")
        func duplicateInOtherCase() async throws {
            try await withTestServer { server in
                let alice = try await server.login("Alice")
                _ = try await alice.sync()
                let client = try await server.connect()
                _ = try await client.readUntil { $0.hasPrefix("* Choose a username") }
                client.send("aLiCe")
                let error = try #require(try await client.readLine())
                #expect(error.hasPrefix("! The name aLiCe is taken"), "\(error)")
                #expect(try await client.readLine()?.hasPrefix("* Choose a username") == true)
                try await client.answerPrompt("alice2")
                #expect(try await alice.sync() == ["* alice2 joined #lobby"])
            }
        }

        @Test("a TLS ClientHello on the plaintext port gets a plain error and the connection is closed")
        func tlsOnPlaintextPort() async throws {
            try await withTestServer { server in
                let client = try await server.connect()
                _ = try await client.readUntil { $0.hasPrefix("* Choose a username") }
                client.sendRaw(
                    [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]
                        + Array(repeating: 0x2A, count: 64))
                let rest = try await client.readToEnd()
                #expect(rest.count == 1)
                #expect(
                    rest.first?.hasPrefix("! This is SecureChat's plaintext port and your client spoke TLS.") == true)
                #expect(await server.hub.onlineCount == 0)
            }
        }

        @Test("a client that never sends a name is closed after the login timeout")
        func loginTimeout() async throws {
            try await withTestServer({ $0.loginTimeout = .seconds(1) }) { server in
                let client = try await server.connect()
                let lines = try await client.readToEnd()
                #expect(lines.last?.hasPrefix("* Choose a username") == true)
            }
        }

        @Test("overlong lines at the default limit: 2048 bytes pass, 2049 are refused and the link stays usable")
        func lineLimitBoundary() async throws {
            try await withTestServer { server in
                let alice = try await server.login("alice")
                let bob = try await server.login("bob")
                _ = try await alice.sync()
                _ = try await bob.sync()
                let longest = String(repeating: "y", count: 2048)
                alice.send(longest)
                alice.send(longest + "z")
                alice.send("still here")
                #expect(try await alice.sync() == ["! Line too long (over 2048 bytes); it was discarded."])
                #expect(try await bob.sync() == ["alice: " + longest, "alice: still here"])
            }
        }
    }
}
