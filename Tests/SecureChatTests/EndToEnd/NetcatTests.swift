import SecureChat
import Testing

extension EndToEnd {
    @Suite("Real client: nc")
    struct NetcatTests {
        @Test("nc logs in and chats with a test client, both ways")
        func netcatChats() async throws {
            try await withTestServer { server in
                let bob = try await server.login("bob")
                // Fails (does not skip) when nc is missing: CI installs netcat-openbsd.
                _ = try NetcatProcess.executable()
                try await withNetcat(port: server.port) { nc in
                    try await nc.readUntil("the username prompt") { $0.hasPrefix("* Choose a username") }
                    try nc.send("ncuser")
                    try await nc.readUntil("the welcome") { $0.hasPrefix("* Welcome, ncuser!") }
                    try await bob.readUntil { $0 == "* ncuser joined #lobby" }
                    try nc.send("hello from nc")
                    #expect(try await bob.readLine() == "ncuser: hello from nc")
                    bob.send("hello nc")
                    try await nc.readUntil("bob's line") { $0 == "bob: hello nc" }
                    try nc.send("/msg bob psst")
                    #expect(try await bob.readLine() == "[dm] ncuser: psst")
                    try await nc.readUntil("the DM confirmation") { $0 == "[dm -> bob] psst" }
                }
                // nc was terminated: its connection ends and bob is told.
                #expect(try await bob.readLine() == "* ncuser left #lobby (connection closed)")
            }
        }
    }
}
