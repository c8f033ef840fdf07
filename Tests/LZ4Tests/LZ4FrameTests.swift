import Foundation
import Testing

@testable import LZ4

@Suite struct LZ4FrameTests {
    private func sample(_ count: Int) -> [UInt8] {
        Array((0..<count).map { UInt8(truncatingIfNeeded: ($0 / 7) % 23) })
    }

    @Test func test_roundTrip_ofRepetitiveData_isSmallerAndIdentical() throws {
        let input = sample(200_000)
        let frame = try LZ4Frame.compress(input)
        #expect(frame.count * 3 < input.count)
        #expect(try LZ4Frame.decompress(frame, maxOutputBytes: input.count) == input)
    }

    @Test func test_roundTrip_ofEmptyInput_isEmpty() throws {
        let frame = try LZ4Frame.compress([])
        #expect(try LZ4Frame.decompress(frame, maxOutputBytes: 0) == [])
    }

    @Test func test_decompress_beyondLimit_isRefused() throws {
        let frame = try LZ4Frame.compress(sample(10_000))
        #expect(throws: LZ4Frame.Error.self) { try LZ4Frame.decompress(frame, maxOutputBytes: 9_999) }
    }

    @Test func test_decompress_ofGarbageAndTruncatedFrames_throwsNeverTraps() throws {
        let frame = try LZ4Frame.compress(sample(5_000))
        #expect(throws: LZ4Frame.Error.self) {
            try LZ4Frame.decompress([1, 2, 3, 4, 5, 6, 7, 8], maxOutputBytes: 1 << 20)
        }
        for cut in stride(from: 1, to: frame.count - 1, by: 97) {
            #expect(throws: LZ4Frame.Error.self) {
                try LZ4Frame.decompress(Array(frame[0..<cut]), maxOutputBytes: 1 << 20)
            }
        }
    }

    /// The frame we write is the format of the `lz4` command: it decodes ours, we decode its.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/lz4")))
    func test_frames_interoperateWithTheLz4Command() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lz4-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = sample(50_000)
        let ours = dir.appendingPathComponent("ours.lz4")
        try Data(try LZ4Frame.compress(input)).write(to: ours)
        try run("/usr/bin/lz4", ["-d", "-f", "-q", ours.path, dir.appendingPathComponent("ours.raw").path])
        #expect(try [UInt8](Data(contentsOf: dir.appendingPathComponent("ours.raw"))) == input)

        let raw = dir.appendingPathComponent("theirs.raw")
        try Data(input).write(to: raw)
        try run("/usr/bin/lz4", ["-z", "-f", "-q", raw.path, dir.appendingPathComponent("theirs.lz4").path])
        let theirs = try [UInt8](Data(contentsOf: dir.appendingPathComponent("theirs.lz4")))
        #expect(try LZ4Frame.decompress(theirs, maxOutputBytes: input.count) == input)
    }

    private func run(_ tool: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}
