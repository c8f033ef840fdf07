import ArgumentParser
import Foundation
import PaymentDevKit
import PaymentNode
import ReplicaCore
import ReplicaTransport

/// `paynode certs`: a development CA and one certificate per region.
struct Certs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a development CA and a certificate per region.",
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

/// `paynode lz4-dictionary`: writes the LZ4 dictionary of peer frames, and with
/// `--example-delta` a DELTA payload as a peer link sends it (example payments), so
/// the standard `lz4` command can be seen reading one: `lz4 -d -D DICT PAYLOAD`.
/// (Live payloads travel inside TLS; the transport's tests capture their own.)
struct LZ4DictionaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lz4-dictionary", abstract: "Write the LZ4 dictionary peer frames are compressed with.")

    @Option(help: "File to write.")
    var out: String

    @Option(
        name: .customLong("example-delta"),
        help: "Also write a DELTA payload of example payments, compressed as peers send it.")
    var exampleDelta: String?

    func run() throws {
        try Data(PeerDictionary.v1.bytes).write(to: URL(fileURLWithPath: out))
        print("wrote \(out) (\(PeerDictionary.v1.bytes.count) bytes)")
        guard let exampleDelta else {
            print("read a DELTA payload with: lz4 -d -D \(out) PAYLOAD")
            return
        }
        let frame = PeerFrame.encode(.delta(batchID: 1, entries: Self.exampleEntries()))
        // The payload follows the length and the kind byte.
        let payload = frame.bytes.dropFirst(PeerFrame.headerBytes + 1)
        try Data(payload).write(to: URL(fileURLWithPath: exampleDelta))
        print(
            "wrote \(exampleDelta) (\(payload.count) bytes on the wire, \(frame.messageBytes) as a message); "
                + "read it with: lz4 -d -D \(out) \(exampleDelta) delta.bin")
    }

    /// Eight creates, as the log entries a region's engine would make of them.
    static func exampleEntries() -> [LogEntry] {
        let region = RegionID("us-east-1")!
        return (1...8).map { i in
            let create = CreatePayment(
                merchantID: "m_demo", orderID: "order-\(1_000 + i)", amount: Int64(1_250 * i), currency: "EUR",
                method: .card, description: "example payment \(i)")
            let fields = create.fieldValues + [(.requestFingerprint, .text(create.fingerprint))]
            return LogEntry(
                origin: region, seq: UInt64(i),
                hlc: HLCTimestamp(wallMillis: 1_800_000_000_000 + UInt64(i), counter: 0),
                paymentID: PaymentID.derived(merchantID: create.merchantID, idempotencyKey: "example-\(i)"),
                changes: fields.sorted { $0.0 < $1.0 }.map { FieldChange(field: $0.0, value: $0.1, base: nil) })
        }
    }
}
