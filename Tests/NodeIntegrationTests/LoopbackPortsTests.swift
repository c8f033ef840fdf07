import PaymentDevKit
import Testing

/// The ports scratch clusters are given.
@Suite struct LoopbackPortsTests {
    /// The kernel may pick a port again as soon as the socket that asked is closed: two
    /// regions of one test cluster were once given the same API port. A process never
    /// hands out the same port twice.
    @Test func aPortIsNeverHandedOutTwice() throws {
        let ports = try (0..<500).map { _ in try LoopbackPorts.free() }
        #expect(Set(ports).count == ports.count)
    }
}
