import ArgumentParser
import Testing
@testable import CofferCLI

/// The fast command-line path either declines or reads exactly what swift-argument-parser reads,
/// on generated command lines made of every spelling, repeats, values that look like options,
/// `--`, help and garbage.
@Suite("Fast command line")
struct FastCommandLineTests {
    static let encryptPieces = [
        "-r", "--recipient", "--recipient=coffer-x25519-abc", "-R", "--recipients-file", "--recipients-file=list", "-p", "--passphrase",
        "--passphrase-file", "--passphrase-file=pw", "--work-factor", "--work-factor=18", "17", "017", "300", "+18", "-o", "--output",
        "--output=out.coffer", "-a", "--armor", "--force", "-q", "--quiet", "in.txt", "other file", "-", "--", "-x", "--unknown", "-aq",
        "-h", "--help", "--version", "", "--recipient=", "-o=x", "-r=abc", "coffer-x25519-def", "--armor=yes", "decrypt", "-i",
    ]
    static let decryptPieces = [
        "-i", "--identity", "--identity=id.key", "--identity-passphrase-file", "--identity-wrapping-key-file=wk", "-p", "--passphrase",
        "--passphrase-file", "--range", "--range=0-99", "10-20", "5-", "-5", "-o", "--output", "--output=plain", "--mode", "--mode=640",
        "644", "--force", "-q", "--quiet", "in.coffer", "second", "-", "--", "-x", "-qo", "-h", "--help", "", "--mode=", "encrypt", "-r",
    ]

    /// SplitMix64: the same command lines on every run, so a failure reproduces.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func generated(_ pieces: [String], count: Int, seed: UInt64) -> [[String]] {
        var generator = SeededGenerator(state: seed)
        return (0..<count).map { _ in (0..<Int.random(in: 0...7, using: &generator)).map { _ in pieces.randomElement(using: &generator)! } }
    }

    @Test func encryptAgreesWithArgumentParser() {
        var fast = 0
        for arguments in Self.generated(Self.encryptPieces, count: 6_000, seed: 0xC0FFE1) {
            guard case .encrypt(let options)? = FastCommandLine.parse(["encrypt"] + arguments) else { continue }
            if arguments.count >= 2 { fast += 1 }
            let reference = (try? CofferCommand.parseAsRoot(["encrypt"] + arguments)) as? EncryptCommand
            #expect(reference?.options == options, "\(arguments)")
        }
        // Enough command lines of two tokens or more took the fast path for the comparison to
        // mean something.
        #expect(fast > 200, "\(fast) of 6,000 took the fast path")
    }

    @Test func decryptAgreesWithArgumentParser() {
        var fast = 0
        for arguments in Self.generated(Self.decryptPieces, count: 6_000, seed: 0xC0FFE2) {
            guard case .decrypt(let options)? = FastCommandLine.parse(["decrypt"] + arguments) else { continue }
            if arguments.count >= 2 { fast += 1 }
            let reference = (try? CofferCommand.parseAsRoot(["decrypt"] + arguments)) as? DecryptCommand
            #expect(reference?.options == options, "\(arguments)")
        }
        #expect(fast > 200, "\(fast) of 6,000 took the fast path")
    }

    @Test func everydayCommandLinesTakeTheFastPath() {
        #expect(FastCommandLine.parse(["encrypt", "-r", "coffer-x25519-abc", "-r", "coffer-x25519-def", "-o", "out.coffer", "in.txt"])
            == .encrypt(EncryptOptions(recipients: ["coffer-x25519-abc", "coffer-x25519-def"], output: "out.coffer", input: "in.txt")))
        #expect(FastCommandLine.parse(["encrypt", "--passphrase-file", "pw", "--armor"])
            == .encrypt(EncryptOptions(passphraseFile: "pw", armor: true)))
        #expect(FastCommandLine.parse(["decrypt", "-i", "a.key", "--identity=b.key", "--range", "0-99", "in.coffer"])
            == .decrypt(DecryptOptions(identityFiles: ["a.key", "b.key"], range: "0-99", input: "in.coffer")))
        // Help, version, other commands and anything unusual go to swift-argument-parser.
        for arguments in [["encrypt", "--help"], ["--version"], ["keygen"], ["encrypt", "-aq"], ["decrypt", "--", "-file"], []] {
            #expect(FastCommandLine.parse(arguments) == nil, "\(arguments)")
        }
    }
}
