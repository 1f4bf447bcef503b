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
