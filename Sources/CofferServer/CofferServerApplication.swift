import CofferAudit
import CofferService
import CofferStore
import Hummingbird
import Logging

/// Builds Coffer's HTTP application over a key store: plain functions, as Hummingbird's
/// template has it, so tests drive the same router the server runs.
public enum CofferServerApplication {
    /// The router with every `/v1` route, the error mapping and request logging.
    public static func buildRouter(store: KeyStore, audit: AuditLog? = nil) -> Router<CofferRequestContext> {
        let router = Router(context: CofferRequestContext.self)
        if let audit { router.add(middleware: AuditMiddleware(log: audit)) }
        router.add(middleware: ErrorMiddleware())
        let table = RouteTable(router: router, authenticator: Authenticator(store: store), authorizer: Authorizer(store: store))
        SystemRoutes.register(table, store)
        KeyRoutes.register(table, store)
        CryptoRoutes.register(table, KeyOperations(store: store))
        IdentityRoutes.register(table, store)
        return router
    }

    public static func buildApplication(store: KeyStore, audit: AuditLog?, configuration: ApplicationConfiguration, logger: Logger) -> some ApplicationProtocol {
        Application(router: buildRouter(store: store, audit: audit), configuration: configuration, logger: logger)
    }

    /// The policy every fresh store gets: everything on every key.
    public static let adminPolicy = try! Policy(name: "admin", statements: [
        try! PolicyStatement(effect: .allow, operations: ["*"], keys: ["*"]),
    ])
}
