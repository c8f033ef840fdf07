import ArgumentParser

/// `paynode`: run a region (`serve`), make development certificates (`certs`), or run
/// a local three-region cluster (`demo`).
@main
struct Paynode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paynode",
        abstract: "A multi-region, active-active store for payment records.",
        subcommands: [Demo.self, Serve.self, Certs.self, LZ4DictionaryCommand.self])
}
