import Foundation
import NIOCore
import NIOPosix
import Testing

/// `--config FILE`, SECURECHAT_* variables and `--check-config` (issue 25), on the real binary.
@Suite("securechatd configuration: file, environment, precedence, errors, --check-config", .timeLimit(.minutes(3)))
struct DaemonConfigurationTests {
    @Test("the command line wins over the environment, which wins over the file, which wins over the default")
    func precedence() async throws {
        let files = try ConfigurationFiles()
        let path = try files.write(
            "securechat.yaml",
            """
            # comment
            max-line: 4096
            rate: 3
            burst: 7
            history: 20
            """)
        let result = try await runDaemon(
            ["--config", path, "--check-config", "--no-tls", "--burst", "9"],
            environment: ["SECURECHAT_RATE": "4", "SECURECHAT_BURST": "8", "SECURECHAT_ANNOUNCE_LIMIT": "40"])
        #expect(result.status == 0, "\(result.output)")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.contains("max-line = 4096 (\(path):2)"), "\(result.output)")
        #expect(lines.contains("rate = 4 (SECURECHAT_RATE)"))
        #expect(lines.contains("burst = 9 (command line)"))
        #expect(lines.contains("history = 20 (\(path):5)"))
        #expect(lines.contains("announce-limit = 40 (SECURECHAT_ANNOUNCE_LIMIT)"))
        #expect(lines.contains("no-tls = true (command line)"))
        #expect(lines.contains("max-rooms = 1000 (default)"))
        #expect(lines.last == "The configuration is valid.")
    }

    @Test("a running server takes its settings from the file and, over it, the environment")
    func theServerFollowsFileAndEnvironment() async throws {
        let files = try ConfigurationFiles()
        let path = try files.write("securechat.yaml", "max-line: 100\nhistory: 0\n")
        try await withDaemon(arguments: ["--no-tls", "--config", path], environment: ["SECURECHAT_MAX_LINE": "200"]) {
            daemon in
            let alice = try await TestClient.loggedIn("alice", port: daemon.plaintextPort)
            let bob = try await TestClient.loggedIn("bob", port: daemon.plaintextPort)
            _ = try await bob.sync()
            try await alice.readUntil { $0 == "* bob joined #lobby" }
            alice.send(String(repeating: "a", count: 150))  // over the file's 100, within the environment's 200
            alice.send(String(repeating: "b", count: 250))
            #expect(try await alice.readLine() == "! Line too long (over 200 bytes); it was discarded.")
            #expect(try await bob.sync() == ["alice: " + String(repeating: "a", count: 150)])
            for client in [alice, bob] { await client.close() }
        }
    }

