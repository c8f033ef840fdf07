import Foundation
import ReplicaCore

/// Makes a development CA and one certificate per region with the `openssl` command
/// (`paynode certs`, `paynode demo`, tests). Each region certificate names its region
/// as a subjectAlternativeName DNS entry (which is what peers check), also `localhost`
/// and 127.0.0.1, and allows both serverAuth and clientAuth; and the client API's HTTPS
/// certificate (`api.pem`: localhost and 127.0.0.1, serverAuth). Keys are P-256, mode 0600.
/// An existing `ca.pem` + `ca.key` in the folder is reused, so regions can be added.
public enum DevelopmentCertificates {
    /// A failed step, with what openssl printed.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The files for one region.
    public static func certificatePath(_ dir: String, _ region: RegionID) -> String { "\(dir)/\(region.name).pem" }
    public static func keyPath(_ dir: String, _ region: RegionID) -> String { "\(dir)/\(region.name).key" }
    public static func caPath(_ dir: String) -> String { "\(dir)/ca.pem" }
    /// The client API's server certificate (localhost, 127.0.0.1; serverAuth only).
    public static func apiCertificatePath(_ dir: String) -> String { "\(dir)/api.pem" }
    public static func apiKeyPath(_ dir: String) -> String { "\(dir)/api.key" }

    /// Writes `ca.pem`, `ca.key`, `<region>.pem` and `<region>.key` into `dir`; returns the
    /// paths written. `caName` is the CA's subject common name.
    /// What a region certificate may be used for (tests make wrong ones with other lines).
    public static let peerUsage = """
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = serverAuth, clientAuth
        """

    @discardableResult
    public static func make(in dir: String, regions: [RegionID], caName: String = "paynode development CA",
                            days: Int = 825, usage: String = peerUsage) throws -> [String] {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var written: [String] = []
        let caKey = "\(dir)/ca.key"
        let ca = caPath(dir)
        if !(fm.fileExists(atPath: ca) && fm.fileExists(atPath: caKey)) {
            try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", caKey])
            try openssl(["req", "-x509", "-new", "-key", caKey, "-sha256", "-days", "\(days)", "-subj", "/CN=\(caName)",
                         "-addext", "basicConstraints=critical,CA:TRUE",
                         "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", ca])
            try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: caKey)
            written += [ca, caKey]
        }
        if !fm.fileExists(atPath: apiCertificatePath(dir)) {
            try issue(in: dir, name: "api", key: apiKeyPath(dir), certificate: apiCertificatePath(dir), ca: ca, caKey: caKey, days: days,
                      extensions: "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n"
                        + "extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost, IP:127.0.0.1\n")
            written += [apiCertificatePath(dir), apiKeyPath(dir)]
        }
        for region in regions {
            try issue(in: dir, name: region.name, key: keyPath(dir, region), certificate: certificatePath(dir, region), ca: ca,
                      caKey: caKey, days: days, extensions: usage + "\nsubjectAltName = DNS:\(region.name), DNS:localhost, IP:127.0.0.1\n")
            written += [certificatePath(dir, region), keyPath(dir, region)]
        }
        return written
    }

    /// A P-256 key and a certificate signed by the CA with `extensions`.
    static func issue(in dir: String, name: String, key: String, certificate: String, ca: String, caKey: String,
                      days: Int, extensions: String) throws {
        let fm = FileManager.default
        let csr = "\(dir)/\(name).csr"
        let ext = "\(dir)/\(name).ext"
        try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key])
        try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
        try openssl(["req", "-new", "-key", key, "-subj", "/CN=\(name)", "-out", csr])
        try extensions.write(toFile: ext, atomically: true, encoding: .utf8)
        let serial = "0x" + (0..<16).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.joined()
        try openssl(["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-set_serial", serial,
                     "-days", "\(days)", "-sha256", "-extfile", ext, "-out", certificate])
        try? fm.removeItem(atPath: csr)
        try? fm.removeItem(atPath: ext)
    }

    static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw Failure(description: "cannot run openssl (install it: apt-get install openssl): \(error)")
        }
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "openssl \(arguments[0]) failed (\(process.terminationStatus)): "
                + String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
