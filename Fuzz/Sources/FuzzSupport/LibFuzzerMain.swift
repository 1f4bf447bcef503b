import CLibFuzzer

/// Runs libFuzzer on `test`. SwiftPM links an executable target with `main` renamed to `<Target>_main`, so
/// libFuzzer's own `main` is never used: each target defines that symbol and calls this.
public func runLibFuzzer(
    _ argc: CInt,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
    _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv, test)
}

/// Bytes live on the heap now, as AddressSanitizer's allocator counts them (freed memory waiting in its
/// quarantine is not counted): what the targets use to show that a peer cannot make memory grow without bound.
public func liveHeapBytes() -> Int {
    __sanitizer_get_current_allocated_bytes()
}
