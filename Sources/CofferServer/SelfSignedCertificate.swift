import Crypto
import Foundation
import SwiftASN1
import X509

/// The certificate a fresh server makes for itself on first start, so `curl --cacert` works in one
/// step: ECDSA P-256, valid for 1 year, for `localhost`, `127.0.0.1` and `::1` plus any extra
/// names given. Production deployments pass CA-signed PEM files instead.
///
/// It is issued by a one-off CA whose private key is thrown away as soon as it has signed: the
/// PEM file holds the leaf then that CA, and trusting the file (`--cacert cert.pem`) works in
/// strict verifiers too (BoringSSL, and so async-http-client, does not accept a lone end-entity
/// certificate as its own trust anchor). The CA can never sign anything else, so trusting it
/// trusts exactly this server — unlike a self-signed certificate made a CA, whose key (kept on
/// the server) could mint certificates for other names.
enum SelfSignedCertificate {
    static func make(names: [String]) throws -> (certificatePEM: String, privateKeyPEM: String) {
        let now = Date()
        let validity = (now.addingTimeInterval(-300), now.addingTimeInterval(365 * 86400))
        let authorityKey = P256.Signing.PrivateKey()
        let authorityName = try DistinguishedName { CommonName("Coffer one-off CA (key destroyed)") }
        let authority = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(authorityKey.publicKey),
            notValidBefore: validity.0, notValidAfter: validity.1,
            issuer: authorityName, subject: authorityName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(authorityKey))

        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName("Coffer (self-signed)") }
        var alternativeNames: [GeneralName] = [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                                               .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1])))]
        alternativeNames += names.map { .dnsName($0) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: validity.0, notValidAfter: validity.1,
            issuer: authorityName, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternativeNames)
            },
            issuerPrivateKey: .init(authorityKey))
        // `authorityKey` goes out of scope here; it was never written anywhere.
        return (try certificate.serializeAsPEM().pemString + "\n" + authority.serializeAsPEM().pemString + "\n", key.pemRepresentation)
    }
}
