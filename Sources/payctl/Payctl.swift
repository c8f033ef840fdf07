import ArgumentParser
import Foundation
import PaymentsClient

/// `payctl`: the command-line client. Talks to the nearest healthy region and fails over.
@main
struct Payctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payctl",
        abstract: "Create, read and list payments at the nearest healthy paynode region.",
        subcommands: [
            Create.self, Get.self, History.self, List.self, Patch.self, Events.self, Cluster.self, Conflicts.self,
            Regions.self,
        ])
}

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        help: "Comma-separated region URLs, e.g. https://127.0.0.1:8101,https://127.0.0.1:8102 (or PAYCTL_REGIONS).")
    var regions: String?

    @Option(
        help: "PEM file of the CA the regions' certificates come from, e.g. config/dev/certs/ca.pem (or PAYCTL_CA).")
    var ca: String?

    @Option(help: "API key (or PAYCTL_KEY).")
    var key: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: "Seconds to wait for one region before trying the next.")
    var timeout: Int64 = 5

    func client() throws -> PaymentsClient {
        let env = ProcessInfo.processInfo.environment
        guard let list = regions ?? env["PAYCTL_REGIONS"], !list.isEmpty else {
            throw ValidationError("give the regions: --regions https://host:port,... (or set PAYCTL_REGIONS)")
        }
        guard let apiKey = key ?? env["PAYCTL_KEY"], !apiKey.isEmpty else {
            throw ValidationError("give an API key: --key KEY (or set PAYCTL_KEY)")
        }
        var options = PaymentsClient.Options()
        options.requestTimeout = .seconds(max(1, timeout))
        options.trustedCAPath = ca ?? env["PAYCTL_CA"]
        do {
            return try PaymentsClient(
                regionURLs: list.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) },
                apiKey: apiKey, options: options)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// Runs `body` with a client that has measured the regions, printing errors plainly.
func withClient(_ global: GlobalOptions, _ body: (PaymentsClient) async throws -> Void) async throws {
    let client = try global.client()
    await client.measureLatencies()
    do {
        try await body(client)
    } catch let error as PaymentsClientError {
        try? await client.shutdown()
        FileHandle.standardError.write(Data("payctl: \(error)\n".utf8))
        throw ExitCode(error.exitCode)
    } catch {
        try? await client.shutdown()
        throw error
    }
    try await client.shutdown()
}

extension PaymentsClientError {
    /// 2: refused by the API; 3: no region answered; 4: unreadable answer; 64: usage.
    var exitCode: Int32 {
        switch self {
        case .api: 2
        case .unavailable: 3
        case .badResponse: 4
        case .configuration: 64
        }
    }
}

struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a payment (retried elsewhere with the same Idempotency-Key).")
    @OptionGroup var global: GlobalOptions
    @Option var merchant: String
    @Option var order: String
    @Option(help: "Minor units (cents), an integer.") var amount: Int64
    @Option var currency: String
    @Option(help: "card or bank_transfer.") var method: String = "card"
    @Option(name: .customLong("payment-key")) var paymentKey: String?
    @Option var customer: String?
    @Option var description: String?
    @Option(name: .customLong("metadata"), help: "key=value, repeatable.") var metadata: [String] = []
    @Option(name: .customLong("idempotency-key"), help: "Default: a new UUID.") var idempotencyKey: String?
    @Option(help: "local or remote.") var durability: String?

    func run() async throws {
        var meta: [String: String]?
        if !metadata.isEmpty {
            meta = [:]
            for pair in metadata {
                guard let eq = pair.firstIndex(of: "=") else {
                    throw ValidationError("--metadata wants key=value, got \(pair)")
                }
                meta![String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
            }
        }
        let payment = NewPayment(
            merchantID: merchant, orderID: order, amount: amount, currency: currency, method: method,
            paymentKey: paymentKey, customerID: customer, description: description, metadata: meta)
        try await withClient(global) { client in
            let result = try await client.create(payment, idempotencyKey: idempotencyKey, durability: durability)
            Output.write(result, json: global.json, session: client.sessionToken)
        }
    }
}

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read a payment.")
    @OptionGroup var global: GlobalOptions
    @Argument var id: String

    func run() async throws {
        try await withClient(global) { client in
            let result = try await client.payment(id)
            Output.payments([result.value], region: result.region, next: nil, json: global.json)
        }
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Who changed a payment: its changes, oldest first, with the key and region of each.")
    @OptionGroup var global: GlobalOptions
    @Argument var id: String
    @Option(help: "The most changes listed (1-1000).") var limit: Int?

    func run() async throws {
        try await withClient(global) { client in
            let result = try await client.history(id, limit: limit)
            Output.history(result.value, region: result.region, json: global.json)
        }
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List payments, newest first.")
    @OptionGroup var global: GlobalOptions
    @Option var merchant: String?
    @Option var order: String?
    @Option var status: String?
    @Option(name: .customLong("from"), help: "RFC 3339, inclusive.") var createdFrom: String?
    @Option(name: .customLong("to"), help: "RFC 3339, exclusive.") var createdTo: String?
    @Option var limit: Int?
    @Option var cursor: String?

    func run() async throws {
        try await withClient(global) { client in
            let result = try await client.list(
                PaymentQuery(
                    merchantID: merchant, orderID: order, status: status, createdFrom: createdFrom,
                    createdTo: createdTo, limit: limit, cursor: cursor))
            Output.payments(result.value.data, region: result.region, next: result.value.nextCursor, json: global.json)
        }
    }
}

struct Patch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Change a payment's status, payment key or description.")
    @OptionGroup var global: GlobalOptions
    @Argument var id: String
    @Option var status: String?
    @Option(name: .customLong("payment-key")) var paymentKey: String?
    @Option var description: String?
    @Option(help: "local or remote.") var durability: String?

    func run() async throws {
        guard status != nil || paymentKey != nil || description != nil else {
            throw ValidationError("give at least one of --status, --payment-key, --description")
        }
        try await withClient(global) { client in
            let result = try await client.update(
                id, PaymentChange(status: status, paymentKey: paymentKey, description: description),
                durability: durability)
            Output.write(result, json: global.json, session: client.sessionToken)
        }
    }
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Payment changes in commit order, from the nearest region; --follow streams them and fails over with the cursor."
    )
    @OptionGroup var global: GlobalOptions
    @Option(
        help: "Resume after this cursor (from an earlier event or page); default: the oldest change the region keeps.")
    var cursor: String?
    @Option var merchant: String?
    @Option(help: "Only changes after which the payment has this status.") var status: String?
    @Option(help: "Changes per page (without --follow).") var limit: Int?
    @Flag(help: "Keep streaming new changes (Server-Sent Events) until interrupted.") var follow = false

    func run() async throws {
        let filter = EventFilter(merchantID: merchant, status: status)
        try await withClient(global) { client in
            guard follow else {
                let result = try await client.events(after: cursor, filter: filter, limit: limit)
                for event in result.value.data { Output.event(event, json: global.json) }
                if !global.json { print("cursor: \(result.value.cursor)  (from \(result.region))") }
                return
            }
            for try await event in client.followEvents(after: cursor, filter: filter) {
                Output.event(event, json: global.json)
            }
        }
    }
}

struct Cluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Replication state of every region (lag, RPO exposure).")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await withClient(global) { client in
            var documents: [(String, Data)] = []
            for region in client.regions {
                if let doc = try? await client.cluster(at: region.url) {
                    documents.append((region.url, doc.value))
                } else {
                    documents.append((region.url, Data("{\"error\":\"unreachable\"}".utf8)))
                }
            }
            Output.cluster(documents, json: global.json)
        }
    }
}

struct Conflicts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The conflict log of the nearest region.")
    @OptionGroup var global: GlobalOptions
    @Option var limit: Int?
    @Option var cursor: String?

    func run() async throws {
        try await withClient(global) { client in
            let result = try await client.conflicts(limit: limit, cursor: cursor)
            Output.conflicts(result.value, region: result.region, json: global.json)
        }
    }
}

struct Regions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measured latency to each region, nearest first.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await withClient(global) { client in Output.regions(client.regions, json: global.json) }
    }
}
