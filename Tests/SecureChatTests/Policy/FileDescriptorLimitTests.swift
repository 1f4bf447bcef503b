import Testing

@testable import SecureChat

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension PolicyTests {
    @Suite struct FileDescriptorLimitTests {
        @Test(arguments: [
            (1_048_576, 1_048_512),
            (1_024, 960),
            (128, 64),
            (127, 63),
            (100, 50),
            (1, 1),
            (0, 1),
            (Int.max, Int.max - 64),
        ])
        func defaultMaxConnectionsLeavesHeadroom(limit: Int, expected: Int) {
            #expect(FileDescriptorLimit.defaultMaxConnections(openFileLimit: limit) == expected)
        }

        @Test func raiseSetsTheSoftLimitToTheHardLimit() {
            let raised = FileDescriptorLimit.raiseToHardLimit()
            var limit = rlimit()
            #if canImport(Glibc)
                let status = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
            #else
                let status = getrlimit(RLIMIT_NOFILE, &limit)
            #endif
            #expect(status == 0)
            #expect(limit.rlim_cur == limit.rlim_max)
            #expect(raised.soft == Int(clamping: limit.rlim_cur))
            #expect(raised.hard == Int(clamping: limit.rlim_max))
            #expect(raised.soft > 0)
        }
    }
}
