import Foundation
import FuzzSupport
import SecureChat

// The input is a ban file. `BanFile.load` must read it or throw its LoadError, never crash; a list it reads
// must survive the round trip the server makes (encode as `save` does, load again) unchanged, and every ban in
// it must be listable (`/bans` shows `summary`) and findable by its name.

/// The file's shape, as `BanFile` writes it.
private struct Contents: Codable {
    var bans: [Ban]
}

/// One file per fuzzer process, so parallel jobs (`-jobs=N`) do not trample each other.
private let path = "\(NSTemporaryDirectory())/securechat-fuzz-bans-\(getpid()).json"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    try! Data(bytes: data, count: size).write(to: URL(fileURLWithPath: path))
    let list: BanList
    do {
        list = try BanFile.load(path: path)
    } catch is BanFile.LoadError {
        return 0
    } catch {
        fatalError("load threw something other than LoadError: \(error)")
    }
    for ban in list.bans {
        _ = ban.summary
        if let name = ban.name {
            require(list.matching(name: name) != nil, "the ban on \(name.debugDescription) is not found")
        }
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try! encoder.encode(Contents(bans: list.bans)).write(to: URL(fileURLWithPath: path))
    let reloaded = try! BanFile.load(path: path)
    require(reloaded.bans == list.bans, "round trip changed the bans: \(list.bans) → \(reloaded.bans)")
    return 0
}

/// The entry point SwiftPM links as `main` (see `runLibFuzzer`).
@_cdecl("FuzzBanFile_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data!, size) }
}
