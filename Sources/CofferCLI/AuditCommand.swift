import ArgumentParser
import CofferAudit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `coffer audit verify`: checks the server's hash-chained audit log.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the server's audit log.",
        subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Verify that no audit line was edited, removed, inserted or reordered.",
            discussion: """
                Give rotated files oldest first (audit.log.2 audit.log.1 audit.log): the chain runs \
                across them. Exit status 0 when every line verifies; 1 at the first line that does \
                not, which is named. Prints the hash of the last line, to compare with a copy kept \
                elsewhere (a rewrite of the whole file is only caught that way).
                """)

        @Argument(help: "Audit log files, oldest first.")
        var files: [String]

        @Flag(name: .customLong("continuing"), help: "The first file continues an older one that is not given: accept whatever its first line follows.")
        var continuing = false

        @Option(name: .customLong("expect-last"), help: "Fail unless the last line's hash is this (hex).")
        var expectLast: String?

        func run() throws {
            try runReportingErrors {
                var previous: String? = continuing ? nil : AuditChain.genesis
                var total = 0
                for path in files {
                    let input = try InputSource.open(path)
                    defer { input.close() }
                    let bytes = try input.readAll(limit: 1 << 34)
                    let result = AuditChain.verify(bytes, startingAfter: previous)
                    total += result.verifiedLines
                    if let failure = result.failure {
                        throw CLIError("\(path) line \(failure.line): \(failure.reason)", status: ExitStatus.decryptionFailed)
                    }
                    previous = result.lastHash
                }
                if let expectLast, expectLast.lowercased() != previous {
                    throw CLIError("the last line's hash is not the expected one: lines were removed from the end, or the log was rewritten", status: ExitStatus.decryptionFailed)
                }
                print("\(total) lines verified; last hash \(previous ?? AuditChain.genesis)")
            }
        }
    }
}
