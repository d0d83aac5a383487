import Testing
import Foundation

/// Where the public test vectors live: `$COFFER_VECTORS_DIR`, else `../shared/vectors` next to
/// the repository. They are read from there and never copied into the repository.
enum VectorDirectory {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let url: URL? = {
        let candidates = [
            ProcessInfo.processInfo.environment["COFFER_VECTORS_DIR"].map { URL(fileURLWithPath: $0) },
            repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/vectors"),
        ].compactMap { $0 }
        let found = candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("wycheproof").path) }
        if found == nil {
            print("SKIP public vectors: no vector directory (set COFFER_VECTORS_DIR or place shared/vectors beside the repository)")
        }
        return found
    }()

    static var isAvailable: Bool { url != nil }
    static let skipReason: Comment = "public vectors not found: set COFFER_VECTORS_DIR or place shared/vectors beside the repository"

    static func data(_ relativePath: String) throws -> Data {
        guard let url else { throw CocoaError(.fileNoSuchFile) }
        return try Data(contentsOf: url.appendingPathComponent(relativePath))
    }
}

