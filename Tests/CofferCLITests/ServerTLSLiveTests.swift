import AsyncHTTPClient
import CofferTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

/// The live server seen by async-http-client: HTTP/2 negotiated by ALPN, client certificates as
/// identities (mutual TLS), and a certificate replaced on disk taking effect for new
/// connections without dropping the open ones.
@Suite("coffer server TLS, live", .serialized)
struct ServerTLSLiveTests {
    /// A self-signed P-256 certificate for 127.0.0.1 made by openssl, as an operator would.
    static func makeCertificate(_ workspace: Workspace, _ name: String) throws -> (certificate: String, key: String) {
        let certificate = workspace.path("\(name).pem"), key = workspace.path("\(name).key")
        let result = try shell(
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '\(key)' -out '\(certificate)' -days 2 -subj /CN=\(name) -addext subjectAltName=IP:127.0.0.1 2>/dev/null")
        try #require(result.status == 0)
        return (certificate, key)
    }

    /// SHA-256 of the certificate's SubjectPublicKeyInfo, hex: the identity's name (as KES has it).
    static func publicKeyHash(_ certificate: String) throws -> String {
        let result = try shell("openssl x509 -in '\(certificate)' -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum")
        return String(result.out.prefix(64))
    }

    /// A gauge's value from Prometheus text.
    static func gauge(_ name: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    static func shell(_ command: String) throws -> (status: Int32, out: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func client(trusting certificate: String, clientCertificate: (certificate: String, key: String)? = nil) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificate))
        if let clientCertificate {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(clientCertificate.certificate).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: clientCertificate.key, format: .pem))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.httpVersion = .automatic
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    static func call(_ client: HTTPClient, _ method: HTTPMethod, _ url: String, json: String? = nil, apiKey: String? = nil) async throws -> (status: UInt, version: HTTPVersion, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await client.execute(request, timeout: .seconds(15))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (response.status.code, response.version, String(buffer: body))
    }

    @Test func http2MutualTLSAndCertificateReload() async throws {
        let clients = Clients()
        do {
            try await run(clients)
        } catch {
            await clients.shutdown()
            throw error
        }
        await clients.shutdown()
    }

    /// Every client made, shut down at the end (async-http-client requires it).
    final class Clients: @unchecked Sendable {
        private var all: [HTTPClient] = []
        func make(trusting certificate: String, clientCertificate: (certificate: String, key: String)? = nil) throws -> HTTPClient {
            let client = try ServerTLSLiveTests.client(trusting: certificate, clientCertificate: clientCertificate)
            all.append(client)
            return client
        }
        func shutdown() async { for client in all { try? await client.shutdown() } }
    }

