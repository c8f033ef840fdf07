import ArgumentParser

/// `paynode`: run a region (`serve`), create a new region's store (`init`), retire one
/// (`decommission`), make
/// development certificates (`certs`), or run
/// a local three-region cluster (`demo`).
@main
struct Paynode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paynode",
        abstract: "A multi-region, active-active store for payment records.",
        subcommands: [
            Demo.self, Serve.self, Init.self, Decommission.self, Backup.self, Restore.self, Certs.self,
            LZ4DictionaryCommand.self,
        ])
}
