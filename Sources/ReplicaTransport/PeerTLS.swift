import NIOSSL
import ReplicaCore
import X509

/// The files that make a node a member of the cluster: the cluster CA, and this region's
/// certificate (naming the region, with serverAuth and clientAuth usage) and key.
public struct PeerTLSFiles: Sendable, Hashable {
    public var caPath: String
    public var certificatePath: String
    public var keyPath: String

    public init(caPath: String, certificatePath: String, keyPath: String) {
        self.caPath = caPath
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// TLS 1.3 with certificates required and verified both ways against the cluster CA.
/// Host names are not what identifies a peer: the region named in its certificate is
/// (`PeerIdentity`), checked by the transport after the handshake. Both sides offer the
/// wire formats their binary speaks as ALPN protocols (`paynode-wire/4`, newest first);
/// the release before offers none, and a link that negotiates none runs format 3.
public struct PeerTLS: Sendable {
    public let server: NIOSSLContext
    public let client: NIOSSLContext
    /// The cluster CA file's certificates: what a peer's certificate must chain to.
    public let caCertificates: [NIOSSLCertificate]
    /// This node's certificate chain, its own certificate first.
    public let certificateChain: [NIOSSLCertificate]
    /// The files this was read from.
    public let files: PeerTLSFiles

    /// A TLS setup that cannot be loaded, naming the file.
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads the three files (each once) and builds both contexts, offering the wire
    /// formats `wireVersions`. Refused: a file that cannot be read or holds no
    /// certificate, and a key that is not the certificate's.
    public init(files: PeerTLSFiles, wireVersions: ClosedRange<UInt8> = WireVersion.supported) throws(LoadError) {
        self.files = files
        let ca: [NIOSSLCertificate]
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        let keyPEM: [UInt8]
        do { ca = try NIOSSLCertificate.fromPEMFile(files.caPath) } catch {
            throw LoadError(description: "cannot read the CA certificate \(files.caPath): \(error)")
        }
        do { chain = try NIOSSLCertificate.fromPEMFile(files.certificatePath) } catch {
            throw LoadError(description: "cannot read the certificate \(files.certificatePath): \(error)")
        }
        do {
            keyPEM = try TLSFiles.read(files.keyPath)
            key = try NIOSSLPrivateKey(bytes: keyPEM, format: .pem)
        } catch {
            throw LoadError(description: "cannot read the private key \(files.keyPath): \(error)")
        }
        guard !ca.isEmpty, !chain.isEmpty else {
            throw LoadError(description: "no certificate in \(ca.isEmpty ? files.caPath : files.certificatePath)")
        }
        if let mismatch = TLSFiles.keyMismatch(certificate: chain[0], keyPEM: keyPEM) {
            throw LoadError(
                description:
                    "the key \(files.keyPath) does not fit the certificate \(files.certificatePath): \(mismatch)")
        }
        caCertificates = ca
        certificateChain = chain
        var serverConfig = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key),
            trustRoots: .certificates(ca))
        serverConfig.minimumTLSVersion = .tlsv13
        var clientConfig = TLSConfiguration.makeClientConfiguration()
        clientConfig.certificateChain = chain.map { .certificate($0) }
        clientConfig.privateKey = .privateKey(key)
        clientConfig.trustRoots = .certificates(ca)
        clientConfig.minimumTLSVersion = .tlsv13
        // The chain is verified; the name is checked by `PeerIdentity`, not by host name
        // (an IP SAN would pass host-name verification whatever region it belongs to).
        clientConfig.certificateVerification = .noHostnameVerification
        serverConfig.applicationProtocols = WireVersion.protocolNames(wireVersions)
        clientConfig.applicationProtocols = WireVersion.protocolNames(wireVersions)
        do {
            server = try NIOSSLContext(configuration: serverConfig)
            client = try NIOSSLContext(configuration: clientConfig)
        } catch {
            throw LoadError(
                description: "TLS setup from \(files.certificatePath) and \(files.keyPath) failed: \(error)")
        }
    }
}

/// Which region a verified certificate belongs to: the regions named among its
/// subjectAlternativeName DNS entries. A peer is accepted only when exactly one of the
/// cluster's regions is named and it is the one expected.
public enum PeerIdentity {
    /// The DNS names in the certificate's subjectAlternativeName extension.
    public static func dnsNames(of certificate: NIOSSLCertificate) -> [String] {
        certificate._subjectAlternativeNames().compactMap { name in
            guard name.nameType == .dnsName else { return nil }
            return name.contents.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// The one region of `regions` the certificate names, or why there is none. The
    /// certificate must also be a leaf made for peers: not a CA, and allowed both
    /// serverAuth and clientAuth. One naming a `retired` region is refused, saying so.
    public static func region(
        of certificate: NIOSSLCertificate?, among regions: [RegionID], retired: [RegionID] = []
    ) -> Result<RegionID, Refusal> {
        guard let certificate else { return .failure(Refusal("no client certificate")) }
        if let refusal = usageProblem(of: certificate) { return .failure(refusal) }
        let names = Set(dnsNames(of: certificate))
        if let gone = retired.first(where: { names.contains($0.name) }) {
            return .failure(
                Refusal(
                    "certificate names \(gone), a region retired from this cluster: a retired region's name is never reused (give a new region a new name)"
                ))
        }
        let named = regions.filter { names.contains($0.name) }
        switch named.count {
        case 1: return .success(named[0])
        case 0:
            return .failure(
                Refusal(
                    "certificate names no region of this cluster (DNS names: \(names.sorted().joined(separator: ", ")))"
                ))
        default:
            return .failure(Refusal("certificate names several regions: \(named.map(\.name).joined(separator: ", "))"))
        }
    }

    /// Why the certificate is not a peer's leaf certificate (nil when it is).
    public static func usageProblem(of certificate: NIOSSLCertificate) -> Refusal? {
        let parsed: Certificate
        do { parsed = try Certificate(derEncoded: try certificate.toDERBytes()) } catch {
            return Refusal("certificate cannot be parsed")
        }
        do {
            if case .isCertificateAuthority? = try parsed.extensions.basicConstraints {
                return Refusal("certificate is a CA certificate, not a region's")
            }
            guard let usage = try parsed.extensions.extendedKeyUsage else {
                return Refusal("certificate has no extended key usage (a region's needs serverAuth and clientAuth)")
            }
            guard usage.contains(.serverAuth), usage.contains(.clientAuth) else {
                return Refusal("certificate is not allowed both serverAuth and clientAuth")
            }
        } catch {
            return Refusal("certificate extensions cannot be read")
        }
        return nil
    }

    /// Why a peer was refused.
    public struct Refusal: Error, Hashable, Sendable, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }
}
