import CofferAudit
import CofferCrypto
import Foundation
import Hummingbird
import HTTPTypes

/// What a handler tells the audit line about its request (operation, key, version). A class
/// in the context, because the context the handler changes is a copy.
final class AuditNote: @unchecked Sendable {
    private let lock = Lock()
    private var operation: String?
    private var key: String?
    private var version: UInt32?
    private var identity: String?

    func set(operation: String? = nil, key: String? = nil, version: UInt32? = nil, identity: String? = nil) {
        lock.withLock {
            if let operation { self.operation = operation }
            if let key { self.key = key }
            if let version { self.version = version }
            if let identity { self.identity = identity }
        }
    }

    var snapshot: (operation: String?, key: String?, version: UInt32?, identity: String?) {
        lock.withLock { (operation, key, version, identity) }
    }
}

/// Writes one chained audit line per request once its response is decided: time, identity,
/// operation, key and version, status and error code, request id, client address. Never a body:
/// no plaintext, ciphertext, context value or secret can reach the log.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = CofferRequestContext
    let log: AuditLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response: Response
        var errorCode: String?
        do {
            response = try await next(request, context)
        } catch {
            let mapped = APIError.from(error)
            errorCode = mapped.code
            response = mapped.response()
        }
        if errorCode == nil, response.status.code >= 400 { errorCode = response.headers[AuditMiddleware.errorCodeHeader] }
        let note = context.audit.snapshot
        log.append(AuditRecord(
            time: Date().formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeZone(separator: .omitted)),
            requestID: context.id, identity: note.identity ?? "-", client: context.clientAddress,
            operation: note.operation ?? "\(request.method) \(request.uri.path)", key: note.key, version: note.version,
            status: Int(response.status.code), error: errorCode))
        return response
    }

    /// Set by ``ErrorMiddleware`` on error responses so the audit line can carry the code.
    static let errorCodeHeader = HTTPField.Name("Coffer-Error-Code")!
}
