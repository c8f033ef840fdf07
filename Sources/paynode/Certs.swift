import ArgumentParser
import PaymentNode
import Foundation
import ReplicaCore
import ReplicaTransport

/// `paynode certs`: a development CA and one certificate per region.
struct Certs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a development CA and a certificate per region (with the openssl command).",
        discussion: "An existing ca.pem and ca.key in the folder are reused, so a region can be added later.")

    @Option(help: "Folder for ca.pem, ca.key, <region>.pem and <region>.key.")
    var out: String

    @Option(help: "Comma-separated region names, e.g. ap-northeast-1,us-east-1,eu-west-1.")
    var regions: String

    func run() throws {
        var parsed: [RegionID] = []
        for name in regions.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) }) {
            guard let region = RegionID(name) else {
                throw ValidationError("\"\(name)\" is not a region name (1-32 characters of a-z, 0-9, -)")
            }
            parsed.append(region)
        }
        guard !parsed.isEmpty else { throw ValidationError("--regions names no region") }
        let written = try DevelopmentCertificates.make(in: out, regions: parsed)
        for path in written { print("wrote \(path)") }
    }
}

/// `paynode lz4-dictionary`: writes the LZ4 dictionary of peer frames, so a captured
/// DELTA payload can be read with `lz4 -d -D FILE payload`.
struct LZ4DictionaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lz4-dictionary", abstract: "Write the LZ4 dictionary peer frames are compressed with.")

    @Option(help: "File to write.")
    var out: String

    func run() throws {
        try Data(PeerDictionary.v1.bytes).write(to: URL(fileURLWithPath: out))
        print("wrote \(out) (\(PeerDictionary.v1.bytes.count) bytes); read a captured payload with: lz4 -d -D \(out) PAYLOAD")
    }
}
