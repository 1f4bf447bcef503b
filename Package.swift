// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "SecureChat",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "securechatd", targets: ["securechatd"]),
        .library(name: "SecureChat", targets: ["SecureChat"]),
    ],
    dependencies: [
        // Event loops, sockets, channel pipelines: the I/O layer everything else sits on.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // Structured logging with per-connection metadata.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // The command line of securechatd.
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // securechatd's configuration file (YAML, or JSON) and SECURECHAT_* environment, beside the flags, with a
        // provider per source in a known precedence (README.md, "Configuration").
        .package(url: "https://github.com/apple/swift-configuration.git", exact: "1.4.0", traits: ["JSON", "YAML"]),
        // The YAML file's node marks: swift-configuration reports neither unknown keys nor line numbers.
        .package(url: "https://github.com/jpsim/Yams.git", exact: "6.2.2"),
        // SIGTERM/SIGINT handling and graceful shutdown of the server as a service.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // The metrics API, so any library's metrics land in the same registry as ours.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        // Prometheus registry and text exposition for /metrics.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // The PostgreSQL driver behind --cluster: pooled queries and LISTEN/NOTIFY, on the same event loops.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // SHA-1 for the WebSocket handshake's Sec-WebSocket-Accept (RFC 6455 asks for it; postgres-nio already
        // builds this package, so it costs no new download).
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        // Tests only: property-based checks (random inputs, shrinking, fixed seeds) in Swift Testing.
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        // Tests only: the child processes tests run (nc, openssl, securechatd, PostgreSQL's tools). Not Foundation's
        // `Process`, whose `run()` overflows a heap buffer under AddressSanitizer. Its package needs tools 6.2, so
        // building the tests needs a Swift 6.2 toolchain or newer; the package itself still declares 6.0.
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        // Tests only: `FilePath` and `FileDescriptor`, the types swift-subprocess's API takes (it depends on it too).
        .package(url: "https://github.com/apple/swift-system.git", from: "1.5.0"),
    ],
    targets: [
        // System OpenSSL 3 (Debian: libssl-dev). Only Sources/SecureChat/TLS imports it.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // The reference Argon2 library (Debian: libargon2-dev), for account passwords. Only
        // Sources/SecureChat/Accounts/Hashing imports it.
        .systemLibrary(
            name: "CArgon2",
            pkgConfig: "libargon2",
            providers: [.apt(["libargon2-dev"])]
        ),
        .target(
            name: "SecureChat",
            dependencies: [
                "COpenSSL",
                "CArgon2",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "securechatd",
            dependencies: [
                "SecureChat",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "SecureChatTests",
            dependencies: [
                "SecureChat", "COpenSSL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                // The WebSocket tests' client frames.
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
    ]
)

// MARK: - chatbench: the load generator of issue 6 (targets ChatBenchCore, chatbench, ChatBenchTests)
package.dependencies.append(
    // Latency percentiles in chatbench.
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0")
)
package.targets.append(contentsOf: [
    .target(
        name: "ChatBenchCore",
        dependencies: [
            "SecureChat",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ]
    ),
    .executableTarget(
        name: "chatbench",
        dependencies: [
            "ChatBenchCore",
            "SecureChat",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]
    ),
    .testTarget(
        name: "ChatBenchTests",
        dependencies: [
            "ChatBenchCore",
            .product(name: "NIOCore", package: "swift-nio"),
            // The IRC responder of the dialect tests.
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]
    ),
])