    @Test("a bad value in the file: its file, line and key, the bounds the flag has, and the value; exit 64")
    func badValueInTheFile() async throws {
        let files = try ConfigurationFiles()
        let filler = (1...11).map { "# line \($0)" }.joined(separator: "\n")
        let path = try files.write("securechat.yaml", filler + "\nmax-line: lots\n")
        let result = try await runDaemon(["--config", path, "--no-tls", "--port", "0"])
        #expect(result.status == 64)
        #expect(
            result.output == "Error: \(path):12: max-line: expected an integer from 64 to 1048576, got \"lots\"")
        // The same bound as the flag's (one table), in range and type alike.
        let low = try files.write("low.yaml", "max-line: 10\n")
        #expect(
            try await runDaemon(["--config", low, "--no-tls"]).output
                == "Error: \(low):1: max-line: expected an integer from 64 to 1048576, got \"10\"")
        #expect(
            try await runDaemon(["--max-line", "10", "--no-tls"]).output
                == "Error: --max-line must be an integer from 64 to 1048576, got 10")
    }

    @Test("an unknown key: its file and line, and the key it resembles")
    func unknownKey() async throws {
        let files = try ConfigurationFiles()
        let path = try files.write(
            "securechat.yaml", "host: 127.0.0.1\nport: 0\nno-tls: true\n\n\n# next\nmax-lien: 4096\n")
        let result = try await runDaemon(["--config", path])
        #expect(result.status == 64)
        #expect(result.output == "Error: \(path):7: unknown key max-lien (did you mean max-line?)")
    }

    @Test("a bad environment value, and an unknown SECURECHAT_ variable, are errors")
    func badEnvironment() async throws {
        let rate = try await runDaemon(["--no-tls", "--port", "0"], environment: ["SECURECHAT_RATE": "fast"])
        #expect(rate.status == 64)
        #expect(rate.output == "Error: SECURECHAT_RATE: expected a number >= 0, got \"fast\"")
        let unknown = try await runDaemon(["--no-tls", "--port", "0"], environment: ["SECURECHAT_MAX_LIEN": "4096"])
        #expect(unknown.status == 64)
        #expect(unknown.output == "Error: SECURECHAT_MAX_LIEN: unknown variable (did you mean SECURECHAT_MAX_LINE?)")
    }

    @Test("every problem is said at once, one line each, and nothing starts")
    func everyProblemAtOnce() async throws {
        let files = try ConfigurationFiles()
        let path = try files.write("securechat.yaml", "port: 0\nmax-lien: 1\nburst: many\nhistory: {a: 1}\n")
        let result = try await runDaemon(["--config", path, "--no-tls"], environment: ["SECURECHAT_RATE": "fast"])
        #expect(result.status == 64)
        let lines = Set(result.output.split(separator: "\n").map(String.init))
        #expect(
            lines == [
                "Error: SECURECHAT_RATE: expected a number >= 0, got \"fast\"",
                "Error: \(path):2: unknown key max-lien (did you mean max-line?)",
                "Error: \(path):3: burst: expected an integer >= 1, got \"many\"",
                "Error: \(path):4: history: expected an integer >= 0, got a mapping",
            ], "\(result.output)")
    }

    @Test("SECURECHAT_CLUSTER_URL keeps working, and the URL is never shown")
    func clusterURLVariable() async throws {
        let url = "postgres://chat:hunter2-secret@db.example.net/chat"
        let result = try await runDaemon(
            ["--no-tls", "--check-config"], environment: ["SECURECHAT_CLUSTER_URL": url])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("cluster = <redacted> (SECURECHAT_CLUSTER_URL)"))
        #expect(!result.output.contains("hunter2"))
        #expect(!result.output.contains("db.example.net"))
    }

    @Test("cluster-url-file: refused when group or others may read it; its contents never shown")
    func clusterURLFile() async throws {
        let files = try ConfigurationFiles()
        let secret = try files.write("cluster-url", "postgres://chat:hunter2-secret@db.example.net/chat\n", mode: 0o640)
        let path = try files.write("securechat.yaml", "no-tls: true\ncluster-url-file: \(secret)\n")
        let readable = try await runDaemon(["--config", path, "--check-config"])
        #expect(readable.status == 64)
        #expect(readable.output.contains("Error: --cluster-url-file \(secret): readable by group or others"))
        #expect(!readable.output.contains("hunter2"))

        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secret)
        let valid = try await runDaemon(["--config", path, "--check-config"])
        #expect(valid.status == 0, "\(valid.output)")
        #expect(valid.output.contains("cluster-url-file = \(secret) (\(path):2)"))
        #expect(!valid.output.contains("hunter2"))

        // A URL that is wrong is refused without showing it either.
        try files.write("cluster-url", "mysql://chat:hunter2-secret@db.example.net/chat\n")
        let wrong = try await runDaemon(["--config", path, "--check-config"])
        #expect(wrong.status == 64)
        #expect(!wrong.output.contains("hunter2"), "\(wrong.output)")
        // And a secret in the file that is the wrong type is `<redacted>` in the error.
        let list = try files.write("list.yaml", "no-tls: true\ncluster: [\"postgres://chat:hunter2@db/chat\"]\n")
        let listed = try await runDaemon(["--config", list, "--check-config"])
        #expect(listed.status == 64)
        #expect(!listed.output.contains("hunter2"), "\(listed.output)")
    }

    @Test("--check-config: every setting and its origin, exit 0, and nothing bound (a taken port is fine)")
    func checkConfigDoesNotBind() async throws {
        let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        defer { taken.close(promise: nil) }
        let port = try #require(taken.localAddress?.port)
        let files = try ConfigurationFiles()
        let path = try files.write("securechat.yaml", "host: 127.0.0.1\nport: \(port)\nno-tls: true\n")
        let result = try await runDaemon(["--config", path, "--check-config"])
        #expect(result.status == 0, "\(result.output)")
        let settings = try await dumpedOptions().map(\.name).filter { !notSettings.contains($0) }
        let values = checkedValues(result.output)
        #expect(Set(values.keys) == Set(settings))
        #expect(values["port"]?.value == "\(port)")
        #expect(values["port"]?.origin == "\(path):2")
        #expect(values["rate"]?.value == "5")
        #expect(values["rate"]?.origin == "default")
        #expect(!result.output.contains("ready"))
    }

    @Test("--check-config exits 64 for what would stop the start: ports, certificates")
    func checkConfigRefuses() async throws {
        let files = try ConfigurationFiles()
        let ports = try files.write("ports.yaml", "port: 7000\ntls-port: 7000\n")
        let clash = try await runDaemon(["--config", ports, "--check-config"])
        #expect(clash.status == 64)
        #expect(
            clash.output.contains(
                "Error: --port 7000 and --tls-port 7000 are the same port; give each listener its own"))
        let missing = files.directory.file("missing.pem")
        let certificates = try files.write("certs.yaml", "port: 0\ntls-port: 0\ncert: \(missing)\nkey: \(missing)\n")
        let unloadable = try await runDaemon(["--config", certificates, "--check-config"])
        #expect(unloadable.status == 64, "\(unloadable.output)")
        #expect(unloadable.output.contains("Error: "))
        #expect(checkedValues(unloadable.output)["cert"]?.value == missing)
    }

    @Test("a .json file is read as JSON, with the same lines and errors")
    func jsonFile() async throws {
        let files = try ConfigurationFiles()
        let path = try files.write(
            "securechat.json", "{\n  \"no-tls\": true,\n  \"rate\": 2,\n  \"max-connections\": null\n}\n")
        let result = try await runDaemon(["--config", path, "--check-config"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("rate = 2 (\(path):3)"), "\(result.output)")
        #expect(result.output.contains("max-connections = (not set) (default)"))
        let bad = try files.write("bad.json", "{\n  \"no-tls\": true,\n  \"burst\": \"x\"\n}\n")
        let refused = try await runDaemon(["--config", bad, "--check-config"])
        #expect(refused.status == 64)
        #expect(refused.output == "Error: \(bad):3: burst: expected an integer >= 1, got \"x\"")
    }

    @Test("a file of aliases that would expand far past its size (a YAML bomb) is refused")
    func aliasBomb() async throws {
        let files = try ConfigurationFiles()
        let text =
            "host: &a \"\(String(repeating: "x", count: 1000))\"\n"
            + "operator-fingerprint: [\((0..<5000).map { _ in "*a" }.joined(separator: ","))]\n"
        let path = try files.write("securechat.yaml", text)
        let result = try await runDaemon(["--config", path, "--check-config", "--no-tls"])
        #expect(result.status == 64)
        #expect(
            result.output.contains(
                "Error: \(path):2: operator-fingerprint: the values expand past 1048576 bytes (aliases?)"),
            "\(result.output)")
    }
}
