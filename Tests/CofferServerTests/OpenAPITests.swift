import CofferServer
import CofferStore
import Foundation
import Testing

/// docs/openapi.yaml describes exactly the routes the server declares: no route undocumented,
/// no documented route missing.
@Suite("OpenAPI document")
struct OpenAPITests {
    static let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml")

    /// `METHOD /path` for every operation in the document (paths at two spaces, methods at four).
    static func documentedRoutes() throws -> Set<String> {
        let text = try String(contentsOf: document, encoding: .utf8)
        var routes: Set<String> = []
        var currentPath: String?
        var inPaths = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("paths:") { inPaths = true; continue }
            if inPaths, let first = line.first, first != " ", first != "#" { inPaths = false }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                currentPath = String(line.dropFirst(2).dropLast())
            } else if let currentPath, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()
                if ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(method) { routes.insert("\(method) \(currentPath)") }
            }
        }
        return routes
    }

    @Test func documentAndServerDeclareTheSameRoutes() async throws {
        let store = try await KeyStore.open(backend: InMemoryKeyStoreBackend(), root: .key(try SoftwareRootKey(bytes: [UInt8](repeating: 1, count: 32), kind: "key-file")))
        let declared = Set(CofferServerApplication.declaredRoutes(store: store).map { route in
            // Hummingbird's `:name` is OpenAPI's `{name}`.
            route.split(separator: "/", omittingEmptySubsequences: false).map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
        })
        let documented = try Self.documentedRoutes()
        #expect(declared.subtracting(documented).sorted() == [], "routes missing from docs/openapi.yaml")
        #expect(documented.subtracting(declared).sorted() == [], "documented routes the server does not have")
        #expect(declared.count > 30)
    }

    /// The document is valid OpenAPI 3 (openapi-spec-validator, which scripts/test.sh installs).
    @Test func documentIsValidOpenAPI() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sys, yaml; from openapi_spec_validator import validate; validate(yaml.safe_load(open(sys.argv[1])))", Self.document.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "docs/openapi.yaml does not validate (or openapi-spec-validator is missing)")
    }
}
