import NIOCore
import NIOPosix
import Testing

@testable import SecureChat

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension PolicyTests {
    @Suite struct SocketTuningTests {
        /// What the kernel reports for the options `KeepaliveSettings` controls.
        private struct Observed: Equatable {
            var keepalive: Int
            var noDelay: Int
            var idle: Int
            var interval: Int
            var count: Int
            var userTimeoutMillis: Int
        }

        private func tcp(_ name: Int32) -> ChannelOptions.Types.SocketOption {
            .init(level: .tcp, name: NIOBSDSocket.Option(rawValue: name))
        }

        private func observe(_ channel: any Channel) async throws -> Observed {
            func read(_ option: ChannelOptions.Types.SocketOption) async throws -> Int {
                Int(try await channel.getOption(option).get())
            }
            #if os(Linux)
                return Observed(
                    keepalive: try await read(.init(level: .socket, name: .so_keepalive)),
                    noDelay: try await read(.init(level: .tcp, name: .tcp_nodelay)),
                    idle: try await read(self.tcp(TCP_KEEPIDLE)),
                    interval: try await read(self.tcp(TCP_KEEPINTVL)),
                    count: try await read(self.tcp(TCP_KEEPCNT)),
                    userTimeoutMillis: try await read(self.tcp(TCP_USER_TIMEOUT))
                )
            #else
                throw ChannelError.operationUnsupported
            #endif
        }

        @Test(.enabled(if: isLinux))
        func appliesSettingsToAcceptedAndConnectedChannels() async throws {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let accepted = group.next().makePromise(of: (any Channel).self)
            var channels: [any Channel] = []
            do {
                let server = try await ServerBootstrap(group: group)
                    // Start from NODELAY off so the test shows that the tuning turned it on.
                    .childChannelOption(.tcpOption(.tcp_nodelay), value: 0)
                    .childChannelInitializer { channel in
                        // Runs on the child's event loop: exercises the synchronous path.
                        SocketTuning.apply(.default, to: channel).always { result in
                            switch result {
                            case .success: accepted.succeed(channel)
                            case .failure(let error): accepted.fail(error)
                            }
                        }
                    }
                    .bind(host: "127.0.0.1", port: 0)
                    .get()
                channels.append(server)
                let client = try await ClientBootstrap(group: group)
                    .connect(to: try #require(server.localAddress))
                    .get()
                channels.append(client)
                let child = try await accepted.futureResult.get()
                channels.append(child)

                #expect(
                    try await self.observe(child)
                        == Observed(
                            keepalive: 1, noDelay: 1, idle: 60, interval: 15, count: 4, userTimeoutMillis: 120_000
                        ))

                // From outside the event loop (the future-chaining path) with custom settings.
                let custom = KeepaliveSettings(
                    idle: .seconds(77), interval: .seconds(11), probeCount: 3, noDelay: false
                )
                try await SocketTuning.apply(custom, to: client)
                #expect(
                    try await self.observe(client)
                        == Observed(
                            keepalive: 1, noDelay: 0, idle: 77, interval: 11, count: 3, userTimeoutMillis: 110_000
                        ))

                let explicit = KeepaliveSettings(idle: .milliseconds(1_500), userTimeout: .milliseconds(4_321))
                try await SocketTuning.apply(explicit, to: child)
                let observed = try await self.observe(child)
                #expect(observed.idle == 2)
                #expect(observed.userTimeoutMillis == 4_321)
            } catch {
                Issue.record(error)
            }
            // Completes the promise if an early failure left it open (NIO traps on leaked promises); a no-op otherwise.
            accepted.fail(ChannelError.alreadyClosed)
            for channel in channels.reversed() {
                try? await channel.close()
            }
            try await group.shutdownGracefully()
        }

        @Test(.enabled(if: isLinux))
        func fixesTheSendBufferOnlyWhenAsked() async throws {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let server = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
            let client = try await ClientBootstrap(group: group).connect(to: try #require(server.localAddress)).get()
            let sendBuffer = ChannelOptions.Types.SocketOption(level: .socket, name: .so_sndbuf)
            let autotuned = try await client.getOption(sendBuffer).get()
            try await SocketTuning.apply(.default, to: client)
            #expect(try await client.getOption(sendBuffer).get() == autotuned)
            try await SocketTuning.apply(.default, sendBuffer: 48 * 1024, to: client)
            // Linux reports twice what was asked: the other half is its bookkeeping.
            #expect(try await client.getOption(sendBuffer).get() == 2 * 48 * 1024)
            try await client.close()
            try await server.close()
            try await group.shutdownGracefully()
        }

        @Test func applyingToAClosedChannelFails() async throws {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let server = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
            try await server.close()
            await #expect(throws: (any Error).self) {
                try await SocketTuning.apply(.default, to: server)
            }
            try await group.shutdownGracefully()
        }

        @Test func defaultsMatchTheDesign() {
            let settings = KeepaliveSettings.default
            #expect(settings.idle == .seconds(60))
            #expect(settings.interval == .seconds(15))
            #expect(settings.probeCount == 4)
            #expect(settings.effectiveUserTimeout == .seconds(120))
            #expect(settings.noDelay)
        }
    }
}

#if os(Linux)
    private let isLinux = true
#else
    private let isLinux = false
#endif
