import ArgumentParser
import PaymentNode

/// `paynode init --config FILE`: creates the region's store for a region that has never
/// written (a new cluster, or a region added to one), so it takes writes at once.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the store of a new region, so it takes writes without waiting for its peers.",
        discussion: """
            `paynode serve` on an empty data folder does not know whether the region is new or \
            its data was lost: it takes no write until every peer has said which of the region's \
            writes it holds, and has those back, so no sequence number is used twice. Run `init` \
            once, before the first `serve`, for a region that has no history anywhere. Never run \
            it for a region whose data folder was lost or wiped: start that one with `serve` alone.
            """)

    @Option(help: "The region's YAML file, e.g. config/us-east-1.yaml.")
    var config: String

    func run() throws {
        let nodeConfig: NodeConfig
        do { nodeConfig = try NodeConfig.load(file: config) } catch {
            throw ValidationError("invalid configuration: \(error)")
        }
        do {
            try ReplicaNode.initializeNewRegion(nodeConfig)
        } catch {
            throw ValidationError("\(nodeConfig.databasePath): \(error)")
        }
        print("created \(nodeConfig.databasePath) for new region \(nodeConfig.region)")
    }
}
