import Foundation
import NIOSSL
// A fixed validation time: a reload is checked at the time it is given (tests give one).
@_spi(FixedExpiryValidationTime) import X509

/// Offline checks on PEM material, for loading it at start and for a reload (SIGHUP)
/// deciding whether to swap it in: does a key fit its certificate, does a certificate
/// chain to a CA, when does it expire.
public enum TLSFiles {
    /// A file that cannot be read.
    public struct ReadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The file's bytes.
    public static func read(_ path: String) throws(ReadError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadError(description: "cannot read \(path)")
        }
        return Array(data)
    }

    /// Why `keyPEM` is not the private key of `certificate`; nil when it is, and when
    /// the key is of a kind this check cannot parse (TLS setup then has the last word).
    public static func keyMismatch(certificate: NIOSSLCertificate, keyPEM: [UInt8]) -> String? {
        guard let parsed = try? Certificate(derEncoded: certificate.toDERBytes()) else {
            return "the certificate cannot be parsed"
        }
        guard let key = try? Certificate.PrivateKey(pemEncoded: String(decoding: keyPEM, as: UTF8.self)) else {
            return nil
        }
        return key.publicKey == parsed.publicKey ? nil : "its public key is not the certificate's"
    }

    /// Whether `certificate` chains to one of `roots` under RFC 5280 at `time`: signed by
    /// one of them (directly, or through other certificates of `roots`), within every
    /// validity period, CA constraints respected. Intermediates a peer sent in its
    /// handshake are not kept, so a certificate issued by an intermediate must find that
    /// intermediate in `roots` (the CA file); `paynode certs` signs with the CA itself.
    public static func chains(_ certificate: NIOSSLCertificate, to roots: [NIOSSLCertificate], at time: Date) async
        -> Bool
    {
        guard let leaf = try? Certificate(derEncoded: certificate.toDERBytes()) else { return false }
        let anchors = roots.compactMap { try? Certificate(derEncoded: $0.toDERBytes()) }
        var verifier = Verifier(rootCertificates: CertificateStore(anchors)) {
            RFC5280Policy(fixedExpiryValidationTime: time)
        }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(anchors)) {
        case .validCertificate: return true
        case .couldNotValidate: return false
        }
    }

    /// When the certificate stops being valid.
    public static func expiry(of certificate: NIOSSLCertificate) -> Date {
        Date(timeIntervalSince1970: TimeInterval(certificate.notValidAfter))
    }
}
