import ArgumentParser
import PaymentNode
import ReplicaCore

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
