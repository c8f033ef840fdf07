import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import PaymentNode
@testable import ReplicaCore

/// A node compacts its log and trims its change feed in bounded steps, one after
/// another on the committer's thread, until the horizon it was asked for and the
/// feed's length are reached.
@Suite(.serialized) struct NodeCompactionTests {
    @Test func oneCompaction_runsAsManySteps_untilNothingPastTheBoundsIsLeft() async throws {
        let auth: HTTPFields = [.authorization: "Bearer paynode-dev-key", .contentType: "application/json"]
        let configure: (inout NodeConfig) -> Void = { config in
            config.eventsKept = 10
            config.compactionStepRows = 7  // 60 log entries and 50 feed rows: nine steps
        }
        try await NodeServerTests.withNode(configure: configure) { client, node in
            for i in 1...60 {
                let created = try await client.execute(
                    uri: "/v1/payments", method: .post, headers: auth, body: NodeServerTests.create("o-\(i)"))
                #expect(created.status == .created)
            }
            // A region alone never compacts by itself below its log's bound: this is the
            // one compaction, asked of the node's store port as the engine would.
            let port = SQLiteShellStore(
                loop: node.loop, store: node.store, committer: node.committer, io: node.io,
                logger: Logger(label: "test"), engine: node.config.engine)
            let region = RegionID("us-east-1")!
            try await node.loop.submit { port.compactLog(through: VersionVector([region: 60])) }.get()

            let deadline = Date().addingTimeInterval(20)
            var floor = VersionVector()
            var kept: [UInt64] = []
            while Date() < deadline {
                (floor, kept) = try node.io.readBlocking { reader in
                    (try reader.eventFloor(), try reader.entries(above: VersionVector(), limit: 1_000).map(\.seq))
                }
                if floor == VersionVector([region: 50]) && kept.isEmpty { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(floor == VersionVector([region: 50]), "the feed keeps its newest 10 changes")
            #expect(kept.isEmpty, "every log entry the horizon covers is gone: \(kept)")
            #expect(try node.store.recover(includingRecords: false, logTailPerOrigin: 0).logHorizon[region] == 60)
        }
    }
}
