import Foundation
import Testing

/// The README's tip for reading a peer payload works as written: `paynode lz4-dictionary
/// --out d.bin --example-delta delta.lz4`, then the standard `lz4 -d -D d.bin delta.lz4`
/// gives back the DELTA message, as many bytes as paynode says it encodes to.
@Suite struct LZ4CommandTests {
    @Test func theExampleDeltaIsReadByTheLZ4Command() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lz4-tip-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let said = try run(
            try Binaries.path("paynode"),
            ["lz4-dictionary", "--out", "\(dir)/d.bin", "--example-delta", "\(dir)/delta.lz4"])
        // "wrote …/delta.lz4 (401 bytes on the wire, 966 as a message); …"
        let messageBytes = try #require(
            said.split(separator: "(").last.flatMap { $0.split(separator: ",").last }?
                .split(separator: " ").first.flatMap { Int($0) })
        _ = try run("/usr/bin/env", ["lz4", "-d", "-f", "-D", "\(dir)/d.bin", "\(dir)/delta.lz4", "\(dir)/delta.bin"])
        let decoded = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/delta.bin"))
        #expect(decoded.count == messageBytes)
        #expect(String(decoding: decoded, as: UTF8.self).contains("m_demo"))
    }

    func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(executable) \(arguments)")
        return String(decoding: data, as: UTF8.self)
    }
}