    func run(_ clients: Clients) async throws {
        let workspace = try Workspace()
        let data = workspace.path("data")
        let server = try LiveServer.start(["--data-dir", data], environment: ["COFFER_TLS_CLIENT_AUTH": "optional", "COFFER_TLS_RELOAD_INTERVAL_SECONDS": "1"])
        defer { server.stop() }
        let adminKey = try #require(server.adminKey, "\(server.log)")
        TestSecrets.record(adminKey)
        let base = "https://127.0.0.1:\(server.port)"
        // A copy: the file in the data directory is replaced below.
        let originalCertificate = workspace.path("original-trust.pem")
        try FileManager.default.copyItem(atPath: data + "/tls/cert.pem", toPath: originalCertificate)

        // HTTP/2 where the client offers it; the API key path as before.
        let admin = try clients.make(trusting: originalCertificate)
        let health = try await Self.call(admin, .GET, "\(base)/v1/health/live")
        #expect(health.status == 200 && health.version == .http2)
        let policy = try await Self.call(admin, .PUT, "\(base)/v1/policies/random-only", json: #"{"statements":[{"effect":"allow","operations":["random"],"keys":["*"]}]}"#, apiKey: adminKey)
        #expect(policy.status == 200, "\(policy.body)")

        // A client certificate registered as an identity: its policy applies, with no API key.
        let registeredPair = try Self.makeCertificate(workspace, "client-registered")
        let strangerPair = try Self.makeCertificate(workspace, "client-stranger")
        let hash = try Self.publicKeyHash(registeredPair.certificate)
        let registered = try await Self.call(admin, .POST, "\(base)/v1/identities/certificates", json: #"{"publicKeySHA256":"\#(hash)","policy":"random-only"}"#, apiKey: adminKey)
        #expect(registered.status == 201, "\(registered.body)")
        let withCertificate = try clients.make(trusting: originalCertificate, clientCertificate: registeredPair)
        let random = try await Self.call(withCertificate, .POST, "\(base)/v1/random", json: #"{"bytes":16}"#)
        #expect(random.status == 200 && random.version == .http2, "\(random.body)")
        let denied = try await Self.call(withCertificate, .GET, "\(base)/v1/keys")
        #expect(denied.status == 403, "\(denied.body)")
        // An unregistered certificate is no identity; no certificate and no key neither.
        let stranger = try clients.make(trusting: originalCertificate, clientCertificate: strangerPair)
        #expect(try await Self.call(stranger, .POST, "\(base)/v1/random", json: #"{"bytes":16}"#).status == 401)
        #expect(try await Self.call(admin, .POST, "\(base)/v1/random", json: #"{"bytes":16}"#).status == 401)
        // Over HTTP/1.1 too (curl, forced), the certificate is the identity.
        let overHTTP1 = try curl([
            "--http1.1", "--cacert", originalCertificate, "--cert", registeredPair.certificate, "--key", registeredPair.key,
            "-o", "/dev/null", "-w", "%{http_code} %{http_version}", "\(base)/v1/random",
        ], body: #"{"bytes":8}"#)
        #expect(overHTTP1.out == "200 1.1", "\(overHTTP1.out)")

        let before = try await Self.call(admin, .GET, "\(base)/v1/metrics", apiKey: adminKey)
        #expect((Self.gauge("coffer_tls_certificate_days_to_expiry", in: before.body) ?? 0) > 300, "the self-signed certificate: a year")

        // Replace the certificate on disk (key, then certificate, each by rename): new
        // connections get the new one within the reload interval; the open connection carries on.
        let renewed = try Self.makeCertificate(workspace, "server-renewed")
        #expect(rename(renewed.key, data + "/tls/key.pem") == 0 && rename(renewed.certificate, data + "/tls/cert.pem") == 0)
        let renewedCopy = workspace.path("renewed-trust.pem")
        try FileManager.default.copyItem(atPath: data + "/tls/cert.pem", toPath: renewedCopy)
        let newClient = try clients.make(trusting: renewedCopy)
        var served = false
        for _ in 0..<40 where !served {
            try await Task.sleep(for: .milliseconds(250))
            served = (try? await Self.call(newClient, .GET, "\(base)/v1/health/live"))?.status == 200
        }
        #expect(served, "the renewed certificate was not served: \(server.log)")
        // The admin client trusts only the old certificate: it still works because its HTTP/2
        // connection was not dropped (a new connection would present the renewed certificate).
        #expect(try await Self.call(admin, .GET, "\(base)/v1/keys", apiKey: adminKey).status == 200)
        let fresh = try clients.make(trusting: originalCertificate)
        #expect((try? await Self.call(fresh, .GET, "\(base)/v1/health/live")) == nil, "a new connection must see the renewed certificate")
        #expect(server.log.contains("reloaded the TLS certificate"))
        // The expiry gauge follows the pair being served: the renewed one is valid for 2 days.
        let after = try await Self.call(admin, .GET, "\(base)/v1/metrics", apiKey: adminKey)
        #expect((Self.gauge("coffer_tls_certificate_days_to_expiry", in: after.body) ?? 99) < 3)
        #expect(!server.log.contains(adminKey))
    }

    /// A CA certificate, and a client certificate it issued, made by openssl.
    static func makeAuthority(_ workspace: Workspace, _ name: String) throws -> (ca: String, client: (certificate: String, key: String)) {
        let ca = workspace.path("\(name)-ca.pem"), caKey = workspace.path("\(name)-ca.key")
        let client = workspace.path("\(name)-client.pem"), clientKey = workspace.path("\(name)-client.key")
        let request = workspace.path("\(name)-client.csr"), extensions = workspace.path("\(name)-client.ext")
        try Data("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n".utf8).write(to: URL(fileURLWithPath: extensions))
        let commands = [
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '\(caKey)' -out '\(ca)' -days 2 -subj /CN=\(name)-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign",
            "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '\(clientKey)' -out '\(request)' -subj /CN=\(name)-client",
            "openssl x509 -req -in '\(request)' -CA '\(ca)' -CAkey '\(caKey)' -CAcreateserial -days 2 -extfile '\(extensions)' -out '\(client)'",
        ]
        for command in commands { try #require(try shell(command + " 2>/dev/null").status == 0, "\(command)") }
        return (ca, (client, clientKey))
    }

    /// With `tls.clientCaFile`, only certificates its CAs issued complete the handshake (curl, as
    /// an operator's script would), and replacing the file changes that for new connections
    /// without a restart.
    @Test func clientCAFileIsEnforcedAndReloaded() async throws {
        let workspace = try Workspace()
        let data = workspace.path("data"), caFile = workspace.path("client-ca.pem")
        let first = try Self.makeAuthority(workspace, "first"), second = try Self.makeAuthority(workspace, "second")
        let stranger = try Self.makeCertificate(workspace, "self-signed-client")
        try FileManager.default.copyItem(atPath: first.ca, toPath: caFile)
        let server = try LiveServer.start(["--data-dir", data], environment: [
            "COFFER_TLS_CLIENT_AUTH": "required", "COFFER_TLS_CLIENT_CA_FILE": caFile, "COFFER_TLS_RELOAD_INTERVAL_SECONDS": "1",
        ])
        defer { server.stop() }
        if let adminKey = server.adminKey { TestSecrets.record(adminKey) }
        func reaches(_ client: (certificate: String, key: String)?) throws -> Bool {
            let identity = client.map { " --cert '\($0.certificate)' --key '\($0.key)'" } ?? ""
            let result = try Self.shell(
                "curl -sS --max-time 10 --cacert '\(data)/tls/cert.pem'\(identity) https://127.0.0.1:\(server.port)/v1/health/live 2>/dev/null")
            return result.status == 0 && result.out.contains("ok")
        }
        #expect(try reaches(first.client), "\(server.log)")
        #expect(try !reaches(second.client))
        #expect(try !reaches(stranger))
        #expect(try !reaches(nil))

        // The second CA replaces the first (an atomic rename, as a deployment tool writes it).
        let staged = workspace.path("client-ca.pem.new")
        try FileManager.default.copyItem(atPath: second.ca, toPath: staged)
        #expect(rename(staged, caFile) == 0)
        var switched = false
        for _ in 0..<40 where !switched {
            try await Task.sleep(for: .milliseconds(250))
            switched = try reaches(second.client)
        }
        #expect(switched, "\(server.log)")
        #expect(try !reaches(first.client))
        #expect(server.log.contains("reloaded the client CA file"))
    }
}
