import CofferCrypto
import CofferService
import CofferStore
import Foundation
import Hummingbird
import NIOCore

/// Every failure as the API returns it: an HTTP status and a JSON body
/// `{"error": {"code": "key_not_found", "message": "key not found: payments"}}`. Codes are
/// stable (docs/API.md); messages carry only public names, never a secret.
public struct APIError: Error, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// The one answer to every authentication failure (missing, malformed, unknown, disabled or
    /// wrong API key).
    public static let unauthenticated = APIError(.unauthorized, "unauthenticated", "authentication failed")
    public static let forbidden = APIError(.forbidden, "forbidden", "the identity's policy does not allow this operation")
    public static let tooManyFailures = APIError(.tooManyRequests, "too_many_failures", "too many failed authentications; retry later")

    /// Maps any error thrown by a handler. Bad input is always a 4xx; only a store that fails
    /// its own integrity or an unexpected fault is a 5xx.
    public static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as KeyStoreError:
            // A 5xx keeps its detail (a row's id, a root key's id) to the operator's side: the
            // caller gets the code and its fixed message.
            let status = status(for: error.code)
            return APIError(status, error.code.description, status.code >= 500 ? KeyStoreError(error.code).description : error.description)
        case let error as OperationError:
            let status: HTTPResponse.Status = error.code == .payloadTooLarge ? .contentTooLarge : .badRequest
            return APIError(status, error.code.description, error.description)
        case let error as CofferCryptoError:
            switch error.code {
            case .invalidContext: return APIError(.badRequest, "invalid_context", error.description)
            case .invalidKeyIdentifier: return APIError(.badRequest, "invalid_key_name", error.description)
            case .invalidKeyVersion: return APIError(.badRequest, "invalid_key_version", error.description)
            case .messageTooLarge: return APIError(.contentTooLarge, "payload_too_large", error.description)
            default: return APIError(.badRequest, "decryption_failed", "decryption failed")
            }
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, "payload_too_large", "request body too large for this route")
        case is DecodingError:
            return APIError(.badRequest, "invalid_request", "the body is not the JSON this route expects")
        case let error as HTTPError:
            switch error.status {
            case .contentTooLarge: return APIError(.contentTooLarge, "payload_too_large", "request body too large for this route")
            case .notFound: return APIError(.notFound, "not_found", "no such route")
            case .methodNotAllowed: return APIError(.methodNotAllowed, "method_not_allowed", "method not allowed")
            default: return APIError(error.status, error.status.code < 500 ? "invalid_request" : "internal_error", error.status.reasonPhrase)
            }
        default:
            return APIError(.internalServerError, "internal_error", "internal error")
        }
    }

    static func status(for code: KeyStoreError.Code) -> HTTPResponse.Status {
        switch code {
        case .keyNotFound, .versionNotFound, .identityNotFound, .policyNotFound: .notFound
        case .keyExists, .identityExists, .keyDeleted, .stateChangeRefused, .deletionProtected, .conflict, .storeNotEmpty, .versionUnavailable: .conflict
        case .notExportable: .forbidden
        case .unauthenticated: .unauthorized
        case .invalidArgument, .invalidKeyMaterial, .invalidBackup, .unsealFailed: .badRequest
        case .sealed, .unavailable, .unsupportedSchema, .rootKeyMismatch, .upgradeRequired, .storeMismatch: .serviceUnavailable
        default: .internalServerError  // integrity failure: the database was edited behind Coffer's back
        }
    }

    func response() -> Response {
        struct Body: Encodable {
            struct Detail: Encodable { let code: String; let message: String }
            let error: Detail
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(Body(error: .init(code: code, message: message)))) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json", AuditMiddleware.errorCodeHeader: code],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every thrown error into an ``APIError`` response at the edge, so handlers just throw.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let mapped = APIError.from(error)
            if mapped.status.code >= 500 {
                // The type only: an error's text could carry something it should not.
                context.logger.error("request failed", metadata: ["error.type": "\(type(of: error))", "code": "\(mapped.code)"])
            }
            return mapped.response()
        }
    }
}
