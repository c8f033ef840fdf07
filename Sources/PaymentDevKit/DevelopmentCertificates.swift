import Crypto
import Foundation
import ReplicaCore
import SwiftASN1
import X509

/// Makes a development CA and one certificate per region (`paynode certs`, `paynode
/// demo`, paybench, tests), with swift-certificates: no `openssl` command needed. Each
/// region certificate names its region as a subjectAlternativeName DNS entry (which is
/// what peers check), also `localhost` and 127.0.0.1, and allows both serverAuth and
/// clientAuth; the client API's HTTPS certificate (`api.pem`) names localhost and
/// 127.0.0.1 for serverAuth. Keys are P-256 (PKCS#8 PEM), mode 0600. An existing
/// `ca.pem` + `ca.key` in the folder is reused, so regions can be added later.
public enum DevelopmentCertificates {
    /// A failed step.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// What a leaf certificate may be used for. Tests make wrong ones on purpose.
    public struct Usage: Sendable {
        /// basicConstraints CA:TRUE (a CA certificate, which no peer may present).
        public var isCA = false
        /// keyUsage critical digitalSignature (nil: no keyUsage extension).
        public var digitalSignature: Bool? = true
        /// extendedKeyUsage (nil: none).
        public var serverAuth = true
        public var clientAuth = true
        public var hasExtendedKeyUsage = true

        public init(
            isCA: Bool = false, digitalSignature: Bool? = true, serverAuth: Bool = true, clientAuth: Bool = true,
            hasExtendedKeyUsage: Bool = true
        ) {
            self.isCA = isCA
            self.digitalSignature = digitalSignature
            self.serverAuth = serverAuth
            self.clientAuth = clientAuth
            self.hasExtendedKeyUsage = hasExtendedKeyUsage
        }

        /// A region's certificate: serverAuth and clientAuth.
        public static let peer = Usage()
        /// The client API's HTTPS certificate: serverAuth only.
        public static let api = Usage(clientAuth: false)
    }

    /// The files for one region.
    public static func certificatePath(_ dir: String, _ region: RegionID) -> String { "\(dir)/\(region.name).pem" }
    public static func keyPath(_ dir: String, _ region: RegionID) -> String { "\(dir)/\(region.name).key" }
    public static func caPath(_ dir: String) -> String { "\(dir)/ca.pem" }
    /// The client API's server certificate (localhost, 127.0.0.1; serverAuth only).
    public static func apiCertificatePath(_ dir: String) -> String { "\(dir)/api.pem" }
    public static func apiKeyPath(_ dir: String) -> String { "\(dir)/api.key" }

    /// Writes `ca.pem`, `ca.key` (unless both exist), `api.pem`, `api.key` (unless they
    /// exist), `<region>.pem` and `<region>.key` into `dir`; returns the paths written.
    /// `caName` is the CA's subject common name.
    @discardableResult
    public static func make(
        in dir: String, regions: [RegionID], caName: String = "paynode development CA",
        days: Int = 825, usage: Usage = .peer
    ) throws -> [String] {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var written: [String] = []
        let now = Date()
        let validity = (from: now.addingTimeInterval(-300), until: now.addingTimeInterval(Double(days) * 86_400))
        let ca: (certificate: Certificate, key: P256.Signing.PrivateKey)
        if fm.fileExists(atPath: caPath(dir)) && fm.fileExists(atPath: "\(dir)/ca.key") {
            ca = try load(certificate: caPath(dir), key: "\(dir)/ca.key")
        } else {
            let key = P256.Signing.PrivateKey()
            let name = try DistinguishedName { CommonName(caName) }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(),
                publicKey: Certificate.PrivateKey(key).publicKey,
                notValidBefore: validity.from, notValidAfter: validity.until, issuer: name, subject: name,
                signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(key))
            try write(certificate, key, certificatePath: caPath(dir), keyPath: "\(dir)/ca.key")
            ca = (certificate, key)
            written += [caPath(dir), "\(dir)/ca.key"]
        }
        if !fm.fileExists(atPath: apiCertificatePath(dir)) {
            try issue(
                name: "api", dnsNames: ["localhost"], usage: .api, ca: ca, validity: validity,
                certificatePath: apiCertificatePath(dir), keyPath: apiKeyPath(dir))
            written += [apiCertificatePath(dir), apiKeyPath(dir)]
        }
        for region in regions {
            try issue(
                name: region.name, dnsNames: [region.name, "localhost"], usage: usage, ca: ca, validity: validity,
                certificatePath: certificatePath(dir, region), keyPath: keyPath(dir, region))
            written += [certificatePath(dir, region), keyPath(dir, region)]
        }
        return written
    }

    /// A new P-256 key and a certificate for it, signed by the CA.
    static func issue(
        name: String, dnsNames: [String], usage: Usage, ca: (certificate: Certificate, key: P256.Signing.PrivateKey),
        validity: (from: Date, until: Date), certificatePath: String, keyPath: String
    ) throws {
        let key = P256.Signing.PrivateKey()
        let extensions = try Certificate.Extensions {
            if usage.isCA {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            } else {
                Critical(BasicConstraints.notCertificateAuthority)
            }
            if let digital = usage.digitalSignature { Critical(KeyUsage(digitalSignature: digital)) }
            if usage.hasExtendedKeyUsage {
                try ExtendedKeyUsage((usage.serverAuth ? [.serverAuth] : []) + (usage.clientAuth ? [.clientAuth] : []))
            }
            SubjectAlternativeNames(
                dnsNames.map { .dnsName($0) } + [.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PrivateKey(key).publicKey,
            notValidBefore: validity.from, notValidAfter: validity.until, issuer: ca.certificate.subject,
            subject: try DistinguishedName { CommonName(name) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: Certificate.PrivateKey(ca.key))
        try write(certificate, key, certificatePath: certificatePath, keyPath: keyPath)
    }

    static func write(
        _ certificate: Certificate, _ key: P256.Signing.PrivateKey, certificatePath: String, keyPath: String
    ) throws {
        try certificate.serializeAsPEM().pemString.appending("\n").write(
            toFile: certificatePath, atomically: true, encoding: .utf8)
        try key.pemRepresentation.appending("\n").write(toFile: keyPath, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyPath)
    }

    static func load(certificate: String, key: String) throws -> (
        certificate: Certificate, key: P256.Signing.PrivateKey
    ) {
        do {
            return (
                try Certificate(pemEncoded: String(contentsOfFile: certificate, encoding: .utf8)),
                try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: key, encoding: .utf8))
            )
        } catch {
            throw Failure(
                description: "cannot reuse the CA in \(certificate) and \(key) (a P-256 key is needed): \(error)")
        }
    }
}
