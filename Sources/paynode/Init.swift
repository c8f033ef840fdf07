import ArgumentParser
import PaymentNode

/// `paynode init --config FILE`: creates the region's store for a region of a new cluster,
/// which has never written, so it takes writes at once. `--join`: the store of a region
/// added to a cluster that serves, which takes writes once its peers have greeted it.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Create the store of a new cluster's region (writes at once), or with --join of a region joining one.",
        discussion: """
            `paynode serve` on an empty data folder does not know whether the region is new or \
            its data was lost: it takes no write until every peer has said which of the region's \
            writes it holds, and has those back, so no sequence number is used twice. Run `init` \
            once, before the first `serve`, for each region of a new cluster. Never run it for a \
            region whose data folder was lost or wiped: start that one with `serve` alone.

            `--join` creates the store of a region added to a cluster that already serves: add \
            the region to every other region's `peers` and reload them (SIGHUP) first. The new \
            region catches up from its peers (a snapshot when their logs no longer go back far \
            enough), learns the wire format the cluster runs from them, and takes writes once \
            every peer has greeted it. Plain `init` is not for such a region: it would announce \
            this release's wire format as the cluster's before every region runs it.
            """)

    @Option(help: "The region's YAML file, e.g. config/us-east-1.yaml.")
    var config: String

    @Flag(help: "The region joins a cluster that already serves (its peers list it and were reloaded).")
    var join = false

    func run() throws {
        let nodeConfig: NodeConfig
        do { nodeConfig = try NodeConfig.load(file: config) } catch {
            throw ValidationError("invalid configuration: \(error)")
        }
        do {
            if join {
                try ReplicaNode.initializeJoiningRegion(nodeConfig)
            } else {
                try ReplicaNode.initializeNewRegion(nodeConfig)
            }
        } catch {
            throw ValidationError("\(nodeConfig.databasePath): \(error)")
        }
        if join {
            print(
                "created \(nodeConfig.databasePath) for \(nodeConfig.region), joining \(nodeConfig.peers.keys.sorted().map(\.name).joined(separator: ", ")): it takes writes once they have greeted it"
            )
        } else {
            print("created \(nodeConfig.databasePath) for new region \(nodeConfig.region)")
        }
    }
}
