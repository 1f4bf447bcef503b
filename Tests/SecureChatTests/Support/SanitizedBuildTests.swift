import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `SanitizedBuild` finds the sanitizer from the symbols its runtime exports; these check that answer against the
/// allocator actually in use, so a toolchain that stopped exporting the init function would be caught here, not
/// by login timeouts that silently stopped scaling.
@Suite("Test support: sanitized build detection")
struct SanitizedBuildTests {
    @Test("a sanitized build is one whose malloc is the sanitizer's, and only then are time budgets scaled")
    func detectionMatchesTheAllocator() throws {
        typealias Ownership = @convention(c) (UnsafeRawPointer?) -> Int32
        let ownership = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__sanitizer_get_ownership")
        guard let sanitizer = SanitizedBuild.sanitizer else {
            // No sanitizer runtime at all, not merely an unrecognised one.
            #expect(ownership == nil)
            #expect(SanitizedBuild.liveHeapBytes() == nil)
            #expect(SanitizedBuild.timeFactor == 1)
            #expect(SanitizedBuild.memoryMeasuredChildEnvironment.isEmpty)
            return
        }
        let owns = unsafeBitCast(try #require(ownership), to: Ownership.self)
        let block = malloc(4096)
        defer { free(block) }
        #expect(owns(block) == 1, "malloc is not \(sanitizer)'s allocator")
        #expect(SanitizedBuild.isExported(sanitizer == .address ? "__tsan_init" : "__asan_init") == false)
        #expect(SanitizedBuild.liveHeapBytes() != nil)
        #expect(SanitizedBuild.timeFactor == 5)
        #expect(SanitizedBuild.scaled(.seconds(3)) == .seconds(15))
        #expect(SanitizedBuild.memoryMeasuredChildEnvironment.isEmpty == (sanitizer == .thread))
    }
}
