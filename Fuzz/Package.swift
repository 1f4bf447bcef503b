// swift-tools-version:6.0
import PackageDescription

// The fuzz targets live in their own package so the main build and `swift test` never see libFuzzer.
// Build with `fuzz/run.sh` (it passes -sanitize=fuzzer,address); see README.md.
let package = Package(
    name: "SecureChatFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        // Named, because a path dependency is otherwise known by its folder's name, which differs per checkout.
        .package(name: "SecureChat", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // The hub the Command target runs commands against takes a Logger.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // Declares libFuzzer's driver entry point (see FuzzSupport/LibFuzzerMain.swift).
        .target(name: "CLibFuzzer"),
        .target(
            name: "FuzzSupport",
            dependencies: [
                "CLibFuzzer",
                .product(name: "SecureChat", package: "SecureChat"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        fuzzTarget("FuzzLineDecoder"),
        fuzzTarget("FuzzCommand"),
        fuzzTarget("FuzzTextSanitizer"),
        fuzzTarget("FuzzNames"),
        fuzzTarget("FuzzBanFile"),
        fuzzTarget("FuzzTLSServer"),
        fuzzTarget("FuzzTLSSession"),
    ]
)

/// One libFuzzer executable: libFuzzer supplies `main` and calls the target's `LLVMFuzzerTestOneInput`.
func fuzzTarget(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            "FuzzSupport",
            .product(name: "SecureChat", package: "SecureChat"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]
    )
}
