import CofferCrypto
import CofferJSON
import HTTPTypes
import CofferService
import CofferStore
import Foundation
import Hummingbird

/// A request body for routes that take none.
struct NoBody: Decodable, Sendable {}

/// Declares routes as data — method, path, the operation name policies match, whether the key in
/// the path is what the policy is checked against, and the body limit — and wraps each handler
/// in the same steps: authenticate, authorize, read at most `limit` bytes, decode, run, encode.
/// One place for those steps instead of a copy in every handler (KES's warning).
struct RouteTable {
    let router: Router<CofferRequestContext>
    let authenticator: Authenticator
    let authorizer: Authorizer
    /// Every route declared, for the check that docs/openapi.yaml describes exactly these.
    let declared = DeclaredRoutes()

    final class DeclaredRoutes: @unchecked Sendable {
        private let lock = Lock()
        private var routes: [String] = []
        func add(_ method: HTTPRequest.Method, _ path: RouterPath) { lock.withLock { routes.append("\(method.rawValue) \(path)") } }
        var all: [String] { lock.withLock { routes } }
    }

    /// An authenticated route. `handler` gets the decoded body and the ``RouteCall``: the key
    /// named by the path's `:name` (when `keyScoped`), the request, and the context with its
    /// identity set.
    func add<In: Decodable & Sendable, Out: Encodable & Sendable>(
        _ method: HTTPRequest.Method, _ path: RouterPath, operation: String, keyScoped: Bool = false,
        limit: Int = RouteLimits.small, status: HTTPResponse.Status = .ok, body: In.Type,
        _ handler: @escaping @Sendable (In, RouteCall) async throws -> Out
    ) {
        addRaw(method, path, operation: operation, keyScoped: keyScoped) { request, context, key in
            let input = try await Self.decode(In.self, request, limit: limit)
            let output = try await handler(input, RouteCall(keyName: key, request: request, context: context))
            if let versioned = output as? any VersionedOutput { context.audit.set(version: versioned.auditVersion) }
            return try Self.json(output, status: status)
        }
    }

    /// An authenticated route without a request body.
    func add<Out: Encodable & Sendable>(
        _ method: HTTPRequest.Method, _ path: RouterPath, operation: String, keyScoped: Bool = false,
        status: HTTPResponse.Status = .ok, _ handler: @escaping @Sendable (NoBody, RouteCall) async throws -> Out
    ) {
        add(method, path, operation: operation, keyScoped: keyScoped, status: status, body: NoBody.self, handler)
    }

    /// An authenticated route that builds its own response: authenticate, record the identity and
    /// operation for the audit line, check the path's key name, authorize, then `handler`.
    func addRaw(
        _ method: HTTPRequest.Method, _ path: RouterPath, operation: String, keyScoped: Bool = false,
        _ handler: @escaping @Sendable (Request, CofferRequestContext, KeyIdentifier?) async throws -> Response
    ) {
        declared.add(method, path)
        let authenticator = self.authenticator, authorizer = self.authorizer
        router.on(path, method: method) { request, context in
            var context = context
            let identity = try await authenticator.authenticate(
                authorization: request.headers[.authorization], client: context.clientAddress, certificate: { await context.clientPublicKeySHA256() })
            context.identity = identity
            context.audit.set(operation: operation, identity: identity.id)
            let key = keyScoped ? try Self.keyName(context) : nil
            context.audit.set(key: key?.rawValue)
            try await authorizer.authorize(identity, operation: operation, key: key)
            return try await handler(request, context, key)
        }
    }

    /// A route open to everyone (health, seal status, unseal).
    func addPublic<In: Decodable & Sendable, Out: Encodable & Sendable>(
        _ method: HTTPRequest.Method, _ path: RouterPath, limit: Int = RouteLimits.small, body: In.Type,
        _ handler: @escaping @Sendable (In, CofferRequestContext) async throws -> Out
    ) {
        declared.add(method, path)
        router.on(path, method: method) { request, context in
            let input = try await Self.decode(In.self, request, limit: limit)
            return try Self.json(try await handler(input, context))
        }
    }

    /// A public route without a request body.
    func addPublic<Out: Encodable & Sendable>(
        _ method: HTTPRequest.Method, _ path: RouterPath, _ handler: @escaping @Sendable (NoBody, CofferRequestContext) async throws -> Out
    ) {
        addPublic(method, path, body: NoBody.self, handler)
    }

    static func keyName(_ context: CofferRequestContext) throws -> KeyIdentifier {
        guard let text = context.parameters.get("name"), let name = try? KeyIdentifier(text) else {
            throw APIError(.badRequest, "invalid_key_name", "a key name is 1–128 characters of A–Z a–z 0–9 . _ - starting with a letter or digit")
        }
        return name
    }

    static func decode<In: Decodable>(_ type: In.Type, _ request: Request, limit: Int) async throws -> In {
        if In.self == NoBody.self { return NoBody() as! In }
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        if let fast = In.self as? any FastDecodable.Type,
            let decoded = buffer.withUnsafeReadableBytes({ bytes in FastRequestDecoding.parse(bytes).flatMap { fast.init(fast: $0) } }) as? In
        {
            return decoded
        }
        do {
            return try JSONDecoder().decode(In.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError(.badRequest, "invalid_request", "the body is not the JSON this route expects")
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        if let writable = value as? any JSONWritable {
            var out = JSONOutput(reservingCapacity: 512)
            writable.write(to: &out)
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: out.bytes)))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// What a handler knows about its request besides the body.
struct RouteCall: Sendable {
    let keyName: KeyIdentifier?
    let request: Request
    let context: CofferRequestContext
    /// The path's key (routes declared `keyScoped`).
    var key: KeyIdentifier { keyName! }
    var identity: CofferStore.Identity { context.identity! }
    func query(_ name: String) -> String? { request.uri.queryParameters.get(name) }
}

/// A response that names the key version it used, for the audit line.
protocol VersionedOutput { var auditVersion: UInt32 { get } }

/// Strict standard base64 for byte fields.
enum Base64Field {
    static func decode(_ text: String, field: String) throws -> [UInt8] {
        guard let data = Data(base64Encoded: text) else {
            throw APIError(.badRequest, "invalid_base64", "\(field) is not valid base64")
        }
        return Array(data)
    }

    static func encode(_ bytes: some Sequence<UInt8>) -> String { Data(bytes).base64EncodedString() }
}

extension EncryptionContext {
    init(field: [String: String]?) { self.init(field ?? [:]) }
}
