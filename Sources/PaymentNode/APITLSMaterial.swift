import NIOSSL
import ReplicaTransport

/// The client API's HTTPS material, read from `api.tls`: the server context new
/// connections handshake with, and the certificate chain it presents.
public struct APITLSMaterial: Sendable {
    public let context: NIOSSLContext
    /// The chain served, the API's own certificate first.
    public let certificateChain: [NIOSSLCertificate]
    /// `api.tls.min_version`.
    public let minimumVersion: String
    /// The files this was read from.
    public let files: APITLS

    /// API TLS material that cannot be loaded, naming the file.
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads the certificate chain and key (each once) and builds the context (TLS 1.2
    /// or 1.3 at least, as configured). Refused: a file that cannot be read or holds no
    /// certificate, and a key that is not the certificate's.
    public init(_ files: APITLS) throws(LoadError) {
        self.files = files
        let chain: [NIOSSLCertificate]
        let keyPEM: [UInt8]
        let key: NIOSSLPrivateKey
        do { chain = try NIOSSLCertificate.fromPEMFile(files.certificatePath) } catch {
            throw LoadError(description: "cannot read the API certificate \(files.certificatePath): \(error)")
        }
        guard !chain.isEmpty else { throw LoadError(description: "no certificate in \(files.certificatePath)") }
        do {
            keyPEM = try TLSFiles.read(files.keyPath)
            key = try NIOSSLPrivateKey(bytes: keyPEM, format: .pem)
        } catch {
            throw LoadError(description: "cannot read the API key \(files.keyPath): \(error)")
        }
        if let mismatch = TLSFiles.keyMismatch(certificate: chain[0], keyPEM: keyPEM) {
            throw LoadError(
                description:
                    "the key \(files.keyPath) does not fit the certificate \(files.certificatePath): \(mismatch)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = files.minimumVersion == "1.3" ? .tlsv13 : .tlsv12
        // A closing connection waits this long for the client's close_notify (NIOSSL's
        // default is 5 s): a drain on SIGTERM would otherwise wait that long for every
        // idle keep-alive client, and each step of a rolling upgrade with it.
        configuration.shutdownTimeout = .milliseconds(500)
        do { context = try NIOSSLContext(configuration: configuration) } catch {
            throw LoadError(
                description: "API TLS setup from \(files.certificatePath) and \(files.keyPath) failed: \(error)")
        }
        certificateChain = chain
        minimumVersion = files.minimumVersion
    }
}
