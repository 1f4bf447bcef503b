import ArgumentParser
import Foundation
import NIOCore
import SecureChat

/// Several nodes as one chat (README.md, "Running several nodes").
struct ClusterOptions: ParsableArguments {
    @Option(
        name: .customLong("cluster"),
        help: ArgumentHelp(
            "Join a cluster through PostgreSQL: "
                + "postgres://user:password@host:5432/db?sslmode=verify-full&sslrootcert=ca.pem (libpq's meanings).",
            discussion:
                "Or set SECURECHAT_CLUSTER_URL, or give --cluster-url-file: either keeps the password out of ps.",
            valueName: "url"))
    var url: String?

    @Option(
        name: .customLong("cluster-url-file"),
        help: ArgumentHelp(
            "A file holding the --cluster URL, readable by its owner only (a secret: never printed or logged).",
            valueName: "path"))
    var urlFile: String?

    @Option(name: .customLong("node-name"), help: "This node's name in the cluster (default: hostname:port).")
    var nodeName: String?

    @Option(
        name: .customLong("incarnation-file"),
        help: ArgumentHelp(
            "The file that lets this node take its name over at once after a crash"
                + " (default: securechat-NODE.incarnation in the working directory).",
            valueName: "path"))
    var incarnationFile: String?

    @Option(
        name: .customLong("node-timeout"),
        help: "Seconds of silence after which the other nodes declare a node down.")
    var nodeTimeout: Double = 10

    func validate() throws {
        try OptionBounds.nodeTimeout.check(nodeTimeout, flag: "node-timeout")
        guard url == nil || urlFile == nil else {
            throw ValidationError("--cluster and --cluster-url-file: give one, not both")
        }
        let resolvedURL = try self.resolvedURL()
        if resolvedURL == nil, nodeName != nil {
            throw ValidationError("--node-name needs --cluster (or SECURECHAT_CLUSTER_URL)")
        }
        // Other nodes ignore notifications naming a node they cannot read (ClusterNotification's bounds).
        if let nodeName,
            nodeName.isEmpty || nodeName.utf8.count > 255
                || nodeName.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        {
            throw ValidationError("--node-name must be 1-255 bytes without control characters")
        }
        if resolvedURL == nil, incarnationFile != nil {
            throw ValidationError("--incarnation-file needs --cluster (or SECURECHAT_CLUSTER_URL)")
        }
    }

    /// After the listeners are set (the default node name uses the plaintext port).
    func apply(to configuration: inout Configuration) throws {
        guard let url = try resolvedURL() else { return }
        let name = nodeName ?? "\(Self.hostname()):\(configuration.plaintextPort)"
        configuration.cluster = ClusterConfiguration(
            url: url, nodeName: name, nodeTimeout: .milliseconds(Int64(nodeTimeout * 1000)))
        configuration.cluster?.incarnationFile = incarnationFile
    }

    /// `--cluster`, else the file's URL. (SECURECHAT_CLUSTER_URL reaches `--cluster` through the configuration
    /// loader, as every SECURECHAT_* variable reaches its flag.)
    private func resolvedURL() throws -> String? {
        if let url { return url }
        guard let urlFile else { return nil }
        return try SecretFile.read(urlFile, flag: "cluster-url-file")
    }

    private static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
