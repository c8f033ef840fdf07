import ArgumentParser
import Foundation
import PaymentNode
import ReplicaCore
import ReplicaStore

/// `paynode backup --config FILE --out FILE`: a consistent copy of the region's store,
/// taken while its node serves.
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the region's store, consistent as of one moment, while its node serves.",
        discussion: """
            The copy is one SQLite file (VACUUM INTO inside a read transaction: writes go on \
            meanwhile), checked with SQLite's integrity check and synced before it takes its \
            name. Restore it with `paynode restore`. Writes acknowledged after the copy began are \
            not in it: a region restored from it takes back from its peers what they hold.
            """)

    @Option(help: "The region's YAML file, e.g. config/us-east-1.yaml.")
    var config: String

    @Option(help: "The file to write (it must not exist).")
    var out: String

    func run() throws {
        let nodeConfig = try loadConfig(config)
        do {
            let summary = try StoreBackup.backup(storePath: nodeConfig.databasePath, to: out)
            print("backed up \(nodeConfig.databasePath) to \(out): \(summary)")
        } catch {
            throw ValidationError("backup failed: \(error)")
        }
    }
}

/// `paynode restore --config FILE --from FILE`: puts a backup in place as the region's
/// store (the node stopped).
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put a backup in place as the region's store (stop its node first).",
        discussion: """
            A store already in the data folder is moved aside (paynode.sqlite.before-restore-<ms>), \
            never deleted. The restored region then takes no write until every peer has said which \
            of its writes it holds and it has those back: its writes made after the backup come \
            back from the peers that hold them, and no sequence number is used twice. Only \
            `local` writes no peer had received when the region was lost are gone (a `remote` \
            write was acknowledged only once another region held it).
            """)

    @Option(help: "The region's YAML file, e.g. config/us-east-1.yaml.")
    var config: String

    @Option(help: "The backup file `paynode backup` wrote.")
    var from: String

    func run() throws {
        let nodeConfig = try loadConfig(config)
        do {
            try FileManager.default.createDirectory(atPath: nodeConfig.dataDirectory, withIntermediateDirectories: true)
            let summary = try StoreBackup.restore(
                from: from, toStore: nodeConfig.databasePath, region: nodeConfig.region,
                nowMillis: UInt64(Date().timeIntervalSince1970 * 1_000))
            print(
                """
                restored \(nodeConfig.databasePath) from \(from): \(summary)
                start the node with `paynode serve`: it takes writes once every peer has said which of \
                \(nodeConfig.region)'s writes it holds and it has them back
                """)
        } catch {
            throw ValidationError("restore failed: \(error)")
        }
    }
}

/// The node config at `path`, or a usage error naming what is wrong with it.
func loadConfig(_ path: String) throws -> NodeConfig {
    do { return try NodeConfig.load(file: path) } catch {
        throw ValidationError("invalid configuration: \(error)")
    }
}
