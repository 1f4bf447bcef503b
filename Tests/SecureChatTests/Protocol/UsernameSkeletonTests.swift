import SecureChat
import Testing

/// Look-alike names: uniqueness, reserved names and look-ups compare skeletons.
@Suite("Username: skeletons")
struct UsernameSkeletonTests {
    @Test(
        "a look-alike of a name has the same key, so it is taken while the name is online",
        arguments: [
            ("alice", "AIice"), ("alice", "ALICE"), ("alice", "a1ice"), ("alice", "aiice"), ("bob", "b0b"),
            ("bob", "B0B"), ("Oli", "0l1"), ("lily", "I1Iy"), ("x_0", "X_o"),
        ]
    )
    func lookAlikesCollide(online: String, newcomer: String) throws {
        let first = try Username.validate(online).get()
        let second = try Username.validate(newcomer).get()
        #expect(first.key == second.key)
        #expect(first == second)
        #expect(Set([first, second]).count == 1)
        #expect(second.display == newcomer)
    }

    // ("rn", "m") was here: since issue 24 they are one name, as TR39's confusables have it (LookAlikeTests).
    @Test(
        "names that merely resemble each other stay distinct",
        arguments: [("alice", "alicia"), ("bob", "bobo"), ("x_0", "x-0"), ("ab", "a_b"), ("rn", "rm"), ("vv", "v")]
    )
    func distinctNames(first: String, second: String) throws {
        #expect(try Username.validate(first).get() != Username.validate(second).get())
    }

    @Test("a typed target is looked up by its skeleton", arguments: ["B0B", "bob", "BOB", "b0B"])
    func typedLookup(typed: String) throws {
        #expect(Username.key(for: typed) == (try Username.validate("bob").get()).key)
    }

    @Test("key(for:) leaves what a name cannot contain alone, so an invalid target never finds anyone")
    func typedInvalid() {
        #expect(Username.key(for: "bob smith") == "bob srnlth")  // m reads as rn (issue 24)
        #expect(Username.key(for: "ålice") == "ållce")
    }

    @Test(
        "reserved names are refused under their skeleton and with digits, _ or - added",
        arguments: [
            "admin_", "Server1", "r00t", "0perator", "sysop-", "ADM1N", "adm1n", "_root_", "root-2", "2root",
            "0p", "op1", "m0d", "SYSTEM32", "n0b0dy", "Secure-Chat", "d_m", "server-1-", "Adm1nistrat0r",
            // Look-alike digits at an end and decoration (found by UsernameProperties): the skeleton trims.
            "0perat0r8", "r00t1", "1ROOT0", "m0d-9", "00p",
        ]
    )
    func disguisedReserved(name: String) {
        #expect(Username.validate(name) == .failure(.reserved))
    }

    @Test(
        "names that contain a reserved word among other letters are allowed",
        arguments: ["rootbeer", "moderna", "admiral", "opal", "serverless", "dmitri", "topaz", "system_of_a_d0wn"]
    )
    func notReserved(name: String) throws {
        #expect(try Username.validate(name).get().display == name)
    }
}
