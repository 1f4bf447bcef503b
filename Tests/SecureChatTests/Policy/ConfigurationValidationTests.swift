import Foundation
import NIOCore
import Testing

@testable import SecureChat

extension PolicyTests {
    /// Unsafe combinations of limits are refused at start, with a message that names the options involved.
    @Suite struct ConfigurationValidationTests {
        private func configuration(history: Int = 50, maxLine: Int = 2048, outbox: Int = 1 << 20) -> Configuration {
            var configuration = Configuration()
            configuration.historyLines = history
            configuration.maximumLineBytes = maxLine
            configuration.outboxBytes = outbox
            return configuration
        }

        private func refusal(_ configuration: Configuration) -> String? {
            do {
                try configuration.validate()
                return nil
            } catch {
                return "\(error)"
            }
        }

        @Test func theDefaultsAreValid() throws {
            try Configuration().validate()
            #expect(Configuration().longestReplayBytes <= Configuration().outboxBytes)
        }

        @Test(arguments: [
            (0, 4096, 4096),  // a line longer than the outbox
            (0, 2048, 4096),  // fits as typed, not once invalid bytes become U+FFFD
            (0, 1 << 20, 1 << 20),  // equal to the outbox: name and newline no longer fit
        ])
        func aLineThatCannotFitTheOutboxIsRefused(history: Int, maxLine: Int, outbox: Int) throws {
            let message = try #require(refusal(configuration(history: history, maxLine: maxLine, outbox: outbox)))
            #expect(message.contains("--max-line \(maxLine)"))
            #expect(message.contains("--outbox-bytes \(outbox)"))
            #expect(!message.contains("--history"))
        }

        @Test(arguments: [
            (50, 2048, 65_536),  // 50 long lines are ~300 KiB
            (10_000, 2048, 1 << 20),
            (1, 4096, 12_500),  // one replayed line plus its mark and the two notices
        ])
        func aHistoryReplayThatCannotFitTheOutboxIsRefused(history: Int, maxLine: Int, outbox: Int) throws {
            let message = try #require(refusal(configuration(history: history, maxLine: maxLine, outbox: outbox)))
            #expect(message.contains("--history \(history)"))
            #expect(message.contains("--max-line \(maxLine)"))
            #expect(message.contains("--outbox-bytes \(outbox)"))
        }

        @Test(arguments: [(0, 16, 4096), (1, 4096, 12_700), (50, 2048, 320_000), (200, 512, 1 << 20)])
        func combinationsThatFitAreAccepted(history: Int, maxLine: Int, outbox: Int) throws {
            try configuration(history: history, maxLine: maxLine, outbox: outbox).validate()
        }

        @Test(arguments: [(0, Int.max, 1 << 20), (Int.max, 2048, 1 << 20), (Int.max / 2, Int.max / 2, Int.max - 1)])
        func absurdValuesAreRefusedWithoutOverflow(history: Int, maxLine: Int, outbox: Int) {
            #expect(refusal(configuration(history: history, maxLine: maxLine, outbox: outbox)) != nil)
        }

        @Test func theReplayBoundCountsEveryPart() {
            let configuration = configuration(history: 3, maxLine: 100, outbox: 1 << 20)
            let line = 100 * TextSanitizer.maximumExpansion + Configuration.lineOverhead
            #expect(configuration.longestServerLineBytes == line)
            #expect(configuration.longestReplayBytes == 3 * (11 + line) + Configuration.replayFramingBytes)
        }

        @Test(arguments: [
            (["--max-line", "8192", "--outbox-bytes", "8192"], ["--max-line 8192", "--outbox-bytes 8192"]),
            (["--history", "100", "--outbox-bytes", "65536"], ["--history 100", "--outbox-bytes 65536"]),
            (["--send-buffer", "100"], ["--send-buffer"]),
            (["--event-loops", "0"], ["--event-loops"]),
        ])
        func theDaemonStopsAtStartNamingTheOptions(arguments: [String], named: [String]) async throws {
            let daemonArguments = ["--host", "127.0.0.1", "--port", "0", "--no-tls"] + arguments
            let (startedAnyway, status, output) = try await withProcess(
                DaemonProcess.executable, daemonArguments, collecting: .standardError
            ) { process in
                // A daemon that wrongly starts would serve forever: give it a generous while, then stop it and fail.
                let status = try? await process.waitForExit(timeout: .seconds(60))
                return (status == nil, status, await process.output())
            }
            #expect(!startedAnyway, "securechatd started with unsafe options")
            #expect(status != 0)
            for option in named {
                #expect(output.contains(option), "\(output)")
            }
            #expect(!output.contains("ready"))
        }
    }
}
