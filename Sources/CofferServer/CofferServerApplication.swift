import CofferAudit
import CofferService
import CofferStore
import Hummingbird
import Logging

/// Builds Coffer's HTTP application over a key store: plain functions, as Hummingbird's
/// template has it, so tests drive the same router the server runs.
public enum CofferServerApplication {
    /// The router with every `/v1` route, the error mapping and request logging.
    public static func buildRouter(store: KeyStore, audit: AuditLog? = nil, metrics: ServerMetrics? = nil) -> Router<CofferRequestContext> {
        buildRouterAndRoutes(store: store, audit: audit, metrics: metrics).router
    }

    /// Every route as `METHOD /path` (Hummingbird's `:parameter` syntax), as declared.
    public static func declaredRoutes(store: KeyStore) -> [String] {
        buildRouterAndRoutes(store: store, audit: nil, metrics: ServerMetrics(store: store, certificates: nil)).routes
    }

    static func buildRouterAndRoutes(store: KeyStore, audit: AuditLog?, metrics: ServerMetrics?) -> (router: Router<CofferRequestContext>, routes: [String]) {
        let router = Router(context: CofferRequestContext.self)
        if let metrics { router.add(middleware: MetricsMiddleware(metrics: metrics)) }
        if let audit { router.add(middleware: AuditMiddleware(log: audit)) }
        router.add(middleware: ErrorMiddleware())
        let table = RouteTable(router: router, authenticator: Authenticator(store: store), authorizer: Authorizer(store: store))
        SystemRoutes.register(table, store)
        if let metrics {
            // Behind an API key with the `metrics` operation: volumes per operation are not
            // secret, but they are nobody else's business either.
            table.addRaw(.get, "/v1/metrics", operation: "metrics") { _, _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                         body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
            }
        }
        KeyRoutes.register(table, store)
        CryptoRoutes.register(table, KeyOperations(store: store))
        IdentityRoutes.register(table, store)
        return (router, table.declared.all)
    }


    /// The policy every fresh store gets: everything on every key.
    public static let adminPolicy = try! Policy(name: "admin", statements: [
        try! PolicyStatement(effect: .allow, operations: ["*"], keys: ["*"]),
    ])
}
